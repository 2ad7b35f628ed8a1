"""Every create's fault cases in one DAG run, for tests/test_setup_dags.py.

The tasks run one after another (each `all_done`), so the faults the test queues in the emulator
meet the requests they are meant for. Each `Losing*` operator stands for a worker lost right after
the platform answered: its first try fails after the answer was kept.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pendulum
from airflow.sdk import XComArg, chain, dag, task

from airflow_provider_annotation.operators.annotation import (
    AnnotationStatsOperator,
    CreateFolderOperator,
    CreateProjectOperator,
    CreateWorkflowOperator,
    SubmitAnnotationDataOperator,
)

RETRY = {"retries": 1, "retry_delay": timedelta(seconds=0), "trigger_rule": "all_done"}
PROJECT = {
    "data_type": 2,
    "deadline": "2030-12-31",
    "operators": [
        {"key": "box2d-car", "type": "slot", "label": "car", "slotSpecification": {"type": "box2d"}}
    ],
}


def lose_worker_on_first_try(result, context):
    if context["ti"].try_number == 1:
        raise RuntimeError("worker lost after the platform answered")
    return result


class LosingFolder(CreateFolderOperator):
    def execute(self, context):
        return lose_worker_on_first_try(super().execute(context), context)


class LosingProject(CreateProjectOperator):
    def execute(self, context):
        return lose_worker_on_first_try(super().execute(context), context)


class LosingWorkflow(CreateWorkflowOperator):
    def execute(self, context):
        return lose_worker_on_first_try(super().execute(context), context)


class LosingSubmit(SubmitAnnotationDataOperator):
    def execute(self, context):
        return lose_worker_on_first_try(super().execute(context), context)


@dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), catchup=False)
def setup_test_faults():
    # Folder: answer lost (fails closed), name taken (5836), worker lost after the answer (kept id).
    folder_lost = CreateFolderOperator(task_id="folder_lost", name="lost-folder", **RETRY)
    folder_taken = CreateFolderOperator(task_id="folder_taken", name="lost-folder", **RETRY)
    folder_kept = LosingFolder(task_id="folder_kept", name="kept-folder", **RETRY)
    # Project: the same three, plus if_exists="adopt" after a lost answer and on 5801.
    project_lost = CreateProjectOperator(task_id="project_lost", name="lost-project", **PROJECT, **RETRY)
    project_lost_adopt = CreateProjectOperator(
        task_id="project_lost_adopt", name="lost-adopt", if_exists="adopt", **PROJECT, **RETRY
    )
    project_taken = CreateProjectOperator(task_id="project_taken", name="lost-project", **PROJECT, **RETRY)
    project_taken_adopt = CreateProjectOperator(
        task_id="project_taken_adopt", name="lost-project", if_exists="adopt", **PROJECT, **RETRY
    )
    project_kept = LosingProject(
        task_id="project_kept",
        name="kept-project",
        folder_id=folder_kept.output,
        labelers=["alice"],
        **PROJECT,
        **RETRY,
    )
    # Workflow, on the same protocol: answer lost, worker lost after the answer.
    workflow_lost = CreateWorkflowOperator(
        task_id="workflow_lost", project_id=project_kept.output, labelers=["bob"], **RETRY
    )
    workflow_kept = LosingWorkflow(
        task_id="workflow_kept", project_id=project_kept.output, labelers=["eve"], **RETRY
    )
    # Annotation requests in chunks of 2: chunk 2's answer lost; chunk 2 failing until the hook
    # gives up (503), then a retry; worker lost after every chunk was answered; rejected data ids.
    project_id = project_kept.output
    submit_lost = SubmitAnnotationDataOperator(
        task_id="submit_lost",
        project_id=project_id,
        data_ids=["a", "b", "c", "d", "e", "f"],
        batch_size=2,
        **RETRY,
    )
    submit_resumed = SubmitAnnotationDataOperator(
        task_id="submit_resumed",
        project_id=project_id,
        data_ids=["g", "h", "i", "j", "k"],
        batch_size=2,
        **RETRY,
    )
    submit_kept = LosingSubmit(
        task_id="submit_kept",
        project_id=project_id,
        data_ids=["m", "n", "missing-o"],
        on_rejected="warn",
        **RETRY,
    )
    submit_rejected = SubmitAnnotationDataOperator(
        task_id="submit_rejected", project_id=project_id, data_ids=["m", "p"], **RETRY
    )
    stats = AnnotationStatsOperator(
        task_id="stats", project_id=project_id, workflow_id=XComArg(project_kept, key="workflow_id"), **RETRY
    )

    @task(trigger_rule="all_done")
    def report(ti=None):
        """One line with every XCom the test checks."""
        ids = [
            "folder_kept",
            "project_lost_adopt",
            "project_taken_adopt",
            "project_kept",
            "workflow_kept",
            "submit_resumed",
            "submit_kept",
            "stats",
        ]
        values = {i: ti.xcom_pull(task_ids=i) for i in ids}
        values.update({f"{i}.workflow_id": ti.xcom_pull(task_ids=i, key="workflow_id") for i in ids[1:4]})
        print("REPORT " + json.dumps(values))

    chain(
        folder_lost,
        folder_taken,
        folder_kept,
        project_lost,
        project_lost_adopt,
        project_taken,
        project_taken_adopt,
        project_kept,
        workflow_lost,
        workflow_kept,
        submit_lost,
        submit_resumed,
        submit_kept,
        submit_rejected,
        stats,
        report(),
    )


setup_test_faults()
