"""Every DAG through real `airflow dags test` against the emulator; checks what the emulator got.

One Airflow home (metadata DB migrated once) for the session; each DAG run is a subprocess, as a
user would run it, with the connection given as `AIRFLOW_CONN_ANNOTATION_DEFAULT` JSON.
"""

from __future__ import annotations

import json
import re

import pytest

from airflow_provider_annotation.endpoints import CREATE_WORKFLOW
from tests.helpers import EXAMPLES, ROOT, TEST_DAGS, run_dag

pytestmark = pytest.mark.dags


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
    # A green run shows no error line (reading the mapped results one past the end logs one).
    assert "[error" not in out and "XCom not found" not in out, out


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
    assert "[error" not in out and "XCom not found" not in out, out  # the link's key exists, empty
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


def tries(out: str) -> list[int]:
    """The try numbers `LogTryNumber` logged, in order."""
    return [int(n) for n in re.findall(r"Create workflow, try number (\d+)", out)]


def test_retry_ambiguous_lets_airflow_retry_an_ambiguous_create(airflow_env, emulator):
    """Opted in: the ambiguous error propagates as is, so the task's retries apply (and may
    create a second workflow, which is what the option accepts)."""
    from airflow_provider_annotation.testing import Fault

    emulator.inject(Fault.disconnect(act=True))
    code, out = run_dag(
        airflow_env,
        emulator,
        TEST_DAGS,
        "annotation_test_one_airflow_retry",
        retry_ambiguous=True,
        max_attempts=1,
    )
    assert code == 0, out
    assert tries(out) == [1, 2], out
    assert "AnnotationMayHaveTakenEffectError" in out and "up_for_retry" in out
    assert "Not retrying this task" not in out
    assert len(created(emulator)) == 2 and len(emulator.workflows) == 2  # try 1 acted, try 2 created again


def test_without_retry_ambiguous_an_ambiguous_create_is_not_retried_by_airflow(airflow_env, emulator):
    from airflow_provider_annotation.testing import Fault

    emulator.inject(Fault.disconnect(act=True))
    code, out = run_dag(airflow_env, emulator, TEST_DAGS, "annotation_test_one_airflow_retry", max_attempts=1)
    assert code != 0 or "state=failed" in out, out
    assert tries(out) == [1], out
    assert "Not retrying this task: the workflow may exist already" in out and "up_for_retry" not in out
    assert len(created(emulator)) == 1 and len(emulator.workflows) == 1


def test_platform_refusal_fails_without_airflow_retries(airflow_env, emulator):
    from airflow_provider_annotation.codes import PlatformCode
    from airflow_provider_annotation.testing import Fault

    emulator.inject(Fault.failure(PlatformCode.WORKFLOW_STRUCTURE_ERROR, status=400))
    code, out = run_dag(airflow_env, emulator, TEST_DAGS, "annotation_test_one_airflow_retry")
    assert code != 0 or "state=failed" in out, out
    assert tries(out) == [1], out
    assert "The platform refused the request; not retrying." in out and "up_for_retry" not in out
    assert len(created(emulator)) == 1 and emulator.workflows == {}


def test_dataset_to_export_with_both_waits_deferred(airflow_env, emulator, monkeypatch, tmp_path):
    """Import -> wait (deferred) -> mapping file -> project -> annotation request from the file ->
    wait (deferred) -> export: no hand-made id anywhere."""
    monkeypatch.setattr(emulator.state.settings, "dataset_reads_until_ready", 2)
    monkeypatch.setattr(emulator.state.settings, "tasks_complete_after_reads", 2)
    conf = {"export_folder": str(tmp_path), "project_name": "Drive boxes"}
    code, out = run_dag(airflow_env, emulator, EXAMPLES, "annotation_dataset_to_export", conf)
    assert code == 0, out[-4000:]
    sent = {r["endpoint"]: r for r in emulator.requests}
    assert sent["/dataset/import/async"]["json"] == {
        "resourceUrl": "gs://my-bucket/drives/2024-08-02/",
        "fileTreeType": 0,
        "dataType": 3,
        "name": "Drive 2024-08-02",
    }
    (dataset_id,) = emulator.datasets
    assert [r["endpoint"] for r in emulator.requests].count("/dataset/status") == 3  # 2 on the triggerer
    assert "Deferring: waiting for dataset" in out
    (mapping,) = tmp_path.glob("*-scenes.jsonl")
    scenes = [json.loads(line) for line in mapping.read_text().splitlines()]
    assert [s["sceneId"] for s in scenes] == ["scene-0000001", "scene-0000002", "scene-0000003"]
    request = sent["/annotation/request"]["json"]
    assert request["datasetId"] == int(dataset_id) and request["dataIds"] == [s["dataId"] for s in scenes]
    exported = [json.loads(line) for line in (tmp_path / "Drive_boxes.jsonl").read_text().splitlines()]
    from airflow_provider_annotation.testing.openapi import annotation_result

    # an exported item carries no task id and no data id (as the docs show): matched to the task
    # whose generated result it is
    by_result = {
        json.dumps(annotation_result(t), sort_keys=True): t["dataId"] for t in emulator.tasks.values()
    }
    fields = ("annotations", "hints", "issues", "metadata", "notes")
    found = sorted(by_result[json.dumps({k: e[k] for k in fields}, sort_keys=True)] for e in exported)
    assert found == [s["dataId"] for s in scenes]


# -- README promises checked by deliberate breakage (audit) -------------------------------------


def test_docs_list_every_example_dag_and_name_the_test_file_that_runs_it():
    """docs/example-dags.md: the table lists every DAG in dags/, and each one runs for real in one
    of the test files that page names (this check itself needs no Airflow run)."""
    section = (ROOT / "docs" / "example-dags.md").read_text().split("\n## ", 1)[0]
    listed = re.findall(r"^\| `(\w+)` \|", section, flags=re.MULTILINE)
    assert sorted(listed) == sorted(path.stem for path in EXAMPLES.glob("annotation_*.py"))
    test_files = re.findall(r"`(tests/test_\w+\.py)`", section)
    assert test_files, section
    sources = [(ROOT / name).read_text() for name in test_files]
    unrun = [dag_id for dag_id in listed if not any(f'"{dag_id}"' in source for source in sources)]
    assert unrun == []


# -- many projects in one task (CreateProjectsOperator) -------------------------------------------


def project_creates(emulator) -> list[dict]:
    from airflow_provider_annotation.endpoints import PROJECT_CREATE

    return [json.loads(r["body"]) for r in emulator.requests if r["endpoint"] == PROJECT_CREATE.path]


def test_batch_setup_example_builds_specs_from_its_params_file(airflow_env, emulator):
    from dags.annotation_batch_setup import PARAMS_FILE, project_specs

    code, out = run_dag(airflow_env, emulator, EXAMPLES, "annotation_batch_setup")
    assert code == 0, out
    specs = project_specs(PARAMS_FILE)
    bodies = {b["name"]: b for b in project_creates(emulator)}
    assert sorted(bodies) == sorted(s["name"] for s in specs) and len(bodies) == 5
    initech = bodies["Labeling initech 2024-W01"]
    assert initech["dataType"] == 3 and [p["type"] for p in initech["workflow"]["pools"]] == [0, 1, 5]
    assert bodies["Labeling globex 2024-W01"]["workflow"]["pools"][1]["workers"] == ["dave"]
    assert out.count(" created: project ") == 5
    code, out = run_dag(airflow_env, emulator, EXAMPLES, "annotation_batch_setup")  # a second run
    assert code == 0, out
    assert out.count(" adopted: project ") == 5 and len(emulator.projects) == 5  # if_exists="adopt"


def test_batch_retry_keeps_every_created_project_in_the_real_task_state_store(airflow_env, emulator):
    from airflow_provider_annotation.endpoints import PROJECT_CREATE
    from airflow_provider_annotation.testing import Fault

    emulator.inject(Fault.http(503, endpoint=PROJECT_CREATE.path))
    code, out = run_dag(airflow_env, emulator, TEST_DAGS, "annotation_test_batch_retry", max_attempts=1)
    assert code == 0, out
    assert "1 of 30 projects failed" in out and "A retry sends only the failed ones again." in out
    assert out.count("was created by an earlier try of this task; kept, not sent again") == 29
    assert "Projects set up: 1 created, 29 kept, 0 adopted, 0 failed" in out
    names = [b["name"] for b in project_creates(emulator)]
    assert len(names) == 31 and len(set(names)) == 30  # the refused one sent twice, nothing else
    assert len(emulator.projects) == 30


def test_every_example_dag_explains_itself_in_the_ui():
    """A description (the DAG list) and doc_md (the DAG's docs) on every example: its docstring."""
    import importlib

    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(str(EXAMPLES))
    assert not bag.import_errors, bag.import_errors
    assert len(bag.dags) == len(list(EXAMPLES.glob("annotation_*.py")))
    for dag_id, dag in bag.dags.items():
        assert dag.description and len(dag.description) <= 100, dag_id
        module = importlib.import_module(f"dags.{dag_id}")
        assert dag.doc_md and dag.doc_md == module.__doc__, dag_id
