"""The project-setup operators through real `airflow dags test` against the emulator: the example
DAG in both API versions with its exact wire bodies, and every create's fault cases in one run.

What each task ended as is read from the run's metadata database, as the UI would show it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from airflow_provider_annotation.endpoints import (
    ANNOTATION_REQUEST,
    ANNOTATION_STAT,
    CREATE_WORKFLOW,
    FOLDER_CREATE,
    PROJECT_CREATE,
    PROJECT_LIST,
)
from airflow_provider_annotation.testing import Emulator, Fault
from tests.helpers import EXAMPLES, OPERATORS, TEST_DAGS, run_dag, task_states

pytestmark = pytest.mark.dags


@pytest.fixture
def emu(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    emulator.api_version = "2024-07"
    # The example DAG waits for labeling: tasks complete on their second status read, as with the
    # emulator's command line.
    monkeypatch.setattr(emulator.state.settings, "tasks_complete_after_reads", 2)
    yield emulator
    emulator.api_version = "2024-07"


def sent(emu: Emulator, path: str) -> list[dict]:
    return [json.loads(r["body"]) for r in emu.requests if r["endpoint"] == path]


EXPECTED_POOLS = [
    {"name": "Distribution pool", "type": 0, "runMode": 0},
    {"name": "Labeling pool", "type": 1, "workers": ["alice", "bob"]},
    {"name": "Inspection pool", "type": 2, "workers": ["carol"]},
    {"name": "Completion pool", "type": 5},
]


def test_example_setup_with_default_params(airflow_env, emu):
    code, out = run_dag(airflow_env, emu, EXAMPLES, "annotation_project_setup")
    assert code == 0, out
    ((folder_id, folder),) = emu.folders.items()
    ((_, project),) = emu.projects.items()
    # Empty names in the trigger form: new ones from the run id, so a second run does not fail.
    assert folder["name"].startswith("Setup manual__") and project["name"].startswith("Cars 2D manual__")
    assert sent(emu, FOLDER_CREATE.path) == [{"name": folder["name"]}]
    assert sent(emu, PROJECT_CREATE.path) == [
        {
            "name": project["name"],
            "dataType": 2,
            "deadline": "2030-12-31",
            "operators": OPERATORS,
            "folderId": folder_id,
            "workflow": {"pools": EXPECTED_POOLS},
        }
    ]
    ((project_id, project),) = emu.projects.items()
    (workflow_id,) = emu.workflows
    assert sent(emu, ANNOTATION_REQUEST.path) == [
        {
            "projectId": project_id,
            "workflowId": workflow_id,
            "dataIds": ["frame-0001", "frame-0002", "frame-0003"],
        }
    ]
    assert sent(emu, ANNOTATION_STAT.path) == [{"projectId": project_id, "workflowId": workflow_id}]
    task_ids = sorted(emu.tasks)
    assert len(task_ids) == 3 and all(int(t) > 2**53 for t in task_ids)
    assert (
        f"Setup done: folder {folder_id} -> project {project_id} (workflow id {workflow_id}) -> 3 tasks"
        in out
    )
    assert all(t in out for t in task_ids)  # the exact task ids reached the last task through XCom
    # The deferrable wait read each task until it was complete, then handed its summary on.
    assert "labeled: 3 of 3 tasks complete" in out
    assert "Deferring: waiting for 3 task(s) of project" in out
    assert all(task["status"] == 9 for task in emu.tasks.values())

    # A second run with the trigger form's defaults is green too.
    code, out = run_dag(airflow_env, emu, EXAMPLES, "annotation_project_setup")
    assert code == 0, out[-3000:]
    assert len(emu.folders) == 2 and len(emu.projects) == 2


def test_example_setup_on_the_2024_08_api_with_conf(airflow_env, emu):
    emu.api_version = "2024-08"
    conf = {
        "folder_name": "Lidar",
        "project_name": "Lidar 3D",
        "data_type": 3,
        "deadline": "2031-01-15",
        "labelers": ["dana"],
        "inspectors": [],
        "data_ids": ["scan-1", "missing-scan-2"],
    }
    code, out = run_dag(airflow_env, emu, EXAMPLES, "annotation_project_setup", conf, api_version="2024-08")
    # the August 2024 docs require datasetId, which the example does not give: submit_data fails
    assert code != 0 or "state=failed" in out, out
    (body,) = sent(emu, PROJECT_CREATE.path)
    assert body["dataType"] == 3 and body["deadline"] == "2031-01-15"
    assert body["workflow"] == {
        "vertex": [
            {"name": "Distribution pool", "type": 0, "runMode": 0},
            {"name": "Labeling pool", "type": 1, "workers": ["dana"]},
            {"name": "Completion pool", "type": 5},
        ]
    }
    assert sent(emu, ANNOTATION_REQUEST.path) == [] and emu.tasks == {}  # refused before any request
    states = task_states(airflow_env, "annotation_project_setup")
    assert states["submit_data"] == ("failed", 1)  # not retried: a retry renders the same input
    assert "dataset_id: required with api_version=2024-08" in out


def test_every_create_fault_case_in_one_run(airflow_env, emu):
    drop = Fault.disconnect  # the platform commits, then the answer is lost
    emu.inject(
        drop(act=True, endpoint=FOLDER_CREATE.path),
        drop(act=True, endpoint=PROJECT_CREATE.path),
        drop(act=True, endpoint=PROJECT_CREATE.path),
        drop(act=True, endpoint=CREATE_WORKFLOW.path),
        # submit_lost: chunk 1 answered, chunk 2 committed and lost
        Fault.slow(0, endpoint=ANNOTATION_REQUEST.path),
        drop(act=True, endpoint=ANNOTATION_REQUEST.path),
        # submit_resumed: chunk 1 answered, chunk 2 busy through every attempt of the first try
        Fault.slow(0, endpoint=ANNOTATION_REQUEST.path),
        Fault.http(503, endpoint=ANNOTATION_REQUEST.path, times=5),
    )
    emu.add_projects(
        # 150 started (status 1, where new projects land), so a lookup needs page 2 of them
        [
            {
                "projectId": 7000 + i,
                "name": f"decoy-{i}",
                "status": 1 if i < 150 else (0, 2, 3)[i % 3],
                "dataType": 2,
            }
            for i in range(250)
        ]
    )
    code, out = run_dag(airflow_env, emu, TEST_DAGS, "setup_test_faults")
    states = task_states(airflow_env, "setup_test_faults")
    assert emu.faults == [], out
    assert states == {
        "folder_lost": ("failed", 1),
        "folder_taken": ("failed", 1),
        "folder_kept": ("success", 2),
        "project_lost": ("failed", 1),
        "project_lost_adopt": ("success", 1),
        "project_taken": ("failed", 1),
        "project_taken_adopt": ("success", 1),
        "project_kept": ("success", 2),
        "workflow_lost": ("failed", 1),
        "workflow_kept": ("success", 2),
        "submit_lost": ("failed", 1),
        "submit_resumed": ("success", 2),
        "submit_kept": ("success", 2),
        "submit_rejected": ("failed", 1),
        "stats": ("success", 1),
        "report": ("success", 1),
    }, out
    report = json.loads(re.search(r"REPORT (\{.*\})", out).group(1))

    # Exactly one object per name, whatever happened to the answers.
    folders = {f["name"]: folder_id for folder_id, f in emu.folders.items()}
    assert sorted(folders) == ["kept-folder", "lost-folder"]
    assert [b["name"] for b in sent(emu, FOLDER_CREATE.path)] == ["lost-folder", "lost-folder", "kept-folder"]
    assert report["folder_kept"] == folders["kept-folder"]
    assert "Not retrying this task: the folder may exist already. The platform has no folder lookup" in out
    assert "A folder named 'lost-folder' exists already; not retrying." in out
    assert f"Folder {folders['kept-folder']} was already created by an earlier try" in out

    projects = {
        p["name"]: project_id
        for project_id, p in emu.projects.items()
        if p["name"].startswith(("lost", "kept"))
    }
    assert sorted(projects) == ["kept-project", "lost-adopt", "lost-project"]
    assert [b["name"] for b in sent(emu, PROJECT_CREATE.path)] == [
        "lost-project",
        "lost-adopt",
        "lost-project",
        "lost-project",
        "kept-project",
    ]
    assert (
        "Not retrying this task: the project may exist already. Look for a project named 'lost-project'"
        in out
    )
    assert report["project_lost_adopt"] == projects["lost-adopt"]
    assert report["project_lost_adopt.workflow_id"] is None
    assert "adopting the existing project" in out
    assert "A project named 'lost-project' exists already; not retrying. Choose another name" in out
    assert report["project_taken_adopt"] == projects["lost-project"]
    assert report["project_kept"] == projects["kept-project"]
    assert report["project_kept.workflow_id"] in emu.workflows
    assert sent(emu, PROJECT_CREATE.path)[-1]["folderId"] == folders["kept-folder"]
    lookups = [(b["status"], b["offset"]) for b in sent(emu, PROJECT_LIST.path)]
    assert lookups == [(0, 1), (1, 1), (1, 2), (2, 1), (3, 1)] * 2  # two lookups, every status and page

    # CreateWorkflowOperator on the same protocol.
    workers = [b["workflow"]["pools"][1]["workers"] for b in sent(emu, CREATE_WORKFLOW.path)]
    assert workers == [["bob"], ["eve"]]  # each sent once
    assert all(b["projectId"] == projects["kept-project"] for b in sent(emu, CREATE_WORKFLOW.path))
    in_project = [wid for wid, wf in emu.workflows.items() if wf["projectId"] == projects["kept-project"]]
    assert in_project == [report["project_kept.workflow_id"], in_project[1], report["workflow_kept"]]
    assert (
        "Not retrying this task: the workflow may exist already. Check project "
        f"{projects['kept-project']} on the platform" in out
    )
    assert f"Workflow {report['workflow_kept']} was already created by an earlier try" in out

    # Annotation requests: exactly which data ids were sent, in which chunks.
    chunks = [b["dataIds"] for b in sent(emu, ANNOTATION_REQUEST.path)]
    assert chunks == [
        ["a", "b"],
        ["c", "d"],  # lost: the task failed closed; ["e", "f"] never sent
        ["g", "h"],
        *[["i", "j"]] * 5,  # 503 through every attempt of the first try
        ["i", "j"],  # the retry: chunk 1 kept, not sent again
        ["k"],
        ["m", "n", "missing-o"],  # the worker-lost retry sent nothing
        ["m", "p"],
    ]
    assert "the platform may have made tasks for these 2 data ids: c, d." in out
    assert "2 data ids of later chunks were not sent" in out
    data_of_tasks = sorted(t["dataId"] for t in emu.tasks.values())
    assert data_of_tasks == ["a", "b", "c", "d", "g", "h", "i", "j", "k", "m", "n", "p"]
    resumed = report["submit_resumed"]
    assert [t["dataId"] for t in resumed["tasks"]] == ["g", "h", "i", "j", "k"]
    assert resumed["task_ids"] == [t["taskId"] for t in resumed["tasks"]]
    assert all(
        emu.tasks[t]["dataId"] == d for t, d in zip(resumed["task_ids"], "ghijk", strict=True)
    )  # exact ids
    assert report["submit_kept"]["rejected_data_ids"] == ["missing-o"]
    assert "The platform made no task for 1 data ids: m (1 tasks were made)" in out
    assert set(report["stats"]) == {"projectId", "workflowId", "efficiency", "efforts", "autolabeling"}


# -- README promises found untested by a mutation audit ---------------------------------------


def test_retry_paths_changed_submission_adoption_warning_and_stats_refusal(airflow_env, emu, make_hook):
    """README, What a retry does: a retry whose parameters render differently fails instead of
    sending again, naming the state keys to delete (`annotation_request`, `annotation_request.<n>`);
    `"adopt"` returns the existing project with a warning; a stats refusal fails without retry."""
    make_hook().create_workflow(4242)  # the project's default workflow, for the annotation request
    emu.add_projects([{"projectId": 9001, "name": "Existing", "status": 1, "dataType": 2}])
    emu.inject(Fault.failure(400, endpoint=ANNOTATION_STAT.path))
    code, out = run_dag(airflow_env, emu, TEST_DAGS, "setup_test_retry_paths")
    states = task_states(airflow_env, "setup_test_retry_paths")
    assert states == {
        "submit_changed": ("failed", 2),
        "project_adopt": ("success", 1),
        "stats_refused": ("failed", 1),
    }, out
    assert [b["dataIds"] for b in sent(emu, ANNOTATION_REQUEST.path)] == [["d1"]]  # the retry sent nothing
    assert "sent annotation requests for different parameters; not sending these" in out
    assert "delete the task state keys 'annotation_request' and 'annotation_request.<n>'" in out
    (adopted,) = [line for line in out.splitlines() if "adopting the existing project 9001" in line]
    assert re.search(r"\[warn(ing)?\s*\]|WARNING", adopted), adopted
    assert [p["name"] for p in emu.projects.values()] == ["Existing"]  # adopted, not created again
    assert len(sent(emu, ANNOTATION_STAT.path)) == 1
    assert "The platform refused the request; not retrying." in out
