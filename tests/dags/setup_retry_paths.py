"""Retry paths of the project-setup operators that setup_faults.py does not run, for
tests/test_setup_dags.py: a data submission whose retry renders other data ids, an adoption by
name, and a stats refusal."""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag

from airflow_provider_annotation.operators.annotation import (
    AnnotationStatsOperator,
    CreateProjectOperator,
    SubmitAnnotationDataOperator,
)

RETRY = {"retries": 1, "retry_delay": timedelta(seconds=0), "trigger_rule": "all_done"}


class SubmitThenLoseWorker(SubmitAnnotationDataOperator):
    """Stands for a worker lost right after the platform answered: the first try fails after the
    chunk's answer was kept."""

    def execute(self, context):
        result = super().execute(context)
        if context["ti"].try_number == 1:
            raise RuntimeError("worker lost after the platform made the tasks")
        return result


@dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), catchup=False)
def setup_test_retry_paths():
    # The data ids render differently on each try: the retry must not send a second request.
    submit_changed = SubmitThenLoseWorker(
        task_id="submit_changed", project_id=4242, data_ids='["d{{ ti.try_number }}"]', **RETRY
    )
    # The test seeds a project named "Existing": 5801, then adopted with a warning.
    project_adopt = CreateProjectOperator(
        task_id="project_adopt",
        name="Existing",
        data_type=2,
        deadline="2030-12-31",
        operators=[
            {"key": "box2d-car", "type": "slot", "label": "car", "slotSpecification": {"type": "box2d"}}
        ],
        if_exists="adopt",
        **RETRY,
    )
    # The test queues a refusal (code 400) for the stat call.
    stats_refused = AnnotationStatsOperator(task_id="stats_refused", project_id=4242, workflow_id=1, **RETRY)
    submit_changed >> project_adopt >> stats_refused


setup_test_retry_paths()
