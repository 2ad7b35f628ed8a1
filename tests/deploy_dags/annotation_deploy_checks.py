"""DAGs for scripts/deploy-check.sh: workers killed after the platform answered (a create, a send), and
a load run."""

from __future__ import annotations

import json
import os
import time
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.sdk import dag, task

from airflow_provider_annotation.operators.annotation import CreateWorkflowOperator, SendTasksOperator

START = pendulum.datetime(2024, 1, 1, tz="UTC")


class CreateThenHang(CreateWorkflowOperator):
    """On its first try, after the platform created (and the task kept) the workflow, it announces
    its PID in a marker file and hangs, so the check can kill -9 it (or its whole worker) right then.
    A later try is the plain operator: it must return the kept id without a second create."""

    def execute(self, context):
        workflow_id = super().execute(context)
        ti = context["ti"]
        if ti.try_number == 1:
            marker = Path(context["params"]["marker_dir"]) / f"{ti.run_id}.json"
            marker.write_text(json.dumps({"pid": os.getpid(), "workflowId": workflow_id}))
            time.sleep(3600)
        return workflow_id


@dag(
    schedule=None,
    start_date=START,
    catchup=False,
    tags=["annotation", "deploy-check"],
    params={"project_id": 5001, "marker_dir": "/tmp"},
)
def annotation_deploy_killed_after_create():
    CreateThenHang(
        task_id="create_workflow",
        project_id="{{ params.project_id }}",
        labelers=["alice"],
        retries=2,
        retry_delay=timedelta(seconds=1),
    )


annotation_deploy_killed_after_create()


@dag(
    schedule=None,
    start_date=START,
    catchup=False,
    tags=["annotation", "deploy-check"],
    params={"first_project_id": 10000, "count": 100},
)
def annotation_deploy_load():
    @task
    def project_ids(params: dict | None = None) -> list[int]:
        """One project per mapped task, from the run's conf."""
        first, count = int(params["first_project_id"]), int(params["count"])
        return list(range(first, first + count))

    CreateWorkflowOperator.partial(
        task_id="create_workflow", labelers=["alice", "bob"], inspectors=["carol"]
    ).expand(project_id=project_ids())


annotation_deploy_load()


class SendThenHang(SendTasksOperator):
    """On its first try, once the platform answered the send (and the batch id is kept), it
    announces its PID in a marker file and hangs, so the check can kill -9 it right then. A later
    try is the plain operator: it must reconnect to the kept batch without a second send."""

    def get_job_status(self, external_id, context):
        ti = context["ti"]
        if ti.try_number == 1:
            marker = Path(context["params"]["marker_dir"]) / f"{ti.run_id}.json"
            marker.write_text(json.dumps({"pid": os.getpid(), "batchId": str(external_id)}))
            time.sleep(3600)
        return super().get_job_status(external_id, context)


@dag(
    schedule=None,
    start_date=START,
    catchup=False,
    tags=["annotation", "deploy-check"],
    params={"project_id": 6001, "marker_dir": "/tmp"},
)
def annotation_deploy_killed_after_send():
    SendThenHang(
        task_id="send_tasks",
        project_id="{{ params.project_id }}",
        resource_url="https://files.example.com/records.jsonl",
        wait_for_completion=True,
        deferrable=False,
        poll_interval=1,
        retries=2,
        retry_delay=timedelta(seconds=1),
    )


annotation_deploy_killed_after_send()
