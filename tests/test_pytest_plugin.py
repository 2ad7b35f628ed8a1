"""The pytest plugin as a user runs it: their own test session, with the plugin's emulator as the
platform, running a whole DAG that waits on labeling through real `airflow dags test`."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.dags

#: The user's test: the example pipeline (create, request annotation, deferred wait, export) with
#: the plugin's connection; the DAG run's output is kept for the outer test to read.
USER_TEST = """
import subprocess, sys
from pathlib import Path

AIRFLOW = str(Path(sys.executable).with_name("airflow"))


def test_pipeline(annotation_connection, tmp_path):
    conf = '{"export_folder": "%s"}' % tmp_path
    proc = subprocess.run(
        [AIRFLOW, "dags", "test", "annotation_pipeline", "-c", conf],
        capture_output=True, text=True, timeout=240,
    )
    Path("{out}").write_text(proc.stdout + proc.stderr)
    assert proc.returncode == 0
    assert len(annotation_connection.tasks) == 3
"""


def test_a_whole_dag_with_a_sensor_finishes_in_seconds_with_no_error_line(airflow_env, tmp_path) -> None:
    """The plugin's emulator completes tasks at their first status read, so the deferred sensor
    (poke_interval 30 s, timeout 7 days) is done at its first poll; and a green run logs no error
    line (no `XCom not found` for the platform link when the connection has no ui_url_template)."""
    out = tmp_path / "dag-run.log"
    (tmp_path / "test_user.py").write_text(textwrap.dedent(USER_TEST).replace("{out}", str(out)))
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    env = {
        **airflow_env,
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "PYTHONPATH": os.pathsep.join([str(ROOT), airflow_env.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         "-p", "airflow_provider_annotation.testing.pytest_plugin", "test_user.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    log = out.read_text() if out.exists() else ""
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:] + log[-3000:]
    assert "Progress: 3 of 3 tasks complete" in log
    assert "Annotation tasks done: 3 of 3 seen tasks complete" in log
    errors = [line for line in log.splitlines() if "[error" in line or "XCom not found" in line]
    assert errors == [], errors
