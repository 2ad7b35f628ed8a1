"""The shipped pytest plugin, used as a user would: their own test file, run by pytest with -p."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

USER_DAG = """
import pendulum
from airflow.providers.common.compat.sdk import dag
from airflow_provider_annotation.operators.annotation import CreateWorkflowOperator

@dag(schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC"), catchup=False)
def my_project_setup():
    CreateWorkflowOperator(task_id="create", project_id=7, labelers=["ann"])

my_project_setup()
"""

USER_TEST = """
from airflow_provider_annotation.operators.annotation import CreateWorkflowOperator


def test_creates_the_workflow(annotation_connection):
    op = CreateWorkflowOperator(task_id="create", project_id=7, labelers=["ann"])
    workflow_id = op.execute(context={})
    assert annotation_connection.workflows[workflow_id]["projectId"] == 7


def test_whole_dag(annotation_connection):
    from my_dag import my_project_setup

    my_project_setup().test()
    (workflow,) = annotation_connection.workflows.values()
    assert [p["name"] for p in workflow["pools"]][:2] == ["Distribution pool", "Labeling pool"]


def test_connection_is_gone_after_the_test():
    import os

    assert "AIRFLOW_CONN_ANNOTATION_DEFAULT" not in os.environ
"""


def run_user_tests(tmp_path, airflow_env, *plugin_args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "my_dag.py").write_text(textwrap.dedent(USER_DAG))
    (tmp_path / "test_my_dag.py").write_text(textwrap.dedent(USER_TEST))
    env = {k: v for k, v in airflow_env.items() if not k.startswith("AIRFLOW_CONN_")}
    # the user's project on the path (and this checkout, where the package is not installed from it)
    env["AIRFLOW__CORE__DAGS_FOLDER"] = str(tmp_path)  # dag.test() on Airflow 3 finds the DAG there
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), *filter(None, [env.get("PYTHONPATH")])])
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *plugin_args, "test_my_dag.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_users_dag_tests_run_against_the_emulator_through_the_plugin(tmp_path, airflow_env):
    done = run_user_tests(tmp_path, airflow_env, "-p", "airflow_provider_annotation.testing.pytest_plugin")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "3 passed" in done.stdout


def test_without_the_plugin_the_fixture_is_missing(tmp_path, airflow_env):
    """The plugin is opt-in: installing the package adds no fixtures to every pytest run."""
    done = run_user_tests(tmp_path, airflow_env)
    assert done.returncode != 0
    assert "fixture 'annotation_connection' not found" in done.stdout
