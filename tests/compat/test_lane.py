"""The compat subset run on every Airflow lane (scripts/compat.sh): registration, the connection
form in the shape this Airflow reads, the hook against the emulator, the async connection lookup,
and every example DAG through this version's `airflow dags test`, including the warning the
operator gives where Airflow has no task_state_store."""

from __future__ import annotations

import asyncio
import importlib.resources
import importlib.util
import json
import os
import re
import subprocess
import tempfile
from pathlib import Path

import airflow
import jsonschema
import pytest
from packaging.version import Version

from airflow_provider_annotation import version_compat
from airflow_provider_annotation.endpoints import CREATE_WORKFLOW, PROJECT_LIST
from tests.helpers import AIRFLOW, connection_json

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_DAGS = sorted(p.stem for p in (ROOT / "dags").glob("annotation_*.py"))
AIRFLOW_VERSION = Version(airflow.__version__)
#: The DAG runs repeat tests/test_dags.py on the main suite's Airflow: run them in the lanes only.
IN_LANE = bool(os.environ.get("ANNOTATION_COMPAT_LANE"))
HAS_WTFORMS = importlib.util.find_spec("wtforms") is not None
FORM_FROM_HOOK = not version_compat.AIRFLOW_V_3_2_PLUS
LOG_LINE = re.compile(r"\[\d{4}-\d\d-\d\d")


def airflow_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as home:
        env = env or {**os.environ, "AIRFLOW_HOME": home, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
        return subprocess.run([AIRFLOW, *args], capture_output=True, text=True, timeout=300, env=env)


def json_output(*args: str) -> list[dict]:
    """What `airflow ... -o json` printed, after any log lines some versions print to stdout first
    (``[2026-01-01T00:00:00.000+0000] {plugins.py:37} INFO - ...``)."""
    lines = airflow_cli(*args, "-o", "json").stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("[") and not LOG_LINE.match(line))
    return json.JSONDecoder().raw_decode("\n".join(lines[start:]))[0]


def test_version_flags_match_the_running_airflow():
    major_minor = (AIRFLOW_VERSION.major, AIRFLOW_VERSION.minor)
    assert (major_minor >= (3, 0)) == version_compat.AIRFLOW_V_3_0_PLUS
    assert (major_minor >= (3, 2)) == version_compat.AIRFLOW_V_3_2_PLUS
    assert (major_minor >= (3, 3)) == version_compat.AIRFLOW_V_3_3_PLUS


def test_hook_and_operator_import_and_subclass_this_airflows_base_classes():
    from airflow.providers.common.compat.sdk import BaseHook, BaseOperator

    from airflow_provider_annotation.hooks.annotation import AnnotationHook
    from airflow_provider_annotation.operators.annotation import CreateWorkflowOperator

    assert issubclass(AnnotationHook, BaseHook) and issubclass(CreateWorkflowOperator, BaseOperator)


def test_provider_registered_with_its_hook_and_form():
    got = airflow_cli("providers", "get", "airflow-provider-annotation")
    assert got.returncode == 0 and "airflow-provider-annotation" in got.stdout, got.stdout + got.stderr
    hooks = [h for h in json_output("providers", "hooks") if h.get("connection_type") == "annotation"]
    assert hooks and hooks[0]["class"] == "airflow_provider_annotation.hooks.annotation.AnnotationHook"
    behaviours = json_output("providers", "behaviours")
    names = {
        w["connection_parameter_name"]
        for w in json_output("providers", "widgets")
        if w["package_name"] == "airflow-provider-annotation"
    }
    if FORM_FROM_HOOK and version_compat.AIRFLOW_V_3_0_PLUS and not HAS_WTFORMS:
        # Airflow 3.0/3.1 read every hook's form through WTForms; without it (no FAB provider) no
        # hook has form fields or behaviours, and connections are set up through Extra.
        assert names == set() and {"field_behaviours": "annotation"} not in behaviours
    else:
        assert {"field_behaviours": "annotation"} in behaviours
        expected = {
            "extra__annotation__timeout",
            "extra__annotation__verify",
            "extra__annotation__max_attempts",
        }
        assert expected <= names


def test_connection_form_in_the_shape_this_airflow_reads():
    """Before 3.2 Airflow asks the hook (snake_case behaviour, WTForms widgets); 3.2+ reads the
    provider info and the hook must not define the deprecated methods."""
    from airflow_provider_annotation.hooks.annotation import AnnotationHook

    if not FORM_FROM_HOOK:
        assert "get_ui_field_behaviour" not in AnnotationHook.__dict__
        assert "get_connection_form_widgets" not in AnnotationHook.__dict__
        return
    schema_text = (
        importlib.resources.files("airflow")
        .joinpath("customized_form_field_behaviours.schema.json")
        .read_text()
    )
    jsonschema.validate(AnnotationHook.get_ui_field_behaviour(), json.loads(schema_text))
    widgets = AnnotationHook.get_connection_form_widgets()
    if not HAS_WTFORMS:  # Airflow 3.0/3.1 without the FAB provider: the behaviour still applies
        assert widgets == {}
        return
    from wtforms import BooleanField, IntegerField, StringField

    kinds = {name: field.field_class for name, field in widgets.items()}
    assert kinds["verify"] is BooleanField and kinds["allow_insecure_http"] is BooleanField
    assert kinds["max_attempts"] is IntegerField and kinds["timeout"] is StringField
    assert "proxies" not in kinds  # an object: set it in Extra


def test_hook_creates_a_workflow_and_tests_the_connection_against_the_emulator(emulator, make_hook):
    hook = make_hook()
    assert hook.create_workflow(4242) == 18000
    assert hook.test_connection()[0] is True
    assert [r["endpoint"] for r in emulator.requests] == [CREATE_WORKFLOW.path, PROJECT_LIST.path]


def test_aget_connection_works_on_an_event_loop(monkeypatch, emulator):
    monkeypatch.setenv("AIRFLOW_CONN_ANNOTATION_ASYNC", connection_json(emulator.url, login="async-ak"))
    conn = asyncio.run(version_compat.aget_connection("annotation_async"))
    assert (conn.conn_type, conn.login, conn.host) == ("annotation", "async-ak", emulator.url)


#: Operators that keep what they created in task_state_store, and warn where there is none.
STATE_KEEPING_OPERATORS = (
    "CreateWorkflowOperator",
    "CreateFolderOperator",
    "CreateProjectOperator",
    "CreateProjectsOperator",
    "SubmitAnnotationDataOperator",
    "ImportDatasetOperator",
    "UploadDatasetOperator",
)


#: Airflow 3.0's `airflow dags test` refuses an asset no dag-processor has registered yet
#: (AirflowInactiveAssetInInletOrOutletException, apache/airflow#51644): there, as a user would,
#: register the DAGs with `airflow dags reserialize` before testing one that names an asset.
REGISTER_ASSETS_FIRST = (AIRFLOW_VERSION.major, AIRFLOW_VERSION.minor) == (3, 0)
#: The lane that installs the OpenLineage provider (scripts/compat.sh) also proves the export's lineage.
HAS_OPENLINEAGE = importlib.util.find_spec("airflow.providers.openlineage") is not None


@pytest.mark.dags
@pytest.mark.skipif(not IN_LANE, reason="tests/test_dags.py runs the example DAGs on this Airflow")
@pytest.mark.parametrize("dag_id", EXAMPLE_DAGS)
def test_example_dag_runs_through_airflow_dags_test(airflow_env, emulator, dag_id, tmp_path):
    env = {
        **airflow_env,
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW_CONN_ANNOTATION_DEFAULT": connection_json(emulator.url, retry_base_delay=0),
    }
    # As the emulator's CLI does for the demo: a task nobody moved is complete on its second status
    # read, so the example DAGs' deferrable waits end.
    emulator.state.settings.tasks_complete_after_reads = 2
    command = [AIRFLOW, "dags", "test", dag_id]
    source = (ROOT / "dags" / f"{dag_id}.py").read_text()
    if REGISTER_ASSETS_FIRST and "Asset(" in source:
        registered = subprocess.run(
            [AIRFLOW, "dags", "reserialize"], env=env, capture_output=True, text=True, timeout=300
        )
        assert registered.returncode == 0, (registered.stdout + registered.stderr)[-3000:]
    if '"export_folder"' in source:  # lanes run side by side: each exports into its own folder
        command += ["--conf", json.dumps({"export_folder": str(tmp_path)})]
    lineage = tmp_path / "openlineage.jsonl"
    if HAS_OPENLINEAGE:  # every event the OpenLineage listener emits, as JSON lines in a file
        env["AIRFLOW__OPENLINEAGE__TRANSPORT"] = json.dumps(
            {"type": "file", "log_file_path": str(lineage), "append": True}
        )
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    finally:
        emulator.state.settings.tasks_complete_after_reads = 0
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-6000:]
    assert "state=failed" not in out and not re.search(r"Marking run .* failed", out), out[-6000:]
    if "airflow_provider_annotation" in source:  # the export's consumer only reads a file
        assert emulator.requests, "the DAG sent nothing to the platform"
    assert all(r["status"] == 200 for r in emulator.requests), emulator.requests
    keeps_state = any(
        f"{name}(" in source or f"{name}.partial(" in source for name in STATE_KEEPING_OPERATORS
    )
    warned = "No task_state_store (Airflow < 3.3)" in out
    assert warned == (keeps_state and not version_compat.AIRFLOW_V_3_3_PLUS)
    if HAS_OPENLINEAGE and "ExportTasksOperator(" in source:
        assert_export_lineage(lineage, dag_id, emulator)


def assert_export_lineage(lineage: Path, dag_id: str, emulator) -> None:
    """The OpenLineage listener's COMPLETE event for each export names the platform project as its
    input and the file written as its output (ExportTasksOperator.get_openlineage_facets_on_complete)."""
    events = [json.loads(line) for line in lineage.read_text().splitlines() if line.strip()]
    exports = [
        e for e in events if e["eventType"] == "COMPLETE" and e["job"]["name"].startswith(f"{dag_id}.export")
    ]
    assert exports, f"no COMPLETE event of an export task among {[e['job']['name'] for e in events]}"
    host = emulator.url.removeprefix("http://")
    projects = {str(project_id) for project_id in emulator.projects}
    for event in exports:
        inputs = [(d["namespace"], d["name"]) for d in event["inputs"]]
        outputs = [(d["namespace"], d["name"]) for d in event["outputs"]]
        assert len(inputs) == 1 and inputs[0][0] == f"annotation://{host}", inputs
        assert inputs[0][1].removeprefix("project/") in projects, (inputs, projects)
        assert len(outputs) == 1 and outputs[0][0] == "file" and Path(outputs[0][1]).is_file(), outputs
