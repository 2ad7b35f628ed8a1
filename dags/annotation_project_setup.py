"""Set a project's labeling workflow up from DAG params, then hand the workflow id on.

The README's main job. Trigger with other people or algorithms from the UI ("Trigger DAG w/ config")
or the CLI: ``airflow dags test annotation_project_setup -c '{"labelers": ["dana"]}'``.
"""

from __future__ import annotations

import pendulum
from airflow.providers.common.compat.sdk import Param, dag, task

from airflow_provider_annotation.operators.annotation import CreateWorkflowOperator

NAMES = {"type": "array", "items": {"type": "string", "minLength": 1}}


@dag(
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=["annotation", "example"],
    params={
        "project_id": Param(4242, type="integer", minimum=1, description="Project id from Create Project"),
        "labelers": Param(["alice", "bob"], **NAMES, description="Accounts of the labeling pool"),
        "inspectors": Param(["carol"], **NAMES, description="Accounts of the inspection pool (empty: none)"),
        "algorithms": Param([], **NAMES, description="Pre-labeling algorithms, e.g. 3D-MOT-V1 (empty: none)"),
    },
)
def annotation_project_setup():
    workflow_id = CreateWorkflowOperator(
        task_id="create_workflow",
        project_id="{{ params.project_id }}",
        labelers="{{ params.labelers }}",
        inspectors="{{ params.inspectors }}",
        algorithms="{{ params.algorithms }}",
    ).output

    @task
    def announce(workflow_id: int, params: dict | None = None) -> str:
        """Stands for what comes next (sending data, notifying the team): it gets the id via XCom."""
        message = f"Project {params['project_id']} is ready: workflow id {workflow_id}"
        print(message)
        return message

    announce(workflow_id)


annotation_project_setup()
