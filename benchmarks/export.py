"""What an export costs: `ExportTasksOperator` writing JSON Lines to ``file://`` against a hand-written
loop of raw `requests` calls writing the same file, for a small and a large export.

    python -m benchmarks.export [--small 1000] [--large 100000] [--per-day 1000] [--one-answer 25000]

The emulator runs in this process with the completed tasks seeded (``--per-day`` results per day,
each about 0.7 KB, as the emulator generates them); each export runs in a fresh child process, which
reports its wall time and peak RSS. Both clients write byte-identical files (checked). A third run
puts `--one-answer` results into one day, so one answer is large (about 18 MB at 25,000), and
reports each client's peak RSS against that answer's size: what one chunk costs in memory. Figures
are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from benchmarks._common import (
    ACCESS_KEY,
    SECRET_KEY,
    command_line,
    machine_notes,
    markdown_table,
    print_section,
    quiet_airflow_logs,
    set_connection,
)

PROJECT = 1000
FIRST_DAY = date(2024, 1, 1)


def seed(emulator: Any, results: int, per_day: int) -> tuple[str, str]:
    """`results` completed tasks, `per_day` per completion day from `FIRST_DAY`; the window."""
    state = emulator.state
    for index in range(results):
        day = FIRST_DAY + timedelta(days=index // per_day)
        moment = datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc) + timedelta(
            milliseconds=index % per_day
        )
        ms = int(moment.timestamp() * 1000)
        state.add_task(
            {
                "projectId": PROJECT,
                "workflowId": 18000,
                "dataId": f"frame-{index:07d}",
                "status": 9,
                "poolType": 0,
                "createdTime": ms,
                "updatedTime": ms,
                "completeTime": ms,
            }
        )
    days = -(-results // per_day)
    return FIRST_DAY.isoformat(), (FIRST_DAY + timedelta(days=days)).isoformat()


# -- the two clients, each run in a child process ---------------------------------------------------


def export_with_operator(url: str, after: str, before: str, dest: Path) -> int:
    from airflow_provider_annotation.operators.annotation import ExportTasksOperator

    set_connection("annotation_default", "annotation", host=url, login=ACCESS_KEY, password=SECRET_KEY)
    quiet_airflow_logs("INFO")  # what a task pays: every call's line is formatted
    op = ExportTasksOperator(
        task_id="export",
        project_id=PROJECT,
        destination=f"file://{dest}",
        complete_after=after,
        complete_before=before,
    )
    return int(op.execute({})["count"])  # type: ignore[arg-type]


def export_by_hand(url: str, after: str, before: str, dest: Path) -> int:
    """The floor: one kept `requests.Session`, a signed POST per day, the envelope checked, the
    same lines written straight into the file."""
    import requests

    from airflow_provider_annotation.signing import signed_headers

    session = requests.Session()
    count = 0
    day, last = date.fromisoformat(after), date.fromisoformat(before)
    with open(dest, "wb") as out:
        while day < last:
            following = day + timedelta(days=1)
            body: dict[str, Any] = {
                "projectId": PROJECT,
                "completeTimeAfter": day.isoformat(),
                "completeTimeBefore": following.isoformat(),
            }
            answer = session.post(
                url + "/tasks/export", json=body, headers=signed_headers(ACCESS_KEY, SECRET_KEY), timeout=60
            ).json()
            if answer.get("success") is not True or answer.get("code") != 200:
                raise RuntimeError(f"export failed: {answer.get('code')}")
            for result in answer["data"]["annotationResultList"]:
                record = {"projectId": PROJECT, "chunk": day.isoformat(), **result}
                out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
                count += 1
            day = following
    return count


CLIENTS = {"ExportTasksOperator": export_with_operator, "raw requests loop (floor)": export_by_hand}


def child(client: str, url: str, after: str, before: str, dest: str) -> None:
    started = time.perf_counter()
    count = CLIENTS[client](url, after, before, Path(dest))
    elapsed = time.perf_counter() - started
    print(json.dumps({"count": count, "s": elapsed, "peak_mib": own_peak_kib() / 1024}))


def own_peak_kib() -> int:
    """This process's peak resident memory, in KiB. On Linux ``VmHWM`` of ``/proc/self/status``:
    ``ru_maxrss`` also counts the parent's peak before ``exec`` (subprocess forks the benchmark,
    which holds the emulator and its seeded tasks), and would report that instead."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_child(client: str, url: str, after: str, before: str, dest: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.export", "--child", client, url, after, before, str(dest)],
        capture_output=True,
        text=True,
        check=False,
        env=dict(os.environ),
    )
    if done.returncode != 0:
        raise RuntimeError(f"{client} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def answer_bytes(url: str, after: str, before: str) -> int:
    """The size of the emulator's answer for the window (one day here), as it goes on the wire."""
    import requests

    from airflow_provider_annotation.signing import signed_headers

    body: dict[str, Any] = {"projectId": PROJECT, "completeTimeAfter": after, "completeTimeBefore": before}
    answer = requests.post(
        url + "/tasks/export", json=body, headers=signed_headers(ACCESS_KEY, SECRET_KEY), timeout=120
    )
    return len(answer.content)


def one_answer_table(results: int, baseline: dict[str, dict[str, Any]]) -> str:
    """Each client's peak RSS for one large answer, and its growth over the small export's peak
    (which holds the same imports and connection) as a multiple of the answer's size."""
    from airflow_provider_annotation.testing import Emulator

    rows = []
    with (
        tempfile.TemporaryDirectory() as folder,
        Emulator(access_key=ACCESS_KEY, secret_key=SECRET_KEY, port=0) as emulator,
    ):
        after, before = seed(emulator, results, results)
        size = answer_bytes(emulator.url, after, before)
        for client in CLIENTS:
            got = run_child(
                client, emulator.url, after, before, Path(folder) / f"one-{client.split()[0]}.jsonl"
            )
            growth = got["peak_mib"] - baseline[client]["peak_mib"]
            rows.append(
                [
                    client,
                    f"{size / 2**20:.1f} MiB",
                    f"{got['peak_mib']:.0f} MiB",
                    f"{growth:+.0f} MiB",
                    f"{growth * 2**20 / size:.1f}x",
                ]
            )
    return markdown_table(
        ["client", "answer", "peak RSS", "growth over the small export", "growth / answer"], rows
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.export", description=__doc__.split("\n")[0])
    parser.add_argument("--small", type=int, default=1000, help="results in the small export")
    parser.add_argument("--large", type=int, default=100_000, help="results in the large export")
    parser.add_argument("--per-day", type=int, default=1000, help="results per day (one call each)")
    parser.add_argument(
        "--one-answer", type=int, default=25_000, help="results in one day (one answer), for its memory cost"
    )
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    from airflow_provider_annotation.testing import Emulator

    rows = []
    runs: dict[int, dict[str, dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for size in (args.small, args.large):
            with Emulator(access_key=ACCESS_KEY, secret_key=SECRET_KEY, port=0) as emulator:
                after, before = seed(emulator, size, args.per_day)
                figures = {}
                for client in CLIENTS:
                    dest = Path(folder) / f"{size}-{client.split()[0]}.jsonl"
                    figures[client] = run_child(client, emulator.url, after, before, dest)
                    figures[client]["bytes"] = dest.stat().st_size
                files = {(Path(folder) / f"{size}-{c.split()[0]}.jsonl").read_bytes() for c in CLIENTS}
                if len(files) != 1:
                    raise RuntimeError(f"the two clients wrote different files for {size} results")
            runs[size] = figures
            floor = figures["raw requests loop (floor)"]["s"]
            for client, got in figures.items():
                rows.append(
                    [
                        client,
                        f"{got['count']:,}",
                        f"{got['bytes'] / 2**20:.1f} MiB",
                        f"{got['s']:.2f} s",
                        f"{got['s'] / got['count'] * 1e6:.1f} µs",
                        f"{got['s'] / floor:.2f}x",
                        f"{got['peak_mib']:.0f} MiB",
                    ]
                )
    headers = ["client", "results", "file", "wall time", "per result", "vs floor", "peak RSS"]
    print_section(
        f"Export to file:// ({args.per_day:,} results per day, one call per day)",
        markdown_table(headers, rows),
    )
    # The fixed cost (imports, connection, first call) cancels out between the two sizes.
    extra = args.large - args.small
    marginal = {c: (runs[args.large][c]["s"] - runs[args.small][c]["s"]) / extra * 1e6 for c in CLIENTS}
    floor_marginal = marginal["raw requests loop (floor)"]
    print_section(
        f"Marginal cost per result ({args.small:,} to {args.large:,} results)",
        markdown_table(
            ["client", "per result", "vs floor", "peak RSS growth"],
            [
                [
                    c,
                    f"{marginal[c]:.1f} µs",
                    f"{marginal[c] / floor_marginal:.2f}x",
                    f"{runs[args.large][c]['peak_mib'] - runs[args.small][c]['peak_mib']:+.0f} MiB",
                ]
                for c in CLIENTS
            ],
        ),
    )
    if args.one_answer:
        print_section(
            f"Memory for one answer ({args.one_answer:,} results in one day, one call)",
            one_answer_table(args.one_answer, runs[args.small]),
        )
    notes = "\n".join(f"- {k}: {v}" for k, v in machine_notes())
    print(f"\n{notes}\n- command: {command_line()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
