"""The hardened transport against hostile answers, over real HTTP: re-sending by effect, the success
rule, bounded size, memory and time per attempt, scrubbing, signing afresh, the retry schedule."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
import re
import socket
import time
import tracemalloc

import pytest
import requests

from airflow_provider_annotation.endpoints import (
    CREATE_WORKFLOW,
    PROJECT_GET,
    PROJECT_LIST,
    Effect,
    Endpoint,
    by_path,
    uncatalogued,
)
from airflow_provider_annotation.envelope import claims_success, judge_answer, parse_retry_after
from airflow_provider_annotation.exceptions import (
    AnnotationConnectionConfigError,
    AnnotationMayHaveTakenEffectError,
    AnnotationResponseError,
    AnnotationUnavailableError,
    AnnotationValidationError,
)
from airflow_provider_annotation.hooks.annotation import AnnotationHook
from airflow_provider_annotation.hooks.retry import RetryPolicy, should_retry
from airflow_provider_annotation.redaction import scrub
from airflow_provider_annotation.signing import signature, signed_headers
from airflow_provider_annotation.testing import Emulator, Fault
from airflow_provider_annotation.testing.asgi import _stacked_gzip
from airflow_provider_annotation.testing.faults import HALF_SUCCESSES
from tests.helpers import AK, SK, set_conn

POOLS = [{"name": "D", "type": 0}, {"name": "L", "type": 1, "workers": ["alice"]}, {"name": "C", "type": 5}]
LIST_BODY = {"status": 1, "dataType": 2, "offset": 1, "limit": 1}  # both filters are required


def sent_to(emu: Emulator, path: str) -> list[dict]:
    return [r for r in emu.requests if r["endpoint"] == path]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- re-sending follows the endpoint's effect -----------------------------------------------------

LOST_ANSWERS = {
    "drop-after-act": Fault.disconnect(act=True),
    "drop-before-act": Fault.disconnect(),
    "html-502-after-act": Fault.html(502, act=True),
    "html-500-after-act": Fault.html(500, act=True),
    "proxy-503-text-after-act": Fault.text(503, act=True),
    "empty-500-after-act": Fault.empty(500, act=True),
    "truncated-200": Fault.truncated(act=True),
    "cut-mid-body": Fault.cut(act=True),
    "deeply-nested-json": Fault(status=200, body="[" * 200_000 + "]" * 200_000, act=True),
}


@pytest.mark.parametrize("fault", LOST_ANSWERS.values(), ids=LOST_ANSWERS.keys())
def test_lost_answer_of_a_create_is_not_resent(emulator, make_hook, fault):
    emulator.inject(fault)
    with pytest.raises(AnnotationMayHaveTakenEffectError, match="may have acted") as info:
        make_hook().create_workflow(1, POOLS)
    assert info.value.attempts == 1 and len(sent_to(emulator, CREATE_WORKFLOW.path)) == 1
    assert len(emulator.workflows) == (1 if fault.act else 0)


@pytest.mark.parametrize("fault", LOST_ANSWERS.values(), ids=LOST_ANSWERS.keys())
def test_lost_answer_of_a_read_post_is_resent(emulator, make_hook, fault):
    """`/project/list` is a POST, and a read: asking again cannot create anything."""
    emulator.inject(dataclass_copy(fault, endpoint=PROJECT_LIST.path))
    data = make_hook().call(PROJECT_LIST, json=LIST_BODY)
    assert set(data) == {"count", "data"}
    assert len(sent_to(emulator, PROJECT_LIST.path)) == 2


def dataclass_copy(fault: Fault, **changes: object) -> Fault:
    data = fault.to_dict()
    data.update(changes)
    if isinstance(fault.body, bytes):
        data["body"] = fault.body
    return Fault(**data)


def test_read_past_the_read_timeout_is_resent_create_is_not(emulator, make_hook):
    hook = make_hook(timeout={"connect": 5, "read": 0.3})
    emulator.inject(Fault.slow(1.0, endpoint=PROJECT_LIST.path))
    assert hook.call(PROJECT_LIST, json=LIST_BODY)["count"] == 0
    assert len(sent_to(emulator, PROJECT_LIST.path)) == 2
    emulator.inject(Fault.slow(1.0, act=True, endpoint=CREATE_WORKFLOW.path))
    with pytest.raises(AnnotationMayHaveTakenEffectError, match="read timeout"):
        hook.create_workflow(1, POOLS)
    assert len(sent_to(emulator, CREATE_WORKFLOW.path)) == 1


def test_lost_reads_give_up_after_max_attempts_as_unavailable(emulator, make_hook):
    emulator.inject(Fault.disconnect(times=10))
    with pytest.raises(AnnotationUnavailableError, match="a read changes nothing") as info:
        make_hook(max_attempts=3).call(PROJECT_LIST, json=LIST_BODY)
    assert info.value.attempts == 3 and len(emulator.requests) == 3


@pytest.mark.parametrize(
    "fault",
    [Fault.http(502, code=500), Fault.http(504, code=500), Fault.http(503, code=500), Fault.http(429)],
    ids=["code-500-under-502", "code-500-under-504", "envelope-503", "429"],
)
def test_creates_resent_only_when_the_answer_proves_nothing_was_done(emulator, make_hook, fault):
    assert make_hook().create_workflow(1, POOLS) == 18000 if not emulator.inject(fault) else None
    assert len(sent_to(emulator, CREATE_WORKFLOW.path)) == 2 and len(emulator.workflows) == 1


def test_retry_after_zero_loops_stay_bounded_by_attempts(emulator, make_hook):
    hook = make_hook(max_attempts=4)
    waits: list[float] = []
    hook._sleep = waits.append
    emulator.inject(Fault.http(503, retry_after=0, times=100))
    with pytest.raises(AnnotationUnavailableError):
        hook.create_workflow(1, POOLS)
    assert waits == [0.0, 0.0, 0.0] and len(emulator.requests) == 4


def test_uncatalogued_calls_are_creates_unless_the_method_is_safe():
    assert by_path("project/list", "post") is PROJECT_LIST
    assert by_path("/project/get", "GET") is PROJECT_GET
    assert by_path("/project/get", "POST") is None
    assert uncatalogued("POST", "/some/new/thing").effect is Effect.CREATE
    assert uncatalogued("GET", "some/new/thing") == Endpoint("GET", "/some/new/thing", Effect.READ)


def test_request_by_path_uses_the_catalogue(emulator, make_hook):
    emulator.inject(Fault.disconnect(endpoint=PROJECT_LIST.path))
    assert make_hook().request("POST", PROJECT_LIST.path, json=LIST_BODY)["count"] == 0
    assert len(emulator.requests) == 2


def test_an_uncatalogued_post_is_never_resent_after_a_lost_answer(emulator, make_hook):
    emulator.inject(Fault.disconnect())
    with pytest.raises(AnnotationMayHaveTakenEffectError):
        make_hook().request("POST", "/annotation/new-thing", json={})
    assert len(emulator.requests) == 1


# -- the success rule ------------------------------------------------------------------------------

HALF = sorted(HALF_SUCCESSES)  # every half-claimed success the emulator can play


@pytest.mark.parametrize("how", HALF)
@pytest.mark.parametrize("retry_ambiguous", [False, True], ids=["default", "retry_ambiguous"])
def test_half_claimed_success_of_a_create_is_never_resent(emulator, make_hook, how, retry_ambiguous):
    emulator.inject(Fault.half_claimed(how, act=True))
    with pytest.raises(AnnotationMayHaveTakenEffectError, match="may") as info:
        make_hook(retry_ambiguous=retry_ambiguous).create_workflow(1, POOLS)
    assert info.value.attempts == 1 and len(emulator.requests) == 1 and len(emulator.workflows) == 1
    assert info.value.request_id  # the answer's requestId is kept, to ask the platform


@pytest.mark.parametrize("how", ["success-false", "code-string", "other-code"])
def test_half_claimed_success_of_a_read_is_a_response_error(emulator, make_hook, how):
    emulator.inject(Fault.half_claimed(how))
    with pytest.raises(AnnotationResponseError, match="half-claims success"):
        make_hook().call(PROJECT_LIST, json=LIST_BODY)


def test_the_largest_long_is_a_valid_id(emulator, make_hook):
    body = {"code": 200, "success": True, "data": {"workflowId": 2**63 - 1}, "requestId": "r"}
    emulator.inject(Fault(status=200, body=json.dumps(body)))
    assert make_hook().create_workflow(1, POOLS) == 2**63 - 1


def test_opt_in_still_resends_a_plain_lost_create(emulator, make_hook):
    emulator.inject(Fault.text(503, act=True))
    assert make_hook(retry_ambiguous=True).create_workflow(1, POOLS) == 18001
    assert len(emulator.workflows) == 2


@pytest.mark.parametrize(
    "envelope",
    [
        {"code": 200.0, "success": True, "data": {"workflowId": 1}},
        {"code": True, "success": True, "data": {"workflowId": 1}},
        {"code": 200, "success": "true", "data": {"workflowId": 1}},
        {"code": 200, "success": 1, "data": {"workflowId": 1}},
    ],
    ids=["code-float", "code-bool", "success-string", "success-one"],
)
def test_success_needs_the_int_code_and_true(envelope):
    """The pure core, without HTTP: what the adapters share."""
    body = json.dumps(envelope).encode()
    with pytest.raises(AnnotationMayHaveTakenEffectError, match="half-claims success") as info:
        judge_answer(CREATE_WORKFLOW, 200, {}, body)
    assert claims_success(info.value)
    with pytest.raises(AnnotationResponseError):
        judge_answer(PROJECT_LIST, 200, {}, body)


def test_a_lost_answer_is_resent_by_effect():
    policy = RetryPolicy(max_attempts=5, max_retry_wait=60, base_delay=1, retry_ambiguous=False)
    lost = AnnotationMayHaveTakenEffectError("lost")
    assert should_retry(lost, Effect.READ, policy) and not should_retry(lost, Effect.CREATE, policy)
    assert should_retry(lost, Effect.CREATE, dataclasses.replace(policy, retry_ambiguous=True))


# -- bounded size, memory and time per attempt -------------------------------------------------------


def test_gzip_bomb_is_cut_off_without_taking_memory(emulator, make_hook):
    """0.5 MB on the wire inflating to 500 MB: the hook stops at the endpoint's limit."""
    hook = make_hook()
    hook.call(PROJECT_LIST, json=LIST_BODY)  # connection, imports and caches warm
    emulator.inject(Fault.gzip(500 * 1024 * 1024, act=True))
    tracemalloc.start()
    try:
        with pytest.raises(AnnotationMayHaveTakenEffectError, match="over this endpoint's limit"):
            hook.create_workflow(1, POOLS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 * 1024 * 1024, f"peak {peak / 2**20:.0f} MiB"
    assert len(emulator.workflows) == 1 and len(emulator.requests) == 2


@pytest.mark.parametrize("declared", [False, True], ids=["streamed", "content-length"])
def test_oversized_answer_refused(emulator, make_hook, declared):
    size = 16 * 1024 * 1024
    fault = (
        Fault(status=200, body=b" " * size + b"{}", endpoint=PROJECT_LIST.path)
        if declared
        else Fault.oversized(size, endpoint=PROJECT_LIST.path)
    )
    emulator.inject(fault)
    with pytest.raises(AnnotationResponseError, match="over this endpoint's limit of 4194304 bytes") as info:
        make_hook().call(PROJECT_LIST, json=LIST_BODY)
    # An announced length is refused before reading; a streamed answer once it passes the limit.
    assert ("announces" in str(info.value)) is declared
    assert info.value.attempts == 1  # a read would only get the same answer again
    emulator.inject(Fault.oversized(size, act=True))
    with pytest.raises(AnnotationMayHaveTakenEffectError, match="limit"):
        make_hook().create_workflow(1, POOLS)
    assert len(emulator.workflows) == 1


def test_a_dripping_answer_ends_at_the_attempts_total_timeout(emulator, make_hook):
    """A byte every 0.4 s never trips a 1 s read timeout; the total timeout ends the attempt."""
    hook = make_hook(timeout={"connect": 1, "read": 1, "total": 1.5})
    emulator.inject(Fault.drip_feed(0.4, act=True))
    started = time.monotonic()
    with pytest.raises(AnnotationMayHaveTakenEffectError, match=r"still arriving after 1.5 s") as info:
        hook.create_workflow(1, POOLS)
    # The whole envelope at 0.4 s a byte would take over a minute.
    assert time.monotonic() - started < 15
    assert info.value.attempts == 1 and len(emulator.workflows) == 1


def test_a_dripping_read_is_resent(emulator, make_hook):
    hook = make_hook(timeout={"connect": 1, "read": 1, "total": 1.0})
    emulator.inject(Fault.drip_feed(0.3, endpoint=PROJECT_LIST.path))
    assert hook.call(PROJECT_LIST, json=LIST_BODY)["count"] == 0
    assert len(emulator.requests) == 2


def test_total_timeout_is_checked_like_the_other_timeouts(make_hook):
    hook = make_hook(timeout={"connect": 1, "read": 1, "total": 0})
    with pytest.raises(AnnotationConnectionConfigError, match="timeout.total"):
        hook.create_workflow(1, POOLS)


# -- scrubbing what the server sends --------------------------------------------------------------


@pytest.mark.parametrize("where", ["message", "requestId", "location", "body"])
def test_echoed_secrets_and_signatures_never_reach_errors_or_logs(emulator, make_hook, logs, where):
    emulator.inject(Fault.echoing(where))
    with pytest.raises(Exception) as info:  # noqa: PT011 - the class depends on where the echo is
        make_hook().create_workflow(1, POOLS)
    (sent,) = emulator.requests
    text = str(info.value) + logs.text
    assert "***" in text  # the echo did reach us, scrubbed
    for secret in (SK, sent["headers"]["X-SIGN"]):
        assert secret not in text
    assert "\n" not in str(info.value) and "FORGED" not in "".join(
        line for line in logs.text.splitlines() if line.startswith("2026-01-01")
    )
    assert not any(line.startswith("2026-01-01T00:00:00.000000Z") for line in logs.text.splitlines())
    assert len(str(info.value)) < 1000
    assert info.value.request_id is None or "\n" not in info.value.request_id


def test_a_huge_message_becomes_a_bounded_error(emulator, make_hook):
    """3 MB: under the answer limit, so it is read, and still not shown whole."""
    body = {"code": 400, "success": False, "message": "x" * 3_000_000, "data": None, "requestId": "r"}
    emulator.inject(Fault(status=200, body=json.dumps(body)))
    with pytest.raises(AnnotationValidationError) as info:
        make_hook().create_workflow(1, POOLS)
    assert len(str(info.value)) < 500


def test_proxy_credentials_never_shown(emulator, make_hook):
    proxy = f"http://someone:proxy-pass-123@127.0.0.1:{free_port()}"
    hook = make_hook(proxies={"http": proxy}, max_attempts=1)
    with pytest.raises(AnnotationUnavailableError) as info:
        hook.create_workflow(1, POOLS)
    assert "proxy-pass-123" not in str(info.value)
    ok, message = hook.test_connection()
    assert not ok and "proxy-pass-123" not in message


# -- signing, schedule, connection ---------------------------------------------------------------


def test_every_attempt_is_signed_afresh(emulator, make_hook):
    emulator.inject(Fault.http(503, times=3))
    make_hook().create_workflow(1, POOLS)
    headers = [r["headers"] for r in emulator.requests]
    assert len(headers) == 4
    assert len({h["X-TS"] for h in headers}) == 4 and len({h["X-SIGN"] for h in headers}) == 4
    assert all(h["X-SIGN"] == signature(h["X-TS"], SK, AK) for h in headers)


def test_timestamps_never_repeat_within_a_millisecond():
    stamps = [signed_headers(AK, SK)["X-TS"] for _ in range(200)]
    assert len(set(stamps)) == len(stamps)
    time.sleep(max(0.0, int(stamps[-1]) / 1000 - time.time()) + 0.002)  # leave no stamp ahead of the clock


def test_the_emulator_refuses_a_replayed_signature(emulator):
    headers = signed_headers(AK, SK)
    url = emulator.url + PROJECT_LIST.path
    first = requests.post(url, json=LIST_BODY, headers=headers, timeout=5).json()
    again = requests.post(url, json=LIST_BODY, headers=headers, timeout=5).json()
    assert first["code"] == 200 and (again["code"], again["success"]) == (403, False)


def test_the_backoff_really_grows(emulator, make_hook, monkeypatch):
    """Full jitter draws from [0, base * 2**n]: at the top of each range the waits double."""
    monkeypatch.setattr(random, "uniform", lambda low, high: high)
    hook = make_hook(retry_base_delay=1, max_attempts=5, max_retry_wait=100)
    waits: list[float] = []
    hook._sleep = waits.append
    emulator.inject(Fault.failure(500, times=4))
    assert hook.create_workflow(1, POOLS) == 18000
    assert waits == [1.0, 2.0, 4.0, 8.0]


def test_the_connection_is_read_once_per_hook(emulator, make_hook, monkeypatch):
    hook = make_hook()
    lookups: list[str] = []
    original = AnnotationHook.get_connection

    def counting(conn_id: str):
        lookups.append(conn_id)
        return original(conn_id)

    monkeypatch.setattr(hook, "get_connection", counting)
    emulator.inject(Fault.http(503))
    for _ in range(3):
        hook.create_workflow(1, POOLS)
    hook.call(PROJECT_LIST, json=LIST_BODY)
    assert lookups == [hook.annotation_conn_id]


def test_test_connection_uses_its_quick_policy_and_closes_its_session(emulator, make_hook):
    hook = make_hook(max_attempts=10, max_retry_wait=60)
    waits: list[float] = []
    hook._sleep = waits.append
    hook.get_conn()
    emulator.inject(Fault.http(503, retry_after=1, times=10))
    ok, message = hook.test_connection()
    assert not ok and "HTTP" in message or "503" in message
    assert len(emulator.requests) == 2 and waits == [1.0]
    assert hook._session is None
    emulator.reset()
    emulator.inject(Fault.http(503, retry_after=10, times=10))
    assert hook.test_connection()[0] is False and len(emulator.requests) == 1  # 10 s is over its 5 s


@pytest.mark.parametrize("html", [False, True], ids=["envelope-404", "html-404"])
def test_test_connection_on_a_wrong_base_url_path_says_check_the_base_url(make_hook, html):
    with Emulator(access_key=AK, secret_key=SK, prefix="/openapi") as emu:
        if html:
            emu.inject(Fault(status=404, body="<html>Not Found</html>", content_type="text/html"))
        root = emu.url.removesuffix("/openapi")
        ok, message = make_hook(host=root + ("/openapi" if html else "")).test_connection()
    assert not ok and "check the base URL" in message, message


def test_the_core_serves_an_async_httpx_client_unchanged(emulator):
    """What the async hook will do: the same answer judgement, budget and retry decisions."""
    import asyncio

    import httpx

    from airflow_provider_annotation.envelope import AnswerBudget
    from airflow_provider_annotation.hooks.retry import async_retrying

    policy = RetryPolicy(max_attempts=3, max_retry_wait=10, base_delay=0, retry_ambiguous=False)
    emulator.inject(Fault.http(503), Fault.failure(500))

    async def attempt(client: httpx.AsyncClient) -> object:
        headers = signed_headers(AK, SK)
        url = emulator.url + PROJECT_LIST.path
        async with client.stream("POST", url, json=LIST_BODY, headers=headers) as response:
            budget = AnswerBudget(PROJECT_LIST.max_answer_bytes, time.monotonic() + 5)
            async for chunk in response.aiter_bytes():
                budget.take(chunk)
        secrets = (SK, headers["X-SIGN"])
        return judge_answer(PROJECT_LIST, response.status_code, response.headers, budget.body, secrets)

    async def main() -> object:
        async with httpx.AsyncClient() as client:
            return await async_retrying(Effect.READ, policy)(attempt, client)

    data, request_id = asyncio.run(main())
    assert data["count"] == 0 and request_id
    assert [r["code"] for r in emulator.requests] == [500, 500, 200]


def test_an_attempt_without_a_usable_answer_is_logged_too(emulator, make_hook, logs):
    emulator.inject(Fault.disconnect())
    with pytest.raises(AnnotationMayHaveTakenEffectError):
        make_hook().create_workflow(1, POOLS)
    (line,) = [line for line in logs.text.splitlines() if "-> no usable answer" in line]
    assert f"POST {CREATE_WORKFLOW.path} -> no usable answer, " in line
    assert re.search(r", \d+\.\d ms \(attempt 1\): connection dropped after the request was sent", line)


@pytest.mark.parametrize("bypass", [False, True], ids=["env-proxy", "no-proxy"])
def test_proxy_environment_is_honoured_though_read_once(emulator, make_hook, monkeypatch, bypass):
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://someone:env-pass-456@127.0.0.1:{free_port()}")
    if bypass:
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    hook = make_hook(max_attempts=1)
    if bypass:
        assert hook.create_workflow(1, POOLS) == 18000
    else:
        with pytest.raises(AnnotationUnavailableError, match="could not connect") as info:
            hook.create_workflow(1, POOLS)
        assert emulator.requests == [] and "env-pass-456" not in str(info.value)


def test_the_connections_proxies_win_over_the_environment(emulator, make_hook, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    hook = make_hook(proxies={"http": f"http://127.0.0.1:{free_port()}"}, max_attempts=1)
    with pytest.raises(AnnotationUnavailableError, match="could not connect"):
        hook.create_workflow(1, POOLS)
    assert emulator.requests == []


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("0", 0.0), ("2.5", 2.5), ("-3", 0.0), ("nan", None), ("inf", None), ("soon", None), ("", None)],
)
def test_retry_after_values(value, seconds):
    assert parse_retry_after(value) == seconds


def test_scrub_blanks_a_secret_cut_at_the_limit_and_escapes_control_characters():
    text = "x" * 190 + SK + "\nnext line\x1b[31m"
    shown = scrub(text, [SK])
    assert SK[:5] not in shown and shown.startswith("x" * 190 + "***")
    assert scrub("a\nb\x00c\u2028d") == "a\\nb\\x00c\\u2028d"
    assert scrub("http://user:pw@proxy:3128/x") == "http://***@proxy:3128/x"
    assert len(scrub("y" * 5_000_000)) == 203  # 200 characters and "..."


# -- the same bounds on the async path: one budget inflates for both hooks ------------------------

GIB = 1024 * 1024 * 1024
#: The peak the README promises for reading a bomb, on either hook.
BOMB_PEAK_LIMIT = 32 * 1024 * 1024
BOMBS = {
    "gzip-1GiB": Fault.gzip(GIB, endpoint=PROJECT_LIST.path),
    "gzip,gzip-1GiB-under-2KB": Fault.gzip(GIB, layers=2, endpoint=PROJECT_LIST.path),
}


def _read_with(which: str, conn_id: str) -> None:
    """One read of `/project/list` through the sync or the async hook."""
    from airflow_provider_annotation.hooks.async_annotation import AnnotationAsyncHook

    if which == "sync":
        with AnnotationHook(annotation_conn_id=conn_id) as hook:
            hook.call(PROJECT_LIST, json=LIST_BODY)
        return

    async def read() -> None:
        async with AnnotationAsyncHook(conn_id) as hook:
            await hook.call(PROJECT_LIST, json=LIST_BODY)

    asyncio.run(read())


@pytest.mark.parametrize("which", ["sync", "async"])
@pytest.mark.parametrize("bomb", BOMBS.values(), ids=BOMBS.keys())
def test_bombs_stop_at_the_limit_on_both_hooks_within_the_readme_peak(emulator, monkeypatch, which, bomb):
    """A gzip bomb (1 GiB from about 1 MB) and a stacked one (``gzip, gzip``: 1 GiB from under 2 KB)
    end at the endpoint's 4 MiB limit on either hook, counted as the body inflates."""
    conn_id = set_conn(monkeypatch, f"bomb_{which}", emulator.url)
    _read_with(which, conn_id)  # imports, TLS-free client and caches warm
    emulator.inject(dataclasses.replace(bomb, times=1))
    _stacked_gzip(GIB, b"{}", 1)  # the emulator's compressed padding, made before measuring
    tracemalloc.start()
    try:
        with pytest.raises(AnnotationResponseError, match="over this endpoint.s limit"):
            _read_with(which, conn_id)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"\n{which} hook, {bomb.gzip_layers} gzip layer(s), 1 GiB: peak {peak / 2**20:.1f} MiB")
    assert peak < BOMB_PEAK_LIMIT, f"peak {peak / 2**20:.0f} MiB"
    if bomb.gzip_layers == 2:
        sent = [r for r in emulator.requests if r.get("fault")][-1]
        assert sent["fault"]["gzip_layers"] == 2


@pytest.mark.parametrize("which", ["sync", "async"])
@pytest.mark.parametrize(
    ("encoding", "message"),
    [
        ("gzip, gzip, gzip", "stacks 3 content encodings"),
        ("br", "content encoding 'br' is not one this client asks for"),
    ],
)
def test_encodings_not_asked_for_or_stacked_deep_are_refused(emulator, monkeypatch, which, encoding, message):
    conn_id = set_conn(monkeypatch, f"enc_{which}", emulator.url)
    emulator.inject(
        Fault(
            status=200, body=b"\x1f\x8b", headers={"Content-Encoding": encoding}, endpoint=PROJECT_LIST.path
        )
    )
    with pytest.raises(AnnotationResponseError, match=message):
        _read_with(which, conn_id)
    assert len(sent_to(emulator, PROJECT_LIST.path)) == 1  # a read: the same answer would come again
    sent = emulator.requests[-1]["headers"]
    assert {k.lower(): v for k, v in sent.items()}["accept-encoding"] == "gzip, deflate"


@pytest.mark.parametrize("which", ["sync", "async"])
@pytest.mark.parametrize("layers", [1, 2])
def test_a_small_compressed_answer_is_read_whole_on_both_hooks(emulator, monkeypatch, which, layers):
    """The budget inflates, it does not only refuse: 64 KiB of padding in one or two gzip layers
    inflates to the true envelope, whose data the hook returns."""
    conn_id = set_conn(monkeypatch, f"small_gzip_{which}_{layers}", emulator.url)
    emulator.inject(Fault.gzip(64 * 1024, layers=layers, endpoint=PROJECT_LIST.path))
    _read_with(which, conn_id)
    assert [r["status"] for r in sent_to(emulator, PROJECT_LIST.path)] == [200]


def test_the_budget_inflates_gzip_members_and_zlib_deflate_in_pieces():
    """Without HTTP: a two-member gzip body and HTTP's zlib-wrapped deflate, fed a byte at a time."""
    import gzip
    import zlib

    from airflow_provider_annotation.envelope import AnswerBudget

    text = b'{"code": 200, "success": true, "data": {"count": 0, "data": []}}'
    bodies = {
        "gzip": gzip.compress(text[:10]) + gzip.compress(text[10:]),
        "deflate": zlib.compress(text),
        "deflate, gzip": gzip.compress(zlib.compress(text)),
    }
    for encoding, body in bodies.items():
        budget = AnswerBudget(1024, time.monotonic() + 60)
        budget.begin({"Content-Encoding": encoding})
        for index in range(len(body)):
            budget.take(body[index : index + 1])
        assert budget.body == text, encoding
