"""Many projects in one task: one per customer and data batch, from a params file.

``dags/batch/customers.json`` holds the shared settings and one row per project; this file turns it
into the list of project specs (each with `CreateProjectOperator`'s arguments) that becomes the
DAG's ``projects`` param, so a run can also be triggered with another list ("Trigger DAG w/
config", or ``airflow dags test annotation_batch_setup -c '{"projects": [...]}'``).
`CreateProjectsOperator` sets them all up in one task, eight at a time; a retry creates only what
was not created. ``if_exists="adopt"`` makes a second run take over the projects of the first.
"""

from __future__ import annotations

import json
from pathlib import Path

import pendulum
from airflow.providers.common.compat.sdk import Param, dag, task

from airflow_provider_annotation.operators.project_setup import CreateProjectsOperator

PARAMS_FILE = Path(__file__).parent / "batch" / "customers.json"


def project_specs(params_file: Path) -> list[dict]:
    """One spec per row: the shared defaults, overridden by the row's own keys, and a name."""
    settings = json.loads(params_file.read_text(encoding="utf-8"))
    specs = []
    for row in settings["customers"]:
        name = settings["name_template"].format(**row)
        extra = {k: v for k, v in row.items() if k not in ("customer", "batch")}
        specs.append({"name": name, **settings["defaults"], **extra})
    return specs


@dag(
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=["annotation", "example"],
    description="Many projects in one task: CreateProjectsOperator over specs from a params file",
    doc_md=__doc__,
    params={
        "projects": Param(
            project_specs(PARAMS_FILE),
            type="array",
            items={"type": "object", "required": ["name"]},
            description="Project specs: CreateProjectOperator's arguments, one object per project",
        ),
    },
)
def annotation_batch_setup():
    # [START howto_batch_setup]
    results = CreateProjectsOperator(
        task_id="set_up_projects",
        projects="{{ params.projects | tojson }}",
        max_active_requests=8,
        if_exists="adopt",
        on_item_error="fail",
    )
    # [END howto_batch_setup]

    @task
    def announce(results: list[dict]) -> None:
        for result in results:
            print(f"{result['outcome']:>8}: project {result['project_id']} {result['name']!r}")

    announce(results.output)


annotation_batch_setup()
