"""AnnotationAsyncHook: the platform's read endpoints on an event loop (triggers), with `httpx`.

A thin adapter like the sync hook: signing (`signing`), what an answer means (`envelope`) and
whether to send it again (`hooks.retry`) are the same functions the sync hook uses. Reads only:
a trigger may be run twice after a triggerer restart, so it must never create anything.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import time
from collections.abc import AsyncGenerator
from typing import Any

import httpx
from airflow.providers.common.compat.sdk import BaseHook

from airflow_provider_annotation.advice import advice_for
from airflow_provider_annotation.batch import read_send_status, to_batch_id
from airflow_provider_annotation.codes import PlatformCode
from airflow_provider_annotation.datasets import DatasetState, judge_budget, read_dataset_state, to_dataset_id
from airflow_provider_annotation.endpoints import (
    DATASET_STATUS,
    PROJECT_TASKS,
    TASK_GET,
    TASK_SEND_STATUS,
    Endpoint,
)
from airflow_provider_annotation.envelope import (
    ACCEPT_ENCODING,
    AnswerBroken,
    AnswerBudget,
    AnswerRefused,
    AttemptDeadlinePassed,
    Reader,
    lost_answer,
    too_large,
)
from airflow_provider_annotation.exceptions import (
    AnnotationApiError,
    AnnotationUnavailableError,
)
from airflow_provider_annotation.hooks.call_log import CallLogMixin
from airflow_provider_annotation.hooks.config import AnnotationConnectionConfig
from airflow_provider_annotation.hooks.retry import SignatureExpiry, async_retrying
from airflow_provider_annotation.paging import Pager, task_key
from airflow_provider_annotation.project import project_tasks_body, read_page, read_task, to_task_id
from airflow_provider_annotation.redaction import remember_secrets, scrub
from airflow_provider_annotation.signing import SIGNATURE_HEADER, signed_headers
from airflow_provider_annotation.version_compat import aget_connection
from airflow_provider_annotation.workflow import to_project_id

__all__ = ["AnnotationAsyncHook"]


class AnnotationAsyncHook(CallLogMixin, BaseHook):
    """The read endpoints a wait needs, awaited: `get_task`, `list_project_tasks`,
    `get_send_status`, and `call(endpoint)` for any other read.

    The connection is read once with ``await BaseHook.aget_connection`` (a worker thread on Airflow
    versions without it); one `httpx.AsyncClient` is kept per hook. Close it with `aclose`.

    :param annotation_conn_id: the Airflow connection to use.
    """

    conn_name_attr = "annotation_conn_id"
    default_conn_name = "annotation_default"
    conn_type = "annotation"
    hook_name = "Annotation Platform"

    def __init__(self, annotation_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.annotation_conn_id = annotation_conn_id
        self._config: AnnotationConnectionConfig | None = None
        self._client: httpx.AsyncClient | None = None

    async def aconfig(self) -> AnnotationConnectionConfig:
        """The connection, resolved and checked once.

        :return: the connection, resolved and checked once.
        """
        if self._config is None:
            conn = await aget_connection(self.annotation_conn_id)
            self._config = AnnotationConnectionConfig.from_connection(conn)
        return self._config

    async def get_async_conn(self) -> httpx.AsyncClient:
        """The hook's one client, made on first use: one however many reads race to that first use
        (nothing is awaited between the check and the making, so no other read can slip in).

        :return: the hook's `httpx.AsyncClient`.
        """
        cfg = await self.aconfig()
        if self._client is None:
            verify = _tls_context(cfg.verify)
            mounts = {
                f"{scheme}://": httpx.AsyncHTTPTransport(proxy=url, verify=verify)
                for scheme, url in (cfg.proxies or {}).items()
            }
            self._client = httpx.AsyncClient(
                verify=verify,
                mounts=mounts or None,
                timeout=httpx.Timeout(cfg.read_timeout, connect=cfg.connect_timeout),
                follow_redirects=False,  # the signed headers must not go to another host
                headers={"User-Agent": _async_user_agent(), "Accept-Encoding": ACCEPT_ENCODING},
            )
        return self._client

    async def aclose(self) -> None:
        """Close the client the hook made (the session's connections)."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def __aenter__(self) -> AnnotationAsyncHook:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- reads ---------------------------------------------------------------------------------

    async def get_task(self, project_id: int | str, task_id: str) -> dict[str, Any]:
        """One task, with its `status`.

        :param project_id: the project's id (a positive int, or a string of digits).
        :param task_id: the task's id (a string of digits).
        :return: the task, with its ``status`` (1-10).
        """
        wanted = to_task_id(task_id)
        body = {"projectId": to_project_id(project_id), "taskId": wanted}
        data, request_id = await self._call(TASK_GET, json=body)
        return read_task(data, TASK_GET, request_id, wanted)

    async def list_project_tasks(self, project_id: int | str, *, offset: int = 1, limit: int = 100) -> dict:
        """One page of a project's tasks: ``{"count", "data"}``, each task's ``id`` a string.

        :param project_id: the project's id (a positive int, or a string of digits).
        :param offset: the page number, from 1.
        :param limit: items per page.
        :return: ``{"count", "data"}``: the total count and this page's tasks.
        """
        body = project_tasks_body(project_id, offset=offset, limit=limit)
        data, request_id = await self._call(PROJECT_TASKS, json=body)
        page = read_page(data, PROJECT_TASKS, request_id)
        page["data"] = [read_task(item, PROJECT_TASKS, request_id) for item in page["data"]]
        return page

    async def iter_project_tasks(
        self, project_id: int | str, *, page_size: int = 100
    ) -> AsyncGenerator[dict, None]:
        """Every task of the project, page after page, under the sync hook's paging rule
        (`paging.Pager`: ends on a short or empty page, a repeated id or a truncated listing raises).

        :param project_id: the project's id (a positive int, or a string of digits).
        :param page_size: items per page while paging.
        :return: an async iterator over the project's tasks.
        """
        pager = Pager(PROJECT_TASKS, task_key)
        while not pager.done:
            for task in pager.take(
                await self.list_project_tasks(project_id, offset=pager.offset, limit=page_size)
            ):
                yield task

    async def get_send_status(self, batch_id: str) -> dict[str, Any]:
        """How an import batch is doing, as the sync hook's `get_send_status` returns it.

        :param batch_id: the import batch's id, as `send_tasks` returned it.
        :return: the batch's status, counts and first errors.
        """
        body = {"batchId": to_batch_id(batch_id)}
        return (await self._call(TASK_SEND_STATUS, json=body, read=read_send_status))[0]

    async def get_dataset_status(self, dataset_id: str) -> DatasetState:
        """A dataset's status and the platform's reason for an error; the mapping list is only
        counted (``len(state.mapping)`` is 0 here): a wait needs the status, the worker reads the
        mapping afterwards with the sync hook.

        :param dataset_id: the dataset's id, as `import_dataset` or `upload_dataset` returned it.
        :return: a `DatasetState`: ``.status``, ``.dataset_id`` and ``.message`` (``.mapping`` empty here).
        """
        params = {"datasetId": to_dataset_id(dataset_id)}
        data, request_id = await self._call(DATASET_STATUS, params=params)
        return read_dataset_state(data, DATASET_STATUS, request_id)

    async def call(
        self, endpoint: Endpoint, *, json: Any = None, params: dict[str, Any] | None = None
    ) -> Any:
        """The envelope's `data` of a catalogued read; a create is refused before anything is sent.

        :param endpoint: the catalogued endpoint (`airflow_provider_annotation.endpoints`).
        :param json: the JSON body to send, or None.
        :param params: query parameters, or None.
        :return: the envelope's ``data``.
        """
        return (await self._call(endpoint, json=json, params=params))[0]

    async def _call(
        self,
        endpoint: Endpoint,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        read: Reader | None = None,
    ) -> tuple[Any, str | None]:
        """``(data, request_id)``, attempts signed afresh and re-sent as `hooks.retry` decides;
        `read` as in the sync hook's `_call`."""
        if not endpoint.is_read:
            raise ValueError(f"endpoint: {endpoint} creates; the async hook only reads")
        cfg = await self.aconfig()
        attempts = 0
        expiry = SignatureExpiry()

        async def attempt() -> tuple[Any, str | None]:
            nonlocal attempts
            attempts += 1
            try:
                return await self._send_once(endpoint, json, params, attempts, read)
            except AnnotationApiError as err:
                expiry.check(err, endpoint)
                raise

        # One controller per call: tenacity keeps a call's state on the controller (per thread), and
        # many calls of one hook can be waiting on the same event loop at once.
        controller = async_retrying(endpoint.effect, cfg.retry, before_sleep=self._log_retry)
        try:
            return await controller(attempt)
        except AnnotationApiError as err:
            err.attempts = attempts
            err.advice = advice_for(err, base_url=cfg.base_url, access_key=cfg.access_key)
            raise

    async def _send_once(
        self,
        endpoint: Endpoint,
        json: Any,
        params: dict[str, Any] | None,
        attempt: int,
        read: Reader | None = None,
    ) -> tuple[Any, str | None]:
        cfg = await self.aconfig()
        client = await self.get_async_conn()
        headers = signed_headers(cfg.access_key, cfg.secret_key)
        secrets = (cfg.secret_key, headers[SIGNATURE_HEADER])
        remember_secrets(secrets)  # for readers of this answer after it is returned
        started = time.monotonic()
        budget = AnswerBudget(endpoint.max_answer_bytes, started + cfg.total_timeout, spool=endpoint.spooled)
        where: dict[str, Any] = {"endpoint": endpoint.path, "method": endpoint.method}
        seen: dict[str, Any] = {}

        async def exchange() -> httpx.Headers:
            async with client.stream(
                endpoint.method, cfg.base_url + endpoint.path, json=json, params=params, headers=headers
            ) as response:
                seen["status"] = response.status_code
                budget.begin(response.headers)
                async for chunk in response.aiter_raw():  # undecoded: the budget inflates it
                    budget.take(chunk)
                return response.headers

        try:
            # A bound on the whole attempt, however slowly the answer drips in.
            response_headers = await asyncio.wait_for(exchange(), cfg.total_timeout)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.ProxyError) as exc:
            raise AnnotationUnavailableError(
                f"could not connect to {cfg.base_url}: {scrub(str(exc) or type(exc).__name__, secrets)}",
                **where,
            ) from None
        except AnswerRefused as exc:
            raise too_large(endpoint, exc, http_status=seen.get("status")) from None
        except (AttemptDeadlinePassed, TimeoutError):
            raise lost_answer(
                endpoint, f"no whole answer within {cfg.total_timeout:g} s", http_status=seen.get("status")
            ) from None
        except (httpx.HTTPError, AnswerBroken) as exc:  # read timeouts, broken or malformed answers
            raise lost_answer(
                endpoint,
                f"the answer was lost ({type(exc).__name__}: {scrub(str(exc), secrets)})",
                http_status=seen.get("status"),
            ) from None
        status = seen["status"]
        try:
            if endpoint.spooled:  # a million-scene answer takes seconds to read: not on the event loop
                data, request_id = await asyncio.to_thread(
                    judge_budget, endpoint, status, response_headers, budget, secrets
                )
            else:
                data, request_id = judge_budget(endpoint, status, response_headers, budget, secrets)
        except AnnotationApiError as err:
            self._log_call(endpoint, status, err.code, err.request_id, started, attempt)
            raise
        self._log_call(endpoint, status, PlatformCode.SUCCESS, request_id, started, attempt)
        return (data if read is None else read(data, request_id, secrets)), request_id


@functools.lru_cache(maxsize=8)
def _tls_context(verify: bool | str) -> ssl.SSLContext:
    """One TLS context per `verify` setting for the whole process: loading the CA bundle costs tens
    of milliseconds and about a megabyte, too much to pay again for each of many waiting triggers."""
    return httpx.create_ssl_context(verify=verify)


@functools.lru_cache(maxsize=1)
def _async_user_agent() -> str:
    from airflow_provider_annotation.hooks.annotation import _user_agent

    return _user_agent().rsplit(" ", 1)[0] + f" httpx/{httpx.__version__}"
