"""From files in a bucket to exported labels, with no hand-made ids: import a dataset from cloud
storage -> wait until it is built (deferrable) and write its scene -> data mapping to a file ->
project -> annotation request for every data id in that file -> wait (deferrable) until the tasks
are labeled -> export the annotations as JSON Lines.

The mapping goes to a file (``scene_ids_to``), not into XCom: a dataset of a million scenes costs
the same XCom as one of three. Dataset and project names are unique on the platform: a second run
needs new names, e.g.
``airflow dags test annotation_dataset_to_export -c '{"dataset_name": "D8", "project_name": "D8"}'``.
"""

from __future__ import annotations

import pendulum
from airflow.providers.common.compat.sdk import Param, dag

from airflow_provider_annotation.operators.annotation import (
    CreateProjectOperator,
    ExportTasksOperator,
    SubmitAnnotationDataOperator,
)
from airflow_provider_annotation.operators.datasets import ImportDatasetOperator
from airflow_provider_annotation.sensors.annotation import AnnotationTaskSensor


@dag(
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=["annotation", "example"],
    description="From files in a bucket to exported labels: dataset import, mapping file, request, export",
    doc_md=__doc__,
    params={
        "resource_url": Param("gs://my-bucket/drives/2024-08-02/", type="string", pattern="^[a-z0-9]+://"),
        "dataset_name": Param("Drive 2024-08-02", type="string", minLength=1, maxLength=60),
        "project_name": Param("Drive 2024-08-02 boxes", type="string", minLength=1),
        "export_folder": Param("/tmp/annotation-exports", type="string", description="Local folder"),
    },
)
def annotation_dataset_to_export():
    # [START howto_dataset_to_export]
    # Import, wait on the triggerer until the dataset is built, write the mapping to a file.
    dataset = ImportDatasetOperator(
        task_id="import_dataset",
        resource_url="{{ params.resource_url }}",
        name="{{ params.dataset_name }}",
        data_type=3,
        deferrable=True,
        poke_interval=30,
        timeout=6 * 3600,
        scene_ids_to="file://{{ params.export_folder }}/{{ run_id | replace(':', '_') }}-scenes.jsonl",
    )
    project = CreateProjectOperator(
        task_id="create_project",
        name="{{ params.project_name }}",
        data_type=3,
        deadline="2030-12-31",
        labeling_tools=[
            {"key": "box3d-car", "type": "slot", "label": "car", "slotSpecification": {"type": "box3d"}}
        ],
        labelers=["alice"],
    )
    submitted = SubmitAnnotationDataOperator(
        task_id="request_annotation",
        project_id=project.output,
        dataset_id=dataset.output,  # the string datasetId, sent as the long /annotation/request takes
        data_ids="{{ ti.xcom_pull(task_ids='import_dataset', key='data_ids') }}",  # the mapping file's URI
        batch_size=500,
    )
    wait = AnnotationTaskSensor(
        task_id="wait_for_annotation",
        project_id=project.output,
        task_ids=submitted.output,
        deferrable=True,
        poke_interval=30,
        timeout=7 * 24 * 3600,
    )
    ExportTasksOperator(
        task_id="export",
        project_id=project.output,
        task_ids=wait.output,
        destination="file://{{ params.export_folder }}/{{ params.project_name | replace(' ', '_') }}.jsonl",
    )
    # [END howto_dataset_to_export]


annotation_dataset_to_export()
