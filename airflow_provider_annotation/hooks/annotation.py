"""AnnotationHook: signed calls to the annotation platform's Open API, envelope unwrapped.

Callers get the envelope's `data` or a typed error from `airflow_provider_annotation.exceptions`;
nobody above this module handles HTTP, signatures or JSON envelopes. The hook is a thin `requests`
adapter: what an answer means and whether to re-send it is decided by `envelope` and `hooks.retry`,
which an async client shares.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from functools import cached_property, partial
from typing import Any
from urllib.parse import urlsplit

import requests
import tenacity
from airflow.providers.common.compat.sdk import BaseHook
from urllib3.exceptions import ProtocolError, ReadTimeoutError

from airflow_provider_annotation import __version__
from airflow_provider_annotation.advice import advice_for
from airflow_provider_annotation.batch import read_send_answer, read_send_status, to_batch_id
from airflow_provider_annotation.codes import PlatformCode
from airflow_provider_annotation.datasets import (
    DatasetState,
    MultipartBody,
    created_dataset_id,
    import_body,
    judge_budget,
    read_dataset_state,
    to_dataset_id,
    upload_fields,
)
from airflow_provider_annotation.endpoints import (
    ALL_ENDPOINTS,
    ANNOTATION_REQUEST,
    ANNOTATION_STAT,
    DATASET_IMPORT,
    DATASET_STATUS,
    DATASET_UPLOAD,
    FOLDER_CREATE,
    PROJECT_CREATE,
    PROJECT_GET,
    PROJECT_LIST,
    PROJECT_TASKS,
    TASK_GET,
    TASK_SEND,
    TASK_SEND_STATUS,
    TASKS_EXPORT,
    Effect,
    Endpoint,
)
from airflow_provider_annotation.envelope import (
    ACCEPT_ENCODING,
    AnswerBroken,
    AnswerBudget,
    AnswerRefused,
    AttemptDeadlinePassed,
    Judge,
    Reader,
    created_id,
    judge_answer,
    lost_answer,
    too_large,
)
from airflow_provider_annotation.exceptions import (
    AnnotationApiError,
    AnnotationError,
    AnnotationNotFoundError,
    AnnotationResponseError,
    AnnotationUnavailableError,
)
from airflow_provider_annotation.export import (
    ExportResults,
    export_body,
    judge_export_answer,
    read_export,
    read_export_results,
)
from airflow_provider_annotation.hooks import connection_form
from airflow_provider_annotation.hooks.call_log import CallLogMixin
from airflow_provider_annotation.hooks.config import AnnotationConnectionConfig
from airflow_provider_annotation.hooks.pacing import Pacer, is_try_again_later
from airflow_provider_annotation.hooks.retry import RetryPolicy, SignatureExpiry, retrying
from airflow_provider_annotation.paging import Pager, project_key, task_key
from airflow_provider_annotation.project import (
    CONNECTION_TEST_FILTERS,
    AnnotationRequestResult,
    CreatedProject,
    DataType,
    ProjectStatus,
    SetupInputError,
    annotation_request_body,
    check_annotation_request,
    create_workflow_endpoint,
    folder_body,
    one_project_named,
    optional_long,
    project_body,
    project_filters,
    project_tasks_body,
    read_annotation_result,
    read_object,
    read_page,
    read_task,
    to_count,
    to_task_id,
    with_api_version_hint,
    workflow_for_api,
)
from airflow_provider_annotation.redaction import remember_secrets, scrub
from airflow_provider_annotation.signing import SIGNATURE_HEADER, signed_headers
from airflow_provider_annotation.version_compat import AIRFLOW_V_3_2_PLUS
from airflow_provider_annotation.workflow import create_workflow_body, describe_value, to_project_id

__all__ = ["AnnotationAsyncHook", "AnnotationHook"]

#: Methods the HTTP spec calls safe: an uncatalogued call with one of them is treated as a read.
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Bytes read from the socket at a time; the answer budget is checked between reads.
_CHUNK_BYTES = 64 * 1024
#: Held while a hook makes its session: making one is quick, so one lock serves every hook (and a
#: hook stays copyable, which a lock of its own would prevent).
_SESSION_LOCK = threading.Lock()


class AnnotationHook(CallLogMixin, BaseHook):
    """Talks to the annotation platform with the access-key pair of one Airflow connection.

    Host is the platform's openAPI base URL, Login the Access Key ID, Password the Secret Key.
    The connection is read once, on first use (never at DAG parse time), and one HTTP session is
    kept per hook for keep-alive. Use one hook per thread, as with a `requests.Session`.

    Methods for one endpoint are built on `_call(endpoint, json=..., params=...)`, which returns
    ``(data, request_id)`` of a success or raises the typed error, re-sending as `hooks.retry`
    decides for the endpoint's effect; `_created_id` takes the new id out of a create's data.

    :param annotation_conn_id: the Airflow connection to use.
    """

    conn_name_attr = "annotation_conn_id"
    default_conn_name = "annotation_default"
    conn_type = "annotation"
    hook_name = "Annotation Platform"
    #: How the hook waits between attempts; tests swap in a recorder to read the waits.
    _sleep = staticmethod(time.sleep)

    def __init__(self, annotation_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.annotation_conn_id = annotation_conn_id
        self._session: requests.Session | None = None
        #: proxies and verify for every request: the connection's, else the environment's.
        self._transport: dict[str, Any] = {}
        self._standing_secrets: tuple[str, ...] = ()
        self._controllers: dict[tuple[Effect, RetryPolicy], tenacity.Retrying] = {}
        #: Shared by the threads of a batch (`hooks.pacing`): a "try again later" slows them all.
        self.pacer: Pacer | None = None

    # -- connection and session -------------------------------------------------------------

    @cached_property
    def config(self) -> AnnotationConnectionConfig:
        """The connection, resolved and checked once."""
        return AnnotationConnectionConfig.from_connection(self.get_connection(self.annotation_conn_id))

    def get_conn(self) -> requests.Session:
        """The hook's one `requests.Session`, made on first use: one however many threads race to
        that first use (a session lost in the race would keep its connections open).

        :return: the session.
        """
        if self._session is not None:
            return self._session
        cfg = self.config  # may look the connection up: outside the lock
        with _SESSION_LOCK:
            if self._session is not None:
                return self._session
            session = requests.Session()
            session.headers["User-Agent"] = _user_agent()
            session.headers["Accept-Encoding"] = ACCEPT_ENCODING  # what `AnswerBudget` inflates
            self._transport = _transport_settings(session, cfg)
            # What must never show in a log line or error: the secret key and proxy passwords.
            passwords = (urlsplit(url).password for url in self._transport["proxies"].values())
            self._standing_secrets = (cfg.secret_key, *(p for p in passwords if p))
            # The environment (proxy variables, REQUESTS_CA_BUNDLE) was read once just above: not
            # re-reading it on every call saves a large part of what requests spends besides the
            # network. Nor is a ~/.netrc login ever sent: the platform authenticates by signature.
            session.trust_env = False
            self._session = session
        return self._session

    def close(self) -> None:
        """Close the HTTP session (its kept-alive connections); the next call opens a new one."""
        if self._session is not None:
            self._session.close()
            self._session = None

    def __enter__(self) -> AnnotationHook:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- calls -------------------------------------------------------------------------------

    def call(self, endpoint: Endpoint, *, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        """Call a catalogued endpoint (`airflow_provider_annotation.endpoints`) and return the
        envelope's `data`; raise a typed error otherwise. Re-sent as its effect allows.

        :param endpoint: the catalogued endpoint (`airflow_provider_annotation.endpoints`).
        :param json: the JSON body to send, or None.
        :param params: query parameters, or None.
        :return: the envelope's ``data``.
        """
        return self._call(endpoint, json=json, params=params)[0]

    def request(
        self, method: str, endpoint: str, *, json: Any = None, params: dict[str, Any] | None = None
    ) -> Any:
        """Send a signed request to a path and return the envelope's `data`.

        A catalogued path is re-sent as its effect allows; any other path is treated as a create
        (never re-sent once it may have reached the platform) unless `method` is GET, HEAD or OPTIONS.

        :param method: the HTTP method, e.g. ``"POST"``.
        :param endpoint: the endpoint's path, e.g. ``"/project/list"``.
        :param json: the JSON body to send, or None.
        :param params: query parameters, or None.
        :return: the envelope's ``data``.
        """
        return self._call(_endpoint_for(method, endpoint), json=json, params=params)[0]

    def create_workflow(self, project_id: int, pools: list[dict[str, Any]] | None = None) -> int:
        """Create a workflow in `project_id` and return its `workflowId`.

        `pools` is checked against every documented rule before anything is sent. With `pools`
        None the body carries no `workflow` at all, and the platform applies its default.

        :param project_id: the project's id (a positive int, or a string of digits).
        :param pools: the pools as the platform documents them; None: the platform's default.
        :return: the new workflow's id.
        """
        return self.send_create_workflow(create_workflow_body(project_id, pools))

    def send_create_workflow(self, body: dict[str, Any]) -> int:
        """Send a Create Workflow body as `workflow.create_workflow_body` builds it (already
        checked) and return the new `workflowId`.

        :param body: a body built and checked by the model (`project`, `workflow` or `export`).
        :return: the new workflow's id.
        """
        endpoint = create_workflow_endpoint(self.config.api_version)
        try:
            data, request_id = self._call(endpoint, json=workflow_for_api(body, self.config.api_version))
        except AnnotationApiError as err:
            hinted = with_api_version_hint(err, self.config.api_version)
            if hinted is err:
                raise
            raise hinted from err
        return self._created_id(endpoint, data, request_id, "workflowId")

    def test_connection(self) -> tuple[bool, str]:
        """One cheap, read-only signed call (list one project); a message a person can act on.

        Two attempts at most, so an expired signature is re-signed once and persistent expiry reads
        as clock skew, without making the person at the UI wait through the full retry budget.

        :return: ``(ok, message)`` as Airflow's connection test expects; the message says what to fix.
        """
        try:
            cfg = self.config
            quick = dataclasses.replace(cfg.retry, max_attempts=2, max_retry_wait=5.0, retry_ambiguous=False)
            self._call(PROJECT_LIST, json={**CONNECTION_TEST_FILTERS, "offset": 1, "limit": 1}, policy=quick)
        except AnnotationApiError as err:
            return False, _advice(err, self.config) + f" ({err.summary()})"
        except AnnotationError as err:  # configuration problems
            return False, str(err)
        finally:
            self.close()  # Airflow's connection test never closes the hook
        return True, f"Connected to {cfg.base_url} with Access Key ID {cfg.access_key!r}."

    # -- the entry point for endpoint methods ---------------------------------------------------

    def _call(
        self,
        endpoint: Endpoint,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        policy: RetryPolicy | None = None,
        read: Reader | None = None,
        judge: Judge = judge_answer,
        form: Callable[[], MultipartBody] | None = None,
        keep_mapping: bool = False,
    ) -> tuple[Any, str | None]:
        """``(data, request_id)`` of a successful call to `endpoint`, attempts signed afresh and
        re-sent as `hooks.retry` decides for its effect; the last attempt's typed error otherwise.

        `read(data, request_id, secrets)`, when given, turns a success's data into what the method
        returns while this attempt's secrets (its signature among them) are known, so server text
        it keeps can be scrubbed of them; its typed error counts as the attempt's. `judge` reads the
        answer (`envelope.judge_answer` unless an endpoint's answers need another reading).
        `form` makes a multipart body instead of JSON, afresh for each attempt (it streams a file);
        `keep_mapping` keeps a spooled answer's ``mappingList`` (`datasets.judge_budget`)."""
        attempts = 0
        expiry = SignatureExpiry()

        def attempt() -> tuple[Any, str | None]:
            nonlocal attempts
            attempts += 1
            if self.pacer is not None:
                self.pacer.before_attempt()
            try:
                return self._send_once(endpoint, json, params, attempts, read, judge, form, keep_mapping)
            except AnnotationApiError as err:
                if self.pacer is not None and is_try_again_later(err):
                    self.pacer.try_again_later(err.retry_after)
                expiry.check(err, endpoint)
                raise

        controller = self._retrying(endpoint.effect, policy or self.config.retry)
        try:
            return controller(attempt)
        except AnnotationApiError as err:
            err.attempts = attempts
            err.advice = advice_for(err, base_url=self.config.base_url, access_key=self.config.access_key)
            raise

    @staticmethod
    def _created_id(endpoint: Endpoint, data: Any, request_id: str | None, key: str) -> int:
        """The id a create returned under `key`: a positive 64-bit int, else "may have taken effect"."""
        return created_id(endpoint, data, key, request_id)

    def _retrying(self, effect: Effect, policy: RetryPolicy) -> tenacity.Retrying:
        """The tenacity controller for `effect` under `policy`, built once per hook."""
        key = (effect, policy)
        if key not in self._controllers:
            self._controllers[key] = retrying(
                effect, policy, before_sleep=self._log_retry, sleep=lambda seconds: self._sleep(seconds)
            )
        return self._controllers[key]

    # -- one attempt ----------------------------------------------------------------------------

    def _send_once(
        self,
        endpoint: Endpoint,
        json: Any,
        params: dict[str, Any] | None,
        attempt: int,
        read: Reader | None = None,
        judge: Judge = judge_answer,
        form: Callable[[], MultipartBody] | None = None,
        keep_mapping: bool = False,
    ) -> tuple[Any, str | None]:
        """One signed attempt: its answer judged, or the typed error of an attempt without one."""
        cfg = self.config
        self.get_conn()  # the session, and what it must keep secret
        headers = signed_headers(cfg.access_key, cfg.secret_key)
        secrets = (*self._standing_secrets, headers[SIGNATURE_HEADER])
        remember_secrets(secrets)  # for readers of this answer after it is returned
        started = time.monotonic()
        budget = AnswerBudget(endpoint.max_answer_bytes, started + cfg.total_timeout, spool=endpoint.spooled)
        try:
            response = self._exchange(endpoint, json, params, headers, secrets, budget, form)
        except AnnotationApiError as err:
            self.log.info(
                "%s %s -> no usable answer, %.1f ms (attempt %d): %s",
                endpoint.method,
                endpoint.path,
                (time.monotonic() - started) * 1000,
                attempt,
                err.message,
            )
            raise
        status = response.status_code
        try:
            if budget.file is None:
                data, request_id = judge(endpoint, status, response.headers, budget.body, secrets)
            else:  # a spooled answer (`Endpoint.spooled`): judged on its envelope, read from the file
                data, request_id = judge_budget(
                    endpoint, status, response.headers, budget, secrets, keep_mapping=keep_mapping
                )
        except AnnotationApiError as err:
            self._log_call(endpoint, status, err.code, err.request_id, started, attempt, "")
            raise
        self._log_call(endpoint, status, PlatformCode.SUCCESS, request_id, started, attempt, _ids_of(data))
        return (data if read is None else read(data, request_id, secrets)), request_id

    def _exchange(
        self,
        endpoint: Endpoint,
        json: Any,
        params: dict[str, Any] | None,
        headers: dict[str, str],
        secrets: tuple[str, ...],
        budget: AnswerBudget,
        form: Callable[[], MultipartBody] | None = None,
    ) -> requests.Response:
        """Send, then read the whole answer into `budget`; every transport failure becomes the typed
        error its moment means (before sending, lost after sending, over the budget)."""
        cfg = self.config
        where: dict[str, Any] = {"endpoint": endpoint.path, "method": endpoint.method}
        session = self.get_conn()
        data = form() if form is not None else None
        if data is not None:
            headers = {**headers, "Content-Type": data.content_type}
        try:
            response = session.request(
                endpoint.method,
                cfg.base_url + endpoint.path,
                json=json,
                data=data,
                params=params,
                headers=headers,
                timeout=(cfg.connect_timeout, cfg.read_timeout),
                # The connection's settings win over REQUESTS_CA_BUNDLE / *_PROXY (_transport_settings).
                verify=self._transport["verify"],
                proxies=self._transport["proxies"],
                # A redirect would carry the signed headers to another host (requests strips only
                # Authorization) and turn the POST into a GET: refuse it (envelope.judge_answer).
                allow_redirects=False,
                stream=True,  # read below, bounded in size and time
            )
        except requests.exceptions.SSLError as exc:
            raise AnnotationApiError(
                f"TLS handshake with {cfg.base_url} failed ({_reason(exc, secrets)}); "
                "check the 'verify' extra",
                **where,
            ) from None
        except requests.exceptions.ReadTimeout:
            raise lost_answer(
                endpoint, f"no answer within {cfg.read_timeout:g} s (read timeout) after the request was sent"
            ) from None
        except requests.exceptions.ConnectionError as exc:  # also ConnectTimeout and ProxyError
            if _never_connected(exc):
                raise AnnotationUnavailableError(
                    f"could not connect to {cfg.base_url}: {_reason(exc, secrets)}", **where
                ) from None
            raise lost_answer(
                endpoint, f"connection dropped after the request was sent ({_reason(exc, secrets)})"
            ) from None
        except requests.exceptions.RequestException as exc:
            # What is left fails before sending (an invalid URL or header, a body that is not JSON).
            raise AnnotationApiError(
                f"the request could not be sent: {_reason(exc, secrets)}", **where
            ) from None
        status = response.status_code
        try:
            _read_answer(response, budget)
        except AnswerRefused as exc:
            response.close()
            raise too_large(endpoint, exc, http_status=status) from None
        except AttemptDeadlinePassed:
            response.close()
            raise lost_answer(
                endpoint,
                f"the answer was still arriving after {cfg.total_timeout:g} s (the attempt's total timeout)",
                http_status=status,
            ) from None
        except ReadTimeoutError:
            response.close()
            raise lost_answer(
                endpoint, f"the answer stalled for {cfg.read_timeout:g} s (read timeout)", http_status=status
            ) from None
        except (ProtocolError, AnswerBroken, OSError) as exc:
            response.close()
            raise lost_answer(
                endpoint,
                f"the answer broke off while it was being read ({_reason(exc, secrets)})",
                http_status=status,
            ) from None
        return response

    # -- the connection form before Airflow 3.2 (3.2+ reads it from the provider info) --------

    if not AIRFLOW_V_3_2_PLUS:

        @classmethod
        def get_connection_form_widgets(cls) -> dict[str, Any]:
            return connection_form.form_widgets()

        @classmethod
        def get_ui_field_behaviour(cls) -> dict[str, Any]:
            return connection_form.field_behaviour()

    # -- project setup: one method per endpoint (bodies from `airflow_provider_annotation.project`) --

    def create_folder(self, name: str, *, external_id: str | None = None) -> int:
        """Create a folder and return its `folderId`; names are unique (5836 otherwise).

        :param name: the name: non-empty, at most 60 bytes of UTF-8 (unique on the platform).
        :param external_id: your own id for the folder (at most 60 bytes), or None.
        :return: the new folder's id.
        """
        return self.send_create_folder(folder_body(name, external_id))

    def send_create_folder(self, body: dict[str, Any]) -> int:
        """Send a body `project.folder_body` built; return the new `folderId`.

        :param body: a body built and checked by the model (`project`, `workflow` or `export`).
        :return: the new folder's id.
        """
        data, request_id = self._call(FOLDER_CREATE, json=body)
        return self._created_id(FOLDER_CREATE, data, request_id, "folderId")

    def create_project(
        self,
        name: str,
        *,
        data_type: int,
        deadline: Any,
        operators: Any,
        description: str | None = None,
        folder_id: int | None = None,
        project_manager: str | None = None,
        team_names: list[str] | None = None,
        pools: list[dict[str, Any]] | None = None,
    ) -> CreatedProject:
        """Create a project; returns its id, status and default workflow id.

        `pools` is its workflow, checked like Create Workflow's; the connection's `api_version`
        decides whether it travels as ``workflow.pools`` or ``workflow.vertex``.

        :param name: the name: non-empty, at most 60 bytes of UTF-8 (unique on the platform).
        :param data_type: 2 for 2D data, 3 for 3D data.
        :param deadline: the project's deadline: ``YYYY-MM-DD``, a date, or a datetime at midnight.
        :param operators: the labeling-tool configuration: a non-empty list of objects.
        :param description: the project's description (at most 200 bytes), or None.
        :param folder_id: the folder to put the project in, or None.
        :param project_manager: the project manager's account, or None.
        :param team_names: the teams to assign, or None.
        :param pools: the pools as the platform documents them; None: the platform's default.
        :return: the created project: its ``project_id``, ``status`` and ``workflow_id``.
        """
        body = project_body(
            name=name,
            data_type=data_type,
            deadline=deadline,
            operators=operators,
            description=description,
            folder_id=folder_id,
            project_manager=project_manager,
            team_names=team_names,
            pools=pools,
        )
        return self.send_create_project(body)

    def send_create_project(self, body: dict[str, Any]) -> CreatedProject:
        """Send a body `project.project_body` built (in the connection's API version).

        :param body: a body built and checked by the model (`project`, `workflow` or `export`).
        :return: the created project: its ``project_id``, ``status`` and ``workflow_id``.
        """
        data, request_id = self._call(PROJECT_CREATE, json=workflow_for_api(body, self.config.api_version))
        project_id = self._created_id(PROJECT_CREATE, data, request_id, "projectId")
        return CreatedProject(
            project_id=project_id,
            status=optional_long(data, "status", PROJECT_CREATE, request_id),
            workflow_id=optional_long(data, "workflowId", PROJECT_CREATE, request_id),
        )

    def get_project(self, project_id: int | str) -> dict[str, Any]:
        """One project's info (``GET /project/get?projectId=``).

        :param project_id: the project's id (a positive int, or a string of digits).
        :return: the project's ``data`` as the platform returns it.
        """
        params = {"projectId": str(to_project_id(project_id))}
        data, request_id = self._call(PROJECT_GET, params=params)
        return read_object(data, PROJECT_GET, request_id)

    def list_projects(
        self, *, status: int | None = None, data_type: int | None = None, offset: int = 1, limit: int = 100
    ) -> dict[str, Any]:
        """One page of projects: ``{"count": total, "data": [...]}``. `offset` is the page number,
        from 1; `status` and `data_type` are required by the docs (`iter_projects` goes over
        every pair when they are not given).

        :param status: only projects in this status (0-3).
        :param data_type: 2 for 2D data, 3 for 3D data.
        :param offset: the page number, from 1.
        :param limit: items per page.
        :return: ``{"count", "data"}``: the total count and this page's projects.
        """
        body = project_filters(status=status, data_type=data_type)
        body.update(offset=to_count(offset, "offset"), limit=to_count(limit, "limit"))
        data, request_id = self._call(PROJECT_LIST, json=body)
        return read_page(data, PROJECT_LIST, request_id)

    def iter_projects(
        self, *, status: int | None = None, data_type: int | None = None, page_size: int = 100
    ) -> Iterator[dict[str, Any]]:
        """Every project matching the filters, page after page (`paging.Pager`'s rule); a filter
        not given goes over every documented value (statuses 0-3, data types 2 and 3), as the docs
        require both.

        :param status: only projects in this status (0-3), or None for all.
        :param data_type: 2 for 2D data, 3 for 3D data, or None for both.
        :param page_size: items per page while paging.
        :return: an iterator over the projects.
        """
        statuses = [int(s) for s in ProjectStatus] if status is None else [status]
        data_types = [int(d) for d in DataType] if data_type is None else [data_type]
        for one_status, one_type in itertools.product(statuses, data_types):
            yield from self._pages(
                partial(self._project_page, one_status, one_type, page_size), Pager(PROJECT_LIST, project_key)
            )

    def _project_page(self, status: int, data_type: int, page_size: int, offset: int) -> dict[str, Any]:
        """One page of one (status, dataType) pair, for `iter_projects`' paging."""
        return self.list_projects(status=status, data_type=data_type, offset=offset, limit=page_size)

    def find_project_by_name(
        self, name: str, *, data_type: int, page_size: int = 100
    ) -> dict[str, Any] | None:
        """The one project named exactly `name` (case and spaces count), over every status and page;
        None when there is none.

        :raises AnnotationApiError: when more than one project carries the name.
        :param name: the name: non-empty, at most 60 bytes of UTF-8 (unique on the platform).
        :param data_type: 2 for 2D data, 3 for 3D data.
        :param page_size: items per page while paging.
        :return: the project, or None when no project has that exact name.
        """
        found = self.find_projects_by_name([name], data_type=data_type, page_size=page_size)
        return one_project_named(name, found.get(name, []))

    def find_projects_by_name(
        self, names: Iterable[str], *, data_type: int, page_size: int = 100
    ) -> dict[str, list[dict[str, Any]]]:
        """The projects named exactly as one of `names`, by name, in one pass over every status and
        page (the list has no name filter): a thousand names cost what one does. Only matches are
        kept; `one_project_named` reads a name's list.

        :param names: the exact names to look for.
        :param data_type: 2 for 2D data, 3 for 3D data.
        :param page_size: items per page while paging.
        :return: each name found, with the list of projects carrying it.
        """
        wanted = set(names)
        found: dict[str, dict[Any, dict[str, Any]]] = {}
        for status in ProjectStatus:
            for project in self.iter_projects(status=int(status), data_type=data_type, page_size=page_size):
                name = project.get("name")
                if isinstance(name, str) and name in wanted:
                    found.setdefault(name, {})[project_key(project)] = project
        return {name: list(by_id.values()) for name, by_id in found.items()}

    def request_annotation(
        self,
        project_id: int | str,
        data_ids: list[str],
        *,
        workflow_id: int | None = None,
        dataset_id: int | None = None,
    ) -> AnnotationRequestResult:
        """Make one task per data id in the project's workflow (its default one when
        `workflow_id` is None). Data ids that made no task come back in `rejected_data_ids`.

        :param project_id: the project's id (a positive int, or a string of digits).
        :param data_ids: the data to label, one task per data id (strings; ints sent as digits).
        :param workflow_id: the workflow to use; None for the project's default workflow.
        :param dataset_id: the dataset the data ids belong to, or None.
        :return: the task ids, the tasks (``taskId``, ``dataId``) and the rejected data ids.
        """
        body = annotation_request_body(project_id, data_ids, workflow_id=workflow_id, dataset_id=dataset_id)
        return self.send_annotation_request(body)

    def send_annotation_request(self, body: dict[str, Any]) -> AnnotationRequestResult:
        """Send a body `project.annotation_request_body` built; task ids come back as strings.
        With api_version=2024-08 a body without ``datasetId`` is refused before any request.

        :param body: a body built and checked by the model (`project`, `workflow` or `export`).
        :return: the task ids, the tasks (``taskId``, ``dataId``) and the rejected data ids.
        """
        check_annotation_request(body, self.config.api_version)
        data, request_id = self._call(ANNOTATION_REQUEST, json=body)
        return read_annotation_result(data, request_id)

    def run_stat(self, project_id: int | str, workflow_id: int | str) -> dict[str, Any]:
        """The effort and efficiency statistics of one workflow of a project.

        :param project_id: the project's id (a positive int, or a string of digits).
        :param workflow_id: the workflow to use; None for the project's default workflow.
        :return: the stats ``data`` (task counts by status, completion rate, ...).
        """
        body = {
            "projectId": to_project_id(project_id),
            "workflowId": to_project_id(workflow_id, "workflow_id"),
        }
        data, request_id = self._call(ANNOTATION_STAT, json=body)
        return read_object(data, ANNOTATION_STAT, request_id)

    def get_task(self, project_id: int | str, task_id: str) -> dict[str, Any]:
        """One task, with its `status`; `task_id` is a string of digits (or an exact int).

        :param project_id: the project's id (a positive int, or a string of digits).
        :param task_id: the task's id (a string of digits).
        :return: the task, with its ``status`` (1-10).
        """
        wanted = to_task_id(task_id)
        body = {"projectId": to_project_id(project_id), "taskId": wanted}
        data, request_id = self._call(TASK_GET, json=body)
        return read_task(data, TASK_GET, request_id, wanted)

    def list_project_tasks(
        self,
        project_id: int | str,
        *,
        start_time: int | None = None,
        end_time: int | None = None,
        offset: int = 1,
        limit: int = 100,
    ) -> dict[str, Any]:
        """One page of a project's tasks: ``{"count", "data"}``, each task's ``id`` a string.
        `start_time`/`end_time` are epoch milliseconds; not given, the range selects every task
        (`project.project_tasks_body`).

        :param project_id: the project's id (a positive int, or a string of digits).
        :param start_time: only tasks created at or after this time, or None.
        :param end_time: only tasks created before this time, or None.
        :param offset: the page number, from 1.
        :param limit: items per page.
        :return: ``{"count", "data"}``: the total count and this page's tasks.
        """
        body = project_tasks_body(
            project_id, start_time=start_time, end_time=end_time, offset=offset, limit=limit
        )
        data, request_id = self._call(PROJECT_TASKS, json=body)
        page = read_page(data, PROJECT_TASKS, request_id)
        page["data"] = [read_task(item, PROJECT_TASKS, request_id) for item in page["data"]]
        return page

    def iter_project_tasks(
        self,
        project_id: int | str,
        *,
        start_time: int | None = None,
        end_time: int | None = None,
        page_size: int = 100,
    ) -> Iterator[dict[str, Any]]:
        """Every task of the project in the time range, page after page (`paging.Pager`'s rule).

        :param project_id: the project's id (a positive int, or a string of digits).
        :param start_time: only tasks created at or after this time, or None.
        :param end_time: only tasks created before this time, or None.
        :param page_size: items per page while paging.
        :return: an iterator over the project's tasks, oldest first.
        """
        return self._pages(
            lambda offset: self.list_project_tasks(
                project_id, start_time=start_time, end_time=end_time, offset=offset, limit=page_size
            ),
            Pager(PROJECT_TASKS, task_key),
        )

    def send_tasks(self, project_id: int | str, resource_url: str) -> dict[str, Any]:
        """Start importing a JSON-lines file of records; ``{"importStatus", "batchId"}`` with the
        batch id as a string, for `get_send_status`.

        :param project_id: the project's id (a positive int, or a string of digits).
        :param resource_url: an http(s) URL of an open JSON-lines file of records.
        :return: ``{"importStatus", "batchId"}`` (the batch id a string).
        """
        if not isinstance(resource_url, str) or not resource_url.strip():
            raise SetupInputError(f"resource_url: expected a URL, got {describe_value(resource_url)}")
        body = {"projectId": to_project_id(project_id), "resourceUrl": resource_url.strip()}
        return self._call(TASK_SEND, json=body, read=read_send_answer)[0]

    def get_send_status(self, batch_id: str) -> dict[str, Any]:
        """How an import started by `send_tasks` is doing: ``{taskCount, importFailCount, status,
        errors, ...}`` as `batch.read_send_status` makes it safe to show (each error without its
        ``jsonLine``); the status values are not documented, so they are passed on as they come.

        :param batch_id: the import batch's id, as `send_tasks` returned it.
        :return: the batch's status, counts and first errors.
        """
        body = {"batchId": to_batch_id(batch_id)}
        return self._call(TASK_SEND_STATUS, json=body, read=read_send_status)[0]

    # -- datasets (bodies and answers from `airflow_provider_annotation.datasets`) ---------------

    def import_dataset(self, resource_url: str, *, name: str, data_type: int, file_tree_type: int = 0) -> str:
        """Start importing a dataset from cloud storage (``gs://bucket/prefix/``); its ``datasetId``
        (a string), for `get_dataset_status`. A create: a lost answer is never re-sent.

        :param resource_url: a cloud-storage URL with a bucket (``gs://``, ``s3://``, ``oss://``,
            ``cos://``, ``obs://``).
        :param name: the dataset's name, at most 60 bytes of UTF-8.
        :param data_type: 2 for 2D, 3 for 3D.
        :param file_tree_type: the docs' ``fileTreeType``, 0 or 1 (sent as an integer).
        :return: the new ``datasetId``, a string.
        """
        body = import_body(resource_url, name=name, data_type=data_type, file_tree_type=file_tree_type)
        return self.send_import_dataset(body)

    def send_import_dataset(self, body: dict[str, Any]) -> str:
        """Send a body `datasets.import_body` built; the new ``datasetId``.

        :param body: the checked import body, as `datasets.import_body` returns it.
        :return: the new ``datasetId``, a string.
        """
        data, request_id = self._call(DATASET_IMPORT, json=body)
        return created_dataset_id(DATASET_IMPORT, data, request_id)

    def upload_dataset(self, path: Any, *, name: str, data_type: int, file_tree_type: int = 0) -> str:
        """Upload a zip (under 100 MB) as a multipart form and return its ``datasetId``.

        `path` is a local path, or an object with ``open("rb")`` and ``stat()`` (an
        `ObjectStoragePath`). The file is streamed, never read whole; its size and first bytes
        are checked before anything is sent. A create: a lost answer is never re-sent.

        :param path: the zip: a local path, or an `ObjectStoragePath`.
        :param name: the dataset's name, at most 60 bytes of UTF-8.
        :param data_type: 2 for 2D, 3 for 3D.
        :param file_tree_type: the docs' ``fileTreeType``, 0 or 1 (sent as an integer).
        :return: the new ``datasetId``, a string.
        """
        size, head, opener, filename = _file_source(path)
        fields = upload_fields(
            size, head, str(path), name=name, data_type=data_type, file_tree_type=file_tree_type
        )
        return self.send_upload_dataset(fields, opener, filename, size or 0)

    def send_upload_dataset(
        self, fields: dict[str, Any], opener: Callable[[], Any], filename: str, size: int
    ) -> str:
        """Send checked form fields (`datasets.upload_fields`) with the file `opener` reads.

        :param fields: the checked form fields, as `datasets.upload_fields` returns them.
        :param opener: opens the file afresh for each attempt (a binary file object).
        :param filename: the file name sent with the ``uploadFile`` part.
        :param size: the file's size in bytes (the part's known length).
        :return: the new ``datasetId``, a string.
        """
        data, request_id = self._call(
            DATASET_UPLOAD, form=lambda: MultipartBody(fields, "uploadFile", filename, size, opener)
        )
        return created_dataset_id(DATASET_UPLOAD, data, request_id)

    def get_dataset_status(self, dataset_id: str) -> DatasetState:
        """A dataset's status (1 building, 2 ready, -1 error) and its scene → data mapping, kept
        in a spooled file however long (a `DatasetMapping`: iterate it, close it).

        :param dataset_id: the dataset's id, as `import_dataset` or `upload_dataset` returned it.
        :return: a `DatasetState`: ``.status``, ``.dataset_id``, ``.message`` and ``.mapping``.
        """
        params = {"datasetId": to_dataset_id(dataset_id)}
        data, request_id = self._call(DATASET_STATUS, params=params, keep_mapping=True)
        return read_dataset_state(data, DATASET_STATUS, request_id)

    @staticmethod
    def _pages(fetch: Callable[[int], dict[str, Any]], pager: Pager) -> Iterator[dict[str, Any]]:
        """Items of page 1, 2, ... as `paging.Pager` rules: ends on a short or empty page, under a
        page cap from the first answer; a repeated id or a truncated listing raises."""
        while not pager.done:
            yield from pager.take(fetch(pager.offset))

    # -- export of finished annotations (bodies from `airflow_provider_annotation.export`) --------

    def export_tasks(
        self,
        project_id: int | str,
        *,
        complete_after: Any = None,
        complete_before: Any = None,
        task_ids: list[str] | list[int] | None = None,
    ) -> list[dict[str, Any]]:
        """The annotation results of completed tasks, selected by completion days
        (``[complete_after, complete_before)``, ``"YYYY-MM-DD"``) or by `task_ids`, never both.

        One synchronous call with no paging: keep each selection small (a day, or some thousand
        ids); `ExportTasksOperator` chunks a whole export this way. A read: lost answers are re-sent.

        :param project_id: the project's id (a positive int, or a string of digits).
        :param complete_after: first completion day (included), ``YYYY-MM-DD``; with `complete_before`.
        :param complete_before: completion day the window ends before (excluded), ``YYYY-MM-DD``.
        :param task_ids: export these tasks instead of a window (exact integers).
        :return: the list of annotation results.
        """
        body = export_body(
            project_id, complete_after=complete_after, complete_before=complete_before, task_ids=task_ids
        )
        return self.send_export(body)

    def send_export(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """Send a body `export.export_body` built; the answer's ``annotationResultList``.

        :param body: a body built and checked by the model (`project`, `workflow` or `export`).
        :return: the list of annotation results.
        """
        data, request_id = self._call(TASKS_EXPORT, json=body)
        return read_export(data, request_id)

    def stream_export(self, body: dict[str, Any]) -> ExportResults:
        """Like `send_export`, but the results stay the text the platform sent, checked record by
        record (`export.ExportResults`): written as strict JSON lines with the platform's numbers
        and escapes, at a peak memory near the answer's size. What `ExportTasksOperator` uses.

        :param body: the export request's body, as `send_export` takes it.
        :return: the answer's results, each kept as the text the platform sent.
        """
        data, request_id = self._call(TASKS_EXPORT, json=body, judge=judge_export_answer)
        return read_export_results(data, request_id)


def _ids_of(data: Any) -> str:
    """The ids a successful answer carries (``: workflowId=18000``), for the call's log line, so
    the new object and its requestId stand on one line."""
    if not isinstance(data, dict):
        return ""
    ids = [
        f"{key}={value}"
        for key, value in data.items()
        if isinstance(key, str) and key.endswith("Id") and type(value) is int
    ]
    return scrub(": " + ", ".join(ids), limit=120) if ids else ""


def _file_source(path: Any) -> tuple[int | None, bytes | None, Callable[[], Any], str]:
    """(size, first bytes, opener, file name) of a local path or an `ObjectStoragePath`-like
    object; size and bytes are None when it cannot be read."""
    import os

    if not isinstance(path, str) and hasattr(path, "open") and hasattr(path, "stat"):

        def opener() -> Any:
            return path.open("rb")

        name = str(getattr(path, "name", "dataset.zip") or "dataset.zip")
        size: int | None
        try:
            size = int(path.stat().st_size)
            with opener() as file:
                head = file.read(4)
        except (OSError, ValueError, AttributeError, TypeError):
            return None, None, opener, name
        return size, head, opener, name
    from airflow_provider_annotation.datasets import local_size_and_head

    local = os.fspath(path) if isinstance(path, (str, os.PathLike)) else ""
    size, head = local_size_and_head(local) if local else (None, None)
    return size, head, lambda: open(local, "rb"), os.path.basename(local) or "dataset.zip"


def _transport_settings(session: requests.Session, cfg: AnnotationConnectionConfig) -> dict[str, Any]:
    """Proxies and TLS verification for the base URL, as requests would work them out on each call:
    the connection's `proxies` and `verify` first, then the environment (``HTTPS_PROXY``,
    ``NO_PROXY``, ``REQUESTS_CA_BUNDLE``, ...)."""
    merged = session.merge_environment_settings(cfg.base_url, dict(cfg.proxies or {}), True, cfg.verify, None)
    return {"proxies": merged["proxies"], "verify": merged["verify"]}


def _endpoint_for(method: str, path: str) -> Endpoint:
    """The catalogued endpoint for (method, path), or an uncatalogued one: a create unless the
    method is safe, because re-sending an unknown create could duplicate."""
    method = method.upper()
    path = path if path.startswith("/") else "/" + path
    for known in ALL_ENDPOINTS:
        if known.path == path and known.method == method:
            return known
    return Endpoint(method, path, Effect.READ if method in _SAFE_METHODS else Effect.CREATE)


def _read_answer(response: requests.Response, budget: AnswerBudget) -> None:
    """Read the body into `budget` as it comes off the wire (the budget inflates it, a bounded
    piece at a time), then hand the connection back to the pool for keep-alive."""
    raw = response.raw
    budget.begin(response.headers)
    budget.check_deadline()  # headers that took past the deadline end the attempt too
    while True:
        chunk = raw.read1(_CHUNK_BYTES, decode_content=False)
        if not chunk:
            break
        budget.take(chunk)
    raw.release_conn()


def _never_connected(exc: requests.exceptions.ConnectionError) -> bool:
    """True when the request cannot have reached the server (refused, DNS, connect timeout, proxy)."""
    from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

    if isinstance(exc, (requests.exceptions.ConnectTimeout, requests.exceptions.ProxyError)):
        return True
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))


def _reason(exc: BaseException, secrets: tuple[str, ...]) -> str:
    """The innermost cause's text, without urllib3's long wrapper, scrubbed (a proxy URL in it may
    carry credentials)."""
    reason: Any = exc.args[0] if exc.args else exc
    reason = getattr(reason, "reason", reason)
    return scrub(reason, secrets)


def _advice(err: AnnotationApiError, cfg: AnnotationConnectionConfig) -> str:
    """The connection test's advice: the one every task error gets (`advice.advice_for`), then what
    only the test's own call (the project list, which always exists) can tell."""
    advice = err.advice or advice_for(err, base_url=cfg.base_url, access_key=cfg.access_key)
    if advice:
        return advice
    if isinstance(err, AnnotationNotFoundError) and err.code == PlatformCode.NOT_FOUND:
        return (
            f"{cfg.base_url} has no {PROJECT_LIST.path} (HTTP {err.http_status}, not found): check the base "
            "URL in Host, including its path (e.g. https://host/openapi)."
        )
    if isinstance(err, AnnotationUnavailableError) and err.code is None and err.http_status is None:
        return f"Platform unreachable at {cfg.base_url}: check Host and the network."
    if isinstance(err, AnnotationResponseError):
        return f"{cfg.base_url} did not answer like the platform: check the base URL (Host)."
    return "The platform refused the test call."


def _user_agent() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        airflow_version = version("apache-airflow")
    except PackageNotFoundError:  # pragma: no cover - airflow-core only installs
        airflow_version = "unknown"
    return (
        f"airflow-provider-annotation/{__version__} apache-airflow/{airflow_version} "
        f"requests/{requests.__version__}"
    )



def __getattr__(name: str) -> Any:
    """`AnnotationAsyncHook`, importable from here as documented, loaded (with httpx) only when asked
    for: users of the sync hook never pay for it, and no import cycle runs through this module."""
    if name == "AnnotationAsyncHook":
        from airflow_provider_annotation.hooks.async_annotation import AnnotationAsyncHook

        return AnnotationAsyncHook
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
