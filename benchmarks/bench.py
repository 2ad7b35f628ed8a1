"""What the provider costs: DAG-parse import time and per-call overhead, side by side with
apache-airflow-providers-http, plus the emulator's throughput to read the per-call figures against.

    python -m benchmarks.bench [--parse-reps 15] [--calls 1000] [--throughput-seconds 3]
    python -m benchmarks.bench --triggers-only [--trigger-count 1000] [--trigger-duration 60]

Needs the `benchmark` extra (apache-airflow-providers-http). Speed is reported, never asserted:
the targets are printed next to the figures as met or missed, and the exit code ignores them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from benchmarks._common import (
    ACCESS_KEY,
    SECRET_KEY,
    command_line,
    machine_notes,
    markdown_table,
    median,
    percentile,
    print_section,
    quiet_airflow_logs,
    set_connection,
)

OPERATOR_MODULE = "airflow_provider_annotation.operators.annotation"
HTTP_OPERATOR_MODULE = "airflow.providers.http.operators.http"
PARSE_TARGET_S = 0.015
PARSE_TARGET_SHARE = 0.10
CALL_TARGET_RATIO = 1.15
HTTP_LIBRARIES = frozenset({"requests", "urllib3", "httpx", "aiohttp", "httpcore", "pycurl"})

#: The body every client sends: the platform's documented default workflow, spelled out.
POOLS: list[dict[str, Any]] = [
    {"name": "Distribution pool", "type": 0, "runMode": 0},
    {"name": "Labeling pool", "type": 1, "runMode": 0, "workers": ["alice", "bob"]},
    {"name": "Inspection pool", "type": 2, "runMode": 0, "workers": ["carol"]},
    {"name": "Completion pool", "type": 5, "runMode": 0},
]

# -- DAG-parse cost ------------------------------------------------------------------------------

#: Run in a fresh interpreter: what importing argv[1] adds once airflow.sdk (which every DAG file
#: imports) is loaded, and which top-level packages it drags in.
_IMPORT_CHILD = """
import importlib, json, sys, time
import airflow.sdk
before = {name.split(".")[0] for name in sys.modules}
started = time.perf_counter()
importlib.import_module(sys.argv[1])
elapsed = time.perf_counter() - started
print(json.dumps({"s": elapsed, "new": sorted({n.split(".")[0] for n in sys.modules} - before)}))
"""


def import_cost_once(module: str) -> tuple[float, list[str]]:
    """Seconds `import module` takes on top of airflow.sdk in a fresh process, and new packages."""
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_CHILD, module], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"importing {module} failed:\n{done.stderr.strip()[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["s"], result["new"]


def parse_cost(modules: Sequence[str], reps: int) -> dict[str, tuple[list[float], list[str]]]:
    """Each module `reps` times, interleaved so machine drift hits all of them alike."""
    times: dict[str, list[float]] = {m: [] for m in modules}
    new: dict[str, list[str]] = {}
    for _ in range(reps):
        for module in modules:
            seconds, new[module] = import_cost_once(module)
            times[module].append(seconds)
    return {m: (times[m], new[m]) for m in modules}


def parse_table(results: dict[str, tuple[list[float], list[str]]], ours: str, reference: str) -> str:
    ref_median = median(results[reference][0])
    rows = []
    for module, (times, new) in results.items():
        http = sorted(HTTP_LIBRARIES.intersection(new))
        rows.append(
            [
                f"`{module}`",
                f"{median(times) * 1000:.1f}",
                f"{min(times) * 1000:.1f}",
                f"{max(times) * 1000:.1f}",
                f"{median(times) / ref_median:.3f}",
                ", ".join(http) or "none",
                len(new),
            ]
        )
    table = markdown_table(
        [
            "module imported after airflow.sdk",
            "median ms",
            "min ms",
            "max ms",
            "x HttpOperator",
            "HTTP libraries added",
            "new top-level packages",
        ],
        rows,
    )
    ours_median = median(results[ours][0])
    met = ours_median <= PARSE_TARGET_S and ours_median <= PARSE_TARGET_SHARE * ref_median
    verdict = (
        f"target: <= {PARSE_TARGET_S * 1000:.0f} ms and <= {PARSE_TARGET_SHARE:.0%} of HttpOperator's "
        f"-> {'met' if met else 'MISSED'} ({ours_median * 1000:.1f} ms, "
        f"{ours_median / ref_median:.1%}); {len(results[ours][0])} fresh processes per module"
    )
    return f"{table}\n\n{verdict}"


# -- emulator process --------------------------------------------------------------------------


class EmulatorProcess:
    """The emulator in its own process, so its CPU does not share the GIL with the measured client."""

    def __init__(self, *args: str) -> None:
        env = dict(
            os.environ, ANNOTATION_EMULATOR_ACCESS_KEY=ACCESS_KEY, ANNOTATION_EMULATOR_SECRET_KEY=SECRET_KEY
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "airflow_provider_annotation.testing.emulator", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        found = re.search(r"(http://\S+)", line)
        if not found:
            self.stop()
            raise RuntimeError(f"the emulator did not print its URL (got {line!r})")
        self.url = found.group(1)

    def cpu_seconds(self) -> float | None:
        """User+system CPU the emulator process has used (Linux /proc), None elsewhere."""
        try:
            with open(f"/proc/{self.proc.pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


# -- per-call cost -----------------------------------------------------------------------------


def workflow_id_of(envelope: dict[str, Any]) -> int:
    """What every hand-written client must do with the answer: check the envelope, take the id."""
    if envelope.get("success") is not True or envelope.get("code") != 200:
        raise RuntimeError(f"create failed: {envelope!r}")
    return int(envelope["data"]["workflowId"])


def body_for(project_id: int) -> dict[str, Any]:
    return {"projectId": project_id, "workflow": {"pools": POOLS}}


def raw_client(url: str) -> Callable[[int], int]:
    """The floor: one kept `requests.Session` posting the signed body, nothing else."""
    import requests

    from airflow_provider_annotation.endpoints import CREATE_WORKFLOW
    from airflow_provider_annotation.signing import signed_headers

    session = requests.Session()

    def call(project_id: int) -> int:
        headers = signed_headers(ACCESS_KEY, SECRET_KEY)
        response = session.post(
            url + CREATE_WORKFLOW.path, json=body_for(project_id), headers=headers, timeout=30
        )
        return workflow_id_of(response.json())

    return call


def annotation_hook_client(url: str) -> Callable[[int], int]:
    """The provider: `AnnotationHook.create_workflow` on a connection from the environment."""
    from airflow_provider_annotation.hooks.annotation import AnnotationHook

    set_connection("annotation_bench", "annotation", host=url, login=ACCESS_KEY, password=SECRET_KEY)
    hook = AnnotationHook(annotation_conn_id="annotation_bench")
    return lambda project_id: hook.create_workflow(project_id, POOLS)


def http_hook_client(url: str) -> Callable[[int], int]:
    """The same call by hand through the generic HttpHook: sign, JSON body, parse the envelope."""
    from urllib.parse import urlsplit

    from airflow.providers.http.hooks.http import HttpHook

    from airflow_provider_annotation.endpoints import CREATE_WORKFLOW
    from airflow_provider_annotation.signing import signed_headers

    parts = urlsplit(url)
    set_connection("annotation_bench_http", "http", host=parts.hostname, port=parts.port, schema=parts.scheme)
    hook = HttpHook(method="POST", http_conn_id="annotation_bench_http")

    def call(project_id: int) -> int:
        headers = signed_headers(ACCESS_KEY, SECRET_KEY)
        response = hook.run(CREATE_WORKFLOW.path, json=body_for(project_id), headers=headers)
        return workflow_id_of(response.json())

    return call


CLIENTS: dict[str, Callable[[str], Callable[[int], int]]] = {
    "raw requests.Session (floor)": raw_client,
    "AnnotationHook.create_workflow": annotation_hook_client,
    "HttpHook.run, by hand": http_hook_client,
}


def per_call(url: str, calls: int, warmup: int) -> dict[str, list[float]]:
    """Seconds per call for each client: warm up, then rounds of one call each, rotating the order
    every round so drift and ordering effects are shared out evenly."""
    clients = {name: make(url) for name, make in CLIENTS.items()}
    names = list(clients)
    project_id = 0
    for _ in range(warmup):
        for name in names:
            project_id += 1
            clients[name](project_id)
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(calls):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            project_id += 1
            started = time.perf_counter()
            clients[name](project_id)
            times[name].append(time.perf_counter() - started)
    return times


def per_call_in_child(url: str, calls: int, warmup: int, log_level: str) -> dict[str, list[float]]:
    """`per_call` in a fresh interpreter: Airflow's logging is configured once per process (loggers
    are cached), so each log level gets its own process, all against the same emulator."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.bench",
        "--measure-calls",
        url,
        "--calls",
        str(calls),
        "--warmup",
        str(warmup),
        "--log-level",
        log_level,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"per-call run at log level {log_level} failed:\n{done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def call_rows(log_level: str, times: dict[str, list[float]]) -> list[list[Any]]:
    """One row per client; ratios against the floor measured in the same process."""
    floor_name = next(iter(times))
    floor_median, floor_p95 = median(times[floor_name]), percentile(times[floor_name], 95)
    return [
        [
            log_level,
            name,
            len(samples),
            f"{median(samples) * 1000:.3f}",
            f"{percentile(samples, 95) * 1000:.3f}",
            f"{median(samples) / floor_median:.2f}",
            f"{percentile(samples, 95) / floor_p95:.2f}",
        ]
        for name, samples in times.items()
    ]


def call_table(by_level: dict[str, dict[str, list[float]]]) -> str:
    rows = [row for level, times in by_level.items() for row in call_rows(level, times)]
    table = markdown_table(
        ["Airflow log level", "client", "calls", "median ms", "p95 ms", "x floor (median)", "x floor (p95)"],
        rows,
    )
    verdicts = []
    for level, times in by_level.items():
        ratio = median(times["AnnotationHook.create_workflow"]) / median(next(iter(times.values())))
        verdicts.append(f"{'met' if ratio <= CALL_TARGET_RATIO else 'MISSED'} at {level} ({ratio:.2f}x)")
    return (
        f"{table}\n\ntarget: AnnotationHook within {CALL_TARGET_RATIO}x of the floor (median) -> "
        + "; ".join(verdicts)
    )


# -- emulator throughput -----------------------------------------------------------------------


def throughput(emulator: EmulatorProcess, threads: int, seconds: float) -> tuple[float, float | None]:
    """Signed creates per second from `threads` threads, each with its own session; and the share
    of one core the emulator used meanwhile (near 100% means the emulator was the bottleneck)."""
    deadline = time.perf_counter() + seconds
    counts = [0] * threads

    def worker(slot: int) -> None:
        call = raw_client(emulator.url)
        project_id = slot * 10_000_000 + 1
        while time.perf_counter() < deadline:
            call(project_id)
            counts[slot] += 1
            project_id += 1

    cpu_before, started = emulator.cpu_seconds(), time.perf_counter()
    pool = [threading.Thread(target=worker, args=(slot,)) for slot in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed, cpu_after = time.perf_counter() - started, emulator.cpu_seconds()
    busy = None if cpu_before is None or cpu_after is None else (cpu_after - cpu_before) / elapsed
    return sum(counts) / elapsed, busy


def throughput_table(results: dict[int, tuple[float, float | None]], seconds: float) -> str:
    """Requests/s, plus the emulator's CPU per request: its own ceiling on one core, whoever was
    the bottleneck in this run (with few cores the clients' GIL often is)."""
    rows = []
    for threads, (rate, busy) in results.items():
        if not rate:  # no call finished inside the window (a very short run on a loaded machine)
            rows.append([threads, "0", "-", "-" if busy is None else f"{busy:.0%}", "-", "-"])
            continue
        cpu_ms = None if busy is None else busy / rate * 1000
        rows.append(
            [
                threads,
                f"{rate:.0f}",
                f"{1000 / rate * threads:.2f}",
                "-" if busy is None else f"{busy:.0%}",
                "-" if cpu_ms is None else f"{cpu_ms:.2f}",
                "-" if not cpu_ms else f"{1000 / cpu_ms:.0f}",
            ]
        )
    table = markdown_table(
        [
            "client threads",
            "requests/s",
            "ms per request per thread",
            "emulator CPU (one core = 100%)",
            "emulator CPU ms per request",
            "emulator ceiling req/s",
        ],
        rows,
    )
    return (
        f"{table}\n\n{seconds:g} s per row; raw signed creates, each thread with its own requests.Session. "
        "The emulator serves from one asyncio loop: CPU near 100% means it was the bottleneck, "
        "lower means the clients were."
    )


# -- waiting triggers --------------------------------------------------------------------------

TRIGGER_TARGET_RATIO = 0.5
#: A path the emulator answers 404: the only "keep waiting" answer HttpSensorTrigger knows.
HTTP_SENSOR_PATH = "/task/status-404"


def _rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def triggers_once(kind: str, url: str, project_id: int, task_ids: list[str], duration: float) -> dict:
    """`len(task_ids)` triggers of `kind` waiting at once on one event loop for `duration` seconds,
    each polling every second: CPU, polls, memory per trigger and the loop's worst lag."""
    import asyncio

    from airflow.providers.http.hooks.http import HttpAsyncHook

    polls = [0]
    if kind == "annotation":
        from airflow_provider_annotation.triggers.annotation import AnnotationTaskTrigger

        set_connection("bench_annotation", "annotation", host=url, login=ACCESS_KEY, password=SECRET_KEY)
        from airflow_provider_annotation.hooks import async_transport

        original: Any = async_transport.exchange

        async def counted(*args: Any) -> Any:  # one per attempt, as the httpx adapter sends it
            polls[0] += 1
            return await original(*args)

        async_transport.exchange = counted  # type: ignore[assignment]
        end = time.time() + duration
        triggers: list[Any] = [
            AnnotationTaskTrigger(
                project_id=project_id,
                task_ids=[task_id],
                end_time=end,
                poll_interval=1.0,
                annotation_conn_id="bench_annotation",
            )
            for task_id in task_ids
        ]
    else:
        from airflow.providers.http.triggers.http import HttpSensorTrigger

        host, port = url.removeprefix("http://").split(":")
        set_connection("bench_http", "http", host=host, port=int(port), schema="http")
        original_run: Any = HttpAsyncHook.run

        async def counted_run(self: Any, *args: Any, **kwargs: Any) -> Any:
            polls[0] += 1
            return await original_run(self, *args, **kwargs)

        HttpAsyncHook.run = counted_run  # type: ignore[method-assign]
        triggers = [
            HttpSensorTrigger(endpoint=HTTP_SENSOR_PATH, http_conn_id="bench_http", poke_interval=1.0)
            for _ in task_ids
        ]

    async def drain(trigger: Any) -> None:
        async for _ in trigger.run():
            return

    # What every trigger imports on its first run, imported once before the clock starts: a
    # triggerer pays it once, not per poll.
    import aiohttp  # noqa: F401

    import airflow_provider_annotation.hooks.annotation  # noqa: F401

    async def scenario() -> dict:
        lag = [0.0]
        running = True

        async def monitor() -> None:
            while running:
                before = time.perf_counter()
                await asyncio.sleep(0.05)
                lag[0] = max(lag[0], time.perf_counter() - before - 0.05)

        rss_before = _rss_bytes()
        watcher = asyncio.ensure_future(monitor())
        started, cpu_started = time.perf_counter(), time.process_time()
        tasks = [asyncio.ensure_future(drain(t)) for t in triggers]
        await asyncio.sleep(min(5.0, duration / 2))
        rss_waiting = _rss_bytes()
        done, pending = await asyncio.wait(
            tasks, timeout=max(duration - (time.perf_counter() - started), 0.1)
        )
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        cpu = time.process_time() - cpu_started
        wall = time.perf_counter() - started
        running = False
        await watcher
        return {
            "cpu_s": cpu,
            "wall_s": wall,
            "polls": polls[0],
            "rss_per_trigger": (rss_waiting - rss_before) / len(triggers),
            "worst_lag_s": lag[0],
            "ended_early": len(done),
        }

    return asyncio.run(scenario())


def triggers_in_child(kind: str, url: str, project_id: int, task_ids: list[str], duration: float) -> dict:
    """`triggers_once` in a fresh process, so memory and CPU are the triggers' alone."""
    spec = json.dumps({"kind": kind, "url": url, "project_id": project_id, "task_ids": task_ids})
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.bench",
            "--measure-triggers",
            spec,
            "--trigger-duration",
            str(duration),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=duration + 300,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def trigger_section(count: int, duration: float) -> str:
    """Both triggers against one emulator process, one after the other, each in a fresh process."""
    from airflow_provider_annotation.hooks.annotation import AnnotationHook

    with EmulatorProcess("--tasks-complete-after-reads", "0") as emulator:
        set_connection("bench_setup", "annotation", host=emulator.url, login=ACCESS_KEY, password=SECRET_KEY)
        with AnnotationHook("bench_setup") as hook:
            project = hook.create_project(
                "triggers",
                data_type=2,
                deadline="2030-01-01",
                operators=[
                    {"key": "k", "type": "slot", "label": "x", "slotSpecification": {"type": "box2d"}}
                ],
            )
            task_ids = hook.request_annotation(project.project_id, [f"d{i}" for i in range(count)]).task_ids
        results = {}
        for kind in ("annotation", "http"):
            emulator_cpu = emulator.cpu_seconds()
            results[kind] = triggers_in_child(kind, emulator.url, project.project_id, task_ids, duration)
            after = emulator.cpu_seconds()
            results[kind]["emulator_cpu_s"] = (
                None if after is None or emulator_cpu is None else after - emulator_cpu
            )
    rows = []
    names = {
        "annotation": "AnnotationTaskTrigger (/task/get, signed, envelope judged)",
        "http": f"HttpSensorTrigger (GET {HTTP_SENSOR_PATH}, 404 = keep waiting)",
    }
    for kind, r in results.items():
        polls = max(r["polls"], 1)
        rows.append(
            [
                names[kind],
                r["polls"],
                f"{r['polls'] / r['wall_s']:.0f}",
                f"{r['cpu_s'] / polls * 1000:.3f}",
                f"{r['rss_per_trigger'] / 1024:.1f}",
                f"{r['worst_lag_s'] * 1000:.0f}",
                "-" if r["emulator_cpu_s"] is None else f"{r['emulator_cpu_s'] / polls * 1000:.3f}",
            ]
        )
    table = markdown_table(
        [
            "trigger",
            "polls",
            "polls/s",
            "CPU ms per poll",
            "memory per waiting trigger (KiB RSS)",
            "event loop's worst lag (ms)",
            "emulator CPU ms per poll",
        ],
        rows,
    )
    ours = results["annotation"]["cpu_s"] / max(results["annotation"]["polls"], 1)
    theirs = results["http"]["cpu_s"] / max(results["http"]["polls"], 1)
    ratio = ours / theirs
    verdict = (
        f"CPU per poll, ours / HttpSensorTrigger: {ratio:.2f} -> target at most {TRIGGER_TARGET_RATIO:.2f} "
        f"{'met' if ratio <= TRIGGER_TARGET_RATIO else 'MISSED'}; {count} triggers, {duration:g} s each, "
        "one event loop in a fresh process per trigger kind, emulator in its own process"
    )
    return f"{table}\n\n{verdict}"


# -- main --------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--module", default=OPERATOR_MODULE, help="the provider module whose import is timed")
    parser.add_argument("--reference", default=HTTP_OPERATOR_MODULE, help="the module to compare it with")
    parser.add_argument("--parse-reps", type=int, default=15, help="fresh processes per module (default 15)")
    parser.add_argument("--calls", type=int, default=1000, help="timed calls per client (default 1000)")
    parser.add_argument("--warmup", type=int, default=50, help="untimed calls per client first (default 50)")
    parser.add_argument("--throughput-seconds", type=float, default=3.0, help="seconds per throughput row")
    parser.add_argument("--throughput-threads", type=int, default=4, help="threads of the second row")
    parser.add_argument(
        "--log-levels",
        default="INFO,WARNING",
        help="Airflow log levels to time calls at, one process each (default INFO,WARNING: INFO is what "
        "a task logs; lines are formatted and written to /dev/null)",
    )
    # Internal: one per-call run in this process, printed as JSON (see per_call_in_child).
    parser.add_argument("--measure-calls", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--log-level", default="INFO", help=argparse.SUPPRESS)
    parser.add_argument(
        "--triggers", action="store_true", help="also run the waiting-triggers section (about 2 minutes)"
    )
    parser.add_argument("--triggers-only", action="store_true", help="run only the waiting-triggers section")
    parser.add_argument(
        "--trigger-count", type=int, default=1000, help="triggers waiting at once (default 1000)"
    )
    parser.add_argument(
        "--trigger-duration", type=float, default=60.0, help="seconds each kind of trigger waits (default 60)"
    )
    # Internal: one trigger run in this process, printed as JSON (see triggers_in_child).
    parser.add_argument("--measure-triggers", metavar="JSON", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.trigger_count < 1 or not args.trigger_duration > 0:
        parser.error("--trigger-count and --trigger-duration must be positive")
    if min(args.parse_reps, args.calls, args.throughput_threads) < 1 or args.warmup < 0:
        parser.error("--parse-reps, --calls and --throughput-threads must be positive")
    args.log_levels = [level.strip().upper() for level in args.log_levels.split(",") if level.strip()]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.measure_calls:
        quiet_airflow_logs(args.log_level)
        print(json.dumps(per_call(args.measure_calls, args.calls, args.warmup)))
        return 0
    if args.measure_triggers:
        quiet_airflow_logs("WARNING")
        spec = json.loads(args.measure_triggers)
        figures = triggers_once(
            spec["kind"], spec["url"], spec["project_id"], spec["task_ids"], args.trigger_duration
        )
        print(json.dumps(figures))
        return 0
    print("Benchmark: what the provider costs", flush=True)
    print_section("Machine", markdown_table(["", ""], machine_notes()))
    if args.triggers_only:
        print_triggers(args)
        print(f"\ncommand: {command_line()}")
        return 0

    results = parse_cost([args.module, args.reference], args.parse_reps)
    print_section(
        "DAG-parse cost (import on top of airflow.sdk, fresh process each)",
        parse_table(results, args.module, args.reference),
    )

    with EmulatorProcess() as emulator:
        by_level = {
            level: per_call_in_child(emulator.url, args.calls, args.warmup, level)
            for level in args.log_levels
        }
        print_section(
            f"Per create call, emulator in its own process on loopback ({args.warmup} warm-up calls "
            f"per client, then {args.calls} rounds of one call per client, order rotated each round)",
            call_table(by_level),
        )
        rates = {
            n: throughput(emulator, n, args.throughput_seconds) for n in sorted({1, args.throughput_threads})
        }
        print_section("Emulator throughput", throughput_table(rates, args.throughput_seconds))
    if args.triggers:
        print_triggers(args)
    print(f"\ncommand: {command_line()}")
    return 0


def print_triggers(args: argparse.Namespace) -> None:
    print_section(
        f"Waiting triggers: {args.trigger_count} at once in one event loop, each polling every second "
        f"for {args.trigger_duration:g} s (logs at WARNING)",
        trigger_section(args.trigger_count, args.trigger_duration),
    )


if __name__ == "__main__":
    raise SystemExit(main())
