"""CreateWorkflowOperator without a scheduler: construction, body building, import cost.

The operator's runs through real Airflow live in test_dags.py; here are the rules that need no run.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from airflow_provider_annotation.operators.annotation import CreateWorkflowOperator
from airflow_provider_annotation.workflow import PoolType, WorkflowValidationError
from tests.conftest import connection_json

POOLS = [
    {"name": "Distribution pool", "type": PoolType.DISTRIBUTION, "runMode": 0},
    {"name": "Labeling pool", "type": PoolType.LABELING, "workers": ["alice"]},
    {"name": "Completion pool", "type": PoolType.COMPLETION},
]


def op(**kwargs) -> CreateWorkflowOperator:
    return CreateWorkflowOperator(task_id="create_workflow", **kwargs)


def test_init_only_stores_arguments():
    """Templates render after __init__, so nothing may be checked or changed there."""
    task = op(project_id="{{ params.project_id }}", pools="not json yet", labelers="{{ params.x }}")
    assert task.project_id == "{{ params.project_id }}"
    assert task.pools == "not json yet" and task.labelers == "{{ params.x }}"


def test_templating_declared():
    assert set(CreateWorkflowOperator.template_fields) == {
        "project_id",
        "pools",
        "labelers",
        "inspectors",
        "spot_checkers",
        "algorithms",
    }
    assert CreateWorkflowOperator.template_ext == (".json",)
    assert CreateWorkflowOperator.template_fields_renderers == {"pools": "json"}


def test_body_from_pools_is_the_seed_shape():
    assert op(project_id="4242", pools=POOLS).build_body() == {
        "projectId": 4242,
        "workflow": {"pools": json.loads(json.dumps(POOLS))},
    }


def test_body_from_rendered_json_string():
    assert op(project_id=1, pools=json.dumps(POOLS)).build_body()["workflow"]["pools"][1]["workers"] == [
        "alice"
    ]


def test_neither_pools_nor_shorthand_means_platform_default():
    assert op(project_id=3).build_body() == {"projectId": 3}


def test_shorthand_from_rendered_strings():
    body = op(
        project_id=" 12 ", labelers="['alice', 'bob']", inspectors='["carol"]', spot_checkers="dave, erin"
    ).build_body()
    assert [(p["name"], p.get("workers")) for p in body["workflow"]["pools"]] == [
        ("Distribution pool", None),
        ("Labeling pool", ["alice", "bob"]),
        ("Inspection pool", ["carol"]),
        ("Spot check pool", ["dave", "erin"]),
        ("Completion pool", None),
    ]


def test_pools_and_shorthand_together_refused():
    with pytest.raises(
        WorkflowValidationError, match=r"either pools or the shorthand \(labelers, algorithms\)"
    ):
        op(project_id=1, pools=POOLS, labelers=["a"], algorithms=["x"]).build_body()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"project_id": "0"}, "project_id"),
        ({"project_id": True}, "project_id"),
        ({"project_id": 4.0}, "project_id"),
        ({"project_id": 1, "labelers": 5}, "labelers"),
        ({"project_id": 1, "inspectors": "[carol"}, "inspectors"),
        ({"project_id": 1, "pools": "{'pools': []}"}, "pools"),
        ({"project_id": 1, "pools": [{"name": "x", "type": 1, "worker": []}]}, "pools[0].worker"),
    ],
)
def test_bad_rendered_values_name_the_parameter(kwargs, message):
    with pytest.raises(WorkflowValidationError, match=message.replace("[", r"\[")):
        op(**kwargs).build_body()


def test_execute_dry_run_sends_nothing_and_needs_no_connection():
    # No connection named "nowhere" exists: a dry run must not look one up.
    assert op(project_id=1, labelers=["a"], dry_run=True, annotation_conn_id="nowhere").execute({}) is None


HTTP_LIBRARIES = ("requests", "urllib3", "httpx", "aiohttp", "tenacity", "fastapi", "uvicorn")


def test_operator_module_imports_no_http_library():
    probe = (
        "import sys, airflow.sdk\n"
        "before = set(sys.modules)\n"
        "import airflow_provider_annotation.operators.annotation\n"
        "print('requests' in sys.modules)\n"
        "print(*sorted(set(sys.modules) - before))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    requests_loaded, added = done.stdout.splitlines()
    assert requests_loaded == "False"
    added_modules = added.split()
    assert "airflow_provider_annotation.operators.annotation" in added_modules  # the probe saw the import
    assert [m for m in added_modules if m.split(".")[0] in HTTP_LIBRARIES or ".hooks" in m] == []


def test_execute_bad_input_fails_the_task_without_retry_and_keeps_the_cause():
    from airflow.sdk.exceptions import AirflowFailException

    with pytest.raises(AirflowFailException, match="project_id: ") as info:
        op(project_id="0", annotation_conn_id="nowhere").execute({})
    assert isinstance(info.value.__cause__, WorkflowValidationError)


def test_every_bad_argument_reported_at_once():
    with pytest.raises(WorkflowValidationError) as info:
        op(project_id="-1", labelers=5, inspectors="[carol", spot_checkers="a,,b").build_body()
    fields = [problem.split(":")[0] for problem in info.value.problems]
    assert fields[0] == "project_id" and {"labelers", "inspectors", "spot_checkers"} <= set(fields)


def test_without_task_state_store_creates_and_warns_that_retries_may_duplicate(emulator, monkeypatch, logs):
    monkeypatch.setenv("AIRFLOW_CONN_ANNOTATION_NO_STORE", connection_json(emulator.url))
    task = op(project_id="31", labelers="alice", annotation_conn_id="annotation_no_store")
    assert task.execute({}) == 18000  # a context without task_state_store, as on Airflow < 3.3
    assert "No task_state_store" in logs.text and "the retry creates a second one" in logs.text
    assert len(emulator.workflows) == 1
