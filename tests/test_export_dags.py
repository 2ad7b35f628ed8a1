"""Exports through real `airflow dags test` against the emulator: an incremental export run twice
(the second window starts at the watermark the first left in the asset's state store), with the
asset event's ``extra`` read by a downstream task; and the README's full pipeline with the DAG
scheduled on its asset."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest

from airflow_provider_annotation.endpoints import TASKS_EXPORT
from airflow_provider_annotation.testing import Emulator
from airflow_provider_annotation.testing.openapi import annotation_result
from tests.helpers import EXAMPLES, TEST_DAGS, run_dag, task_states

pytestmark = pytest.mark.dags


def export_bodies(emulator: Emulator) -> list[dict]:
    return [json.loads(r["body"]) for r in emulator.requests if r["endpoint"] == TASKS_EXPORT.path]


def test_incremental_export_twice_starts_at_the_watermark(airflow_env, emulator, make_hook, tmp_path) -> None:
    hook = make_hook()
    hook.create_workflow(1000)
    made = hook.request_annotation(1000, ["a", "b", "c", "d"])
    for day, task_id in zip((1, 2, 3, 4), made.task_ids, strict=True):
        emulator.set_task_status(task_id, 9, completed_at=datetime(2024, 5, day, 12, tzinfo=timezone.utc))

    code, out = run_dag(
        airflow_env,
        emulator,
        TEST_DAGS,
        "export_incremental",
        {"before": "2024-05-03", "folder": str(tmp_path)},
    )
    assert code == 0, out[-3000:]
    assert [(b["completeTimeAfter"], b["completeTimeBefore"]) for b in export_bodies(emulator)] == [
        ("2024-05-01", "2024-05-02"),
        ("2024-05-02", "2024-05-03"),
    ]
    first = json.loads((tmp_path / "extra-2024-05-03.json").read_text())
    assert first == {
        "uri": f"file://{tmp_path}/export-2024-05-03.jsonl",
        "count": 2,
        "window": ["2024-05-01", "2024-05-03"],
    }
    assert len((tmp_path / "export-2024-05-03.jsonl").read_bytes().splitlines()) == 2

    code, out = run_dag(
        airflow_env,
        emulator,
        TEST_DAGS,
        "export_incremental",
        {"before": "2024-05-05", "folder": str(tmp_path)},
    )
    assert code == 0, out[-3000:]
    assert task_states(airflow_env, "export_incremental") == {
        "export": ("success", 1),
        "read_event": ("success", 1),
    }
    second_run = export_bodies(emulator)[2:]
    assert [(b["completeTimeAfter"], b["completeTimeBefore"]) for b in second_run] == [
        ("2024-05-03", "2024-05-04"),
        ("2024-05-04", "2024-05-05"),
    ]
    second = json.loads((tmp_path / "extra-2024-05-05.json").read_text())
    assert second == {
        "uri": f"file://{tmp_path}/export-2024-05-05.jsonl",
        "count": 2,
        "window": ["2024-05-03", "2024-05-05"],
    }


def test_pipeline_example_and_the_dag_scheduled_on_its_asset(airflow_env, emulator, tmp_path) -> None:
    # Labelers finish each task a second after it is created: done before the sensor's first check.
    emulator.complete_after_s = 1.0
    try:
        conf = {"project_name": "Pipeline cars", "export_folder": str(tmp_path)}
        code, out = run_dag(airflow_env, emulator, EXAMPLES, "annotation_pipeline", conf)
    finally:
        emulator.complete_after_s = None
    assert code == 0, out[-3000:]
    assert {task: state for task, (state, _) in task_states(airflow_env, "annotation_pipeline").items()} == {
        "create_folder": "success",
        "create_project": "success",
        "request_annotation": "success",
        "wait_for_annotation": "success",
        "export": "success",
    }
    task_ids = sorted(emulator.tasks)
    assert [sorted(str(i) for i in b["taskIds"]) for b in export_bodies(emulator)] == [task_ids]
    (project_id,) = emulator.projects
    assert [p["name"] for p in emulator.projects.values()] == ["Pipeline cars"]
    export = tmp_path / f"project-{project_id}.jsonl"
    lines = [json.loads(line) for line in export.read_bytes().splitlines()]
    tasks = emulator.tasks.values()
    by_result = {json.dumps(annotation_result(t), sort_keys=True): t["dataId"] for t in tasks}
    fields = ("annotations", "hints", "issues", "metadata", "notes")  # an exported item, no task id
    assert sorted(by_result[json.dumps({k: line[k] for k in fields}, sort_keys=True)] for line in lines) == [
        "frame-0001",
        "frame-0002",
        "frame-0003",
    ]
    assert {line["projectId"] for line in lines} == {next(iter(emulator.projects))}
    assert "Exported 3 annotation results in 1 chunk to" in out
    # The UI's rendered task_ids: the ids exported, not the whole sensor result they came from.
    with sqlite3.connect(Path(airflow_env["AIRFLOW_HOME"]) / "airflow.db") as db:
        (rendered,) = db.execute(
            "SELECT rendered_fields FROM rendered_task_instance_fields WHERE dag_id = ? AND task_id = ?",
            ("annotation_pipeline", "export"),
        ).fetchone()
    assert sorted(json.loads(rendered)["task_ids"]) == task_ids

    code, out = run_dag(airflow_env, emulator, EXAMPLES, "annotation_export_consumer")
    assert code == 0, out[-3000:]
    assert f"Export file://{export} holds 3 annotation results (its event says 3)" in out


def test_the_export_consumer_reads_every_queued_export(tmp_path) -> None:
    """Two exports landed before the consumer ran: both files are read, not only the last event.
    (The queued events stand in for what the scheduler hands an asset-triggered run.)"""
    from types import SimpleNamespace

    from dags.annotation_export_consumer import ANNOTATION_EXPORT, annotation_export_consumer

    events = []
    for name, lines in (("first", 2), ("second", 3)):
        path = tmp_path / f"{name}.jsonl"
        path.write_bytes(b"{}\n" * lines)
        events.append(SimpleNamespace(extra={"uri": f"file://{path}", "count": lines}))

    class Accessor:  # what `triggering_asset_events` offers: a non-empty mapping, get(asset) -> events
        def __len__(self) -> int:
            return 1

        def get(self, asset, default=None):
            return events if asset.name == ANNOTATION_EXPORT.name else default

    count = annotation_export_consumer().get_task("count_results").python_callable
    assert count(triggering_asset_events=Accessor(), inlet_events=None) == 5
