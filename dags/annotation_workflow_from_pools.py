"""Workflows with full control over the pools: written out in Python, or kept in a .json template."""

from __future__ import annotations

import pendulum
from airflow.providers.common.compat.sdk import dag

from airflow_provider_annotation.operators.annotation import CreateWorkflowOperator
from airflow_provider_annotation.workflow import PoolType, RunMode

# [START howto_workflow_pools]
PRE_LABELING = [
    {"name": "Distribution pool", "type": PoolType.DISTRIBUTION, "runMode": RunMode.MANUAL},
    {
        "name": "Algorithm pool",
        "type": PoolType.ALGORITHM,
        "runMode": RunMode.AUTOMATIC,
        "algorithmList": ["3D-MOT-V1"],
    },
    {
        "name": "Labeling pool",
        "type": PoolType.LABELING,
        "workers": ["alice", "bob"],
        "disableOperationItem": [],
    },
    {
        "name": "Inspection pool",
        "type": PoolType.INSPECTION,
        "workers": ["carol"],
        "disableOperationItem": [],
    },
    {"name": "Spot check pool", "type": PoolType.SPOT_CHECK, "workers": ["dave"]},
    {"name": "Completion pool", "type": PoolType.COMPLETION},
]
# [END howto_workflow_pools]


@dag(
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    description="Create workflows with full control over the pools (Python, or a .json template)",
    doc_md=__doc__,
    tags=["annotation", "example"],
    params={"project_id": 4242, "inspector": "carol"},
)
def annotation_workflow_from_pools():
    # [START howto_workflow_pools_operator]
    CreateWorkflowOperator(
        task_id="pre_labeling_workflow", project_id="{{ params.project_id }}", pools=PRE_LABELING
    )
    # [END howto_workflow_pools_operator]
    # [START howto_workflow_pools_json]
    # A .json file is rendered as a Jinja template (template_ext), so it can use params too.
    CreateWorkflowOperator(
        task_id="workflow_from_json_template",
        project_id="{{ params.project_id }}",
        pools="pools/labeling_inspection.json",
    )
    # [END howto_workflow_pools_json]


annotation_workflow_from_pools()
