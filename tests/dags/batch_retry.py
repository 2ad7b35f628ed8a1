"""CreateProjectsOperator through a real Airflow retry, with Airflow's own task_state_store: the
first try ends failed (one create refused as busy until the hook's budget ran out, the others
created and kept); the retry must keep those and send only the one that failed."""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.providers.common.compat.sdk import dag

from airflow_provider_annotation.operators.project_setup import CreateProjectsOperator

SPECS = [
    {
        "name": f"retry-{i:03d}",
        "data_type": 2,
        "deadline": "2030-12-31",
        "operators": [
            {"key": "box2d", "type": "slot", "label": "car", "slotSpecification": {"type": "box2d"}}
        ],
    }
    for i in range(30)
]


@dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), catchup=False)
def annotation_test_batch_retry():
    CreateProjectsOperator(
        task_id="set_up_projects",
        projects=SPECS,
        max_active_requests=4,
        retries=1,
        retry_delay=timedelta(seconds=0),
    )


annotation_test_batch_retry()
