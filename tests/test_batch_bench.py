"""The batch-setup benchmark stays runnable: once, tiny, as docs/batch-setup.md starts it. Speed is
not asserted; only that it finishes and prints its table and goals."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_batch_setup_benchmark_tiny_run_prints_its_tables() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.batch_setup", "--sizes", "3", "--mapped", "3", "--latency", ".01"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "### N project setups, 10 ms latency, max_active_requests=8" in out
    assert "| 3 " in out and "platform floor" in out and "mapped tasks" in out
    assert "create phase of 3 within 2x the floor:" in out and "faster than mapping at N=3:" in out
    assert "### Python memory of one batch" in out and "retained per item" in out
    assert "### Machine" in out
