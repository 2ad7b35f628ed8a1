"""Operator paths the examples don't show, run for real by tests/test_dags.py."""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag

from airflow_provider_annotation.operators.annotation import CreateWorkflowOperator

START = pendulum.datetime(2024, 1, 1, tz="UTC")


@dag(
    schedule=None,
    start_date=START,
    catchup=False,
    render_template_as_native_obj=True,
    params={"project_id": 777, "labelers": ["nina", "omar"], "algorithms": ["3D-MOT-V1"]},
)
def annotation_test_native_rendering():
    CreateWorkflowOperator(
        task_id="create_workflow",
        project_id="{{ params.project_id }}",
        labelers="{{ params.labelers }}",
        algorithms="{{ params.algorithms }}",
    )


annotation_test_native_rendering()


@dag(schedule=None, start_date=START, catchup=False, params={"project_id": 888})
def annotation_test_dry_run():
    CreateWorkflowOperator(
        task_id="create_workflow",
        project_id="{{ params.project_id }}",
        labelers="alice, bob",
        inspectors="['carol']",
        dry_run=True,
    )


annotation_test_dry_run()


@dag(schedule=None, start_date=START, catchup=False, params={"project_id": "0"})
def annotation_test_bad_input():
    CreateWorkflowOperator(
        task_id="create_workflow",
        project_id="{{ params.project_id }}",
        pools=[{"name": "Labeling pool", "type": 1, "worker": ["x"]}],
        retries=2,
        retry_delay=timedelta(seconds=0),
    )


annotation_test_bad_input()


class CreateThenLoseWorker(CreateWorkflowOperator):
    """Stands for a worker lost right after the platform answered: the first try fails after the
    workflow was created and kept, so the retry must return the kept id with no second create."""

    def execute(self, context):
        workflow_id = super().execute(context)
        if context["ti"].try_number == 1:
            raise RuntimeError("worker lost after the platform created the workflow")
        return workflow_id


@dag(schedule=None, start_date=START, catchup=False)
def annotation_test_retry_keeps_id():
    CreateThenLoseWorker(
        task_id="create_workflow",
        project_id=999,
        labelers=["alice"],
        retries=1,
        retry_delay=timedelta(seconds=0),
    )


annotation_test_retry_keeps_id()


@dag(schedule=None, start_date=START, catchup=False)
def annotation_test_ambiguous_not_retried():
    """The test injects a dropped connection after the platform acted into the emulator."""
    CreateWorkflowOperator(
        task_id="create_workflow",
        project_id=4242,
        labelers=["alice"],
        retries=2,
        retry_delay=timedelta(seconds=0),
    )


annotation_test_ambiguous_not_retried()


@dag(schedule=None, start_date=START, catchup=False)
def annotation_test_retry_changed_parameters():
    """The labelers render differently on each try: the retry must neither reuse the kept id for
    other parameters nor orphan it by creating a second workflow."""
    CreateThenLoseWorker(
        task_id="create_workflow",
        project_id=999,
        labelers="user{{ ti.try_number }}",
        retries=1,
        retry_delay=timedelta(seconds=0),
    )


annotation_test_retry_changed_parameters()


class LogTryNumber(CreateWorkflowOperator):
    """Logs which try of the task this is, so a test can count the tries Airflow made."""

    def execute(self, context):
        self.log.info("Create workflow, try number %s", context["ti"].try_number)
        return super().execute(context)


@dag(schedule=None, start_date=START, catchup=False)
def annotation_test_one_airflow_retry():
    """retries=1: the tests decide with the connection's extras and the emulator's faults whether
    the failure of the first try may be retried by Airflow."""
    LogTryNumber(
        task_id="create_workflow",
        project_id=4242,
        labelers=["alice"],
        retries=1,
        retry_delay=timedelta(seconds=0),
    )


annotation_test_one_airflow_retry()
