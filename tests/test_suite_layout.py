"""The test suite's own layout: shared names come from tests/helpers.py, never from another test
module, and the pure tests run where the emulator's `testing` extra (FastAPI, uvicorn) is not
installed (Airflow 2.11 does not bring them)."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.helpers import ROOT

#: The pure-model tests: no emulator, no Airflow run.
PURE = [
    "tests/test_workflow.py",
    "tests/test_coercion.py",
    "tests/test_status.py",
    "tests/test_exceptions.py",
]

#: Runs pytest with the extra's packages unimportable, as in an environment without the extra.
WITHOUT_EXTRA = """
import sys


class NoTestingExtra:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {"fastapi", "starlette", "uvicorn"}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, NoTestingExtra())
try:
    import fastapi  # noqa: F401
except ModuleNotFoundError:
    pass
else:
    sys.exit("the testing extra is still importable")

import pytest

sys.exit(pytest.main(sys.argv[1:]))
"""


def test_no_test_module_imports_another() -> None:
    """Importing a `test_*` module runs it again under a second name (and its fixtures with it)."""
    offenders = [
        f"{path.relative_to(ROOT)}: {line.strip()}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        for line in path.read_text().splitlines()
        if re.match(r"\s*(from\s+tests(\.\w+)*\.test_\w*\s+import|import\s+tests(\.\w+)*\.test_)", line)
    ]
    assert offenders == []


def test_pure_tests_run_without_the_testing_extra() -> None:
    """conftest.py starts the emulator only for the tests that use it (they are marked `emulator`)."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            WITHOUT_EXTRA,
            "-p",
            "no:cacheprovider",
            "-q",
            "-n",
            "0",
            "-m",
            "not emulator",
            *PURE,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert re.search(r"\b\d{2,} passed", output), output
    assert " error" not in output, output
