"""AnnotationHook against the emulator over real HTTP: wire format, every success and error path."""

from __future__ import annotations

import json
import logging
import re
import socket
import time

import pytest
import requests

from airflow_provider_annotation import __version__
from airflow_provider_annotation.endpoints import CREATE_WORKFLOW as _CREATE_WORKFLOW
from airflow_provider_annotation.endpoints import PROJECT_GET as _PROJECT_GET
from airflow_provider_annotation.endpoints import PROJECT_LIST as _PROJECT_LIST
from airflow_provider_annotation.exceptions import (
    AnnotationApiError,
    AnnotationAuthError,
    AnnotationClockSkewError,
    AnnotationConnectionConfigError,
    AnnotationInputError,
    AnnotationMayHaveTakenEffectError,
    AnnotationNotFoundError,
    AnnotationResponseError,
    AnnotationUnavailableError,
    AnnotationValidationError,
)
from airflow_provider_annotation.hooks.annotation import AnnotationHook
from airflow_provider_annotation.signing import signature
from airflow_provider_annotation.testing import Emulator, Fault
from tests.helpers import AK, SK

CREATE_WORKFLOW = _CREATE_WORKFLOW.path
PROJECT_GET = _PROJECT_GET.path
PROJECT_LIST = _PROJECT_LIST.path

POOLS = [
    {"name": "Distribution pool", "type": 0, "runMode": 0},
    {"name": "Labeling pool", "type": 1, "workers": ["alice", "bob"]},
    {"name": "Inspection pool", "type": 2, "workers": ["carol"]},
    {"name": "Completion pool", "type": 5},
]


def creates(emu: Emulator) -> list[dict]:
    return [r for r in emu.requests if r["endpoint"] == CREATE_WORKFLOW]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- success and the exact wire format ----------------------------------------------------------


def test_create_workflow_sends_the_seed_body_and_returns_the_id(emulator, make_hook):
    hook = make_hook()
    assert hook.create_workflow(4242, POOLS) == 18000
    (sent,) = creates(emulator)
    assert sent["method"] == "POST"
    assert json.loads(sent["body"]) == {"projectId": 4242, "workflow": {"pools": POOLS}}
    assert sent["headers"]["Content-Type"] == "application/json"
    assert emulator.workflows[18000]["pools"] == POOLS
    assert emulator.workflows[18000]["default"] is False


def test_each_request_is_signed_per_the_platform_docs(emulator, make_hook):
    hook = make_hook()
    before = time.time() * 1000
    hook.create_workflow(1, POOLS)
    after = time.time() * 1000
    headers = creates(emulator)[0]["headers"]
    assert headers["X-STARDUST-KEY"] == AK
    assert before - 1 <= int(headers["X-TS"]) <= after + 1
    assert headers["X-SIGN"] == signature(headers["X-TS"], SK, AK)
    assert SK not in json.dumps(dict(headers))
    assert headers["User-Agent"].startswith(f"airflow-provider-annotation/{__version__} ")


def test_no_pools_sends_no_workflow_key_and_the_platform_default_applies(emulator, make_hook):
    hook = make_hook()
    workflow_id = hook.create_workflow(7)
    assert json.loads(creates(emulator)[0]["body"]) == {"projectId": 7}
    assert emulator.workflows[workflow_id]["default"] is True


def test_ids_are_ints_and_increase(emulator, make_hook):
    hook = make_hook()
    ids = [hook.create_workflow(1, POOLS) for _ in range(3)]
    assert ids == [18000, 18001, 18002]
    assert all(type(i) is int for i in ids)


def test_request_returns_unwrapped_data(emulator, make_hook):
    data = make_hook().request(
        "POST", PROJECT_LIST, json={"status": 1, "dataType": 2, "offset": 1, "limit": 1}
    )
    assert set(data) == {"count", "data"}


def test_one_session_reused_across_calls(emulator, make_hook):
    hook = make_hook()
    for _ in range(3):
        hook.create_workflow(1, POOLS)
    session = hook.get_conn()
    assert session is hook.get_conn()
    pools = session.get_adapter(emulator.url).poolmanager.pools
    (key,) = pools.keys()
    assert pools[key].num_connections == 1  # keep-alive: three calls, one TCP connection


def test_connection_read_lazily(monkeypatch):
    hook = AnnotationHook(annotation_conn_id="does_not_exist_anywhere")  # no lookup yet
    assert hook.annotation_conn_id == "does_not_exist_anywhere"
    with pytest.raises(Exception, match="does_not_exist_anywhere"):
        hook.create_workflow(1)


def test_base_url_path_prefix(monkeypatch, make_hook):
    with Emulator(access_key=AK, secret_key=SK, prefix="/openapi") as emu:
        hook = make_hook(host=emu.url)
        assert emu.url.endswith("/openapi")
        assert hook.create_workflow(3, POOLS) == 18000
        assert emu.requests[0]["path"] == "/openapi" + CREATE_WORKFLOW


# -- bad input: nothing is sent ---------------------------------------------------------------


@pytest.mark.parametrize("project_id", [0, -3, True, 2.0, "abc", None])
def test_bad_project_id_rejected_before_sending(emulator, make_hook, project_id):
    with pytest.raises(AnnotationInputError, match="project_id"):
        make_hook().create_workflow(project_id, POOLS)
    assert emulator.requests == []


def test_bad_pools_rejected_before_sending(emulator, make_hook):
    bad = [{"name": "Labeling pool", "type": 1, "worker": ["x"]}, {"name": "Completion pool", "type": 5}]
    with pytest.raises(AnnotationInputError) as info:
        make_hook().create_workflow(1, bad)
    text = str(info.value)
    assert "pools[0].type" in text and "pools[0].worker" in text and "'workers'" in text
    assert emulator.requests == []


def test_insecure_http_refused_before_sending(make_hook):
    hook = make_hook(host="http://annotation.example.com")
    with pytest.raises(AnnotationConnectionConfigError, match="allow_insecure_http"):
        hook.create_workflow(1)


# -- retried: the platform did not act --------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        Fault.http(503, retry_after=2),
        Fault.http(429, retry_after=2),
        Fault(status=429, body="<html>busy</html>", content_type="text/html", headers={"Retry-After": "2"}),
    ],
    ids=["503", "429", "429-html"],
)
def test_busy_answers_retried_honouring_retry_after(emulator, make_hook, fault):
    hook = make_hook()
    waits: list[float] = []
    hook._sleep = waits.append
    emulator.inject(fault)
    assert hook.create_workflow(1, POOLS) == 18000
    assert waits == [2.0]
    assert len(creates(emulator)) == 2 and len(emulator.workflows) == 1


@pytest.mark.parametrize("fault", [Fault.failure(500), Fault.http(500)], ids=["code-500-in-200", "http-500"])
def test_try_again_later_retried_with_backoff(emulator, make_hook, fault):
    hook = make_hook(retry_base_delay=0.5)
    waits: list[float] = []
    hook._sleep = waits.append
    fault.times = 2
    emulator.inject(fault)
    assert hook.create_workflow(1, POOLS) == 18000
    assert len(waits) == 2 and all(0 <= w <= 60 for w in waits)
    assert len(creates(emulator)) == 3 and len(emulator.workflows) == 1


def test_retry_after_http_date(emulator, make_hook):
    hook = make_hook()
    waits: list[float] = []
    hook._sleep = waits.append
    when = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    emulator.inject(Fault(status=503, code=500, headers={"Retry-After": when}))
    hook.create_workflow(1, POOLS)
    assert 25 <= waits[0] <= 31


def test_gives_up_after_max_attempts(emulator, make_hook):
    hook = make_hook(max_attempts=3)
    emulator.inject(Fault.failure(500, times=10))
    with pytest.raises(AnnotationUnavailableError) as info:
        hook.create_workflow(1, POOLS)
    assert info.value.attempts == 3 and "after 3 attempts" in str(info.value)
    assert info.value.request_id and info.value.code == 500
    assert len(creates(emulator)) == 3 and emulator.workflows == {}


def test_gives_up_when_retry_after_exceeds_the_wait_budget(emulator, make_hook):
    hook = make_hook(max_retry_wait=10)
    waits: list[float] = []
    hook._sleep = waits.append
    emulator.inject(Fault.http(503, retry_after=120))
    with pytest.raises(AnnotationUnavailableError) as info:
        hook.create_workflow(1, POOLS)
    assert waits == [] and info.value.retry_after == 120.0
    assert "the platform asked to retry after 120 s" in str(info.value)
    assert len(creates(emulator)) == 1


def test_total_wait_bounded(emulator, make_hook):
    hook = make_hook(max_attempts=10, max_retry_wait=5)
    waits: list[float] = []
    hook._sleep = waits.append
    emulator.inject(Fault.http(503, retry_after=2, times=10))
    with pytest.raises(AnnotationUnavailableError):
        hook.create_workflow(1, POOLS)
    assert waits == [2.0, 2.0]  # a third wait would pass 5 s
    assert len(creates(emulator)) == 3


def test_connection_refused_retried_then_unavailable(make_hook):
    hook = make_hook(host=f"http://127.0.0.1:{free_port()}", max_attempts=3)
    with pytest.raises(AnnotationUnavailableError, match="could not connect") as info:
        hook.create_workflow(1, POOLS)
    assert info.value.attempts == 3


def test_connect_timeout_retried_then_unavailable(make_hook):
    """A listener whose accept queue is full never completes the handshake: a real connect timeout."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        fillers = []
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        time.sleep(0.05)
        try:
            hook = make_hook(
                host=f"http://127.0.0.1:{port}", timeout={"connect": 0.2, "read": 5}, max_attempts=2
            )
            with pytest.raises(AnnotationUnavailableError, match="could not connect.*timed out") as info:
                hook.create_workflow(1, POOLS)
            assert info.value.attempts == 2
        finally:
            for filler in fillers:
                filler.close()


def test_connect_refused_then_platform_back(emulator, make_hook):
    """The first attempt finds nothing listening; the platform comes up before the second."""
    port = free_port()
    hook = make_hook(host=f"http://127.0.0.1:{port}")
    started: list[Emulator] = []

    def start_platform(_seconds: float) -> None:
        started.append(Emulator(access_key=AK, secret_key=SK, port=port).start())

    hook._sleep = start_platform
    try:
        assert hook.create_workflow(1, POOLS) == 18000
        assert len(started) == 1 and len(started[0].workflows) == 1
    finally:
        for emu in started:
            emu.stop()


def test_expired_signature_resigned_once(emulator, make_hook):
    hook = make_hook()
    emulator.inject(Fault.expired())
    time.sleep(0.002)
    assert hook.create_workflow(1, POOLS) == 18000
    first, second = creates(emulator)
    assert first["code"] == 403 and second["code"] == 200
    for sent in (first, second):
        assert sent["headers"]["X-SIGN"] == signature(sent["headers"]["X-TS"], SK, AK)


def test_persistent_expiry_is_reported_as_clock_skew(emulator, make_hook):
    emulator.clock_offset_ms = 3_600_000
    with pytest.raises(AnnotationClockSkewError, match="clock") as info:
        make_hook().create_workflow(1, POOLS)
    assert isinstance(info.value, AnnotationAuthError) and info.value.code == 403
    assert len(creates(emulator)) == 2 and emulator.workflows == {}


# -- not retried: the platform may have acted --------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "phrase"),
    [
        (Fault.disconnect(act=True), "connection dropped after the request was sent"),
        (Fault.disconnect(act=False), "connection dropped after the request was sent"),
        (Fault.html(502, act=True), "HTTP 502"),
        (Fault.html(504, act=False), "HTTP 504"),
        (Fault.truncated(act=True), "HTTP 200"),
        (Fault.cut(act=True), "the answer broke off while it was being read"),
        (Fault.cut(act=False), "the answer broke off while it was being read"),
        (Fault.empty(200, act=True), "HTTP 200"),
        (Fault(status=503, body="<html>busy</html>", content_type="text/html"), "HTTP 503"),
    ],
    ids=[
        "drop-after-act",
        "drop-before-act",
        "html-502",
        "html-504",
        "truncated-200",
        "cut-mid-body-after-act",
        "cut-mid-body-before-act",
        "empty-200",
        "html-503-no-envelope",
    ],
)
def test_lost_answers_not_resent(emulator, make_hook, fault, phrase):
    emulator.inject(fault)
    with pytest.raises(AnnotationMayHaveTakenEffectError, match=phrase) as info:
        make_hook().create_workflow(1, POOLS)
    assert "may have acted" in str(info.value)
    assert info.value.attempts == 1 and len(creates(emulator)) == 1
    assert len(emulator.workflows) == (1 if fault.act else 0)
    assert "JSONDecodeError" not in str(info.value) and "Expecting value" not in str(info.value)


def test_read_timeout_not_resent(emulator, make_hook):
    emulator.inject(Fault.slow(1.5, act=True))
    hook = make_hook(timeout={"connect": 5, "read": 0.3})
    with pytest.raises(AnnotationMayHaveTakenEffectError, match=r"no answer within 0.3 s \(read timeout\)"):
        hook.create_workflow(1, POOLS)
    assert len(creates(emulator)) == 1 and len(emulator.workflows) == 1


def test_html_gateway_page_gives_status_and_snippet(emulator, make_hook):
    emulator.inject(Fault.html(502))
    with pytest.raises(AnnotationMayHaveTakenEffectError) as info:
        make_hook().create_workflow(1, POOLS)
    assert info.value.http_status == 502 and "Bad Gateway" in str(info.value)


def test_opt_in_resends_ambiguous_requests(emulator, make_hook):
    emulator.inject(Fault.disconnect(act=True))
    hook = make_hook(retry_ambiguous=True)
    assert hook.create_workflow(1, POOLS) == 18001
    assert len(emulator.workflows) == 2  # the documented price of the opt-in: a duplicate


@pytest.mark.parametrize(
    "fault",
    [Fault.disconnect(act=False), Fault.html(502), Fault.slow(1.0, act=True)],
    ids=["drop", "html-502", "read-timeout"],
)
def test_get_requests_always_resent(emulator, make_hook, fault):
    """Reading twice cannot create anything, so a lost GET answer is simply asked for again."""
    emulator.inject(fault)
    hook = make_hook(timeout={"connect": 5, "read": 0.3})
    assert hook.request("GET", PROJECT_GET, params={"projectId": 41}) == {
        "description": "",
        "created_at": "1970-01-01",
    }
    sent = [r for r in emulator.requests if r["endpoint"] == PROJECT_GET]
    assert len(sent) == 2 and sent[0]["headers"]["X-SIGN"] == signature(sent[0]["headers"]["X-TS"], SK, AK)


def test_redirect_not_followed_and_signed_headers_stay_home(emulator, make_hook):
    elsewhere = f"http://127.0.0.1:{free_port()}/annotation/workflow/create"
    emulator.inject(Fault(status=302, headers={"Location": elsewhere}))
    with pytest.raises(AnnotationResponseError, match=r"HTTP 302 redirect to .*not followed") as info:
        make_hook().create_workflow(1, POOLS)
    assert elsewhere in str(info.value) and info.value.attempts == 1
    assert len(emulator.requests) == 1  # and nothing listens at the Location: following would fail


# -- never retried: the request is wrong ------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (400, AnnotationValidationError),
        (404, AnnotationNotFoundError),
        (5509, AnnotationValidationError),
        (5523, AnnotationValidationError),
        (5841, AnnotationValidationError),
        (5802, AnnotationNotFoundError),
        (5837, AnnotationApiError),
    ],
)
def test_platform_refusals_raise_typed_errors_once(emulator, make_hook, code, error):
    emulator.inject(Fault.failure(code))
    with pytest.raises(error) as info:
        make_hook().create_workflow(1, POOLS)
    err = info.value
    assert (err.code, err.http_status, err.endpoint, err.attempts) == (code, 200, CREATE_WORKFLOW, 1)
    assert err.request_id and err.request_id in str(err) and str(code) in str(err)
    assert len(creates(emulator)) == 1


def test_unknown_project_is_not_found(make_hook):
    """Only the platform knows which projects exist: a 5802 comes back as a typed not-found."""
    with (
        Emulator(access_key=AK, secret_key=SK, known_projects=[1]) as emu,
        pytest.raises(AnnotationNotFoundError, match="5802"),
    ):
        make_hook(host=emu.url).create_workflow(2, POOLS)


def test_wrong_secret(emulator, make_hook):
    with pytest.raises(AnnotationAuthError) as info:
        make_hook(password="not-the-secret").create_workflow(1, POOLS)
    assert info.value.code == 401 and len(emulator.requests) == 1


def test_unknown_key(emulator, make_hook):
    with pytest.raises(AnnotationAuthError) as info:
        make_hook(login="someone-else").create_workflow(1, POOLS)
    assert info.value.code == 402 and len(emulator.requests) == 1


def test_html_404_from_a_wrong_base_url(emulator, make_hook):
    emulator.inject(Fault(status=404, body="<html><h1>Not Found</h1></html>", content_type="text/html"))
    with pytest.raises(AnnotationResponseError, match="HTTP 404.*base URL.*Not Found"):
        make_hook().create_workflow(1, POOLS)
    assert len(emulator.requests) == 1


def test_success_without_workflow_id_is_reported_not_guessed(emulator, make_hook):
    emulator.inject(
        Fault(status=200, body=json.dumps({"code": 200, "success": True, "data": {}, "requestId": "r1"}))
    )
    with pytest.raises(
        AnnotationMayHaveTakenEffectError, match="workflowId is not a positive integer"
    ) as info:
        make_hook().create_workflow(1, POOLS)
    assert info.value.request_id == "r1"


# -- logging ----------------------------------------------------------------------------------


def test_one_info_line_per_call_with_method_endpoint_request_id_status_duration(emulator, make_hook, logs):
    make_hook().create_workflow(1, POOLS)
    (sent,) = creates(emulator)
    lines = [line for line in logs.text.splitlines() if "->" in line]
    assert len(lines) == 1, logs.text
    assert f"POST {CREATE_WORKFLOW} -> HTTP 200, code 200, requestId={sent['requestId']}, " in lines[0]
    assert re.search(r", \d+\.\d ms \(attempt 1\): workflowId=18000", lines[0])
    assert "[info" in lines[0]


def test_no_secret_or_signature_in_any_log_at_debug(emulator, make_hook, logs):
    logging.getLogger("urllib3").setLevel(logging.DEBUG)
    hook = make_hook()
    emulator.inject(Fault.expired(), Fault.http(503, retry_after=0), Fault.html(502))
    with pytest.raises(AnnotationMayHaveTakenEffectError) as info:
        hook.create_workflow(1, POOLS)
    hook.test_connection()
    make_hook(password="wrong-secret-value").test_connection()
    signatures = [r["headers"]["X-SIGN"] for r in emulator.requests]
    assert len(signatures) == 5
    logged = logs.text + str(info.value)
    assert "[debug" in logs.text and "Starting new HTTP connection" in logs.text  # DEBUG really on
    assert "Attempt 1 failed" in logs.text
    for secret in [SK, "wrong-secret-value", *signatures]:
        assert secret not in logged
    # Airflow's masker would turn a logged secret into ***, hiding a leak from the check above.
    assert "***" not in logs.text


# -- test_connection --------------------------------------------------------------------------


def test_test_connection_ok_with_one_cheap_read(emulator, make_hook):
    ok, message = make_hook().test_connection()
    assert ok and emulator.url in message
    (sent,) = emulator.requests
    assert sent["endpoint"] == PROJECT_LIST and json.loads(sent["body"]) == {
        "status": 1,
        "dataType": 2,
        "offset": 1,
        "limit": 1,
    }


@pytest.mark.parametrize(
    ("kwargs", "clock_offset", "phrase"),
    [
        ({"password": "wrong"}, 0, "Secret Key (Password) does not belong"),
        ({"login": "nobody"}, 0, "'nobody' is unknown or disabled"),
        ({}, 3_600_000, "clock is off"),
    ],
    ids=["wrong-secret", "unknown-key", "clock-skew"],
)
def test_test_connection_says_what_to_fix(emulator, make_hook, kwargs, clock_offset, phrase):
    emulator.clock_offset_ms = clock_offset
    ok, message = make_hook(**kwargs).test_connection()
    assert not ok and phrase in message


def test_test_connection_unreachable(make_hook):
    ok, message = make_hook(host=f"http://127.0.0.1:{free_port()}").test_connection()
    assert not ok and "unreachable" in message


def test_test_connection_bad_config(make_hook):
    ok, message = make_hook(host="annotation.example.com").test_connection()
    assert not ok and "host" in message


def test_errors_survive_pickling():
    import pickle

    err = AnnotationUnavailableError(
        "busy", code=500, request_id="r", http_status=503, endpoint="/e", attempts=3
    )
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is AnnotationUnavailableError and str(back) == str(err)


def test_requests_not_needed_to_read_an_error():
    assert issubclass(AnnotationApiError, Exception) and not issubclass(
        AnnotationApiError, requests.RequestException
    )


# -- README promises found untested by a mutation audit ---------------------------------------


@pytest.mark.parametrize(
    "fault",
    [None, Fault(status=404, body="<html><h1>Not Found</h1></html>", content_type="text/html")],
    ids=["platform-404-envelope", "html-404-page"],
)
def test_test_connection_names_a_wrong_base_url(emulator, make_hook, fault):
    """README: a failed connection test names what to fix, "a wrong base URL" among them."""
    if fault is not None:
        emulator.inject(fault)
    host = emulator.url + ("/wrong-prefix" if fault is None else "")
    ok, message = make_hook(host=host).test_connection()
    assert not ok
    assert f"{host} has no {PROJECT_LIST} (HTTP 404, not found): check the base URL in Host" in message
    assert len(emulator.requests) == 1  # one cheap read, not re-sent


# -- README promises checked by deliberate breakage (audit) -------------------------------------


def test_the_user_agent_names_the_provider_and_airflow(emulator, make_hook):
    from importlib.metadata import version

    make_hook().create_workflow(1, POOLS)
    agent = creates(emulator)[0]["headers"]["User-Agent"]
    assert agent.startswith(
        f"airflow-provider-annotation/{__version__} apache-airflow/{version('apache-airflow')} "
    )


def test_a_netrc_login_is_never_sent(emulator, make_hook, monkeypatch, tmp_path):
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login netrc-user password netrc-password\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setenv("HOME", str(tmp_path))
    make_hook().create_workflow(1, POOLS)
    headers = {k.lower() for k in creates(emulator)[0]["headers"]}
    assert "authorization" not in headers


def test_a_long_request_id_is_cut_to_100_characters(emulator, make_hook):
    envelope = {"code": 5837, "success": False, "message": "no", "requestId": "r" * 300}
    emulator.inject(Fault(status=200, body=json.dumps(envelope), endpoint=PROJECT_GET))
    with pytest.raises(AnnotationApiError) as info:
        make_hook().get_project(1)
    assert info.value.request_id == "r" * 100 + "..."


def test_a_503_carrying_any_platform_envelope_is_resent_even_for_a_create(emulator, make_hook):
    emulator.inject(Fault.http(503, code=5837, endpoint=CREATE_WORKFLOW))
    assert make_hook().create_workflow(1, POOLS) == 18000
    assert [r["status"] for r in creates(emulator)] == [503, 200]


def test_an_expired_signature_is_resigned_at_once_without_backoff(emulator, make_hook, logs):
    emulator.inject(Fault.expired(endpoint=CREATE_WORKFLOW))
    hook = make_hook(retry_base_delay=30)  # a backoff would wait seconds
    assert hook.create_workflow(1, POOLS) == 18000
    assert "sending again in 0.00 s" in logs.text


def test_the_total_timeout_defaults_to_connect_plus_read(make_hook):
    assert make_hook(timeout={"connect": 2, "read": 3}).config.total_timeout == 5
    assert make_hook(timeout={"connect": 2, "read": 3, "total": 4}).config.total_timeout == 4


def test_the_code_as_the_string_200_half_claims_success_even_with_success_false(emulator, make_hook):
    envelope = {
        "code": "200",
        "success": False,
        "message": "ok",
        "requestId": "r-1",
        "data": {"workflowId": 7},
    }
    emulator.inject(Fault(status=200, body=json.dumps(envelope), act=True, endpoint=CREATE_WORKFLOW))
    with pytest.raises(AnnotationMayHaveTakenEffectError, match="half-claims success"):
        make_hook(retry_ambiguous=True).create_workflow(1, POOLS)
    assert len(creates(emulator)) == 1
    emulator.inject(Fault(status=200, body=json.dumps(envelope), endpoint=PROJECT_LIST))
    with pytest.raises(AnnotationResponseError, match="half-claims success"):
        make_hook().list_projects(status=1, data_type=2)


@pytest.mark.parametrize(("method", "effect"), [("HEAD", "read"), ("OPTIONS", "read"), ("PUT", "create")])
def test_an_uncatalogued_path_is_a_read_only_for_get_head_options(method, effect):
    from airflow_provider_annotation.endpoints import uncatalogued

    assert uncatalogued(method, "/some/new/thing").effect.value == effect


# -- README (The emulator): a signature another process used in the same millisecond ---------------


def test_a_signature_another_process_used_first_is_resigned_and_creates_once(emulator, make_hook):
    """X-SIGN binds only the key pair and the millisecond: another process on the same key that signs
    in the same millisecond makes this call a replay (403). The hook re-signs at once and the create
    goes through on its next attempt, once (the refused one did nothing)."""
    from airflow_provider_annotation import signing

    hook = make_hook()
    # Hold this process's stamps 0.2 s ahead of the clock so the next one is known in advance, and let
    # "the other process" use it first. The real clock catches up at the end.
    with signing._stamp_lock:
        signing._last_stamp_ms = max(signing._last_stamp_ms, time.time_ns() // 1_000_000) + 200
        collide = signing._last_stamp_ms + 1
    try:
        other = requests.post(
            emulator.url + PROJECT_LIST,
            json={"status": 1, "dataType": 2, "offset": 1, "limit": 10},
            headers=signing.signed_headers(AK, SK, timestamp_ms=collide),
            timeout=5,
        )
        assert other.json()["code"] == 200
        assert hook.create_workflow(1, POOLS) == 18000
    finally:
        time.sleep(max(0.0, signing._last_stamp_ms / 1000 - time.time()) + 0.002)
    sent = creates(emulator)
    assert [(r["headers"]["X-TS"], r["code"]) for r in sent] == [(str(collide), 403), (str(collide + 1), 200)]
    assert list(emulator.workflows) == [18000]


# -- one hook, many threads: one session however the first calls race -------------------------------


def test_thirty_hooks_raced_from_many_threads_make_one_session_each(
    emulator: Emulator, make_hook, monkeypatch
) -> None:
    """Six threads use each of thirty hooks at once at their first use: thirty sessions are made,
    one a hook, and closing the hooks closes them all (a session lost in the race is never closed).
    `requests.Session` is counted, not replaced: every session is a real one."""
    import threading

    made: list[requests.Session] = []
    real_init = requests.Session.__init__

    def counted_init(self: requests.Session) -> None:
        real_init(self)
        made.append(self)

    monkeypatch.setattr(requests.Session, "__init__", counted_init)
    hooks = [make_hook() for _ in range(30)]
    start = threading.Barrier(6)
    errors: list[BaseException] = []

    def use_all() -> None:
        start.wait()
        for hook in hooks:
            try:
                hook.call(_PROJECT_LIST, json={"status": 1, "dataType": 2, "offset": 1, "limit": 1})
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    threads = [threading.Thread(target=use_all) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(made) == 30, f"{len(made) - 30} extra sessions"
    assert {id(hook.get_conn()) for hook in hooks} == {id(session) for session in made}


# -- what importing the sync hook costs ------------------------------------------------------------


def test_the_sync_hook_loads_neither_the_async_module_nor_httpx_of_its_own() -> None:
    """The async reads load httpx when one is awaited; a task that only uses the sync hook does
    not pay for them (beyond what Airflow's own BaseHook already imports)."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from airflow.providers.common.compat.sdk import BaseHook\n"
        "before = set(sys.modules)\n"
        "import airflow_provider_annotation.hooks.annotation\n"
        "new = set(sys.modules) - before\n"
        "print(sorted(m for m in new if m.split('.')[0] in ('httpx', 'httpcore')"
        " or m.endswith(('async_annotation', 'async_transport'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
