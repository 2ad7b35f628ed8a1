"""Test DAG: SendTasksOperator polling, reconnecting on a retry, deferring, and not waiting."""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.providers.common.compat.sdk import dag, task

from airflow_provider_annotation.operators.annotation import SendTasksOperator

URL = "https://files.example.com/records-{{ params.project_id }}.jsonl"


@dag(
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    params={"project_id": 0},
    default_args={"retries": 1, "retry_delay": timedelta(seconds=0)},
)
def annotation_send():
    # [START howto_send_tasks]
    common = {
        "project_id": "{{ params.project_id }}",
        "resource_url": URL,
        "poll_interval": 1,
        "timeout": 120,
    }
    resumed = SendTasksOperator(task_id="send_resumed", **common)
    deferred = SendTasksOperator(task_id="send_deferred", deferrable=True, **common)
    fire = SendTasksOperator(task_id="send_no_wait", wait_for_completion=False, **common)
    # [END howto_send_tasks]

    @task
    def report(ti=None) -> None:
        for task_id in ("send_resumed", "send_deferred", "send_no_wait"):
            batch_id = ti.xcom_pull(task_ids=task_id)
            summary = ti.xcom_pull(task_ids=task_id, key="import_summary")
            print(f"RESULT {task_id} batch={batch_id} summary={summary}")
            print(f"LINK {task_id} {ti.xcom_pull(task_ids=task_id, key='annotation_platform_url')}")

    resumed >> deferred >> fire >> report()


annotation_send()
