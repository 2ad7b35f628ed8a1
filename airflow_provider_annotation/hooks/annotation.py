"""AnnotationHook: signed calls to the annotation platform's Open API, envelope unwrapped.

Callers get the envelope's `data` or a typed error from `airflow_provider_annotation.exceptions`;
nobody above this module handles HTTP, signatures or JSON envelopes. Every call goes through one
pipeline without I/O (`hooks.pipeline`: signing, secrets, budget, judging, log lines, pacing) with
two thin adapters: `requests` here, and `httpx` (`hooks.async_transport`, loaded on first await)
for the ``a_*`` reads a trigger awaits. Whether to re-send is decided by `hooks.retry`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import threading
import time
from collections.abc import AsyncGenerator, Callable, Iterable, Iterator
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

import requests
import tenacity
from airflow.providers.common.compat.sdk import BaseHook

from airflow_provider_annotation.advice import advice_for
from airflow_provider_annotation.answers import read_tasks
from airflow_provider_annotation.batch import read_send_answer, read_send_status, to_batch_id
from airflow_provider_annotation.codes import PlatformCode
from airflow_provider_annotation.datasets import (
    DatasetState,
    MultipartBody,
    import_body,
    read_dataset_state,
    to_dataset_id,
    upload_fields,
)
from airflow_provider_annotation.endpoints import (
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
    TASK_CALLBACK,
    TASK_GET,
    TASK_SEND,
    TASK_SEND_STATUS,
    TASKS_EXPORT,
    Effect,
    Endpoint,
    by_path,
    create_workflow_endpoint,
    uncatalogued,
)
from airflow_provider_annotation.envelope import (
    ACCEPT_ENCODING,
    Judge,
    Reader,
    judge_answer,
)
from airflow_provider_annotation.exceptions import (
    AnnotationApiError,
    AnnotationError,
    AnnotationInputError,
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
from airflow_provider_annotation.hooks import connection_form, sync_transport
from airflow_provider_annotation.hooks.call_log import CallLogMixin
from airflow_provider_annotation.hooks.config import AnnotationConnectionConfig
from airflow_provider_annotation.hooks.pacing import Pacer
from airflow_provider_annotation.hooks.pipeline import (
    Attempt,
    CallRun,
    Transport,
    resolve_transport,
)
from airflow_provider_annotation.hooks.retry import RetryPolicy, async_retrying, retrying
from airflow_provider_annotation.paging import Pager, project_key, task_key
from airflow_provider_annotation.project import (
    CONNECTION_TEST_FILTERS,
    AnnotationRequestResult,
    CreatedProject,
    DataType,
    SetupInputError,
    annotation_request_body,
    check_annotation_request,
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
from airflow_provider_annotation.status import ProjectStatus
from airflow_provider_annotation.version_compat import AIRFLOW_V_3_2_PLUS, aget_connection
from airflow_provider_annotation.workflow import create_workflow_body, describe_value, to_project_id

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["AnnotationAsyncHook", "AnnotationHook"]

#: Held while a hook makes its session: making one is quick, so one lock serves every hook (and a
#: hook stays copyable, which a lock of its own would prevent).
_SESSION_LOCK = threading.Lock()


class AnnotationHook(CallLogMixin, BaseHook):
    """Talks to the annotation platform with the access-key pair of one Airflow connection.

    Host is the platform's openAPI base URL, Login the Access Key ID, Password the Secret Key.
    The connection is read once, on first use (never at DAG parse time), and one HTTP session is
    kept per hook for keep-alive. Use one hook per thread, as with a `requests.Session`.

    Reads a wait needs are awaitable too, as ``a_*`` methods (`a_get_task`, `a_list_project_tasks`,
    `a_iter_project_tasks`, `a_get_send_status`, `a_get_dataset_status`, `a_call`): the same
    pipeline (`hooks.pipeline`) on `httpx` (`hooks.async_transport`, loaded on first await), with
    the connection read by ``await aget_connection``. Close with `aclose` (or ``async with``).

    Methods for one endpoint are built on `_call(endpoint, json=..., params=...)` (`_a_call` on an
    event loop), which returns ``(data, request_id)`` of a success, its endpoint's success rule
    applied (`envelope.check_created`), or raises the typed error, re-sending as `hooks.retry`
    decides for the endpoint's effect.

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
        self._client: Any = None  # the httpx.AsyncClient of the a_* methods, made on first await
        #: Proxies, TLS setting and standing secrets, resolved once (`pipeline.resolve_transport`).
        self._transport: Transport | None = None
        self._controllers: dict[tuple[Effect, RetryPolicy], tenacity.Retrying] = {}
        #: Shared by the threads of a batch (`hooks.pacing`): a "try again later" slows them all.
        self.pacer: Pacer | None = None

    # -- connection, session and client -------------------------------------------------------

    @cached_property
    def config(self) -> AnnotationConnectionConfig:
        """The connection, resolved and checked once."""
        return AnnotationConnectionConfig.from_connection(self.get_connection(self.annotation_conn_id))

    async def a_config(self) -> AnnotationConnectionConfig:
        """The connection, resolved and checked once, looked up without blocking the event loop.

        :return: the connection, resolved and checked once.
        """
        if "config" not in self.__dict__:
            conn = await aget_connection(self.annotation_conn_id)
            self.__dict__.setdefault("config", AnnotationConnectionConfig.from_connection(conn))
        return self.config

    @property
    def transport(self) -> Transport:
        """Proxies, TLS setting and standing secrets for every request of this hook."""
        if self._transport is None:
            self._transport = resolve_transport(self.config)
        return self._transport

    def get_conn(self) -> requests.Session:
        """The hook's one `requests.Session`, made on first use: one however many threads race to
        that first use (a session lost in the race would keep its connections open).

        :return: the session.
        """
        if self._session is not None:
            return self._session
        _ = self.transport  # looks the connection up and reads the environment: outside the lock
        with _SESSION_LOCK:
            if self._session is not None:
                return self._session
            session = requests.Session()
            session.headers["User-Agent"] = sync_transport.sync_user_agent()
            session.headers["Accept-Encoding"] = ACCEPT_ENCODING  # what `AnswerBudget` inflates
            # The environment (proxy variables, REQUESTS_CA_BUNDLE) was read once (`transport`):
            # not re-reading it on every call saves a large part of what requests spends besides the
            # network. Nor is a ~/.netrc login ever sent: the platform authenticates by signature.
            session.trust_env = False
            self._session = session
        return self._session

    async def a_get_conn(self) -> Any:
        """The hook's one `httpx.AsyncClient`, made on first use: one however many reads race to
        that first use (nothing is awaited between the check and the making).

        :return: the hook's `httpx.AsyncClient`.
        """
        cfg = await self.a_config()
        if self._client is None:
            from airflow_provider_annotation.hooks.async_transport import make_client

            self._client = make_client(cfg, self.transport)
        return self._client

    def close(self) -> None:
        """Close the HTTP session (its kept-alive connections); the next call opens a new one."""
        if self._session is not None:
            self._session.close()
            self._session = None

    async def aclose(self) -> None:
        """Close the async client (and the session, if a sync call made one)."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        self.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- calls -------------------------------------------------------------------------------

    def call(self, endpoint: Endpoint, *, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        """Call a catalogued endpoint (`airflow_provider_annotation.endpoints`) and return the
        envelope's `data`; raise a typed error otherwise. Re-sent as its effect allows; a create's
        answer must carry its new id (`Endpoint.created_key`), as from the endpoint's own method.

        :param endpoint: the catalogued endpoint (`airflow_provider_annotation.endpoints`).
        :param json: the JSON body to send, or None.
        :param params: query parameters, or None.
        :return: the envelope's ``data``.
        """
        return self._call(endpoint, json=json, params=params)[0]

    async def a_call(
        self, endpoint: Endpoint, *, json: Any = None, params: dict[str, Any] | None = None
    ) -> Any:
        """`call` on an event loop, for reads only: a create is refused before anything is sent (a
        trigger may run twice after a triggerer restart, so it must never create anything).

        :param endpoint: the catalogued endpoint (`airflow_provider_annotation.endpoints`).
        :param json: the JSON body to send, or None.
        :param params: query parameters, or None.
        :return: the envelope's ``data``.
        """
        return (await self._a_call(endpoint, json=json, params=params))[0]

    def request(
        self, method: str, endpoint: str, *, json: Any = None, params: dict[str, Any] | None = None
    ) -> Any:
        """`call` by method and path (kept from 0.1.0; `call` is the one escape hatch).

        A catalogued path is the catalogued endpoint (`endpoints.by_path`); any other path is treated
        as a create (never re-sent once it may have reached the platform) unless `method` is GET,
        HEAD or OPTIONS (`endpoints.uncatalogued`).

        :param method: the HTTP method, e.g. ``"POST"``.
        :param endpoint: the endpoint's path, e.g. ``"/project/list"``.
        :param json: the JSON body to send, or None.
        :param params: query parameters, or None.
        :return: the envelope's ``data``.
        """
        known = by_path(endpoint, method) or uncatalogued(method, endpoint)
        return self.call(known, json=json, params=params)

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
            data, _ = self._call(endpoint, json=workflow_for_api(body, self.config.api_version))
        except AnnotationApiError as err:
            hinted = with_api_version_hint(err, self.config.api_version)
            if hinted is err:
                raise
            raise hinted from err
        return data["workflowId"]

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

    # -- the entry points for endpoint methods: one pipeline (`hooks.pipeline`), two adapters ----

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
        cfg = self.config
        run = CallRun(cfg, endpoint, self.pacer)

        def attempt() -> tuple[Any, str | None]:
            with run.attempt() as number:
                one = Attempt.begin(cfg, self.transport, endpoint, number)
                with one.exchanging(self):
                    status, headers = sync_transport.exchange(
                        self.get_conn(), one, self.transport, json, params, form
                    )
                return one.finish(self, status, headers, read=read, judge=judge, keep_mapping=keep_mapping)

        with run.outcome():
            return self._retrying(endpoint.effect, policy or cfg.retry)(attempt)

    async def _a_call(
        self,
        endpoint: Endpoint,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        read: Reader | None = None,
    ) -> tuple[Any, str | None]:
        """`_call` on an event loop (`hooks.async_transport`), for reads only."""
        if not endpoint.is_read:
            raise AnnotationInputError(f"endpoint: {endpoint} creates; the async reads never create")
        from airflow_provider_annotation.hooks import async_transport

        cfg = await self.a_config()
        client = await self.a_get_conn()
        run = CallRun(cfg, endpoint)

        async def attempt() -> tuple[Any, str | None]:
            with run.attempt() as number:
                one = Attempt.begin(cfg, self.transport, endpoint, number)
                with one.exchanging(self):
                    status, headers = await async_transport.exchange(client, one, json, params)
                if endpoint.spooled:  # a million-scene answer takes seconds to read: not on the loop
                    return await asyncio.to_thread(one.finish, self, status, headers, read=read)
                return one.finish(self, status, headers, read=read)

        # One controller per call: tenacity keeps a call's state on the controller (per thread), and
        # many calls of one hook can be waiting on the same event loop at once.
        with run.outcome():
            return await async_retrying(endpoint.effect, cfg.retry, before_sleep=self._log_retry)(attempt)

    def _retrying(self, effect: Effect, policy: RetryPolicy) -> tenacity.Retrying:
        """The tenacity controller for `effect` under `policy`, built once per hook."""
        key = (effect, policy)
        if key not in self._controllers:
            self._controllers[key] = retrying(
                effect, policy, before_sleep=self._log_retry, sleep=lambda seconds: self._sleep(seconds)
            )
        return self._controllers[key]

    def _send(self, call: _Request) -> Any:
        """What an endpoint method returns for `call` (the endpoint's reader applied)."""
        return self._call(
            call.endpoint, json=call.json, params=call.params, read=call.read, keep_mapping=call.keep_mapping
        )[0]

    async def _a_send(self, call: _Request) -> Any:
        """`_send` on an event loop: the same request and reader, awaited."""
        return (await self._a_call(call.endpoint, json=call.json, params=call.params, read=call.read))[0]

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
        return self._call(FOLDER_CREATE, json=body)[0]["folderId"]

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
        return CreatedProject(
            project_id=data["projectId"],
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

    def get_annotation_stats(self, project_id: int | str, workflow_id: int | str) -> dict[str, Any]:
        """The annotation statistics (effort and efficiency) of one workflow of a project
        (``/annotation/stat``). `run_stat` is the same method under its 0.2.0-development name.

        :param project_id: the project's id (a positive int, or a string of digits).
        :param workflow_id: the workflow whose statistics to fetch.
        :return: the stats ``data`` (task counts by status, completion rate, ...).
        """
        body = {
            "projectId": to_project_id(project_id),
            "workflowId": to_project_id(workflow_id, "workflow_id"),
        }
        data, request_id = self._call(ANNOTATION_STAT, json=body)
        return read_object(data, ANNOTATION_STAT, request_id)

    run_stat = get_annotation_stats

    def get_task(self, project_id: int | str, task_id: str) -> dict[str, Any]:
        """One task, with its `status`; `task_id` is a string of digits (or an exact int).

        :param project_id: the project's id (a positive int, or a string of digits).
        :param task_id: the task's id (a string of digits).
        :return: the task, with its ``status`` (1-10).
        """
        return self._send(_task_get(project_id, task_id))

    async def a_get_task(self, project_id: int | str, task_id: str) -> dict[str, Any]:
        """`get_task`, awaited.

        :param project_id: the project's id (a positive int, or a string of digits).
        :param task_id: the task's id (a string of digits).
        :return: the task, with its ``status`` (1-10).
        """
        return await self._a_send(_task_get(project_id, task_id))

    def resend_callback(self, task_id: str) -> None:
        """Ask the platform to send a task's callback again (``POST /task/{taskId}/callback``).

        :param task_id: the task's id (a string of digits).
        """
        self._call(TASK_CALLBACK.at(taskId=to_task_id(task_id)))

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
        return self._send(_tasks_page(project_id, start_time, end_time, offset, limit))

    async def a_list_project_tasks(self, project_id: int | str, *, offset: int = 1, limit: int = 100) -> dict:
        """`list_project_tasks` awaited, over every task (what a wait reads).

        :param project_id: the project's id (a positive int, or a string of digits).
        :param offset: the page number, from 1.
        :param limit: items per page.
        :return: ``{"count", "data"}``: the total count and this page's tasks.
        """
        return await self._a_send(_tasks_page(project_id, None, None, offset, limit))

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

    async def a_iter_project_tasks(
        self, project_id: int | str, *, page_size: int = 100
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Every task of the project, awaited page by page under `iter_project_tasks`' rule
        (`paging.Pager`: a repeated id or a truncated listing raises).

        :param project_id: the project's id (a positive int, or a string of digits).
        :param page_size: items per page while paging.
        :return: an async iterator over the project's tasks, oldest first.
        """
        pager = Pager(PROJECT_TASKS, task_key)
        while not pager.done:
            page = await self._a_send(_tasks_page(project_id, None, None, pager.offset, page_size))
            for task in pager.take(page):
                yield task

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
        return self._send(_send_status(batch_id))

    async def a_get_send_status(self, batch_id: str) -> dict[str, Any]:
        """`get_send_status`, awaited.

        :param batch_id: the import batch's id, as `send_tasks` returned it.
        :return: the batch's status, counts and first errors.
        """
        return await self._a_send(_send_status(batch_id))

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
        return str(self._call(DATASET_IMPORT, json=body)[0]["datasetId"])

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
        data, _ = self._call(
            DATASET_UPLOAD, form=lambda: MultipartBody(fields, "uploadFile", filename, size, opener)
        )
        return str(data["datasetId"])

    def get_dataset_status(self, dataset_id: str) -> DatasetState:
        """A dataset's status (1 building, 2 ready, -1 error) and its scene → data mapping, kept
        in a spooled file however long (a `DatasetMapping`: iterate it, close it).

        :param dataset_id: the dataset's id, as `import_dataset` or `upload_dataset` returned it.
        :return: a `DatasetState`: ``.status``, ``.dataset_id``, ``.message`` and ``.mapping``.
        """
        return self._send(_dataset_status(dataset_id, keep_mapping=True))

    async def a_get_dataset_status(self, dataset_id: str) -> DatasetState:
        """A dataset's status and the platform's reason for an error, awaited; the mapping list is
        only counted (``len(state.mapping)`` is 0 here): a wait needs the status, the worker reads
        the mapping afterwards with `get_dataset_status`.

        :param dataset_id: the dataset's id, as `import_dataset` or `upload_dataset` returned it.
        :return: a `DatasetState`: ``.status``, ``.dataset_id`` and ``.message`` (``.mapping`` empty here).
        """
        return await self._a_send(_dataset_status(dataset_id, keep_mapping=False))

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


@dataclasses.dataclass(frozen=True)
class _Request:
    """One call of an endpoint method, built once (its input checked) for the sync method and its
    ``a_`` twin: both send exactly this, and read the answer with the same `read`."""

    endpoint: Endpoint
    json: Any = None
    params: dict[str, Any] | None = None
    read: Reader | None = None
    keep_mapping: bool = False


def _task_get(project_id: int | str, task_id: str) -> _Request:
    wanted = to_task_id(task_id)
    return _Request(
        TASK_GET,
        json={"projectId": to_project_id(project_id), "taskId": wanted},
        read=lambda data, request_id, _secrets: read_task(data, TASK_GET, request_id, wanted),
    )


def _tasks_page(
    project_id: int | str, start_time: int | None, end_time: int | None, offset: int, limit: int
) -> _Request:
    body = project_tasks_body(
        project_id, start_time=start_time, end_time=end_time, offset=offset, limit=limit
    )
    return _Request(PROJECT_TASKS, json=body, read=_read_tasks_page)


def _read_tasks_page(data: Any, request_id: str | None, _secrets: tuple[str, ...]) -> dict[str, Any]:
    page = read_page(data, PROJECT_TASKS, request_id)
    page["data"] = read_tasks(page["data"], PROJECT_TASKS, request_id)
    return page


def _send_status(batch_id: str) -> _Request:
    return _Request(TASK_SEND_STATUS, json={"batchId": to_batch_id(batch_id)}, read=read_send_status)


def _dataset_status(dataset_id: str, *, keep_mapping: bool) -> _Request:
    return _Request(
        DATASET_STATUS,
        params={"datasetId": to_dataset_id(dataset_id)},
        read=lambda data, request_id, _secrets: read_dataset_state(data, DATASET_STATUS, request_id),
        keep_mapping=keep_mapping,
    )


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


class AnnotationAsyncHook(AnnotationHook):
    """The awaited reads under the names of 0.2.0's async hook, for its users and the triggers:
    ``get_task`` is `AnnotationHook.a_get_task`, and so on. One hook class does both now; this
    name stays so code written against the separate async hook keeps working.

    :param annotation_conn_id: the Airflow connection to use.
    """

    aconfig = AnnotationHook.a_config
    get_async_conn = AnnotationHook.a_get_conn
    get_task = AnnotationHook.a_get_task  # type: ignore[assignment]
    list_project_tasks = AnnotationHook.a_list_project_tasks  # type: ignore[assignment]
    iter_project_tasks = AnnotationHook.a_iter_project_tasks  # type: ignore[assignment]
    get_send_status = AnnotationHook.a_get_send_status  # type: ignore[assignment]
    get_dataset_status = AnnotationHook.a_get_dataset_status  # type: ignore[assignment]
    call = AnnotationHook.a_call  # type: ignore[assignment]
