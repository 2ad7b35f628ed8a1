"""A user's DAG written with type hints, as the docs show the operators wired together: checked
with mypy by tests/test_typed_dag.py. Every argument given an XComArg or a template string here is
one the operator renders at run time."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, XComArg

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

with DAG("annotation_typed", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC")):
    folder = CreateFolderOperator(task_id="create_folder", name="{{ params.folder_name }}")
    project = CreateProjectOperator(
        task_id="create_project",
        name="{{ params.project_name }}",
        data_type="{{ params.data_type }}",
        deadline="{{ ds }}",
        labeling_tools="tools/cars.json",
        folder_id=folder.output,
        labelers=["alice"],
        inspectors="{{ params.inspectors }}",
    )
    workflow_id = XComArg(project, key="workflow_id")
    CreateWorkflowOperator(task_id="create_workflow", project_id=project.output, labelers=["bob"])
    submitted = SubmitAnnotationDataOperator(
        task_id="submit", project_id=project.output, workflow_id=workflow_id, data_ids="{{ params.ids }}"
    )
    AnnotationStatsOperator(task_id="stats", project_id=project.output, workflow_id=workflow_id)
    labeled = AnnotationTaskSensor(
        task_id="wait", project_id=project.output, task_ids=submitted.output, deferrable=True
    )
    ExportTasksOperator(
        task_id="export",
        project_id=project.output,
        task_ids=labeled.output,
        destination="file:///tmp/{{ run_id }}.jsonl",
    )
    SendTasksOperator(task_id="send", project_id=project.output, resource_url="{{ params.url }}")
