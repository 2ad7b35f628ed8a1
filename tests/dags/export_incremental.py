"""An incremental export and a reader of its asset event, for tests/test_export_dags.py.

Each run exports from the watermark (the first run: from ``complete_after``) to ``params.before``;
the second task writes the latest asset event's ``extra`` next to the export, as a downstream DAG
would see it.
"""

from __future__ import annotations

import json

import pendulum
from airflow.sdk import Asset, dag, task

from airflow_provider_annotation.operators.annotation import ExportTasksOperator

EXPORT = Asset("annotation-export-incremental-test")


@dag(
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    params={"before": "2024-05-03", "folder": "/tmp"},
)
def export_incremental():
    # [START howto_export_incremental]
    export = ExportTasksOperator(
        task_id="export",
        project_id=1000,
        destination="file://{{ params.folder }}/export-{{ params.before }}.jsonl",
        complete_after="2024-05-01",
        complete_before="{{ params.before }}",
        incremental=True,
        outlets=[EXPORT],
    )
    # [END howto_export_incremental]

    @task(inlets=[EXPORT])
    def read_event(params=None, inlet_events=None):
        extra = dict(inlet_events[EXPORT][-1].extra)
        with open(f"{params['folder']}/extra-{params['before']}.json", "w") as out:
            json.dump(extra, out)

    export >> read_event()


export_incremental()
