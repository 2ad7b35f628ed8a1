"""DAG for scripts/deploy-check.sh (check ``batch-kill``): 1,000 project setups in one task, whose
whole Celery worker is killed with kill -9 in the middle of its first try."""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.sdk import dag

from airflow_provider_annotation.operators.project_setup import CreateProjectsOperator

COUNT = 1000
#: Creates sent before the first try announces itself, so the check can kill it mid-run.
ANNOUNCE_AFTER = 300


class AnnouncedMidRun(CreateProjectsOperator):
    """On its first try, once `ANNOUNCE_AFTER` creates were sent, writes its PID to a marker file
    and from then on paces every worker to 0.05 s per create, so the kill lands in the middle. A
    later try is the plain operator."""

    def execute(self, context):
        ti = context["ti"]
        self._marker = None
        if ti.try_number == 1:
            self._marker = Path(context["params"]["marker_dir"]) / f"{ti.run_id}.json"
        return super().execute(context)

    def make_pacer(self):
        pacer = super().make_pacer()
        if self._marker is None:
            return pacer
        sent = [0]
        lock = threading.Lock()
        marker, before = self._marker, pacer.before_attempt

        def announcing() -> None:
            before()
            with lock:
                sent[0] += 1
                if sent[0] == ANNOUNCE_AFTER:
                    marker.write_text(json.dumps({"pid": os.getpid(), "sent": ANNOUNCE_AFTER}))
            if sent[0] >= ANNOUNCE_AFTER:
                time.sleep(0.05)

        pacer.before_attempt = announcing
        return pacer


@dag(
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=["annotation", "deploy-check"],
    params={"prefix": "deploy-batch", "marker_dir": "/tmp"},
)
def annotation_deploy_batch():
    AnnouncedMidRun(
        task_id="set_up_projects",
        projects=[
            {
                "name": "{{ params.prefix }}-" + f"{i:04d}",
                "data_type": 2,
                "deadline": "2030-12-31",
                "operators": [
                    {
                        "key": "box2d-car",
                        "type": "slot",
                        "label": "car",
                        "slotSpecification": {"type": "box2d"},
                    }
                ],
            }
            for i in range(COUNT)
        ],
        max_active_requests=8,
        retries=2,
        retry_delay=timedelta(seconds=1),
    )


annotation_deploy_batch()
