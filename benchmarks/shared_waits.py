"""Waiting at scale (issue 21): many deferred waits in one triggerer loop, with shared polls, without
them, and `HttpSensorTrigger` polling one URL per wait, side by side in one run.

    python -m benchmarks.shared_waits [--projects 10] [--waits 100] [--tasks 10] [--interval 10]

Each kind runs in a fresh child process (one asyncio loop, as in a triggerer) against the emulator in
its own process. Our waits end as their tasks complete: the benchmark completes each wait's tasks
through the emulator's control plane at a time spread over `--spread` intervals, starting at the
second. `HttpSensorTrigger` cannot wait on our tasks (it only tells a 404 from anything else), so
its waits poll a path the emulator answers 404, one URL per wait, for as many intervals as our
shared run took. Figures per wait-interval (a wait's lifetime over the poke interval, summed over
the waits): CPU seconds of the trigger process; requests per interval counted at the client (the
emulator counts the same); peak RSS (VmHWM); the event loop's longest block. Speed is reported,
never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
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

#: Goals from the issue: CPU per wait per interval at most this share of HttpSensorTrigger's, and
#: requests per interval at most the listing pages of the waited-on projects.
CPU_GOAL_SHARE = 0.10
#: Page size of the shared listing (`triggers.annotation.PAGE_SIZE`).
PAGE_SIZE = 100
HTTP_SENSOR_PATH = "/task/status-404"
KINDS = {
    "shared": "AnnotationTaskTrigger, shared polls (default)",
    "unshared": "AnnotationTaskTrigger, share_polls=False",
    "http": "HttpSensorTrigger, one 404 URL per wait",
}


def _peak_rss_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


# -- the child: one kind of trigger, many waits, one event loop ----------------------------------------


def measure(spec: dict[str, Any]) -> dict[str, Any]:
    """Run the waits of `spec` in this process until they all end (or `spec["seconds"]` pass for the
    HTTP kind); print ``READY`` once they are all started, so the parent starts completing tasks."""
    import asyncio

    kind, url, interval = spec["kind"], spec["url"], spec["interval"]
    sent: list[float] = []
    if kind == "http":
        from airflow.providers.http.hooks.http import HttpAsyncHook
        from airflow.providers.http.triggers.http import HttpSensorTrigger

        host, port = url.removeprefix("http://").split(":")
        set_connection("bench_http", "http", host=host, port=int(port), schema="http")
        original_run: Any = HttpAsyncHook.run

        async def counted_run(self: Any, *args: Any, **kwargs: Any) -> Any:
            sent.append(time.monotonic())
            return await original_run(self, *args, **kwargs)

        HttpAsyncHook.run = counted_run  # type: ignore[method-assign]
        triggers: list[Any] = [
            HttpSensorTrigger(
                endpoint=f"{HTTP_SENSOR_PATH}/{i}", http_conn_id="bench_http", poke_interval=interval
            )
            for i in range(spec["count"])
        ]
        import aiohttp  # noqa: F401 - what the first run imports, not timed
    else:
        from airflow_provider_annotation.triggers.annotation import AnnotationTaskTrigger

        set_connection("bench_annotation", "annotation", host=url, login=ACCESS_KEY, password=SECRET_KEY)
        from airflow_provider_annotation.hooks import async_transport

        original: Any = async_transport.exchange

        async def counted(*args: Any) -> Any:  # one per attempt, as the httpx adapter sends it
            sent.append(time.monotonic())
            return await original(*args)

        async_transport.exchange = counted  # type: ignore[assignment]
        end = time.time() + spec["seconds"] + 600
        triggers = [
            AnnotationTaskTrigger(
                project_id=project_id,
                task_ids=task_ids,
                end_time=end,
                poll_interval=interval,
                annotation_conn_id="bench_annotation",
                share_polls=kind == "shared",
            )
            for project_id, task_ids in spec["waits"]
        ]
    import airflow_provider_annotation.hooks.annotation  # noqa: F401 - imported once by a triggerer

    async def scenario() -> dict[str, Any]:
        lag, later_lag, running = [0.0], [0.0], True

        async def monitor() -> None:
            while running:
                before = time.perf_counter()
                await asyncio.sleep(0.05)
                late = time.perf_counter() - before - 0.05
                lag[0] = max(lag[0], late)
                if time.monotonic() - started > interval:  # once the triggers have started
                    later_lag[0] = max(later_lag[0], late)

        lifetimes: list[float] = []
        statuses: dict[str, int] = {}

        async def drain(trigger: Any) -> None:
            began = time.monotonic()
            try:
                async for event in trigger.run():
                    status = str(event.payload.get("status")) if isinstance(event.payload, dict) else "fired"
                    statuses[status] = statuses.get(status, 0) + 1
                    return
            finally:
                lifetimes.append(time.monotonic() - began)

        samples: list[tuple[float, int]] = []  # (CPU s so far, waits still waiting), each interval

        async def sampler() -> None:
            while running:
                samples.append((time.process_time() - cpu_started, len(triggers) - len(lifetimes)))
                await asyncio.sleep(interval)

        watcher = asyncio.ensure_future(monitor())
        started, cpu_started = time.monotonic(), time.process_time()
        sampling = asyncio.ensure_future(sampler())
        tasks = [asyncio.ensure_future(drain(t)) for t in triggers]
        print("READY", flush=True)
        _, pending = await asyncio.wait(tasks, timeout=spec["seconds"])
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        cpu, wall = time.process_time() - cpu_started, time.monotonic() - started
        running = False
        await watcher
        sampling.cancel()
        # After the first interval (starting 1,000 triggers costs what it costs once): CPU per
        # waiting wait in each later interval.
        steady = [
            (later[0] - earlier[0]) / earlier[1]
            for earlier, later in zip(samples[1:], samples[2:], strict=False)
            if earlier[1]
        ]
        buckets = [0] * (int(wall // interval) + 1)
        for moment in sent:
            buckets[min(int((moment - started) // interval), len(buckets) - 1)] += 1
        return {
            "cpu_s": cpu,
            "wall_s": wall,
            "requests": len(sent),
            "per_interval": buckets,
            "wait_intervals": sum(lifetimes) / interval,
            "waits": len(triggers),
            "unfinished": len(pending),
            "statuses": statuses,
            "worst_lag_s": lag[0],
            "worst_later_lag_s": later_lag[0],
            "peak_rss": _peak_rss_bytes(),
            "steady_cpu_per_wait_interval": statistics.median(steady) if steady else None,
        }

    return asyncio.run(scenario())


# -- the parent: set up, complete tasks over time, compare ---------------------------------------------


def make_waits(url: str, projects: int, waits: int, tasks: int, tag: str) -> list[tuple[int, list[str]]]:
    """`projects` new projects, each holding `waits` × `tasks` new tasks; one wait per `tasks` ids."""
    from airflow_provider_annotation.hooks.annotation import AnnotationHook

    set_connection("bench_setup", "annotation", host=url, login=ACCESS_KEY, password=SECRET_KEY)
    operators = [{"key": "k", "type": "slot", "label": "x", "slotSpecification": {"type": "box2d"}}]
    found: list[tuple[int, list[str]]] = []
    with AnnotationHook("bench_setup") as hook:
        for p in range(projects):
            project = hook.create_project(
                f"{tag}-{p}", data_type=2, deadline="2030-01-01", operators=operators
            )
            ids = hook.request_annotation(
                project.project_id, [f"{tag}-{p}-{i}" for i in range(waits * tasks)]
            ).task_ids
            found += [(project.project_id, ids[w * tasks : (w + 1) * tasks]) for w in range(waits)]
    return found


def complete_over_time(
    url: str, waits: list[tuple[int, list[str]]], interval: float, spread: float, stop: threading.Event
) -> None:
    """Complete each wait's tasks (status 9, through the emulator's control plane) at a time spread
    evenly over `spread` intervals from the second interval on, in a shuffled order."""
    import requests

    order = list(waits)
    random.Random(21).shuffle(order)
    session, started = requests.Session(), time.monotonic()
    for k, (_, task_ids) in enumerate(order):
        due = started + interval * (1 + spread * k / max(len(order) - 1, 1))
        if stop.wait(max(due - time.monotonic(), 0)):
            return
        for task_id in task_ids:
            session.post(f"{url}/_emulator/tasks/{task_id}/status", json={"status": 9}, timeout=30)


def run_kind(
    emulator: Any, spec: dict[str, Any], complete: list[tuple[int, list[str]]] | None, spread: float
) -> dict:
    """One kind in a fresh child process; the parent completes the tasks meanwhile."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as spec_file:
        json.dump(spec, spec_file)  # 10,000 task ids do not fit on a command line
    child = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.shared_waits", "--measure", spec_file.name],
        stdout=subprocess.PIPE,
        text=True,
    )
    stop, driver = threading.Event(), None
    cpu_before = emulator.cpu_seconds()
    try:
        line = child.stdout.readline() if child.stdout else ""
        if line.strip() != "READY":
            raise RuntimeError(f"the {spec['kind']} child did not start (got {line!r})")
        if complete is not None:
            driver = threading.Thread(
                target=complete_over_time, args=(emulator.url, complete, spec["interval"], spread, stop)
            )
            driver.start()
        out, _ = child.communicate(timeout=spec["seconds"] + 600)
    finally:
        stop.set()
        if driver is not None:
            driver.join()
        if child.poll() is None:
            child.kill()
        os.unlink(spec_file.name)
    if child.returncode != 0:
        raise RuntimeError(f"the {spec['kind']} child failed ({child.returncode})")
    result = json.loads(out.strip().splitlines()[-1])
    after = emulator.cpu_seconds()
    result["emulator_cpu_s"] = None if after is None or cpu_before is None else after - cpu_before
    return result


def table(results: dict[str, dict], pages: int, interval: float) -> str:
    rows = []
    for kind, r in results.items():
        full = r["per_interval"][:-1] or r["per_interval"]  # the last interval is cut short
        per_wait_interval = r["cpu_s"] / max(r["wait_intervals"], 1e-9)
        rows.append(
            [
                KINDS[kind],
                r["waits"],
                f"{r['wall_s']:.0f}",
                f"{r['wait_intervals']:,.0f}",
                f"{r['cpu_s']:.1f}",
                f"{per_wait_interval * 1e6:,.0f}",
                "-"
                if r["steady_cpu_per_wait_interval"] is None
                else f"{r['steady_cpu_per_wait_interval'] * 1e6:,.0f}",
                f"{r['requests']:,}",
                f"{statistics.median(full):,.0f} / {max(full):,}",
                f"{r['peak_rss'] / 2**20:.0f}",
                f"{r['worst_lag_s'] * 1000:,.0f} / {r['worst_later_lag_s'] * 1000:,.0f}",
                "-" if r["emulator_cpu_s"] is None else f"{r['emulator_cpu_s']:.1f}",
                ", ".join(
                    [f"{n} {s}" for s, n in sorted(r["statuses"].items())]
                    + ([f"{r['unfinished']} still waiting at the end"] if r["unfinished"] else [])
                ),
            ]
        )
    text = markdown_table(
        [
            "trigger",
            "waits",
            "wall s",
            "wait-intervals",
            "CPU s",
            "CPU µs per wait per interval",
            "same, after the first interval (median)",
            "requests",
            "requests per interval (median / max)",
            "peak RSS MiB",
            "longest loop block ms (all / after the first interval)",
            "emulator CPU s",
            "events",
        ],
        rows,
    )
    notes = []
    if "shared" in results and "http" in results:
        ours = results["shared"]["cpu_s"] / max(results["shared"]["wait_intervals"], 1e-9)
        theirs = results["http"]["cpu_s"] / max(results["http"]["wait_intervals"], 1e-9)
        share = ours / theirs
        notes.append(
            f"CPU per wait per interval, shared / HttpSensorTrigger: {share:.3f} -> goal at most "
            f"{CPU_GOAL_SHARE:.2f}: {'met' if share <= CPU_GOAL_SHARE else 'MISSED'}"
        )
        ours_steady = results["shared"]["steady_cpu_per_wait_interval"]
        theirs_steady = results["http"]["steady_cpu_per_wait_interval"]
        if ours_steady and theirs_steady:
            notes.append(
                f"the same after the first interval: {ours_steady / theirs_steady:.3f} -> "
                f"{'met' if ours_steady / theirs_steady <= CPU_GOAL_SHARE else 'MISSED'}"
            )
    if "shared" in results:
        full = results["shared"]["per_interval"][:-1] or results["shared"]["per_interval"]
        notes.append(
            f"requests per interval, shared (max over full intervals): {max(full)} -> goal at most "
            f"{pages} (the listing pages of the waited-on projects, {PAGE_SIZE} tasks a page): "
            f"{'met' if max(full) <= pages else 'MISSED'}"
        )
    notes.append(f"poke interval {interval:g} s; each kind in a fresh process, emulator in its own process")
    return text + "\n\n" + "\n".join(f"- {n}" for n in notes)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.shared_waits", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--projects", type=int, default=10, help="projects waited on (default 10)")
    parser.add_argument("--waits", type=int, default=100, help="waits per project (default 100)")
    parser.add_argument("--tasks", type=int, default=10, help="tasks per wait (default 10)")
    parser.add_argument("--interval", type=float, default=10.0, help="poke interval, seconds (default 10)")
    parser.add_argument(
        "--spread", type=float, default=3.0, help="intervals over which the waits complete (default 3)"
    )
    parser.add_argument("--kinds", default="shared,unshared,http", help="which kinds to run, in order")
    parser.add_argument("--measure", metavar="FILE", help=argparse.SUPPRESS)  # internal: one child run
    args = parser.parse_args(argv)
    if min(args.projects, args.waits, args.tasks) < 1 or not args.interval > 0 or args.spread < 0:
        parser.error("--projects, --waits, --tasks and --interval must be positive, --spread at least 0")
    args.kinds = [k for k in args.kinds.split(",") if k]
    if not args.kinds or set(args.kinds) - set(KINDS):
        parser.error(f"--kinds: a comma-separated subset of {', '.join(KINDS)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.measure:
        quiet_airflow_logs("WARNING")
        with open(args.measure, encoding="utf-8") as spec_file:
            print(json.dumps(measure(json.load(spec_file))), flush=True)
        return 0
    from benchmarks.bench import EmulatorProcess

    count = args.projects * args.waits
    pages = args.projects * -(-(args.waits * args.tasks) // PAGE_SIZE)
    print(
        f"Benchmark: {count:,} deferred waits "
        f"({args.projects} projects x {args.waits} waits x {args.tasks} tasks)"
    )
    print_section("Machine", markdown_table(["", ""], machine_notes()))
    results: dict[str, dict] = {}
    # Long enough for every wait to end, with room for a loaded machine.
    seconds = args.interval * (args.spread + 4) * 3
    with EmulatorProcess("--tasks-complete-after-reads", "0") as emulator:
        for kind in args.kinds:
            spec: dict[str, Any] = {"kind": kind, "url": emulator.url, "interval": args.interval}
            if kind == "http":
                took = results.get("shared", {}).get("wall_s", args.interval * (args.spread + 2))
                spec.update(count=count, seconds=took)
                results[kind] = run_kind(emulator, spec, None, args.spread)
            else:
                waits = make_waits(emulator.url, args.projects, args.waits, args.tasks, f"bench-{kind}")
                spec.update(waits=waits, seconds=seconds)
                results[kind] = run_kind(emulator, spec, waits, args.spread)
            print(
                f"  {kind}: {results[kind]['wall_s']:.0f} s, {results[kind]['requests']:,} requests",
                flush=True,
            )
    print_section(
        f"{count:,} waits in one event loop until all complete "
        "(HttpSensorTrigger: as long as the shared run)",
        table(results, pages, args.interval),
    )
    print(f"\ncommand: {command_line()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
