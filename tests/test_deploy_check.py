"""The deployment check's own parts, fast: its DAGs parse, and its waits and process control keep
their promises. The deployment itself runs in scripts/deploy-check.sh, not here."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from deploy_check.processes import CheckFailed, Processes, descendants, free_port, wait_for  # noqa: E402

from airflow_provider_annotation.version_compat import AIRFLOW_V_3_3_PLUS  # noqa: E402


@pytest.mark.skipif(
    not AIRFLOW_V_3_3_PLUS, reason="the deployment check runs Airflow 3.3.2 (task_state_store)"
)
def test_deploy_dags_parse_with_the_tasks_the_checks_drive():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "tests" / "deploy_dags"))
    assert bag.import_errors == {}
    killed = bag.dags["annotation_deploy_killed_after_create"]
    assert [t.task_id for t in killed.tasks] == ["create_workflow"]
    assert killed.get_task("create_workflow").retries >= 1  # the scheduler must retry the killed try
    batch = bag.dags["annotation_deploy_batch"]
    assert (
        batch.get_task("set_up_projects").retries >= 1
        and len(batch.get_task("set_up_projects").projects) == 1000
    )
    load = bag.dags["annotation_deploy_load"]
    assert sorted(t.task_id for t in load.tasks) == ["create_workflow", "project_ids"]


def test_wait_for_gives_up_at_its_deadline_naming_the_reason_and_the_log(tmp_path):
    log = tmp_path / "component.log"
    log.write_text("starting\nFATAL: port in use\n")

    def probe():
        raise ConnectionRefusedError("nobody listens")

    with pytest.raises(CheckFailed) as failure:
        wait_for("the component", probe, 0.5, log)
    message = str(failure.value)
    assert "the component not ready" in message
    assert "nobody listens" in message
    assert "FATAL: port in use" in message


def test_wait_for_returns_once_the_probe_holds():
    calls = []
    assert wait_for("x", lambda: calls.append(1) or len(calls) >= 2, 10) >= 0
    assert len(calls) == 2


def test_free_port_is_bindable():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", free_port()))


def test_processes_are_recorded_and_stopped_with_their_children(tmp_path):
    pid_file = tmp_path / "pids"
    processes = Processes(tmp_path, env={"PATH": "/usr/bin:/bin"}, pid_file=pid_file)
    parent = processes.start("sleeper", ["sh", "-c", "sleep 300 & sleep 300; wait"])
    wait_for("both children started", lambda: len(descendants(parent.pid)) >= 2, 10)
    children = descendants(parent.pid)
    assert len(children) == 2
    assert pid_file.read_text() == f"{parent.pid} sleeper\n"
    assert processes.stop_all(grace=5) == []
    assert not parent.alive()
    for child in children:  # the whole process group went, not just the recorded PID
        assert wait_for(f"child {child} gone", lambda c=child: not running(c), 10) >= 0


def running(pid: int) -> bool:
    """Whether `pid` runs (a zombie waiting for its new parent to reap it does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def test_a_create_refused_at_authentication_is_not_counted_as_sent(emulator):
    """X-SIGN binds only the key pair and the millisecond, so two Celery worker processes calling in
    the same millisecond send the same signature, and the emulator refuses the second as a replay
    (403; the hook then re-signs, see tests/test_hook.py). That refusal proves the platform did
    nothing: the load check counts it apart from the creates that reached the platform (a CI run
    once failed on it). Here the same headers are sent twice, as the two workers would."""
    import requests
    from deploy_check.checks import count_requests, creates_for

    from airflow_provider_annotation.endpoints import CREATE_WORKFLOW
    from airflow_provider_annotation.signing import signed_headers
    from tests.helpers import AK, SK

    class EmulatorOnly:  # the one part of a Deployment these counts read
        def emulator(self, path: str) -> dict:
            return requests.get(emulator.url + path, timeout=5).json()

    headers = signed_headers(AK, SK)
    pools = [{"name": "D", "type": 0}, {"name": "C", "type": 5}]
    codes = [
        requests.post(
            emulator.url + CREATE_WORKFLOW.path,
            json={"projectId": 31, "workflow": {"pools": pools}},
            headers=headers,
            timeout=5,
        ).json()["code"]
        for _ in range(2)
    ]
    assert codes == [200, 403]
    (workflow_id,) = emulator.workflows
    state = EmulatorOnly().emulator("/_emulator/state")
    assert count_requests(state, "workflow/create", range(31, 32)) == (1, 1)
    assert creates_for(EmulatorOnly(), 31) == ([workflow_id], 1)


def test_the_deferral_runs_tasks_complete_one_poll_apart(emulator, monkeypatch):
    """The deferral check paces its run's two tasks (`_pace`, called before every look the check
    takes) so the trigger's polls see 0, 1, then 2 of 2 complete: the sensor's log, which the UI
    check shows, holds several progress lines. Without the pacing the second poll sees both."""
    import requests
    from deploy_check.checks import _pace

    from airflow_provider_annotation.endpoints import ANNOTATION_REQUEST, PROJECT_CREATE, TASK_GET
    from airflow_provider_annotation.signing import signed_headers
    from tests.helpers import AK, SK

    monkeypatch.setattr(emulator.state.settings, "tasks_complete_after_reads", 2)  # the CLI's default

    def platform(path: str, body: dict) -> dict:
        envelope = requests.post(emulator.url + path, json=body, headers=signed_headers(AK, SK), timeout=5)
        return envelope.json()["data"]

    class EmulatorOnly:  # the one part of a Deployment `_pace` uses
        def emulator(self, path: str, method: str = "GET", payload: object = None) -> dict:
            return requests.request(method, emulator.url + path, json=payload, timeout=5).json()

    name = "Deploy check deferral"
    box = {"key": "box2d-car", "type": "slot", "label": "car", "slotSpecification": {"type": "box2d"}}
    project = platform(
        PROJECT_CREATE.path, {"name": name, "dataType": 2, "deadline": "2030-12-31", "operators": [box]}
    )["projectId"]
    sent = platform(ANNOTATION_REQUEST.path, {"projectId": project, "dataIds": ["f-1", "f-2"]})
    task_ids = [t["taskId"] for t in sent["successTaskList"]]
    paced: dict[str, str] = {}

    def poll() -> int:
        for _ in range(2):  # the check looks about once a second, many times between two polls
            _pace(EmulatorOnly(), name, paced)
        statuses = [platform(TASK_GET.path, {"projectId": project, "taskId": t})["status"] for t in task_ids]
        return statuses.count(9)

    assert [poll() for _ in range(3)] == [0, 1, 2]
    assert paced == {"held": max(task_ids), "released": "set to 9 after 2 reads"}
