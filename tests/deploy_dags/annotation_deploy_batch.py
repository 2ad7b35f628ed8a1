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
#: Seconds after the first create before the announcement: the task keeps ids every second, so by
#: then some are kept, and the retry has kept ids to return as well as names to look up.
ANNOUNCE_NOT_BEFORE_S = 2.5


class AnnouncedMidRun(CreateProjectsOperator):
    """On its first try, once `ANNOUNCE_AFTER` creates were sent and `ANNOUNCE_NOT_BEFORE_S` have
    passed since the first (so the task has kept ids at least once: it keeps them every second),
    writes its PID to a marker file; from the `ANNOUNCE_AFTER`-th create on it paces every worker
    to 0.1 s per create, so the kill lands in the middle even on an idle machine, where 300 creates
    take well under a second. A later try is the plain operator."""

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
        first: list[float] = []
        announced = [False]
        lock = threading.Lock()
        marker, before = self._marker, pacer.before_attempt

        def announcing() -> None:
            before()
            with lock:
                sent[0] += 1
                first[:] = first or [time.monotonic()]
                due = sent[0] >= ANNOUNCE_AFTER and time.monotonic() - first[0] >= ANNOUNCE_NOT_BEFORE_S
                if due and not announced[0]:
                    announced[0] = True
                    marker.write_text(json.dumps({"pid": os.getpid(), "sent": sent[0]}))
            if sent[0] >= ANNOUNCE_AFTER:
                time.sleep(0.1)

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
