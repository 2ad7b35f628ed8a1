"""Every DAG through real `airflow dags test` against the emulator; checks what the emulator got.

One Airflow home (metadata DB migrated once) for the session; each DAG run is a subprocess, as a
user would run it, with the connection given as `AIRFLOW_CONN_ANNOTATION_DEFAULT` JSON.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from airflow_provider_annotation.endpoints import CREATE_WORKFLOW
from tests.conftest import AIRFLOW, connection_json

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "dags"
TEST_DAGS = ROOT / "tests" / "dags"

pytestmark = pytest.mark.dags


def run_dag(airflow_env, emulator, dags_folder: Path, dag_id: str, conf: dict | None = None):
    env = {
        **airflow_env,
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW_CONN_ANNOTATION_DEFAULT": connection_json(emulator.url, retry_base_delay=0),
    }
    cmd = [AIRFLOW, "dags", "test", dag_id]
    if conf is not None:
        cmd += ["--conf", json.dumps(conf)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout + proc.stderr


def created(emulator) -> list[dict]:
    return [json.loads(r["body"]) for r in emulator.requests if r["endpoint"] == CREATE_WORKFLOW.path]


def test_workflow_from_pools_and_json_template(airflow_env, emulator):
    from dags.annotation_workflow_from_pools import PRE_LABELING

    code, out = run_dag(airflow_env, emulator, EXAMPLES, "annotation_workflow_from_pools")
    assert code == 0, out
    bodies = sorted(created(emulator), key=lambda b: len(b["workflow"]["pools"]))
    assert [len(b["workflow"]["pools"]) for b in bodies] == [4, 6]
    assert bodies[1]["workflow"]["pools"] == json.loads(json.dumps(PRE_LABELING))
    assert bodies[0]["workflow"]["pools"][2] == {"name": "Inspection pool", "type": 2, "workers": ["carol"]}
    assert len(emulator.workflows) == 2


def test_one_workflow_per_project_with_mapping(airflow_env, emulator):
    code, out = run_dag(airflow_env, emulator, EXAMPLES, "annotation_workflow_per_project")
    assert code == 0, out
    assert sorted(b["projectId"] for b in created(emulator)) == [101, 102, 103]  # XCom strings → ints
    assert "Created workflows: [18000, 18001, 18002]" in out


def test_hook_in_task(airflow_env, emulator):
    code, out = run_dag(airflow_env, emulator, EXAMPLES, "annotation_hook_in_task")
    assert code == 0, out
    assert created(emulator) == [{"projectId": 4242}]
    assert emulator.workflows[18000]["default"] is True
    assert "Default workflow id: 18000" in out


def test_native_rendering(airflow_env, emulator):
    code, out = run_dag(airflow_env, emulator, TEST_DAGS, "annotation_test_native_rendering")
    assert code == 0, out
    (body,) = created(emulator)
    assert body["projectId"] == 777
    pools = body["workflow"]["pools"]
    assert pools[1]["algorithmList"] == ["3D-MOT-V1"] and pools[2]["workers"] == ["nina", "omar"]


def test_dry_run_sends_nothing_and_logs_the_body(airflow_env, emulator):
    code, out = run_dag(airflow_env, emulator, TEST_DAGS, "annotation_test_dry_run")
    assert code == 0, out
    assert emulator.requests == []
    assert "Dry run" in out
    assert (
        '"projectId": 888' in out and '"workers": ["alice", "bob"]' in out and '"workers": ["carol"]' in out
    )


def test_bad_input_fails_before_any_request_and_is_not_retried(airflow_env, emulator):
    code, out = run_dag(airflow_env, emulator, TEST_DAGS, "annotation_test_bad_input")
    assert code != 0 or "state=failed" in out, out
    assert emulator.requests == []
    assert "project_id: " in out and "pools[0].worker: unknown key; did you mean 'workers'?" in out
    assert "up_for_retry" not in out  # retries=2, but a retry would render the same input


def test_ambiguous_create_fails_without_task_retry(airflow_env, emulator):
    from airflow_provider_annotation.testing import Fault

    emulator.inject(Fault.disconnect(act=True))
    code, out = run_dag(airflow_env, emulator, TEST_DAGS, "annotation_test_ambiguous_not_retried")
    assert code != 0 or "state=failed" in out, out
    assert len(created(emulator)) == 1 and len(emulator.workflows) == 1  # acted once, never re-sent
    assert "Not retrying this task: the workflow may exist already" in out
    assert "up_for_retry" not in out


def test_retry_returns_kept_id_without_second_create(airflow_env, emulator):
    code, out = run_dag(airflow_env, emulator, TEST_DAGS, "annotation_test_retry_keeps_id")
    assert code == 0, out
    assert len(created(emulator)) == 1 and list(emulator.workflows) == [18000]
    assert "worker lost after the platform created the workflow" in out
    assert "Workflow 18000 was already created by an earlier try" in out


def test_retry_with_changed_parameters_refuses_a_second_workflow(airflow_env, emulator):
    code, out = run_dag(airflow_env, emulator, TEST_DAGS, "annotation_test_retry_changed_parameters")
    assert code != 0 or "state=failed" in out, out
    workers = [b["workflow"]["pools"][1]["workers"] for b in created(emulator)]
    assert workers == [["user1"]]  # the second try rendered user2 and sent nothing
    assert "An earlier try of this task created workflow 18000, but this try renders different" in out
    assert "delete the task state key 'annotation_workflow'" in out
