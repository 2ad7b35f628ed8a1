"""DAG for scripts/deploy-check.sh (check ``deferral``): 100 deferrable sensors waiting at once on
one project, each on its own tasks, so the triggerer's shared poll (issue 21) can be counted at the
emulator. The check makes the project and its tasks and passes them in the run's conf."""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from airflow_provider_annotation.sensors.annotation import AnnotationTaskSensor

#: Sensors deferred at once; the check's `SHARED_WAITS` is the same number.
WAITS = 100
#: Their poke interval, seconds; the check's `SHARED_POKE_S` is the same number.
POKE_S = 10


@dag(
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=["annotation", "deploy-check"],
    params={"project_id": 1, "task_ids": []},
    max_active_tasks=WAITS + 8,
)
def annotation_deploy_shared_waits():
    @task
    def waits(params: dict | None = None) -> list[dict]:
        """The conf's task ids, split evenly over `WAITS` sensors."""
        ids = [str(t) for t in params["task_ids"]]
        per = max(len(ids) // WAITS, 1)
        return [
            {"project_id": int(params["project_id"]), "task_ids": ids[i * per : (i + 1) * per]}
            for i in range(WAITS)
        ]

    AnnotationTaskSensor.partial(
        task_id="wait", deferrable=True, poke_interval=POKE_S, timeout=900
    ).expand_kwargs(waits())


annotation_deploy_shared_waits()
