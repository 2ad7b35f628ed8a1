"""Type hints a user's checker sees: templated arguments accept what the docs wire into them (an
upstream task's XComArg, a Jinja template string), and an obviously wrong type is still flagged."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TYPED_DAG = ROOT / "tests" / "typed_dag" / "annotation_typed.py"

WRONG = """
from airflow_provider_annotation.operators.annotation import CreateFolderOperator, CreateWorkflowOperator

CreateFolderOperator(task_id="folder", name={"name": "Q4"})
CreateWorkflowOperator(task_id="workflow", project_id=31, labelers=7)
"""


def test_xcomargs_and_templates_type_check_and_a_wrong_type_is_still_flagged(tmp_path) -> None:
    """One mypy run (it reads Airflow's types once): the typed DAG is clean, each wrong type in
    the other file is an error."""
    wrong = tmp_path / "wrong_dag.py"
    wrong.write_text(WRONG)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache"), str(TYPED_DAG), str(wrong)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 2 and all(line.startswith(str(wrong)) for line in errors), done.stdout + done.stderr
    assert 'Argument "name" to "CreateFolderOperator" has incompatible type "dict[str, str]"' in errors[0]
    assert 'Argument "labelers" to "CreateWorkflowOperator" has incompatible type "int"' in errors[1]
