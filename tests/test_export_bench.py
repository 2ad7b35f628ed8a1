"""The export benchmark stays runnable: once, tiny, as the README starts it. Speed is not asserted;
the program itself checks that both clients wrote the same bytes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_export_benchmark_tiny_run_prints_its_tables() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.export",
            "--small",
            "20",
            "--large",
            "60",
            "--per-day",
            "20",
            "--one-answer",
            "50",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "### Export to file:// (20 results per day, one call per day)" in done.stdout
    assert "| ExportTasksOperator       | 60      |" in done.stdout
    assert "### Marginal cost per result (20 to 60 results)" in done.stdout
    assert "### Memory for one answer (50 results in one day, one call)" in done.stdout
