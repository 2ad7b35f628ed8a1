"""One workflow per project with dynamic task mapping: the project list comes from an upstream
task at run time (as strings, as ids often arrive), one mapped CreateWorkflowOperator each."""

from __future__ import annotations

import pendulum
from airflow.providers.common.compat.sdk import dag, task

from airflow_provider_annotation.operators.annotation import CreateWorkflowOperator


@dag(
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    description="One workflow per project with dynamic task mapping",
    doc_md=__doc__,
    tags=["annotation", "example"],
    params={"project_ids": ["101", "102", "103"]},
)
def annotation_workflow_per_project():
    @task
    def projects_to_set_up(params: dict | None = None) -> list[str]:
        """Stands for a lookup (a table, an API) that yields project ids."""
        return [str(p) for p in params["project_ids"]]

    # [START howto_workflow_shorthand_mapped]
    workflow_ids = (
        CreateWorkflowOperator.partial(
            task_id="create_workflow",
            labelers=["alice", "bob"],
            inspectors=["carol"],
        )
        .expand(project_id=projects_to_set_up())
        .output
    )
    # [END howto_workflow_shorthand_mapped]

    @task
    def report(ids: list[int]) -> list[int]:
        # `ids` is a lazy sequence over the mapped results: one slice reads them all in a single
        # request. Iterating it (sorted(ids), list(ids), a for loop) reads item by item until one
        # past the end, which Airflow logs as an "[error] XCom not found" line on a green run.
        created = sorted(ids[:])
        print(f"Created workflows: {created}")
        return created

    report(workflow_ids)


annotation_workflow_per_project()
