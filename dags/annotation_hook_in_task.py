"""Calling AnnotationHook from a @task: for logic the operators do not cover. The hook signs the
request and unwraps the envelope; the task only decides what to create."""

from __future__ import annotations

import pendulum
from airflow.providers.common.compat.sdk import dag, task


@dag(
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    description="AnnotationHook inside a @task: create a workflow in project 4242 with the hook",
    doc_md=__doc__,
    tags=["annotation", "example"],
    params={"project_id": 4242},
)
def annotation_hook_in_task():
    # [START howto_hook_in_task]
    @task
    def create_default_workflow(params: dict | None = None) -> int:
        from airflow_provider_annotation.hooks.annotation import AnnotationHook

        with AnnotationHook() as hook:  # connection "annotation_default"
            workflow_id = hook.create_workflow(params["project_id"])  # no pools: the platform's default
        print(f"Default workflow id: {workflow_id}")
        return workflow_id

    create_default_workflow()
    # [END howto_hook_in_task]


annotation_hook_in_task()
