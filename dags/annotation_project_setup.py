"""A whole project setup from DAG params: folder -> project with its workflow -> data sent for
labeling -> stats, a deferrable wait until the tasks are labeled, then a line saying what was done.

The README's main job. Trigger with other values from the UI ("Trigger DAG w/ config") or the CLI:
``airflow dags test annotation_project_setup -c '{"project_name": "Cars Q4", "data_ids": ["f1"]}'``.
Folder and project names are unique on the platform: left empty in the trigger form (the default),
each run makes new ones from its run id, so a second run does not fail on "name exists". Given
names are used as they are (a taken one fails the task; ``if_exists="adopt"`` on the project uses
the existing one, which then has no known workflow id for the stats).
"""

from __future__ import annotations

import pendulum
from airflow.providers.common.compat.sdk import Param, XComArg, dag, task

from airflow_provider_annotation.operators.annotation import (
    AnnotationStatsOperator,
    CreateFolderOperator,
    CreateProjectOperator,
    SubmitAnnotationDataOperator,
)
from airflow_provider_annotation.sensors.annotation import AnnotationTaskSensor

NAMES = {"type": "array", "items": {"type": "string", "minLength": 1}}
#: Names unique per run unless the trigger form gives one (the platform refuses a taken name).
FOLDER_NAME = "{{ params.folder_name or 'Setup ' ~ run_id }}"
PROJECT_NAME = "{{ params.project_name or 'Cars 2D ' ~ run_id }}"


@dag(
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    description="A whole project setup from the trigger form, stats, and a deferred wait",
    doc_md=__doc__,
    tags=["annotation", "example"],
    params={
        "folder_name": Param("", type="string", description="New folder's name; empty: one per run"),
        "project_name": Param("", type="string", description="New project's name; empty: one per run"),
        "data_type": Param(2, enum=[2, 3], description="2 for 2D, 3 for 3D"),
        "deadline": Param("2030-12-31", type="string", format="date", description="YYYY-MM-DD"),
        "labeling_tools": Param(
            [{"key": "box2d-car", "type": "slot", "label": "car", "slotSpecification": {"type": "box2d"}}],
            type="array",
            description="Labeling-tool configuration, as the platform documents it",
        ),
        "labelers": Param(["alice", "bob"], **NAMES, description="Accounts of the labeling pool"),
        "inspectors": Param(["carol"], **NAMES, description="Accounts of the inspection pool (empty: none)"),
        "data_ids": Param(["frame-0001", "frame-0002", "frame-0003"], **NAMES, description="Data to label"),
    },
)
def annotation_project_setup():
    # [START howto_project_setup]
    folder = CreateFolderOperator(task_id="create_folder", name=FOLDER_NAME)
    project = CreateProjectOperator(
        task_id="create_project",
        name=PROJECT_NAME,
        data_type="{{ params.data_type }}",
        deadline="{{ params.deadline }}",
        labeling_tools="{{ params.labeling_tools | tojson }}",
        folder_id=folder.output,
        labelers="{{ params.labelers }}",
        inspectors="{{ params.inspectors }}",
    )
    workflow_id = XComArg(project, key="workflow_id")  # the project's default workflow
    submitted = SubmitAnnotationDataOperator(
        task_id="submit_data",
        project_id=project.output,
        workflow_id=workflow_id,
        data_ids="{{ params.data_ids | tojson }}",
    )
    stats = AnnotationStatsOperator(task_id="stats", project_id=project.output, workflow_id=workflow_id)
    submitted >> stats
    # [END howto_project_setup]
    # Labeling takes hours to days: wait on the triggerer, holding no worker slot. Poll every few
    # minutes in production; 10 s keeps this example quick against the emulator.
    # [START howto_sensor_deferrable]
    labeled = AnnotationTaskSensor(
        task_id="wait_for_labeling",
        project_id=project.output,
        task_ids=submitted.output,
        deferrable=True,
        poke_interval=10,
        timeout=7 * 24 * 3600,
    )
    # [END howto_sensor_deferrable]

    @task
    def announce(
        folder_id: int, project_id: int, workflow_id: int | None, submitted: dict, stats: dict, labeled: dict
    ) -> str:
        """Stands for what comes next (notifying the team): every id arrives through XCom."""
        message = (
            f"Setup done: folder {folder_id} -> project {project_id} (workflow id {workflow_id}) -> "
            f"{len(submitted['task_ids'])} tasks {submitted['task_ids']}, "
            f"{len(submitted['rejected_data_ids'])} data ids rejected; stats: {stats}; "
            f"labeled: {len(labeled['complete'])} of {len(labeled['statuses'])} tasks complete"
        )
        print(message)
        return message

    announce(folder.output, project.output, workflow_id, submitted.output, stats.output, labeled.output)


annotation_project_setup()
