"""Every operator run as the README's quick check does, ``op.execute(context={})``, outside a DAG
run, against the emulator over real HTTP: it works, and no warning names a wrong cause."""

from __future__ import annotations

import pytest

from airflow_provider_annotation.operators.annotation import (
    AnnotationStatsOperator,
    CreateFolderOperator,
    CreateProjectOperator,
    CreateWorkflowOperator,
    ExportTasksOperator,
    SendTasksOperator,
    SubmitAnnotationDataOperator,
)
from airflow_provider_annotation.sensors.annotation import AnnotationTaskSensor
from airflow_provider_annotation.testing import Emulator
from tests.helpers import OPERATORS, set_conn


@pytest.fixture
def conn(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(emulator.state.settings, "tasks_complete_after_reads", 1)  # restored after
    return set_conn(monkeypatch, "quick", emulator.url)


def test_every_operator_runs_with_an_empty_context(emulator: Emulator, conn: str, logs, tmp_path) -> None:
    common = {"annotation_conn_id": conn}
    folder_id = CreateFolderOperator(task_id="f", name="Quick", **common).execute(context={})
    project_id = CreateProjectOperator(
        task_id="p", name="Quick", data_type=2, deadline="2030-12-31", operators=OPERATORS,
        folder_id=folder_id, labelers=["alice"], **common,
    ).execute(context={})  # fmt: skip
    assert emulator.projects[project_id]["folderId"] == folder_id
    workflow_id = CreateWorkflowOperator(
        task_id="w", project_id=project_id, labelers=["bob"], **common
    ).execute(context={})
    assert emulator.workflows[workflow_id]["projectId"] == project_id
    sent = SubmitAnnotationDataOperator(
        task_id="s", project_id=project_id, data_ids=["a", "b"], **common
    ).execute(context={})
    assert len(sent["task_ids"]) == 2
    done = AnnotationTaskSensor(
        task_id="wait", project_id=project_id, task_ids=sent, poke_interval=0, timeout=5, **common
    ).execute(context={})
    assert sorted(done["complete"]) == sorted(sent["task_ids"])
    exported = ExportTasksOperator(
        task_id="e",
        project_id=project_id,
        task_ids=done,
        destination=f"file://{tmp_path}/out.jsonl",
        **common,
    ).execute(context={})
    assert exported["count"] == 2
    batch_id = SendTasksOperator(
        task_id="send", project_id=project_id, resource_url="https://files.example.com/records.jsonl",
        poll_interval=0.01, timeout=5, **common,
    ).execute(context={})  # fmt: skip
    assert batch_id in emulator.batches
    stats = AnnotationStatsOperator(task_id="st", project_id=project_id, workflow_id=workflow_id, **common)
    assert isinstance(stats.execute(context={}), dict)
    # On this Airflow (3.3+) the missing store is the quick check's doing, and the log says so.
    assert "Airflow < 3.3" not in logs.text
    assert logs.text.count("Run outside a task run (no task_state_store in the context)") == 4
