"""Test DAG: the task sensor deferrable and in poke mode on the same tasks, from DAG params."""

from __future__ import annotations

import pendulum
from airflow.providers.common.compat.sdk import dag, task

from airflow_provider_annotation.sensors.annotation import AnnotationTaskSensor


@dag(
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    params={"project_id": 0, "task_ids": []},
)
def annotation_wait():
    waits = [
        AnnotationTaskSensor(
            task_id=f"wait_{mode}",
            project_id="{{ params.project_id }}",
            task_ids="{{ params.task_ids | tojson }}",
            deferrable=mode == "deferrable",
            poke_interval=1,
            timeout=120,
            retries=0,
        )
        for mode in ("deferrable", "poke")
    ]

    @task
    def report(deferred: dict, poked: dict) -> None:
        print(f"RESULT deferrable={deferred} poke={poked}")

    report(waits[0].output, waits[1].output)


annotation_wait()
