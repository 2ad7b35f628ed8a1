"""The platform emulator, observed the way a client sees it: real HTTP on loopback."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from airflow_provider_annotation.endpoints import CREATE_WORKFLOW, PROJECT_LIST
from airflow_provider_annotation.endpoints import PROJECT_GET as _PROJECT_GET
from airflow_provider_annotation.signing import KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signed_headers
from airflow_provider_annotation.testing import Emulator, Fault
from airflow_provider_annotation.testing import emulator as emulator_module
from tests.helpers import wait_until

CREATE_WORKFLOW_PATH = CREATE_WORKFLOW.path
PROJECT_LIST_PATH = PROJECT_LIST.path
PROJECT_GET = _PROJECT_GET.path
AK, SK = "ak-test", "sk-test"
DIST = {"name": "Distribution", "type": 0, "runMode": 0}
LABEL = {"name": "Labeling", "type": 1, "runMode": 0, "workers": ["alice"]}
DONE = {"name": "Completion", "type": 5, "runMode": 0}
POOLS = [DIST, LABEL, DONE]
#: The filters /project/list requires (projects/list-project.md): started 2D projects.
STARTED_2D = {"status": 1, "dataType": 2}
PROJECTS = [
    {"projectId": 1, "name": "a", "status": 1, "dataType": 2},
    {"projectId": 2, "name": "b", "status": 1, "dataType": 3},
    {"projectId": 3, "name": "c", "status": 2, "dataType": 2},
]


@pytest.fixture(scope="module")
def server() -> Iterator[Emulator]:
    with Emulator(AK, SK, projects=PROJECTS) as emu:
        yield emu


@pytest.fixture
def emu(server: Emulator) -> Emulator:
    server.reset()
    server.clock_offset_ms = 0
    return server


def post(
    emu: Emulator, path: str, body: Any, *, headers: dict | None = None, timeout: float = 5
) -> requests.Response:
    """A signed POST, as the hook will send it."""
    sent = signed_headers(AK, SK) if headers is None else headers
    return requests.post(emu.url + path, json=body, headers=sent, timeout=timeout)


def create(emu: Emulator, body: Any = None, **kwargs: Any) -> requests.Response:
    """A signed create-workflow request; by default a valid one for project 7."""
    body = {"projectId": 7, "workflow": {"pools": POOLS}} if body is None else body
    return post(emu, CREATE_WORKFLOW_PATH, body, **kwargs)


def code_of(response: requests.Response) -> int:
    assert response.status_code == 200  # the platform answers failures under HTTP 200 too
    return response.json()["code"]


# --- success and the envelope -------------------------------------------------------------------


def test_create_answers_sequential_workflow_ids_from_18000(emu: Emulator) -> None:
    ids = [create(emu).json()["data"]["workflowId"] for _ in range(3)]
    assert ids == [18000, 18001, 18002]
    assert emu.workflows[18001] == {
        "projectId": 7,
        "pools": POOLS,
        "default": False,
        "requestId": emu.requests[1]["requestId"],
    }


def test_envelope_shape_on_success_and_failure(emu: Emulator) -> None:
    ok, bad = create(emu).json(), create(emu, {"projectId": 0}).json()
    assert ok["success"] is True and ok["code"] == 200 and ok["message"] == "Succeed"
    assert bad == {**bad, "success": False, "code": 400, "message": "Invalid Parameter", "data": None}
    for env in (ok, bad):
        assert set(env) == {"code", "message", "data", "date", "requestId", "success"}
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", env["date"])
        assert re.fullmatch(r"[0-9a-f]{30}", env["requestId"])
    assert ok["requestId"] != bad["requestId"]


def test_missing_workflow_gets_the_default_one(emu: Emulator) -> None:
    workflow_id = create(emu, {"projectId": 7}).json()["data"]["workflowId"]
    stored = emu.workflows[workflow_id]
    assert stored["default"] is True
    assert stored["pools"] == [  # projects/workflow-config.md, "Default Sample"
        {"name": "Distribution pool", "runMode": 0, "type": 0},
        {"name": "Labeling pool", "type": 1, "workers": [], "disableOperationItem": []},
        {"name": "Inspection pool", "type": 2, "workers": [], "disableOperationItem": []},
        {"name": "Completion pool", "type": 5},
    ]


def test_algorithm_pool_is_accepted(emu: Emulator) -> None:
    algo = {"name": "Pre", "type": 4, "runMode": 1, "algorithmList": ["3D-MOT-V1"]}
    pools = [DIST, algo, LABEL, {"type": 2, "disableOperationItem": []}, {"type": 3}, DONE]
    assert code_of(create(emu, {"projectId": 7, "workflow": {"pools": pools}})) == 200


# --- platform rules -----------------------------------------------------------------------------


@pytest.mark.parametrize("project", [None, "7", True, 0, -3, 7.0], ids=repr)
def test_bad_project_id_is_400(emu: Emulator, project: Any) -> None:
    body: dict[str, Any] = {"workflow": {"pools": POOLS}}
    if project is not None:
        body["projectId"] = project
    assert code_of(create(emu, body)) == 400
    assert emu.workflows == {}


def test_non_json_body_is_400(emu: Emulator) -> None:
    response = requests.post(emu.url + CREATE_WORKFLOW_PATH, data=b"{nope", headers=signed_headers(AK, SK))
    assert code_of(response) == 400


@pytest.mark.parametrize(
    "pools, expected",
    [
        ([LABEL, DONE], 5509),
        ([DONE], 5509),
        ([DIST, LABEL], 5523),
        ([DIST], 5523),
        ([], 5841),
        ("pools", 5841),
        ([DIST, "x", DONE], 5841),
        ([DIST, {"type": "1"}, DONE], 5841),
        ([DIST, {"type": 6}, DONE], 5841),
        ([DIST, {"type": True}, DONE], 5841),
        ([DIST, {"name": "n"}, DONE], 5841),
        ([DIST, {"type": 1, "runMode": 2}, DONE], 5841),
        ([DIST, {"type": 1, "name": 5}, DONE], 5841),
        ([DIST, {"type": 1, "workers": "alice"}, DONE], 5841),
        ([DIST, {"type": 1, "workers": [1]}, DONE], 5841),
        ([DIST, {"type": 1, "algorithmList": ["A"]}, DONE], 5841),
        ([DIST, {"type": 4, "algorithmList": "A"}, DONE], 5841),
    ],
)
def test_workflow_rules(emu: Emulator, pools: Any, expected: int) -> None:
    assert code_of(create(emu, {"projectId": 7, "workflow": {"pools": pools}})) == expected
    assert emu.workflows == {}


@pytest.mark.parametrize("workflow", [[], "w", 3, {}], ids=repr)
def test_malformed_workflow_object_is_5841(emu: Emulator, workflow: Any) -> None:
    assert code_of(create(emu, {"projectId": 7, "workflow": workflow})) == 5841


def test_unknown_project_is_5802_when_projects_are_known() -> None:
    with Emulator(AK, SK, known_projects={7}) as emu:
        assert code_of(create(emu, {"projectId": 8})) == 5802
        assert code_of(create(emu, {"projectId": 7})) == 200


# --- authentication -----------------------------------------------------------------------------


def test_wrong_secret_is_401(emu: Emulator) -> None:
    response = create(emu, headers=signed_headers(AK, "not-the-secret"))
    assert response.json()["message"] == "Wrong Signature" and code_of(response) == 401


def test_non_ascii_signature_is_401_not_a_server_error(emu: Emulator) -> None:
    headers = signed_headers(AK, SK)
    headers[SIGNATURE_HEADER] = "\xe9" + headers[SIGNATURE_HEADER][1:]  # sent as latin-1 bytes
    response = create(emu, headers=headers)
    assert response.json()["message"] == "Wrong Signature" and code_of(response) == 401
    assert emu.requests[0]["headers"][SIGNATURE_HEADER].startswith("\xe9")


@pytest.mark.parametrize("missing", [KEY_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER, "all"])
def test_missing_auth_header_is_402(emu: Emulator, missing: str) -> None:
    headers = {} if missing == "all" else {k: v for k, v in signed_headers(AK, SK).items() if k != missing}
    response = create(emu, headers=headers)
    assert response.json()["message"] == "Authentication Failed" and code_of(response) == 402


def test_unknown_key_is_402(emu: Emulator) -> None:
    assert code_of(create(emu, headers=signed_headers("someone-else", SK))) == 402


def test_old_timestamp_is_403(emu: Emulator) -> None:
    stale = time.time_ns() // 1_000_000 - 301_000
    response = create(emu, headers=signed_headers(AK, SK, timestamp_ms=stale))
    assert response.json()["message"] == "Signature Expired" and code_of(response) == 403
    assert code_of(create(emu, headers=signed_headers(AK, SK, timestamp_ms=stale + 10_000))) == 200


def test_clock_offset_makes_every_request_expire(emu: Emulator) -> None:
    emu.clock_offset_ms = 10 * 60 * 1000
    assert [code_of(create(emu)) for _ in range(2)] == [403, 403]
    emu.clock_offset_ms = 0
    assert code_of(create(emu)) == 200


def test_signature_window_is_configurable() -> None:
    with Emulator(AK, SK, signature_window=1) as emu:
        stale = time.time_ns() // 1_000_000 - 5_000
        assert code_of(create(emu, headers=signed_headers(AK, SK, timestamp_ms=stale))) == 403


def test_keys_fall_back_to_environment_then_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANNOTATION_EMULATOR_ACCESS_KEY", "env-ak")
    monkeypatch.setenv("ANNOTATION_EMULATOR_SECRET_KEY", "env-sk")
    settings = Emulator().state.settings
    assert (settings.access_key, settings.secret_key) == ("env-ak", "env-sk")
    monkeypatch.delenv("ANNOTATION_EMULATOR_ACCESS_KEY")
    monkeypatch.delenv("ANNOTATION_EMULATOR_SECRET_KEY")
    assert (Emulator().access_key, Emulator().state.settings.secret_key) == ("emulator-ak", "emulator-sk")
    assert "emulator-sk" not in repr(Emulator().state.settings)


# --- project list -------------------------------------------------------------------------------


def test_project_list_pages_and_filters(emu: Emulator) -> None:
    emu.add_projects([{"projectId": 4, "name": "d", "status": 1, "dataType": 2}])
    first = post(emu, PROJECT_LIST_PATH, {**STARTED_2D, "offset": 1, "limit": 1}).json()["data"]
    second = post(emu, PROJECT_LIST_PATH, {**STARTED_2D, "offset": 2, "limit": 1}).json()["data"]
    assert first["count"] == second["count"] == 2
    assert [(p["id"], p["name"]) for p in first["data"] + second["data"]] == [(1, "a"), (4, "d")]
    query = {"status": 1, "dataType": 3, "offset": 1, "limit": 10}
    filtered = post(emu, PROJECT_LIST_PATH, query).json()["data"]
    assert [(p["id"], p["status"], p["dataType"]) for p in filtered["data"]] == [(2, 1, 3)]
    assert filtered["count"] == 1
    assert code_of(post(emu, PROJECT_LIST_PATH, {**STARTED_2D, "offset": 0, "limit": 10})) == 400
    assert code_of(post(emu, PROJECT_LIST_PATH, {"status": 1, "offset": 1})) == 400  # dataType required
    assert code_of(post(emu, PROJECT_LIST_PATH, {}, headers=signed_headers(AK, "bad"))) == 401


def test_project_list_without_projects_is_empty() -> None:
    with Emulator(AK, SK) as emu:
        answer = post(emu, PROJECT_LIST_PATH, {**STARTED_2D, "offset": 1, "limit": 10}).json()
        assert answer["data"] == {"count": 0, "data": []}


def get(emu: Emulator, path: str, params: dict, *, headers: dict | None = None) -> requests.Response:
    """A signed GET with query parameters."""
    sent = signed_headers(AK, SK) if headers is None else headers
    return requests.get(emu.url + path, params=params, headers=sent, timeout=5)


def test_project_get_configured_projects(emu: Emulator) -> None:
    answer = get(emu, PROJECT_GET, {"projectId": 2}).json()
    assert answer["success"] is True and answer["data"] == {"description": "", "created_at": "1970-01-01"}
    assert code_of(get(emu, PROJECT_GET, {"projectId": 9})) == 5802  # not among the configured ones
    assert code_of(get(emu, PROJECT_GET, {"projectId": "x"})) == 400
    assert code_of(get(emu, PROJECT_GET, {"projectId": 2}, headers=signed_headers(AK, "bad"))) == 401


def test_project_get_without_configured_projects() -> None:
    with Emulator(AK, SK) as emu:
        assert get(emu, PROJECT_GET, {"projectId": 41}).json()["data"] == {
            "description": "",
            "created_at": "1970-01-01",  # a bare project has no creation time
        }
    with Emulator(AK, SK, known_projects={7}) as emu:
        assert code_of(get(emu, PROJECT_GET, {"projectId": 8})) == 5802


# --- recording ----------------------------------------------------------------------------------


def test_requests_are_recorded_with_headers_body_and_answer(emu: Emulator) -> None:
    answer = create(emu).json()
    (record,) = emu.requests
    assert record["method"] == "POST" and record["path"] == record["endpoint"] == CREATE_WORKFLOW_PATH
    assert record["headers"]["X-STARDUST-KEY"] == AK and "x-sign" in record["headers"]
    assert json.loads(record["body"]) == record["json"] == {"projectId": 7, "workflow": {"pools": POOLS}}
    assert (record["status"], record["code"], record["requestId"]) == (200, 200, answer["requestId"])
    assert record["fault"] is None


def test_recorded_state_is_a_copy(emu: Emulator) -> None:
    create(emu)
    emu.workflows[18000]["projectId"] = -1
    emu.requests.clear()
    assert emu.workflows[18000]["projectId"] == 7 and len(emu.requests) == 1


def test_unknown_path_is_a_404_envelope(emu: Emulator) -> None:
    response = post(emu, "/workflow/create", {"projectId": 7})
    assert response.status_code == 404 and response.json()["code"] == 404


# --- faults -------------------------------------------------------------------------------------


def test_drop_resets_the_connection_without_acting(emu: Emulator) -> None:
    emu.inject(Fault.disconnect())
    with pytest.raises(requests.ConnectionError):
        create(emu)
    assert emu.workflows == {}
    assert emu.requests[0]["fault"]["drop"] is True and emu.requests[0]["status"] is None
    assert code_of(create(emu)) == 200  # the next request is served normally


def test_drop_after_acting_records_the_workflow(emu: Emulator) -> None:
    emu.inject(Fault.disconnect(act=True))
    with pytest.raises(requests.ConnectionError):
        create(emu)
    assert list(emu.workflows) == [18000]


def test_slow_answer_times_out_the_client_after_acting(emu: Emulator) -> None:
    emu.inject(Fault.slow(1.0))
    started = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        create(emu, timeout=0.3)
    assert list(emu.workflows) == [18000]
    assert code_of(create(emu)) == 200  # a slow answer does not block other requests
    assert time.monotonic() - started < 0.9


def test_slow_without_acting_acts_late(emu: Emulator) -> None:
    emu.inject(Fault.slow(0.4, act=False))
    with pytest.raises(requests.ReadTimeout):
        create(emu, timeout=0.1)
    assert emu.workflows == {}
    wait_until(lambda: emu.requests[-1]["status"] is not None, "the emulator answering the slow request")
    assert list(emu.workflows) == [18000]


def test_http_error_with_retry_after(emu: Emulator) -> None:
    emu.inject(Fault.http(503, retry_after=1))
    response = create(emu)
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert response.json()["code"] == 500 and response.json()["success"] is False
    assert emu.workflows == {}


def test_code_fault_is_a_failure_envelope_under_http_200(emu: Emulator) -> None:
    emu.inject(Fault.failure(500), Fault.expired())
    assert [code_of(create(emu)) for _ in range(3)] == [500, 403, 200]
    assert emu.requests[1]["code"] == 403


def test_html_page(emu: Emulator) -> None:
    emu.inject(Fault.html(502))
    response = create(emu)
    assert response.status_code == 502 and response.headers["Content-Type"].startswith("text/html")
    assert "<html>" in response.text and emu.workflows == {}


def test_html_after_acting(emu: Emulator) -> None:
    emu.inject(Fault.html(504, act=True))
    assert create(emu).status_code == 504 and list(emu.workflows) == [18000]


def test_truncated_body_after_acting(emu: Emulator) -> None:
    emu.inject(Fault.truncated())
    response = create(emu)
    assert response.status_code == 200 and response.text.startswith('{"code":200')
    with pytest.raises(ValueError):
        response.json()
    assert list(emu.workflows) == [18000]
    assert emu.requests[0]["requestId"] == emu.workflows[18000]["requestId"]


def test_truncated_without_acting(emu: Emulator) -> None:
    emu.inject(Fault.truncated(act=False))
    response = create(emu)
    with pytest.raises(ValueError):
        response.json()
    assert response.status_code == 200 and emu.workflows == {}


@pytest.mark.parametrize("act", [True, False])
def test_cut_breaks_the_body_read_mid_way(emu: Emulator, act: bool) -> None:
    emu.inject(Fault.cut(act=act))
    with pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"):
        create(emu)
    assert list(emu.workflows) == ([18000] if act else [])
    record = emu.requests[0]
    assert record["fault"]["cut_mid_body"] is True and record["status"] == 200
    assert record["code"] == (200 if act else 500)
    assert code_of(create(emu)) == 200  # the next request is served normally


@pytest.mark.parametrize("status", [200, 502])
def test_empty_body(emu: Emulator, status: int) -> None:
    emu.inject(Fault.empty(status=status))
    response = create(emu)
    assert (response.status_code, response.content) == (status, b"")


def test_times_applies_a_fault_to_n_requests(emu: Emulator) -> None:
    emu.inject(Fault.failure(500, times=2))
    assert [code_of(create(emu)) for _ in range(3)] == [500, 500, 200]
    assert emu.faults == []


def test_endpoint_filter_skips_other_endpoints(emu: Emulator) -> None:
    emu.inject(Fault.failure(500, endpoint=CREATE_WORKFLOW_PATH))
    assert code_of(post(emu, PROJECT_LIST_PATH, {**STARTED_2D, "offset": 1, "limit": 1})) == 200
    assert code_of(create(emu)) == 500


def test_faults_are_used_in_order(emu: Emulator) -> None:
    emu.inject(Fault.failure(500), Fault.empty(status=502))
    assert code_of(create(emu)) == 500
    assert create(emu).status_code == 502


def test_fault_validation_and_dict_round_trip() -> None:
    with pytest.raises(ValueError):
        Fault(times=0)
    fault = Fault.http(429, retry_after=2, endpoint="/x", times=3)
    assert Fault.from_dict(fault.to_dict()) == fault
    assert Fault.from_dict({"kind": "disconnect", "act": True}) == Fault.disconnect(act=True)
    assert Fault.from_dict(Fault.cut(act=False).to_dict()) == Fault.from_dict({"kind": "cut", "act": False})
    with pytest.raises(ValueError):
        Fault.from_dict({"kind": "explode"})


# --- control plane, prefix, several instances, CLI ------------------------------------------------


def test_http_control_plane(emu: Emulator) -> None:
    faults = [{"kind": "failure", "code": 500}, {"status": 503, "times": 2}]
    queued = requests.post(emu.url + "/_emulator/faults", json=faults, timeout=5)
    assert queued.json() == {"queued": 2, "pending": 2}
    assert code_of(create(emu)) == 500
    assert [create(emu).status_code for _ in range(2)] == [503, 503]
    create(emu)
    state = requests.get(emu.url + "/_emulator/state", timeout=5).json()
    assert list(state["workflows"]) == ["18000"] and len(state["requests"]) == 4 and state["faults"] == []
    assert json.loads(state["requests"][0]["body"])["projectId"] == 7
    assert requests.post(emu.url + "/_emulator/faults", json=[{"bogus": 1}], timeout=5).status_code == 400
    assert requests.post(emu.url + "/_emulator/reset", timeout=5).json() == {"reset": True}
    assert emu.workflows == {} and emu.requests == []  # control requests are not recorded


def test_http_state_redacts_the_signature_but_in_process_state_keeps_it(emu: Emulator) -> None:
    headers = signed_headers(AK, SK)
    create(emu, headers=headers)
    recorded = requests.get(emu.url + "/_emulator/state", timeout=5).json()["requests"][0]["headers"]
    assert recorded[SIGNATURE_HEADER.lower()] == "<redacted>"
    assert headers[SIGNATURE_HEADER] not in json.dumps(recorded)
    assert (
        recorded[KEY_HEADER.lower()] == AK and recorded[TIMESTAMP_HEADER.lower()] == headers[TIMESTAMP_HEADER]
    )
    assert emu.requests[0]["headers"][SIGNATURE_HEADER] == headers[SIGNATURE_HEADER]


def test_prefix_is_part_of_the_base_url() -> None:
    with Emulator(AK, SK, prefix="openapi/") as emu:
        assert emu.url.endswith("/openapi")
        assert code_of(create(emu)) == 200
        assert emu.requests[0]["path"] == "/openapi" + CREATE_WORKFLOW_PATH
        assert emu.requests[0]["endpoint"] == CREATE_WORKFLOW_PATH
        requests.post(emu.url + "/_emulator/faults", json={"kind": "failure", "code": 500}, timeout=5)
        assert code_of(create(emu)) == 500


def test_two_emulators_are_independent(emu: Emulator) -> None:
    with Emulator("other-ak", "other-sk") as other:
        other.inject(Fault.failure(500))
        assert code_of(create(emu)) == 200
        assert emu.faults == [] and len(other.faults) == 1 and other.workflows == {}
        assert other.port != emu.port


def test_cli_prints_url_and_serves() -> None:
    env = {**os.environ, "ANNOTATION_EMULATOR_SECRET_KEY": SK}
    module = "airflow_provider_annotation.testing.emulator"
    cmd = [sys.executable, "-m", module, "--port", "0", "--access-key", AK]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        match = re.fullmatch(r"Annotation emulator listening on (http://127\.0\.0\.1:\d+)\n", line)
        assert match, line
        url = match.group(1) + CREATE_WORKFLOW_PATH
        response = requests.post(url, json={"projectId": 7}, headers=signed_headers(AK, SK), timeout=5)
        assert response.json()["data"] == {"workflowId": 18000}
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    assert SK not in line + out + err
    assert "WARNING" not in err  # loopback: no warning


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("10.1.2.3", False),
        ("::", False),
        ("example.org", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert emulator_module.is_loopback(host) is loopback


def test_cli_warns_when_the_control_plane_is_reachable_from_elsewhere(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Never actually listen beyond loopback in a test: binding and serving are stubbed out.
    monkeypatch.setattr(emulator_module.Emulator, "bind", lambda self: None)
    monkeypatch.setattr(emulator_module.Emulator, "serve_forever", lambda self: None)
    emulator_module.main(["--host", "0.0.0.0", "--port", "8080"])
    captured = capsys.readouterr()
    assert "unauthenticated" in captured.err and "0.0.0.0" in captured.err
    assert captured.out == "Annotation emulator listening on http://0.0.0.0:8080\n"
    emulator_module.main(["--host", "127.0.0.1", "--port", "8080"])
    assert capsys.readouterr().err == ""
