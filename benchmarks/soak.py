"""Fault-injection soak: thousands of calls through AnnotationHook, nothing lost or doubled.

Every create gets its own projectId (every read its own page number), so the emulator's workflows
and request log say exactly what each call caused. A seeded random mix of faults is injected; each
call must end the way the hook's default policy promises for its fault: retryable faults succeed
after re-sending, ambiguous ones raise AnnotationMayHaveTakenEffectError without re-sending (0 or 1
workflow, as the fault acted), exhausted or persistent ones raise their typed error having created
nothing. Reads (`POST /project/list`) whose answer was lost are re-sent and succeed.

Concurrency: faults are a per-emulator FIFO, so with a shared emulator a fault meant for one
thread's call would be taken by whichever request arrived first. Each worker thread therefore has
its own in-process Emulator (own port, own state) and its own hook/connection: it injects the
faults for its next call, then makes it, so faults land on the intended call by construction.

The async path: `--waits` trigger waits (`AnnotationTaskTrigger`, half reading task by task, half
paging ``/project/tasks``) run at once on one event loop, as a triggerer runs them, against an
emulator serving a seeded mix of transient faults on every read; its tasks complete after a few
reads. Each wait must send exactly one event, ``success`` with every task complete (a second event
is a duplicate, none or another outcome is lost). Then hostile reads (gzip bombs of 1 GiB, one
stacked ``gzip, gzip``, an oversized answer, 300 KB task fields) each end their wait with one
``error`` event; the peak memory of the whole async part is printed and bounded.

    python -m benchmarks.soak [--calls 2000] [--threads 8] [--seed 1] [--waits 40]

Exits 1 if any call or wait was lost, doubled, or ended differently from what the policy promises,
or the async part's peak memory passed `WAIT_PEAK_LIMIT`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import random
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from airflow_provider_annotation.testing import Fault

#: Project ids of the soak's calls: FIRST_PROJECT + call index, unique across threads.
FIRST_PROJECT = 1_000_000
OK = "ok"


@dataclass(frozen=True)
class Knobs:
    """The connection settings that make the soak fast; fault timings are derived from them."""

    read_timeout: float
    max_attempts: int
    retry_after: str
    retry_ambiguous: bool = False  # the opt-in policy; the promises checked stay the default's

    @property
    def slow_delay(self) -> float:
        """Just past the read timeout, so the client gives up while the platform has acted."""
        return self.read_timeout + 0.15

    @property
    def total_timeout(self) -> float:
        """Each attempt's total deadline: a few read timeouts, so a drip of a byte per
        `drip_every` (under the read timeout) is ended by it and not by the read timeout."""
        return self.read_timeout * 3

    @property
    def drip_every(self) -> float:
        return self.read_timeout / 2


@dataclass(frozen=True)
class Case:
    """One fault class and what the default policy promises for a call that meets it."""

    name: str
    faults: Callable[[Knobs], list]  # -> list[Fault], queued before the call
    outcome: str  # OK or the short name of the typed error
    created: int  # workflows the emulator must hold for the call afterwards
    sends: Callable[[Knobs], int]  # requests the emulator must have received for the call
    read: bool = False  # a read (POST /project/list), not a create


#: One box tool in the docs' labeling-tool shape, for every project the soak makes.
LABELING_TOOLS = [
    {"key": "box2d-car", "type": "slot", "label": "car", "slotSpecification": {"type": "box2d"}}
]


def _cases() -> list[Case]:
    """The fault mix. Imported lazily: the emulator pulls in FastAPI/uvicorn."""
    from airflow_provider_annotation.testing import Fault

    once, twice = (lambda k: 1), (lambda k: 2)
    mhte = "MayHaveTakenEffect"
    return [
        Case("clean", lambda k: [], OK, 1, once),
        Case("429 + Retry-After", lambda k: [Fault.http(429, retry_after=k.retry_after)], OK, 1, twice),
        Case("503", lambda k: [Fault.http(503)], OK, 1, twice),
        Case("code 500 (HTTP 200)", lambda k: [Fault.failure(500)], OK, 1, twice),
        Case("signature expired once", lambda k: [Fault.expired()], OK, 1, twice),
        Case("signature expired twice", lambda k: [Fault.expired(times=2)], "ClockSkew", 0, twice),
        Case(
            "503 until attempts run out",
            lambda k: [Fault.http(503, times=k.max_attempts)],
            "Unavailable",
            0,
            lambda k: k.max_attempts,
        ),
        Case("drop, before acting", lambda k: [Fault.disconnect()], mhte, 0, once),
        Case("drop, after acting", lambda k: [Fault.disconnect(act=True)], mhte, 1, once),
        Case("slow past read timeout", lambda k: [Fault.slow(k.slow_delay, act=True)], mhte, 1, once),
        Case("HTML 502, not acted", lambda k: [Fault.html(502)], mhte, 0, once),
        Case("HTML 502, acted", lambda k: [Fault.html(502, act=True)], mhte, 1, once),
        Case("truncated JSON, acted", lambda k: [Fault.truncated(act=True)], mhte, 1, once),
        Case("truncated JSON, not acted", lambda k: [Fault.truncated(act=False)], mhte, 0, once),
        Case("body cut off mid-transfer, acted", lambda k: [Fault.cut(act=True)], mhte, 1, once),
        Case("body cut off mid-transfer, not acted", lambda k: [Fault.cut(act=False)], mhte, 0, once),
        Case(
            "429 then drop after acting",
            lambda k: [Fault.http(429, retry_after=k.retry_after), Fault.disconnect(act=True)],
            mhte,
            1,
            twice,
        ),
        Case("code 500 under HTTP 502", lambda k: [Fault.http(502, code=500)], OK, 1, twice),
        Case(
            "half success: code 200, success false",
            lambda k: [Fault.half_claimed("success-false")],
            mhte,
            1,
            once,
        ),
        Case('half success: code "200"', lambda k: [Fault.half_claimed("code-string")], mhte, 1, once),
        Case(
            "half success: success true, code 500",
            lambda k: [Fault.half_claimed("other-code")],
            mhte,
            1,
            once,
        ),
        Case("half success: id a string", lambda k: [Fault.half_claimed("id-string")], mhte, 1, once),
        Case("half success: id over 2**63", lambda k: [Fault.half_claimed("id-huge")], mhte, 1, once),
        Case("HTML 500, acted", lambda k: [Fault.html(500, act=True)], mhte, 1, once),
        Case("proxy 503 text, acted", lambda k: [Fault.text(503, act=True)], mhte, 1, once),
        Case("empty 500, acted", lambda k: [Fault.empty(500, act=True)], mhte, 1, once),
        Case("drip past total timeout, acted", lambda k: [Fault.drip_feed(k.drip_every)], mhte, 1, once),
        Case("oversized answer (8 MiB), acted", lambda k: [Fault.oversized(8 * 2**20)], mhte, 1, once),
        Case("gzip bomb (500 MiB), acted", lambda k: [Fault.gzip()], mhte, 1, once),
        Case("read: drop after acting", lambda k: [Fault.disconnect(act=True)], OK, 0, twice, read=True),
        Case("read: HTML 502", lambda k: [Fault.html(502)], OK, 0, twice, read=True),
        Case("read: proxy 503 text", lambda k: [Fault.text(503)], OK, 0, twice, read=True),
        Case("read: slow past read timeout", lambda k: [Fault.slow(k.slow_delay)], OK, 0, twice, read=True),
        Case("read: cut mid-body", lambda k: [Fault.cut(act=True)], OK, 0, twice, read=True),
        Case(
            "read: drip past total timeout",
            lambda k: [Fault.drip_feed(k.drip_every)],
            OK,
            0,
            twice,
            read=True,
        ),
        Case("read: code 500", lambda k: [Fault.failure(500)], OK, 0, twice, read=True),
        Case(
            "read: half success",
            lambda k: [Fault.half_claimed("success-false")],
            "Response",
            0,
            once,
            read=True,
        ),
    ]


def short_error_name(exc: BaseException) -> str:
    """`AnnotationMayHaveTakenEffectError` -> `MayHaveTakenEffect`; other exceptions keep their name."""
    name = type(exc).__name__
    if name.startswith("Annotation") and name.endswith("Error"):
        return name[len("Annotation") : -len("Error")]
    return name


@dataclass
class Call:
    """One call (a create, or a read of page `project_id`): what it met, what it returned or
    raised, on which emulator."""

    index: int
    case: Case
    worker: int
    outcome: str = ""
    workflow_id: int | None = None
    error: str = ""

    @property
    def project_id(self) -> int:
        return FIRST_PROJECT + self.index


def plan(calls: int, seed: int, clean_share: float, cases: Sequence[Case]) -> list[Case]:
    """The seeded fault for every call: `clean_share` clean, the rest spread evenly over faults."""
    rng = random.Random(seed)
    clean, faulty = cases[0], list(cases[1:])
    return [clean if rng.random() < clean_share else rng.choice(faulty) for _ in range(calls)]


def run_worker(emulator, hook, calls: list[Call], knobs: Knobs) -> None:
    """Inject each call's faults into this worker's own emulator, then make the call."""
    from airflow_provider_annotation.endpoints import PROJECT_LIST
    from airflow_provider_annotation.exceptions import AnnotationError

    for call in calls:
        emulator.inject(*call.case.faults(knobs))
        try:
            if call.case.read:
                body = {"status": 1, "dataType": 2, "offset": call.project_id, "limit": 1}  # both required
                hook.call(PROJECT_LIST, json=body)
            else:
                call.workflow_id = hook.create_workflow(call.project_id)
            call.outcome = OK
        except AnnotationError as exc:
            call.outcome = short_error_name(exc)
        except Exception as exc:  # noqa: BLE001 - an untyped error is a finding, not a crash
            call.outcome = f"untyped {type(exc).__name__}"
            call.error = str(exc)[:200]
        if emulator.faults:  # a fault left over would hit the next call: the plan is broken
            raise RuntimeError(f"call {call.index} ({call.case.name}) left faults queued: {emulator.faults}")


@dataclass
class Verdict:
    """How one call's outcome compares with the emulator's record and with the policy."""

    created: int
    sends: int
    duplicates: int
    lost: bool
    off_policy: bool


@dataclass
class EmulatorRecord:
    """What one emulator saw, by projectId, read once after its worker finished."""

    workflows: dict[int, dict]
    created: Counter = field(default_factory=Counter)
    sends: Counter = field(default_factory=Counter)

    @classmethod
    def read(cls, emulator) -> EmulatorRecord:
        record = cls(emulator.workflows)
        record.created.update(wf["projectId"] for wf in record.workflows.values())
        for request in emulator.requests:
            body = request["json"] if isinstance(request["json"], dict) else {}
            # A create names its projectId, a read its page: both unique to one call.
            record.sends[body.get("projectId", body.get("offset"))] += 1
        return record


def judge(call: Call, seen: EmulatorRecord, knobs: Knobs) -> Verdict:
    """Lost: an outcome the emulator cannot account for. Off-policy: anything the policy did not promise."""
    pid, case = call.project_id, call.case
    created, sends = seen.created[pid], seen.sends[pid]
    if case.read:
        lost = created > 0
    elif call.outcome == OK:
        workflow = seen.workflows.get(call.workflow_id)  # type: ignore[arg-type]
        lost = workflow is None or workflow["projectId"] != pid
    else:
        lost = created > 0 and call.outcome != "MayHaveTakenEffect"
    off_policy = (call.outcome, created, sends) != (case.outcome, case.created, case.sends(knobs))
    return Verdict(created, sends, max(0, created - 1), lost, off_policy)


def orphans(calls: Sequence[Call], records: Sequence[EmulatorRecord]) -> int:
    """Workflows the emulators hold for no call of this soak (also lost: nobody knows of them)."""
    expected = {(c.worker, c.project_id) for c in calls}
    return sum(
        1
        for worker, record in enumerate(records)
        for wf in record.workflows.values()
        if (worker, wf["projectId"]) not in expected
    )


def soak(
    calls: int, threads: int, seed: int, clean_share: float, knobs: Knobs
) -> tuple[list[Call], list, float]:
    """Run the whole soak; returns the calls, each worker's emulator record and the wall time."""
    from airflow_provider_annotation.hooks.annotation import AnnotationHook
    from airflow_provider_annotation.testing import Emulator

    planned = [Call(i, case, i % threads) for i, case in enumerate(plan(calls, seed, clean_share, _cases()))]
    emulators = [
        Emulator(access_key=ACCESS_KEY, secret_key=SECRET_KEY, port=0).start() for _ in range(threads)
    ]
    hooks = []
    try:
        for worker, emulator in enumerate(emulators):
            conn_id = f"annotation_soak_{worker}"
            set_connection(
                conn_id,
                "annotation",
                host=emulator.url,
                login=ACCESS_KEY,
                password=SECRET_KEY,
                extra={
                    "retry_base_delay": 0,
                    "max_attempts": knobs.max_attempts,
                    "max_retry_wait": 5,
                    "retry_ambiguous": knobs.retry_ambiguous,
                    "timeout": {"connect": 5, "read": knobs.read_timeout, "total": knobs.total_timeout},
                },
            )
            hooks.append(AnnotationHook(annotation_conn_id=conn_id))
        workers = [
            threading.Thread(
                target=run_worker,
                args=(emulators[w], hooks[w], [c for c in planned if c.worker == w], knobs),
                name=f"soak-worker-{w}",
            )
            for w in range(threads)
        ]
        started = time.perf_counter()
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()
        wall = time.perf_counter() - started
        records = [EmulatorRecord.read(emulator) for emulator in emulators]
    finally:
        for hook in hooks:
            hook.close()
        for emulator in emulators:
            emulator.stop()
    return planned, records, wall


def policy_text(case: Case, knobs: Knobs) -> str:
    outcome = ("data" if case.read else "workflow id") if case.outcome == OK else case.outcome
    return f"{outcome}, {case.created} made, {case.sends(knobs)} sent"


def report(calls: Sequence[Call], records: Sequence, wall: float, knobs: Knobs) -> int:
    """Print the per-fault table and totals; the number of problems found (0 = pass)."""
    verdicts = [judge(c, records[c.worker], knobs) for c in calls]
    rows: list[list[object]] = []
    totals: Counter[str] = Counter()
    for case in _cases():
        mine = [(c, v) for c, v in zip(calls, verdicts, strict=True) if c.case.name == case.name]
        if not mine:
            continue
        errors = Counter(c.outcome for c, _ in mine if c.outcome != OK)
        row = Counter(
            calls=len(mine),
            succeeded=sum(c.outcome == OK for c, _ in mine),
            created_once=sum(v.created == 1 for _, v in mine),
            sent=sum(v.sends for _, v in mine),
            duplicates=sum(v.duplicates for _, v in mine),
            lost=sum(v.lost for _, v in mine),
            off_policy=sum(v.off_policy for _, v in mine),
        )
        totals.update(row)
        totals["typed"] += sum(n for name, n in errors.items() if not name.startswith("untyped"))
        typed = ", ".join(f"{name} {n}" for name, n in sorted(errors.items())) or "-"
        rows.append(
            [
                case.name,
                policy_text(case, knobs),
                row["calls"],
                row["succeeded"],
                typed,
                row["created_once"],
                row["sent"],
                row["duplicates"],
                row["lost"],
                row["off_policy"],
            ]
        )
    stray = orphans(calls, records)
    rows.append(
        [
            "**total**",
            f"orphan workflows: {stray}",
            totals["calls"],
            totals["succeeded"],
            f"{totals['typed']} typed",
            totals["created_once"],
            totals["sent"],
            totals["duplicates"],
            totals["lost"] + stray,
            totals["off_policy"],
        ]
    )
    headers = [
        "fault",
        "policy promises",
        "calls",
        "succeeded",
        "typed error",
        "created once",
        "sent",
        "duplicates",
        "lost",
        "off-policy",
    ]
    print_section("Soak: outcome per fault class", markdown_table(headers, rows))
    for call, verdict in zip(calls, verdicts, strict=True):
        if verdict.lost or verdict.off_policy or verdict.duplicates:
            print(
                f"  call {call.index} project {call.project_id} [{call.case.name}]: {call.outcome} "
                f"{call.error} created={verdict.created} sent={verdict.sends}"
            )
    lost = totals["lost"] + stray
    problems = totals["duplicates"] + lost + totals["off_policy"]
    outcome = (
        "PASS"
        if problems == 0
        else (
            f"FAIL: {totals['duplicates']} duplicate(s), {lost} lost, "
            f"{totals['off_policy']} off-policy call(s)"
        )
    )
    print(f"\nwall time {wall:.1f} s, {len(calls) / wall:.0f} calls/s; {outcome}")
    return problems


# -- the async path: trigger waits under faults --------------------------------------------------

#: The most traced memory (Python allocations) the async part may peak at, bombs included.
WAIT_PEAK_LIMIT = 64 * 1024 * 1024
#: Tasks per wait: a few read one `/task/get` each; more than the trigger's threshold (20) page.
WAIT_SIZES = (2, 25)


def _transient_read_faults(knobs: Knobs) -> list[Callable[[], Fault]]:
    """Faults a read may meet that polling again cures (never two expired signatures in a row)."""
    from airflow_provider_annotation.testing import Fault

    return [
        lambda: Fault.http(503),
        lambda: Fault.http(429, retry_after=0),
        lambda: Fault.failure(500),
        lambda: Fault.disconnect(act=True),
        lambda: Fault.html(502),
        lambda: Fault.text(503),
        lambda: Fault.cut(act=True),
        lambda: Fault.truncated(act=True),
        lambda: Fault.slow(knobs.slow_delay),
    ]


def _hostile_reads() -> list[tuple[str, Callable[[], Fault]]]:
    """Answers no poll can use: each must end its wait with one error event, in bounded memory."""
    from airflow_provider_annotation.testing import Fault

    gib = 1024 * 1024 * 1024
    return [
        ("gzip bomb, 1 GiB", lambda: Fault.gzip(gib, times=1)),
        ("gzip, gzip bomb, 1 GiB in under 2 KB", lambda: Fault.gzip(gib, layers=2, times=1)),
        ("oversized answer, 64 MiB", lambda: Fault.oversized(64 * 2**20, times=1)),
        ("300 KB task status", lambda: Fault.spoiled_task("huge-status", times=1)),
        ("300 KB task id object", lambda: Fault.spoiled_task("object-id", times=1)),
    ]


@dataclass
class WaitResult:
    name: str
    expected: str
    events: list[dict]
    tasks: list[str]

    @property
    def duplicates(self) -> int:
        return max(0, len(self.events) - 1)

    @property
    def lost(self) -> bool:
        if not self.events or self.events[0].get("status") != self.expected:
            return True
        return self.expected == "success" and self.events[0].get("complete") != self.tasks


async def _events_of(trigger, limit: float) -> list[dict]:
    got: list[dict] = []

    async def drain() -> None:
        async for event in trigger.run():
            got.append(event.payload)

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(drain(), limit)
    return got


def soak_waits(waits: int, seed: int, knobs: Knobs) -> tuple[list[WaitResult], int, float, int, int]:
    """Run the async part; the results, the traced peak (bytes), the wall time, and the transient
    faults served and left over."""
    from airflow_provider_annotation.hooks.annotation import AnnotationHook
    from airflow_provider_annotation.testing import Emulator
    from airflow_provider_annotation.testing.asgi import _gzipped_padding
    from airflow_provider_annotation.triggers.annotation import AnnotationTaskTrigger

    rng = random.Random(seed)
    faults = _transient_read_faults(knobs)
    extra = {
        "retry_base_delay": 0,
        "max_attempts": knobs.max_attempts,
        "max_retry_wait": 5,
        "timeout": {"connect": 5, "read": knobs.read_timeout, "total": knobs.total_timeout},
    }
    with Emulator(access_key=ACCESS_KEY, secret_key=SECRET_KEY, port=0) as emulator:
        set_connection(
            "annotation_soak_waits",
            "annotation",
            host=emulator.url,
            login=ACCESS_KEY,
            password=SECRET_KEY,
            extra=extra,
        )
        with AnnotationHook(annotation_conn_id="annotation_soak_waits") as hook:
            plans = []
            for i in range(waits):
                size = WAIT_SIZES[i % len(WAIT_SIZES)]
                project = hook.create_project(
                    f"soak-{i}",
                    data_type=2,
                    deadline="2030-01-01",
                    operators=LABELING_TOOLS,
                )
                made = hook.request_annotation(project.project_id, [f"w{i}-{j}" for j in range(size)])
                plans.append((f"{size} tasks", project.project_id, made.task_ids))
            hostile = []
            for name, fault in _hostile_reads():
                project = hook.create_project(
                    f"soak-hostile-{name}"[:60],
                    data_type=2,
                    deadline="2030-01-01",
                    operators=LABELING_TOOLS,
                )
                hostile.append(
                    (
                        name,
                        fault,
                        project.project_id,
                        hook.request_annotation(project.project_id, [f"{name}-0"]).task_ids,
                    )
                )
        emulator.state.settings.tasks_complete_after_reads = 3
        for path in ("/task/get", "/project/tasks"):
            emulator.inject(
                *[dataclasses.replace(rng.choice(faults)(), endpoint=path) for _ in range(waits * 2)]
            )

        def trigger(project_id: int, tasks: list[str], seconds: float) -> AnnotationTaskTrigger:
            return AnnotationTaskTrigger(
                project_id=project_id,
                task_ids=tasks,
                end_time=time.time() + seconds,
                poll_interval=0.05,
                annotation_conn_id="annotation_soak_waits",
            )

        async def all_waits() -> list[list[dict]]:
            return await asyncio.gather(*(_events_of(trigger(p, t, 120), 150) for _, p, t in plans))

        tracemalloc.start()
        try:
            started = time.perf_counter()
            results = [
                WaitResult(n, "success", ev, t)
                for (n, _, t), ev in zip(plans, asyncio.run(all_waits()), strict=True)
            ]
            wall = time.perf_counter() - started
            left = emulator.clear_faults()
            # Hostile reads: tasks stay as they are, so only the hostile answer can end the wait; the
            # emulator makes its 1 GiB padding once, before, as a prepared attacker would.
            emulator.state.settings.tasks_complete_after_reads = 0
            _gzipped_padding(1024 * 1024 * 1024)
            for name, fault, project_id, tasks in hostile:
                emulator.inject(fault())
                events = asyncio.run(_events_of(trigger(project_id, tasks, 30), 60))
                emulator.clear_faults()
                results.append(WaitResult(name, "error", events, tasks))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return results, peak, wall, 4 * waits - left, left


def report_waits(results: Sequence[WaitResult], peak: int, wall: float, served: int, left: int) -> int:
    """Print the async part's table; the number of problems found (0 = pass)."""
    rows: list[list[object]] = []
    names = list(dict.fromkeys(r.name for r in results))
    for name in names:
        mine = [r for r in results if r.name == name]
        rows.append(
            [
                name,
                f"one {mine[0].expected} event",
                len(mine),
                sum(len(r.events) == 1 and not r.lost for r in mine),
                sum(r.duplicates for r in mine),
                sum(r.lost for r in mine),
            ]
        )
    duplicates = sum(r.duplicates for r in results)
    lost = sum(r.lost for r in results)
    rows.append(
        [
            "**total**",
            f"transient faults served: {served}, unused: {left}",
            len(results),
            len(results) - lost,
            duplicates,
            lost,
        ]
    )
    print_section(
        "Soak, async path: trigger waits under faults",
        markdown_table(["wait", "promised", "waits", "as promised", "duplicates", "lost"], rows),
    )
    for r in results:
        if r.lost or r.duplicates:
            print(f"  {r.name}: events {[(e.get('status'), str(e.get('message'))[:120]) for e in r.events]}")
    over = peak > WAIT_PEAK_LIMIT
    outcome = (
        "PASS"
        if not (duplicates or lost or over)
        else (f"FAIL: {duplicates} duplicate(s), {lost} lost" + (", memory over the limit" if over else ""))
    )
    print(
        f"\nwaits wall time {wall:.1f} s; traced peak {peak / 2**20:.1f} MiB "
        f"(limit {WAIT_PEAK_LIMIT / 2**20:.0f} MiB, 1 GiB bombs included); {outcome}"
    )
    return duplicates + lost + int(over)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls in all (default 2000)")
    parser.add_argument("--threads", type=int, default=8, help="workers, each with its own hook and emulator")
    parser.add_argument("--seed", type=int, default=1, help="seed of the fault mix")
    parser.add_argument("--clean-share", type=float, default=0.3, help="share of calls with no fault")
    parser.add_argument(
        "--waits", type=int, default=40, help="trigger waits of the async part, run at once (0: none)"
    )
    parser.add_argument("--read-timeout", type=float, default=0.3, help="the hook's read timeout, seconds")
    parser.add_argument("--max-attempts", type=int, default=5, help="the hook's max_attempts extra")
    parser.add_argument("--retry-after", default="0", help="Retry-After value the 429 faults send")
    parser.add_argument(
        "--retry-ambiguous",
        action="store_true",
        help="turn on the opt-in retry_ambiguous extra, to see the duplicates the default policy prevents "
        "(checked against the default policy's promises, so this run is expected to fail)",
    )
    args = parser.parse_args(argv)
    if args.calls < 1 or args.threads < 1 or args.waits < 0 or not 0 <= args.clean_share <= 1:
        parser.error(
            "--calls and --threads must be positive, --waits at least 0, --clean-share within [0, 1]"
        )
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    knobs = Knobs(args.read_timeout, args.max_attempts, args.retry_after, args.retry_ambiguous)
    quiet_airflow_logs("ERROR")
    print(
        f"Soak: {args.calls} calls, {args.threads} thread(s), seed {args.seed}, "
        f"read timeout {knobs.read_timeout:g} s, total timeout {knobs.total_timeout:g} s, "
        f"slow faults {knobs.slow_delay:g} s, drip a byte every {knobs.drip_every:g} s, "
        f"retry_base_delay 0, Retry-After {knobs.retry_after}"
        + (", retry_ambiguous ON" if knobs.retry_ambiguous else ""),
        flush=True,
    )
    calls, records, wall = soak(args.calls, args.threads, args.seed, args.clean_share, knobs)
    problems = report(calls, records, wall, knobs)
    if args.waits:
        problems += report_waits(*soak_waits(args.waits, args.seed, knobs))
    print_section("Machine", markdown_table(["", ""], machine_notes()))
    print(f"\ncommand: {command_line()}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
