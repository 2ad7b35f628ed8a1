"""The benchmark and the soak stay runnable: each runs once, tiny, as a user would start it.

Speed is never asserted here; only that the programs finish, print their tables and (for the soak)
judge outcomes correctly in both directions.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OPERATOR_MODULE = "airflow_provider_annotation.operators.annotation"


def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`python -m benchmarks.<program> ...` from the repo root, as the README documents it.

    The timeout only guards against a hang: a loaded CI machine (tests run in parallel) can take
    minutes for what takes seconds on a quiet one."""
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_soak_tiny_run_passes_and_prints_the_table() -> None:
    done = run("benchmarks.soak", "--calls", "60", "--threads", "2", "--seed", "7", "--waits", "6")
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "### Soak: outcome per fault class" in out
    assert "| fault " in out and "| **total**" in out
    assert "PASS" in out
    assert "### Soak, async path: trigger waits under faults" in out
    # waits, as promised, duplicates, lost
    assert re.search(
        r"\| gzip, gzip bomb, 1 GiB in under 2 KB +\| one error event +\| 1 +\| 1 +\| 0 +\| 0 ", out
    )
    assert "traced peak" in out and out.count("PASS") == 2
    assert "### Machine" in out and "apache-airflow" in out


def test_soak_detects_duplicates_when_ambiguous_requests_are_re_sent() -> None:
    """The checker is not vacuous: with the opt-in retry_ambiguous, ambiguous faults that acted
    get a second workflow, and the soak must say so and exit non-zero."""
    done = run(
        "benchmarks.soak",
        "--calls",
        "60",
        "--threads",
        "2",
        "--seed",
        "7",
        "--waits",
        "0",
        "--retry-ambiguous",
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAIL:" in done.stdout
    assert "0 duplicate(s)" not in done.stdout


@pytest.mark.parametrize("bad", [["--calls", "0"], ["--clean-share", "2"], ["--waits", "-1"]])
def test_soak_rejects_nonsense_arguments(bad: list[str]) -> None:
    assert run("benchmarks.soak", *bad).returncode == 2


def test_bench_tiny_run_prints_every_table() -> None:
    module = OPERATOR_MODULE
    done = run(
        "benchmarks.bench",
        "--module", module,
        "--parse-reps", "1",
        "--calls", "20",
        "--warmup", "3",
        "--throughput-seconds", "0.3",
        "--throughput-threads", "2",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    for section in ("### Machine", "### DAG-parse cost", "### Per create call", "### Emulator throughput"):
        assert section in out
    assert f"`{module}`" in out and "`airflow.providers.http.operators.http`" in out
    for client in ("raw requests.Session (floor)", "AnnotationHook.create_workflow", "HttpHook.run, by hand"):
        assert out.count(client) == 2  # one row per log level (INFO, WARNING)
    assert "command: python -m benchmarks.bench" in out


def test_bench_triggers_tiny_run_prints_both_triggers() -> None:
    done = run(
        "benchmarks.bench", "--triggers-only", "--trigger-count", "5", "--trigger-duration", "2", timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "### Waiting triggers: 5 at once in one event loop" in out
    assert "| AnnotationTaskTrigger" in out and "| HttpSensorTrigger" in out
    assert "CPU per poll, ours / HttpSensorTrigger:" in out


def test_datasets_benchmark_tiny_run_prints_its_table() -> None:
    done = run("benchmarks.datasets", "--small", "10", "--large", "200", "--upload-mb", "1")
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "### Datasets: peak RSS of the client process" in out
    assert (
        "| mapping to file, large" in out and "200 scenes" in out and "| upload (multipart, streamed)" in out
    )
