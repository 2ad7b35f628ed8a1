"""What N project setups cost in one task: `CreateProjectsOperator` in one `airflow dags test` task,
against the platform floor (N x latency / max_active_requests) and, for the smallest N, the same
setups as mapped `CreateProjectOperator` tasks.

    python -m benchmarks.batch_setup [--sizes 100 1000] [--latency 0.1] [--max-active 8] [--mapped 100]

The emulator runs in this process with `--latency` seconds per request; each DAG runs in a child
`airflow dags test` against a scratch Airflow home (its metadata DB migrated once). Task times come
from the child's log: first "Task started" to the last task's end, so dags test's own start-up (paid
once by either DAG) is left out. The create phase comes from the emulator's request log (first
create received to last create answered). Figures are printed, never asserted; the goals are shown
as met or missed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks._common import (
    ACCESS_KEY,
    SECRET_KEY,
    command_line,
    machine_notes,
    markdown_table,
    print_section,
)

AIRFLOW = str(Path(sys.executable).with_name("airflow"))
ROOT = Path(__file__).resolve().parents[1]
CREATE_GOAL = 2.0  # create phase of the largest N within 2x the floor
TASK_GOAL = 3.0  # the whole task within 3x
MAPPING_GOAL = 10.0  # at least 10x faster than mapped tasks

#: The DAGs, written into a scratch dags folder; the spec count and name prefix come from the
#: environment at parse time, so one file serves every N.
DAG_FILE = """
import os
from airflow.sdk import DAG
from airflow_provider_annotation.operators.project_setup import CreateProjectOperator, CreateProjectsOperator

COUNT = int(os.environ.get("BENCH_COUNT", "10"))
PREFIX = os.environ.get("BENCH_PREFIX", "bench")
MAX_ACTIVE = int(os.environ.get("BENCH_MAX_ACTIVE", "8"))
OPERATORS = [{"key": "box2d-car", "type": "slot", "label": "car", "slotSpecification": {"type": "box2d"}}]
NAMES = [f"{PREFIX}-{i:05d}" for i in range(COUNT)]

with DAG("bench_batch_setup", schedule=None, catchup=False):
    CreateProjectsOperator(
        task_id="setup",
        projects=[
            {"name": name, "data_type": 2, "deadline": "2030-12-31", "operators": OPERATORS,
             "labelers": ["alice"]}
            for name in NAMES
        ],
        max_active_requests=MAX_ACTIVE,
    )

with DAG("bench_mapped_setup", schedule=None, catchup=False):
    CreateProjectOperator.partial(
        task_id="setup", data_type=2, deadline="2030-12-31", operators=OPERATORS, labelers=["alice"]
    ).expand(name=NAMES)
"""


_STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)Z", re.MULTILINE)


def task_span(output: str) -> tuple[float, int]:
    """Seconds from the first task's start ("Task started", once the in-process API is up) to the
    last task's end in `airflow dags test` output, and how many tasks ended."""
    starts, ends = [], []
    for line in output.splitlines():
        stamp = _STAMP.match(line)
        if stamp and "Task started" in line:
            starts.append(datetime.fromisoformat(stamp.group(1)))
        elif stamp and "[DAG TEST] end task" in line:
            ends.append(datetime.fromisoformat(stamp.group(1)))
    if not starts or not ends:
        return float("nan"), 0
    return (max(ends) - min(starts)).total_seconds(), len(ends)


def create_phase(emulator: Any, latency: float) -> float:
    """First Create Project received to the last one answered (received + latency)."""
    times = [r["received_at"] for r in emulator.requests if r["endpoint"] == "/project/create"]
    return max(times) - min(times) + latency if times else float("nan")


def _goal(what: str, ratio: float, limit: float) -> str:
    return f"{what}: {'met' if ratio <= limit else 'MISSED'} ({ratio:.2f}x)"


def run_dag(env: dict[str, str], dag_id: str, count: int, prefix: str, max_active: int) -> tuple[float, str]:
    started = time.monotonic()
    done = subprocess.run(
        [AIRFLOW, "dags", "test", dag_id],
        env={**env, "BENCH_COUNT": str(count), "BENCH_PREFIX": prefix, "BENCH_MAX_ACTIVE": str(max_active)},
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"{dag_id} with {count} specs failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return time.monotonic() - started, done.stdout + done.stderr


class _DictStore(dict):
    """A task_state_store for the in-process memory run (the real one needs a running task)."""

    def set(self, key: str, value: Any) -> None:
        self[key] = value


def memory_rows(sizes: Sequence[int], max_active: int) -> list[list[Any]]:
    """Python memory (tracemalloc) of `CreateProjectsOperator.execute` in this process for each N:
    peak, and what stays allocated after (the return value, the kept groups). The emulator runs in
    a child process so its own records are not counted."""
    import gc
    import tracemalloc

    from benchmarks._common import quiet_airflow_logs

    quiet_airflow_logs("WARNING")
    argv = [sys.executable, "-m", "airflow_provider_annotation.testing.emulator", "--port", "0"]
    argv += ["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY]
    emulator = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    rows = []
    try:
        url = (emulator.stdout.readline() if emulator.stdout else "").split()[-1]
        os.environ["AIRFLOW_CONN_ANNOTATION_DEFAULT"] = json.dumps(
            {"conn_type": "annotation", "host": url, "login": ACCESS_KEY, "password": SECRET_KEY}
        )
        from airflow_provider_annotation.operators.project_setup import CreateProjectsOperator

        operators = [
            {"key": "box2d-car", "type": "slot", "label": "car", "slotSpecification": {"type": "box2d"}}
        ]
        for count in [10, *sizes]:  # the first run pays the imports and is not shown
            specs = [
                {
                    "name": f"memory{count}-{i:05d}",
                    "data_type": 2,
                    "deadline": "2030-12-31",
                    "operators": operators,
                }
                for i in range(count)
            ]
            op = CreateProjectsOperator(task_id="setup", projects=specs, max_active_requests=max_active)
            store = _DictStore()
            gc.collect()
            tracemalloc.start()
            result = op.execute({"task_state_store": store})  # type: ignore[typeddict-item]  # a dict stands in for the store
            retained, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            del result, store
            if count != 10:
                rows.append(
                    [
                        count,
                        f"{peak / 1024:.0f} KiB",
                        f"{retained / 1024:.0f} KiB",
                        f"{retained / count:.0f} B",
                    ]
                )
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.batch_setup", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[100, 1000], help="spec counts (default 100 1000)"
    )
    parser.add_argument(
        "--latency", type=float, default=0.1, help="platform seconds per request (default 0.1)"
    )
    parser.add_argument("--max-active", type=int, default=8, help="max_active_requests (default 8)")
    parser.add_argument(
        "--mapped", type=int, default=100, help="spec count also run as mapped tasks (0: none)"
    )
    args = parser.parse_args(argv)
    if min(args.sizes) < 1 or args.latency < 0 or not 1 <= args.max_active <= 64 or args.mapped < 0:
        parser.error("sizes >= 1, latency >= 0, max-active 1..64, mapped >= 0")

    from airflow_provider_annotation.testing import Emulator

    with (
        tempfile.TemporaryDirectory(prefix="bench-batch-") as scratch,
        Emulator(access_key=ACCESS_KEY, secret_key=SECRET_KEY, port=0, latency=args.latency) as emulator,
    ):
        home, dags = Path(scratch, "home"), Path(scratch, "dags")
        home.mkdir()
        dags.mkdir()
        (dags / "bench_batch_setup.py").write_text(DAG_FILE)
        env = {
            **os.environ,
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "NO_COLOR": "1",
            "AIRFLOW_CONN_ANNOTATION_DEFAULT": json.dumps(
                {"conn_type": "annotation", "host": emulator.url, "login": ACCESS_KEY, "password": SECRET_KEY}
            ),
        }
        # The children import this checkout's provider, as this process does.
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
        subprocess.run([AIRFLOW, "db", "migrate"], env=env, capture_output=True, check=True, timeout=600)

        rows = []
        figures: dict[int, dict[str, float]] = {}
        for count in sorted(set(args.sizes)):
            emulator.reset()
            floor = count * args.latency / args.max_active
            wall, out = run_dag(env, "bench_batch_setup", count, f"batch{count}", args.max_active)
            task, _ = task_span(out)
            phase = create_phase(emulator, args.latency)
            made = len(emulator.projects)
            figures[count] = {"task": task, "phase": phase, "floor": floor}
            mapped_task = mapped_wall = float("nan")
            if count == args.mapped:
                emulator.reset()
                mapped_wall, out = run_dag(
                    env, "bench_mapped_setup", count, f"mapped{count}", args.max_active
                )
                mapped_task, _ = task_span(out)
                figures[count]["mapped"] = mapped_task
            rows.append(
                [
                    count,
                    f"{floor:.1f} s",
                    f"{phase:.1f} s ({phase / floor:.2f}x)",
                    f"{task:.1f} s ({task / floor:.2f}x)",
                    f"{wall:.1f} s",
                    "-"
                    if mapped_task != mapped_task
                    else f"{mapped_task:.1f} s ({mapped_task / task:.0f}x slower)",
                    "-" if mapped_wall != mapped_wall else f"{mapped_wall:.1f} s",
                    made,
                ]
            )

        title = f"N project setups, {args.latency * 1000:g} ms latency, max_active_requests={args.max_active}"
        print_section(
            title,
            markdown_table(
                [
                    "N",
                    "platform floor",
                    "create phase (batch)",
                    "batch task",
                    "`dags test` wall",
                    "mapped tasks",
                    "mapped `dags test` wall",
                    "projects made",
                ],
                rows,
            ),
        )
        largest = max(figures)
        big = figures[largest]
        goals = [
            _goal(
                f"create phase of {largest} within {CREATE_GOAL:g}x the floor",
                big["phase"] / big["floor"],
                CREATE_GOAL,
            ),
            _goal(
                f"batch task of {largest} within {TASK_GOAL:g}x the floor",
                big["task"] / big["floor"],
                TASK_GOAL,
            ),
        ]
        if "mapped" in figures.get(args.mapped, {}):
            small = figures[args.mapped]
            ratio = small["mapped"] / small["task"]
            goals.append(
                f"at least {MAPPING_GOAL:g}x faster than mapping at N={args.mapped}: "
                f"{'met' if ratio >= MAPPING_GOAL else 'MISSED'} ({ratio:.1f}x)"
            )
        print_section("Goals", "\n".join(f"- {g}" for g in goals))
        print_section(
            "Python memory of one batch (tracemalloc, emulator in a child process, no latency)",
            markdown_table(
                ["N", "peak", "retained after (return value, kept ids)", "retained per item"],
                memory_rows(sorted(set(args.sizes)), args.max_active),
            ),
        )
        print_section("Machine", markdown_table(["", ""], machine_notes()) + f"\n\n`{command_line()}`")


if __name__ == "__main__":
    main()
