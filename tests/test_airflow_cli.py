"""What Airflow itself makes of the provider, through its own CLI, as an operator of Airflow sees it."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from importlib.metadata import version

import pytest

from tests.helpers import AIRFLOW, SK, connection_json


def airflow(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as home:  # providers commands need no metadata DB
        env = env or {**os.environ, "AIRFLOW_HOME": home}
        return subprocess.run([AIRFLOW, *args], capture_output=True, text=True, timeout=120, env=env)


def test_providers_commands_show_the_provider_and_its_hook():
    assert (
        f"airflow-provider-annotation | {version('airflow-provider-annotation')}"
        in airflow("providers", "get", "airflow-provider-annotation").stdout
    )
    hooks = json.loads(airflow("providers", "hooks", "-o", "json").stdout)
    assert {
        "connection_type": "annotation",
        "class": "airflow_provider_annotation.hooks.annotation.AnnotationHook",
        "conn_id_attribute_name": "annotation_conn_id",
        "package_name": "airflow-provider-annotation",
        "hook_name": "Annotation Platform",
    } in hooks
    assert {"field_behaviours": "annotation"} in json.loads(
        airflow("providers", "behaviours", "-o", "json").stdout
    )
    widgets = json.loads(airflow("providers", "widgets", "-o", "json").stdout)
    names = {
        w["connection_parameter_name"] for w in widgets if w["package_name"] == "airflow-provider-annotation"
    }
    assert "extra__annotation__timeout" in names and "extra__annotation__allow_insecure_http" in names


@pytest.mark.parametrize(
    ("password", "expected"),
    [(SK, "Connection success!"), ("not-the-secret", "Secret Key (Password) does not belong")],
    ids=["ok", "wrong-secret"],
)
def test_airflow_connections_test_uses_the_hook(airflow_env, emulator, password, expected):
    env = {
        **airflow_env,
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "AIRFLOW_CONN_ANNOTATION_DEFAULT": connection_json(emulator.url, password=password),
    }
    done = airflow("connections", "test", "annotation_default", env=env)
    assert expected in done.stdout + done.stderr
    assert [r["endpoint"] for r in emulator.requests] == ["/project/list"]
    assert password not in done.stdout + done.stderr
