"""The full labeling pipeline: set up (folder, project, workflow) -> request annotation -> wait
until the tasks are complete -> export their annotations to a local folder as JSON Lines.

The export's asset event starts `annotation_export_consumer` (scheduled on `ANNOTATION_EXPORT`).
Folder and project names are unique on the platform: a second run needs new names, e.g.
``airflow dags test annotation_pipeline -c '{"project_name": "Cars 2", "folder_name": "Q4"}'``.
"""

from __future__ import annotations

import time

import pendulum
from airflow.providers.common.compat.sdk import Asset, Param, dag, task

from airflow_provider_annotation.operators.annotation import (
    CreateFolderOperator,
    CreateProjectOperator,
    ExportTasksOperator,
    SubmitAnnotationDataOperator,
)

#: The export's asset: its events carry ``{"uri", "count", "window"}`` in their extra.
ANNOTATION_EXPORT = Asset("annotation-export")
NAMES = {"type": "array", "items": {"type": "string", "minLength": 1}}


@dag(
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=["annotation", "example"],
    params={
        "folder_name": Param("Pipeline", type="string", minLength=1, description="Folder (new)"),
        "project_name": Param("Cars pipeline", type="string", minLength=1, description="Project (unique)"),
        "labelers": Param(["alice"], **NAMES, description="Accounts of the labeling pool"),
        "data_ids": Param(["frame-0001", "frame-0002", "frame-0003"], **NAMES, description="Data to label"),
        "export_folder": Param("/tmp/annotation-exports", type="string", description="Local folder"),
        "wait_timeout": Param(3600, type="integer", minimum=1, description="Seconds to wait for labels"),
    },
)
def annotation_pipeline():
    folder = CreateFolderOperator(task_id="create_folder", name="{{ params.folder_name }}")
    project = CreateProjectOperator(
        task_id="create_project",
        name="{{ params.project_name }}",
        data_type=2,
        deadline="2030-12-31",
        operators=[{"type": "box", "label": "car"}],
        folder_id=folder.output,
        labelers="{{ params.labelers }}",
    )
    submitted = SubmitAnnotationDataOperator(
        task_id="request_annotation", project_id=project.output, data_ids="{{ params.data_ids | tojson }}"
    )

    # TEMPORARY: stands in for AnnotationTaskSensor(deferrable=True) until that sensor ships; it polls
    # /task/get through the sync hook and holds a worker slot while it waits.
    @task
    def wait_for_annotation(project_id: int, submitted: dict, params=None) -> list[str]:
        from airflow_provider_annotation.hooks.annotation import AnnotationHook

        pending, deadline = list(submitted["task_ids"]), time.monotonic() + params["wait_timeout"]
        with AnnotationHook() as hook:
            while pending:
                pending = [t for t in pending if hook.get_task(project_id, t)["status"] != 9]
                if pending and time.monotonic() > deadline:
                    raise TimeoutError(f"{len(pending)} tasks still not complete: {pending[:10]}")
                if pending:
                    time.sleep(1)
        return submitted["task_ids"]

    complete = wait_for_annotation(project.output, submitted.output)
    ExportTasksOperator(
        task_id="export",
        project_id=project.output,
        task_ids=complete,
        destination="file://{{ params.export_folder }}/{{ params.project_name | replace(' ', '_') }}.jsonl",
        outlets=[ANNOTATION_EXPORT],
    )


annotation_pipeline()
