"""The full labeling pipeline: set up (folder, project, workflow) -> request annotation -> wait
(deferrable) until the tasks are complete -> export their annotations to a local folder as JSON
Lines.

The export's asset event starts `annotation_export_consumer` (scheduled on `ANNOTATION_EXPORT`).

Trigger form: folder and project names are unique on the platform, so left empty (the default)
each run makes new ones from its run id and a second run does not fail on "name exists". Give names
to choose them: ``airflow dags test annotation_pipeline -c '{"project_name": "Cars 2", "folder_name":
"Q4"}'``. The export lands in ``<export_folder>/project-<project id>.jsonl``.
"""

from __future__ import annotations

import pendulum
from airflow.providers.common.compat.sdk import Asset, Param, dag

from airflow_provider_annotation.operators.annotation import (
    CreateFolderOperator,
    CreateProjectOperator,
    ExportTasksOperator,
    SubmitAnnotationDataOperator,
)
from airflow_provider_annotation.sensors.annotation import AnnotationTaskSensor

#: The export's asset: its events carry ``{"uri", "count", "window"}`` in their extra.
ANNOTATION_EXPORT = Asset("annotation-export")
NAMES = {"type": "array", "items": {"type": "string", "minLength": 1}}
#: Names unique per run unless the trigger form gives one (the platform refuses a taken name).
FOLDER_NAME = "{{ params.folder_name or 'Pipeline ' ~ run_id }}"
PROJECT_NAME = "{{ params.project_name or 'Cars pipeline ' ~ run_id }}"


@dag(
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    description="Folder, project, data sent for labeling, a deferred wait, export as JSON Lines",
    doc_md=__doc__,
    tags=["annotation", "example"],
    params={
        "folder_name": Param("", type="string", description="New folder's name; empty: one per run"),
        "project_name": Param("", type="string", description="New project's name; empty: one per run"),
        "labelers": Param(["alice"], **NAMES, description="Accounts of the labeling pool"),
        "data_ids": Param(["frame-0001", "frame-0002", "frame-0003"], **NAMES, description="Data to label"),
        "export_folder": Param("/tmp/annotation-exports", type="string", description="Local folder"),
    },
)
def annotation_pipeline():
    folder = CreateFolderOperator(task_id="create_folder", name=FOLDER_NAME)
    project = CreateProjectOperator(
        task_id="create_project",
        name=PROJECT_NAME,
        data_type=2,
        deadline="2030-12-31",
        operators=[
            {"key": "box2d-car", "type": "slot", "label": "car", "slotSpecification": {"type": "box2d"}}
        ],
        folder_id=folder.output,
        labelers="{{ params.labelers }}",
    )
    submitted = SubmitAnnotationDataOperator(
        task_id="request_annotation", project_id=project.output, data_ids="{{ params.data_ids | tojson }}"
    )

    # Deferrable: the wait runs on the triggerer and holds no worker slot, however long labeling takes.
    # [START howto_sensor_pipeline]
    wait = AnnotationTaskSensor(
        task_id="wait_for_annotation",
        project_id=project.output,
        task_ids=submitted.output,
        deferrable=True,
        poke_interval=30,
        timeout=7 * 24 * 3600,
    )
    # [END howto_sensor_pipeline]
    # [START howto_export_by_task_ids]
    ExportTasksOperator(
        task_id="export",
        project_id=project.output,
        task_ids=wait.output,  # the sensor's "complete" ids
        destination="file://{{ params.export_folder }}/project-"
        "{{ ti.xcom_pull(task_ids='create_project') }}.jsonl",
        outlets=[ANNOTATION_EXPORT],
    )
    # [END howto_export_by_task_ids]


annotation_pipeline()
