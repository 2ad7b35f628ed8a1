"""AnnotationAsyncHook against the emulator over real HTTP: the sync hook's answers, errors and
retry decisions, on an event loop."""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from airflow_provider_annotation.endpoints import PROJECT_CREATE, PROJECT_LIST
from airflow_provider_annotation.exceptions import (
    AnnotationClockSkewError,
    AnnotationInputError,
    AnnotationNotFoundError,
    AnnotationResponseError,
    AnnotationUnavailableError,
)
from airflow_provider_annotation.hooks.annotation import AnnotationAsyncHook
from airflow_provider_annotation.signing import SIGNATURE_HEADER
from airflow_provider_annotation.testing import Emulator, Fault
from tests.helpers import SK, make_tasks, set_conn


def run(coro):
    return asyncio.run(coro)


async def _get(conn_id: str, project_id: int, task_id: str) -> dict:
    async with AnnotationAsyncHook(conn_id) as hook:
        return await hook.get_task(project_id, task_id)


def test_reads_a_task_and_a_page_like_the_sync_hook(emulator: Emulator, make_hook, monkeypatch) -> None:
    sync = make_hook()
    project_id, ids = make_tasks(sync, 3)
    emulator.set_task_status(ids[1], 9)
    conn = set_conn(monkeypatch, "async_a", emulator.url)

    async def both() -> tuple[dict, dict]:
        async with AnnotationAsyncHook(conn) as hook:
            return await hook.get_task(project_id, ids[1]), await hook.list_project_tasks(project_id, limit=2)

    task, page = run(both())
    again = sync.get_task(project_id, ids[1])
    assert {**task, "serverTime": ""} == {**again, "serverTime": ""}  # the answer's own clock aside
    assert task["status"] == 9 and task["taskId"] == ids[1]
    assert page["count"] == 3 and [t["id"] for t in page["data"]] == ids[:2]


def test_each_attempt_is_signed_afresh_and_503s_are_retried(
    emulator: Emulator, make_hook, monkeypatch
) -> None:
    project_id, ids = make_tasks(make_hook(), 1)
    emulator.inject(Fault.http(503, endpoint="/task/get", times=2))
    conn = set_conn(monkeypatch, "async_b", emulator.url)
    assert run(_get(conn, project_id, ids[0]))["status"] == 1
    attempts = [r for r in emulator.requests if r["endpoint"] == "/task/get"]
    assert len(attempts) == 3
    # The emulator refuses a replayed signature: three answers mean three signatures.
    assert [r["status"] for r in attempts] == [503, 503, 200]


def test_retry_after_is_honoured(emulator: Emulator, make_hook, monkeypatch) -> None:
    project_id, ids = make_tasks(make_hook(), 1)
    emulator.inject(Fault.http(429, retry_after=1, endpoint="/task/get"))
    conn = set_conn(monkeypatch, "async_c", emulator.url)
    started = time.monotonic()
    run(_get(conn, project_id, ids[0]))
    assert time.monotonic() - started >= 1.0


def test_errors_are_the_sync_hooks_typed_errors(emulator: Emulator, make_hook, monkeypatch) -> None:
    project_id, _ = make_tasks(make_hook(), 1)
    conn = set_conn(monkeypatch, "async_d", emulator.url)
    with pytest.raises(AnnotationNotFoundError) as caught:
        run(_get(conn, project_id, "999999999999999999"))
    assert caught.value.endpoint == "/task/get"
    emulator.inject(Fault.expired(endpoint="/task/get", times=2))
    with pytest.raises(AnnotationClockSkewError):
        run(_get(conn, project_id, "999999999999999999"))


def test_unreachable_platform_gives_unavailable_after_the_budget(monkeypatch) -> None:
    conn = set_conn(monkeypatch, "async_e", "http://127.0.0.1:9", max_attempts=2)
    with pytest.raises(AnnotationUnavailableError) as caught:
        run(_get(conn, 1, "1"))
    assert caught.value.attempts == 2


def test_creates_are_refused_before_sending(emulator: Emulator, monkeypatch) -> None:
    conn = set_conn(monkeypatch, "async_f", emulator.url)

    async def create() -> None:
        async with AnnotationAsyncHook(conn) as hook:
            await hook.call(PROJECT_CREATE, json={"name": "x"})

    with pytest.raises(ValueError, match="^endpoint: POST /project/create creates"):
        run(create())
    assert emulator.requests == []


def test_secret_and_signature_never_reach_errors_or_logs(emulator: Emulator, monkeypatch, logs) -> None:
    conn = set_conn(monkeypatch, "async_g", emulator.url)
    emulator.inject(Fault.echoing(endpoint=PROJECT_LIST.path))

    async def call() -> None:
        async with AnnotationAsyncHook(conn) as hook:
            await hook.call(PROJECT_LIST, json={"status": 1, "dataType": 2, "offset": 1, "limit": 1})

    with pytest.raises(Exception) as caught:
        run(call())
    signatures = [r["headers"].get(SIGNATURE_HEADER.lower()) for r in emulator.requests if "headers" in r]
    for text in (str(caught.value), logs.text):
        assert SK not in text
        assert not any(sig and sig in text for sig in signatures)


def test_reads_racing_to_first_use_share_one_client(emulator: Emulator, monkeypatch) -> None:
    """Ten reads of one hook start at once, while the connection lookup suspends (as it does through
    the API server or a secrets backend): one `httpx.AsyncClient` is made (counted, not replaced)."""
    import httpx

    made: list[httpx.AsyncClient] = []
    real_init = httpx.AsyncClient.__init__

    def counted_init(self: httpx.AsyncClient, **kwargs: object) -> None:
        real_init(self, **kwargs)
        made.append(self)

    monkeypatch.setattr(httpx.AsyncClient, "__init__", counted_init)
    conn = set_conn(monkeypatch, "async_race", emulator.url)
    from airflow_provider_annotation.hooks import annotation

    real_lookup = annotation.aget_connection

    async def remote_lookup(conn_id: str) -> object:
        """The lookup as it goes through the API server or a secrets backend: it suspends."""
        await asyncio.sleep(0)  # a suspension, not a wait: the other reads run meanwhile
        return await real_lookup(conn_id)

    monkeypatch.setattr(annotation, "aget_connection", remote_lookup)

    async def race() -> None:
        async with AnnotationAsyncHook(conn) as hook:
            await asyncio.gather(
                *(
                    hook.call(PROJECT_LIST, json={"status": 1, "dataType": 2, "offset": 1, "limit": 1})
                    for _ in range(10)
                )
            )

    run(race())
    assert len(made) == 1, f"{len(made) - 1} extra clients, never closed"


# -- one pipeline: what the separate async hook had drifted on ---------------------------------


@pytest.fixture
def hostile_proxy():
    """An HTTP proxy on loopback that refuses every request with an envelope echoing its own
    credentials (as a misconfigured proxy or a hostile one may): its URL, with a password."""
    import http.server
    import threading

    class Echo(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            body = f"proxy refused someone:{PROXY_PASSWORD}".encode()
            self.send_response(400)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://someone:{PROXY_PASSWORD}@127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


PROXY_PASSWORD = "proxy-pass-789"
LIST_BODY = {"status": 1, "dataType": 2, "offset": 1, "limit": 1}


@pytest.mark.parametrize("which", ["sync", "async"])
def test_a_proxy_password_never_reaches_errors_or_logs_on_either_path(
    emulator: Emulator, monkeypatch, logs, hostile_proxy, which
) -> None:
    """The proxy's password is one of the hook's secrets on both paths (the separate async hook
    kept only the secret key and the signature)."""
    conn = set_conn(monkeypatch, f"async_proxy_{which}", emulator.url, proxies={"http": hostile_proxy})

    async def read() -> None:
        async with AnnotationAsyncHook(conn) as hook:
            await hook.call(PROJECT_LIST, json=LIST_BODY)

    with pytest.raises(AnnotationResponseError) as caught:
        if which == "async":
            run(read())
        else:
            from airflow_provider_annotation.hooks.annotation import AnnotationHook

            with AnnotationHook(conn) as hook:
                hook.call(PROJECT_LIST, json=LIST_BODY)
    assert "proxy refused someone:" in str(caught.value)  # the echo reached the error, scrubbed
    assert PROXY_PASSWORD not in str(caught.value) and PROXY_PASSWORD not in logs.text
    assert emulator.requests == []  # it went through the proxy


def test_an_awaited_attempt_without_a_usable_answer_is_logged_too(
    emulator: Emulator, monkeypatch, logs
) -> None:
    """The line `call_log` promises for both paths (the separate async hook logged nothing)."""
    emulator.inject(Fault.disconnect(endpoint=PROJECT_LIST.path))
    conn = set_conn(monkeypatch, "async_lost", emulator.url, max_attempts=1)

    async def read() -> None:
        async with AnnotationAsyncHook(conn) as hook:
            await hook.call(PROJECT_LIST, json=LIST_BODY)

    with pytest.raises(AnnotationUnavailableError):
        run(read())
    (line,) = [line for line in logs.text.splitlines() if "-> no usable answer" in line]
    assert f"POST {PROJECT_LIST.path} -> no usable answer, " in line
    assert re.search(r", \d+\.\d ms \(attempt 1\): ", line)


def test_an_awaited_create_is_refused_with_the_typed_input_error(emulator: Emulator, monkeypatch) -> None:
    """The refusal is an `AnnotationInputError` naming the endpoint, as every input error before a
    request is (a bare ValueError before)."""
    conn = set_conn(monkeypatch, "async_create", emulator.url)

    async def create() -> None:
        async with AnnotationAsyncHook(conn) as hook:
            await hook.call(PROJECT_CREATE, json={"name": "x"})

    with pytest.raises(AnnotationInputError, match="^endpoint: POST /project/create creates"):
        run(create())
    assert emulator.requests == []
