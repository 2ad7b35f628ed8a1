"""CreateWorkflowOperator without a scheduler: construction, body building, import cost.

The operator's runs through real Airflow live in test_dags.py; here are the rules that need no run.
"""

from __future__ import annotations

import json

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_annotation.operators.annotation import CreateWorkflowOperator
from airflow_provider_annotation.workflow import PoolType, WorkflowValidationError
from tests.helpers import connection_json

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
        "annotation_conn_id",
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
    monkeypatch.setattr("airflow_provider_annotation.operators._state.AIRFLOW_V_3_3_PLUS", False)
    task = op(project_id="31", labelers="alice", annotation_conn_id="annotation_no_store")
    assert task.execute({}) == 18000  # a context without task_state_store, as on Airflow < 3.3
    assert (
        "No task_state_store (Airflow < 3.3)" in logs.text and "the retry creates a second one" in logs.text
    )
    assert len(emulator.workflows) == 1


# --- every failure before a request: AirflowFailException (no retries), the field named ----------


def fails_before_sending(task: CreateWorkflowOperator) -> str:
    """The message a task fails with, checking it is the no-retry kind with the input error kept."""
    from airflow.sdk.exceptions import AirflowFailException

    with pytest.raises(AirflowFailException) as info:
        task.execute({})
    assert isinstance(info.value.__cause__, WorkflowValidationError)
    assert "Nothing was sent; not retrying" in str(info.value)
    return str(info.value)


@pytest.mark.parametrize("dry_run", [False, True])
@pytest.mark.parametrize(
    "item, says",
    [
        ({"a"}, "pools[1].disableOperationItem[0]: not plain JSON"),
        (float("nan"), "pools[1].disableOperationItem[0]: nan is not a JSON number"),
        ({1: "a"}, "pools[1].disableOperationItem[0]: keys must be strings, got key int 1"),
        (b"x", "pools[1].disableOperationItem[0]: not plain JSON"),
    ],
    ids=["set", "nan", "int key", "bytes"],
)
def test_values_json_cannot_carry_fail_before_sending_also_in_dry_run(item, says, dry_run, logs):
    pools = [POOLS[0], {**POOLS[1], "disableOperationItem": [item]}, POOLS[2]]
    # No connection "nowhere" exists: had anything got as far as sending, the lookup would fail.
    says_ = fails_before_sending(op(project_id=1, pools=pools, dry_run=dry_run, annotation_conn_id="nowhere"))
    assert says in says_
    assert "Dry run" not in logs.text


@pytest.mark.parametrize(
    "kwargs, says",
    [
        ({"pools": "[" * 100_000 + "]" * 100_000}, "pools: nested more than 64 levels deep"),
        ({"labelers": "[" * 100_000}, "labelers: "),
    ],
    ids=["pools", "labelers"],
)
def test_deep_nesting_fails_the_task_naming_the_field(kwargs, says):
    # Deep Python lists never reach execute(): Airflow's own constructor and rendering walk template
    # fields recursively. The model's checks of them are in test_workflow.py and test_coercion.py.
    assert says in fails_before_sending(op(project_id=1, annotation_conn_id="nowhere", **kwargs))


def test_huge_input_fails_with_a_bounded_message():
    pools = [POOLS[0], {"name": "x" * 3_000_000, "type": 1, "workers": [None] * 100_000}, POOLS[2]]
    says = fails_before_sending(op(project_id="9" * 3_000_000, pools=pools, annotation_conn_id="nowhere"))
    assert says.startswith("invalid workflow input (100002 problems, the first 20 shown):\n  project_id: ")
    assert "\n  pools[1].name: 3000000 bytes in UTF-8" in says and "\n  ... and 99982 more\n" in says
    assert len(says) < 4_000


@pytest.mark.parametrize("field", ["pools", "labelers", "inspectors", "spot_checkers", "algorithms"])
def test_a_template_rendering_to_none_is_refused_not_taken_as_left_out(field):
    task = op(project_id=1, annotation_conn_id="nowhere", **{field: "{{ params.missing }}"})
    setattr(task, field, None)  # what native rendering makes of a missing value
    says = fails_before_sending(task)
    assert f"{field}: given as a template or XCom that rendered to None" in says


@pytest.mark.parametrize(
    "rendered, says",
    [
        ({"project_id": {"id": 1}}, "project_id: expected a positive integer, got dict"),
        ({"project_id": None}, "project_id: expected a positive integer, got NoneType None"),
        ({"pools": {"pools": []}}, "pools: expected a list of pool objects or its JSON, got dict"),
        ({"pools": 5}, "pools: expected a list of pool objects or its JSON, got int 5"),
        ({"labelers": {"alice": 1}}, "labelers: expected a list of names"),
        ({"inspectors": 3.5}, "inspectors: expected a list of names"),
    ],
)
def test_templates_rendering_to_unexpected_types_fail_naming_the_field(rendered, says):
    task = op(project_id=1, annotation_conn_id="nowhere", labelers=["a"] if "pools" not in rendered else None)
    for field, value in rendered.items():
        setattr(task, field, value)
    assert says in fails_before_sending(task)


def test_a_bad_connection_fails_without_retry_and_sends_nothing(emulator, monkeypatch):
    from airflow.sdk.exceptions import AirflowFailException

    from airflow_provider_annotation.exceptions import AnnotationConnectionConfigError

    monkeypatch.setenv("AIRFLOW_CONN_ANNOTATION_BAD", connection_json(emulator.url, max_attempts="lots"))
    with pytest.raises(AirflowFailException, match="max_attempts") as info:
        op(project_id=1, labelers=["a"], annotation_conn_id="annotation_bad").execute({})
    assert isinstance(info.value.__cause__, AnnotationConnectionConfigError)
    assert "Nothing was sent; not retrying: fix the connection 'annotation_bad'" in str(info.value)
    assert emulator.requests == []


def test_counts_of_every_argument_add_up_in_one_bounded_message():
    says = fails_before_sending(
        op(project_id="0", labelers=[None] * 30, inspectors=[3] * 5, annotation_conn_id="nowhere")
    )
    assert says.startswith("invalid workflow input (36 problems, the first 20 shown):\n  project_id: ")
    assert "\n  labelers[0]: " in says and "\n  ... and 16 more\n" in says


# -- README promises found untested by a mutation audit ---------------------------------------


def test_without_task_state_store_the_duplicate_risk_is_a_warning(emulator, monkeypatch, logs):
    """README: "On Airflow without `task_state_store` the operator logs a warning that retries may
    duplicate" - at warning level, where alerting looks, not as one more info line."""
    import re

    monkeypatch.setenv("AIRFLOW_CONN_ANNOTATION_DEFAULT", connection_json(emulator.url))
    monkeypatch.setattr("airflow_provider_annotation.operators._state.AIRFLOW_V_3_3_PLUS", False)
    assert op(project_id=31).execute({}) == 18000  # annotation_conn_id defaults to annotation_default
    (line,) = [ln for ln in logs.text.splitlines() if "No task_state_store" in ln]
    assert re.search(r"\[warning\s*\]", line), line
    assert "the retry creates a second one" in line


def test_on_airflow_3_3_a_missing_store_is_named_as_a_run_outside_a_task_run(emulator, monkeypatch, logs):
    """``execute(context={})`` on Airflow 3.3+: no warning blaming the Airflow version."""
    import re

    monkeypatch.setenv("AIRFLOW_CONN_ANNOTATION_DEFAULT", connection_json(emulator.url))
    monkeypatch.setattr("airflow_provider_annotation.operators._state.AIRFLOW_V_3_3_PLUS", True)
    assert op(project_id=31).execute({}) == 18000
    (line,) = [ln for ln in logs.text.splitlines() if "task_state_store" in ln]
    assert "Run outside a task run" in line and re.search(r"\[info\s*\]", line), line


# -- the connection id is a template (issue 15) ---------------------------------------------------


def _every_task_class() -> list[type]:
    from airflow_provider_annotation.operators.datasets import ImportDatasetOperator, UploadDatasetOperator
    from airflow_provider_annotation.operators.export import ExportTasksOperator
    from airflow_provider_annotation.operators.project_setup import (
        AnnotationStatsOperator,
        CreateFolderOperator,
        CreateProjectOperator,
        CreateProjectsOperator,
        SubmitAnnotationDataOperator,
    )
    from airflow_provider_annotation.operators.send_tasks import SendTasksOperator
    from airflow_provider_annotation.sensors.annotation import AnnotationTaskSensor

    return [
        CreateWorkflowOperator,
        CreateFolderOperator,
        CreateProjectOperator,
        CreateProjectsOperator,
        SubmitAnnotationDataOperator,
        AnnotationStatsOperator,
        SendTasksOperator,
        ExportTasksOperator,
        ImportDatasetOperator,
        UploadDatasetOperator,
        AnnotationTaskSensor,
    ]


@pytest.mark.parametrize("cls", _every_task_class(), ids=lambda cls: cls.__name__)
def test_every_operator_and_the_sensor_template_their_connection_id(cls: type) -> None:
    assert "annotation_conn_id" in cls.template_fields


def test_a_templated_connection_id_renders_before_the_hook_is_made(emulator, monkeypatch):
    """As dbt Cloud's ``dbt_cloud_conn_id``: one DAG serves several accounts by a param."""
    from airflow.sdk import DAG

    monkeypatch.setenv("AIRFLOW_CONN_ANNOTATION_TEAM_B", connection_json(emulator.url))
    with DAG("conn_id_template", schedule=None, params={"team": "team_b"}) as dag:
        task = op(project_id=31, labelers="alice", annotation_conn_id="annotation_{{ params.team }}")
    assert task.annotation_conn_id == "annotation_{{ params.team }}"  # nothing looked up at parse time
    task.render_template_fields({"params": dag.params.dump(), "dag": dag, "task": task})
    assert task.annotation_conn_id == "annotation_team_b"
    assert task.execute({}) == 18000
    assert [r["path"] for r in emulator.requests] == ["/annotation/workflow/create"]


@pytest.mark.parametrize("rendered", [None, "", "  ", 7])
def test_a_connection_id_rendering_to_no_id_fails_naming_the_field_and_sends_nothing(emulator, rendered):
    from airflow_provider_annotation.operators.project_setup import AnnotationStatsOperator

    task = AnnotationStatsOperator(task_id="stats", project_id=1, workflow_id=2)
    task.annotation_conn_id = rendered  # what a template or XCom can render to
    with pytest.raises(
        AirflowFailException, match="annotation_conn_id: expected the id of an Airflow connection"
    ):
        task.execute({})
    assert emulator.requests == []
