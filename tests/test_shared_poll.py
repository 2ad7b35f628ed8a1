"""Shared polls (issue 21): task triggers on one (connection, project) in one event loop read the
platform once per interval between them. Against the emulator over real HTTP; requests counted at
the emulator; no test waits on the clock, each waits on a count or an event (bounded)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_annotation.testing import Emulator, Fault
from airflow_provider_annotation.triggers import shared_poll
from airflow_provider_annotation.triggers.annotation import AnnotationBatchTrigger, AnnotationTaskTrigger
from tests.helpers import make_tasks, set_conn

LIMIT_S = 20.0


@pytest.fixture(autouse=True)
def fast_shared_pace(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests poll every 50 ms: no floor under the shared pace (a deployment keeps 1 s)."""
    monkeypatch.setenv("AIRFLOW__ANNOTATION__SHARED_POLL_MIN_INTERVAL", "0")
    monkeypatch.delenv("AIRFLOW__ANNOTATION__SHARE_POLLS", raising=False)


def trigger(conn_id: str, project_id: int, ids: list[str], **kwargs: Any) -> AnnotationTaskTrigger:
    kwargs.setdefault("end_time", time.time() + 60)
    kwargs.setdefault("poll_interval", 0.05)
    return AnnotationTaskTrigger(project_id=project_id, task_ids=ids, annotation_conn_id=conn_id, **kwargs)


def start(trig: Any) -> asyncio.Task:
    """The trigger's run as a task, as the triggerer runs it: its events, once it returns."""

    async def drain() -> list[dict]:
        return [event.payload async for event in trig.run()]

    return asyncio.ensure_future(drain())


async def until(condition: Callable[[], bool], what: str, limit: float = LIMIT_S) -> None:
    """Wait until `condition` holds (checked every few ms), failing after `limit` seconds."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {limit} s: {what}")
        await asyncio.sleep(0.005)


def requests_to(emulator: Emulator, endpoint: str) -> list[dict]:
    return [r for r in emulator.requests if r["endpoint"] == endpoint]


def progress_lines(logs: Any) -> list[str]:
    return [line for line in logs.text.splitlines() if "Progress: " in line]


def only_poller() -> shared_poll.SharedPoll:
    (poller,) = shared_poll.pollers().values()
    return poller


def test_two_triggers_on_one_project_share_one_request_per_interval(
    emulator: Emulator, make_hook, monkeypatch, logs
) -> None:
    project_id, ids = make_tasks(make_hook(), 4)
    conn = set_conn(monkeypatch, "shared_a", emulator.url)
    # Above the threshold each trigger alone would page /project/tasks: one request per poll each.
    first = trigger(conn, project_id, ids[:2], page_threshold=1)
    second = trigger(conn, project_id, ids[2:], page_threshold=1)

    async def scenario() -> tuple[list, list, int]:
        runs = [start(first), start(second)]
        await until(lambda: shared_poll.pollers() and only_poller().polls >= 4, "four shared polls")
        poller = only_poller()
        assert len(poller.waiters) == 2 and not any(run.done() for run in runs)
        for task_id in ids:
            emulator.set_task_status(task_id, 9)
        done = [await asyncio.wait_for(run, LIMIT_S) for run in runs]
        await until(lambda: poller._task.done(), "the poller stopped with its last waiter")
        assert shared_poll.pollers() == {}
        return done[0], done[1], poller.polls

    one, two, polls = asyncio.run(scenario())
    assert [e["status"] for e in one + two] == ["success", "success"]
    assert one[0]["complete"] == ids[:2] and two[0]["complete"] == ids[2:]
    assert one[0]["statuses"] == {ids[0]: 9, ids[1]: 9}
    listings = requests_to(emulator, "/project/tasks")
    # One listing per poll, for both triggers; each trigger judged every poll (its own line).
    assert len(listings) == polls and polls >= 4
    assert len(progress_lines(logs)) == 2 * polls
    assert not requests_to(emulator, "/task/get")


def test_without_sharing_each_trigger_sends_its_own_request(
    emulator: Emulator, make_hook, monkeypatch
) -> None:
    """The same pair with ``share_polls=False``, and with the global switch off: two requests a poll."""
    project_id, ids = make_tasks(make_hook(), 2)
    for task_id in ids:
        emulator.set_task_status(task_id, 9)
    conn = set_conn(monkeypatch, "shared_off", emulator.url)

    async def both(**kwargs: Any) -> list:
        runs = [start(trigger(conn, project_id, [t], page_threshold=0, **kwargs)) for t in ids]
        return [e for run in runs for e in await asyncio.wait_for(run, LIMIT_S)]

    assert [e["status"] for e in asyncio.run(both(share_polls=False))] == ["success"] * 2
    assert len(requests_to(emulator, "/project/tasks")) == 2
    monkeypatch.setenv("AIRFLOW__ANNOTATION__SHARE_POLLS", "False")
    assert [e["status"] for e in asyncio.run(both())] == ["success"] * 2
    assert len(requests_to(emulator, "/project/tasks")) == 4
    monkeypatch.delenv("AIRFLOW__ANNOTATION__SHARE_POLLS")
    assert [e["status"] for e in asyncio.run(both())] == ["success"] * 2
    assert len(requests_to(emulator, "/project/tasks")) == 5  # shared: one more


def test_a_trigger_cancelled_mid_wait_leaves_the_others_waiting(
    emulator: Emulator, make_hook, monkeypatch
) -> None:
    project_id, ids = make_tasks(make_hook(), 3)
    conn = set_conn(monkeypatch, "shared_cancel", emulator.url)
    triggers = [trigger(conn, project_id, [task_id]) for task_id in ids]

    async def scenario() -> list:
        runs = [start(t) for t in triggers]
        await until(lambda: shared_poll.pollers() and only_poller().polls >= 2, "two shared polls")
        # Cancelled between polls: on Python 3.11 `asyncio.wait_for` (poll_until's) loses a
        # cancellation that lands just as its read completes (fixed in 3.12).
        await until(lambda: only_poller().idle, "the poller waiting for the next poll")
        runs[0].cancel()  # the triggerer cancels a trigger (its task was cleared, say)
        with pytest.raises(asyncio.CancelledError):
            await runs[0]
        poller = only_poller()
        assert sorted(t for w in poller.waiters for t in w.wants) == sorted(ids[1:])  # its id left
        polls = poller.polls
        await until(lambda: poller.polls >= polls + 3, "three more polls after the cancel")
        assert not runs[1].done() and not runs[2].done()
        for task_id in ids[1:]:
            emulator.set_task_status(task_id, 9)
        done = [await asyncio.wait_for(run, LIMIT_S) for run in runs[1:]]
        assert shared_poll.pollers() == {}  # the last waiter gone: the poller stops
        await until(lambda: poller._task.done(), "the poller stopped")
        assert poller.hook is not None and poller.hook._client is None  # its hook closed
        return done

    done = asyncio.run(scenario())
    assert [[e["status"] for e in events] for events in done] == [["success"], ["success"]]
    assert len(requests_to(emulator, "/project/tasks")) >= 5  # one listing a poll for all three


def test_deadlines_hold_per_trigger(emulator: Emulator, make_hook, monkeypatch) -> None:
    project_id, ids = make_tasks(make_hook(), 2)
    conn = set_conn(monkeypatch, "shared_deadline", emulator.url)
    soon = trigger(conn, project_id, ids[:1], end_time=time.time() + 0.4)
    later = trigger(conn, project_id, ids[1:], end_time=time.time() + 60)

    async def scenario() -> tuple[list, list]:
        runs = [start(soon), start(later)]
        timed_out = await asyncio.wait_for(runs[0], LIMIT_S)
        poller = only_poller()
        assert not runs[1].done() and len(poller.waiters) == 1
        polls = poller.polls
        await until(lambda: poller.polls >= polls + 2, "the other trigger still polled")
        emulator.set_task_status(ids[1], 9)
        return timed_out, await asyncio.wait_for(runs[1], LIMIT_S)

    timed_out, succeeded = asyncio.run(scenario())
    assert timed_out == [{"status": "timeout", "message": "the deadline passed", "project_id": project_id}]
    assert [e["status"] for e in succeeded] == ["success"]


@pytest.mark.parametrize("per_task", [True, False], ids=["per-task", "listing"])
def test_a_failing_shared_poll_reaches_every_waiter_once(
    emulator: Emulator, make_hook, monkeypatch, logs, per_task: bool
) -> None:
    """A transient failure: one failed request, one warning in each waiter's log, then both go on.
    A final one: one request, one error event for each waiter."""
    project_id, ids = make_tasks(make_hook(), 1)
    endpoint = "/task/get" if per_task else "/project/tasks"
    conn = set_conn(monkeypatch, "shared_fail", emulator.url, max_attempts=1)
    threshold = 20 if per_task else 0
    emulator.inject(Fault.http(503, endpoint=endpoint))

    async def pair() -> list:
        runs = [start(trigger(conn, project_id, ids, page_threshold=threshold)) for _ in range(2)]
        await until(lambda: len(requests_to(emulator, endpoint)) >= 3, "polls after the failure")
        emulator.set_task_status(ids[0], 9)
        return [await asyncio.wait_for(run, LIMIT_S) for run in runs]

    done = asyncio.run(pair())
    assert [[e["status"] for e in events] for events in done] == [["success"], ["success"]]
    assert [r["status"] for r in requests_to(emulator, endpoint)][:2] == [503, 200]
    assert logs.text.count("Polling task statuses failed") == 2  # each waiter's own line, once
    assert logs.text.count(f"Shared poll of task statuses of project {project_id}") == 1  # the poll's

    emulator.reset()
    project_id, ids = make_tasks(make_hook(), 1)
    emulator.inject(Fault.failure(5837, endpoint=endpoint))  # no authority: no retry cures it

    async def pair_final() -> list:
        runs = [start(trigger(conn, project_id, ids, page_threshold=threshold)) for _ in range(2)]
        return [await asyncio.wait_for(run, LIMIT_S) for run in runs]

    done = asyncio.run(pair_final())
    assert [[e["status"] for e in events] for events in done] == [["error"], ["error"]]
    assert all("5837" in events[0]["message"] or "authority" in events[0]["message"] for events in done)
    assert len(requests_to(emulator, endpoint)) == 1


def test_waiters_on_two_connections_never_share(emulator: Emulator, make_hook, monkeypatch) -> None:
    project_id, ids = make_tasks(make_hook(), 1)
    conns = [set_conn(monkeypatch, name, emulator.url) for name in ("shared_conn_1", "shared_conn_2")]

    async def scenario() -> dict:
        runs = [start(trigger(conn, project_id, ids, page_threshold=0)) for conn in conns]
        await until(
            lambda: (
                len(shared_poll.pollers()) == 2 and all(p.polls >= 2 for p in shared_poll.pollers().values())
            ),
            "two pollers polling",
        )
        pollers = shared_poll.pollers()
        assert sorted(pollers) == [("tasks", conn, project_id) for conn in conns]
        assert [len(p.waiters) for p in pollers.values()] == [1, 1]
        emulator.set_task_status(ids[0], 9)
        for run in runs:
            assert [e["status"] for e in await asyncio.wait_for(run, LIMIT_S)] == ["success"]
        return {key: p.polls for key, p in pollers.items()}

    polls = asyncio.run(scenario())
    assert len(requests_to(emulator, "/project/tasks")) == sum(polls.values())


def test_one_waiters_bad_input_fails_only_that_waiter(emulator: Emulator, make_hook, monkeypatch) -> None:
    project_id, ids = make_tasks(make_hook(), 1)
    conn = set_conn(monkeypatch, "shared_bad", emulator.url)

    async def scenario() -> tuple[list, list]:
        good = start(trigger(conn, project_id, ids))
        await until(lambda: shared_poll.pollers() and only_poller().polls >= 1, "the good trigger polled")
        bad = await asyncio.wait_for(start(trigger(conn, project_id, ["not-a-task-id"])), LIMIT_S)
        assert len(only_poller().waiters) == 1 and not good.done()
        emulator.set_task_status(ids[0], 9)
        return bad, await asyncio.wait_for(good, LIMIT_S)

    bad, good = asyncio.run(scenario())
    assert [e["status"] for e in bad] == ["error"] and "task_ids[0]" in bad[0]["message"]
    assert [e["status"] for e in good] == ["success"]
    assert all(r["json"]["taskId"] == ids[0] for r in requests_to(emulator, "/task/get"))


def test_a_newcomer_is_read_at_once_not_at_the_others_next_interval(
    emulator: Emulator, make_hook, monkeypatch
) -> None:
    """A waiter polling every 10 minutes is there first; a newcomer's tasks are read by an early
    poll of its own ids, so it ends long before that waiter's next poll."""
    project_id, ids = make_tasks(make_hook(), 2)
    conn = set_conn(monkeypatch, "shared_newcomer", emulator.url)
    emulator.set_task_status(ids[1], 9)

    async def scenario() -> list:
        slow = start(trigger(conn, project_id, ids[:1], poll_interval=600))
        await until(lambda: shared_poll.pollers() and only_poller().polls >= 1, "the first poll")
        newcomer = await asyncio.wait_for(
            start(trigger(conn, project_id, ids[1:], poll_interval=600)), LIMIT_S
        )
        assert not slow.done()
        slow.cancel()
        return newcomer

    assert [e["status"] for e in asyncio.run(scenario())] == ["success"]
    assert [r["json"]["taskId"] for r in requests_to(emulator, "/task/get")] == ids  # one read each


def test_batch_triggers_on_one_batch_share_its_status_read(
    emulator: Emulator, make_hook, monkeypatch
) -> None:
    hook = make_hook()
    project_id, _ = make_tasks(hook, 1)
    monkeypatch.setattr(emulator.state.settings, "batch_polls_until_final", 1000)
    batch_id = hook.send_tasks(project_id, "https://files.example.com/a.jsonl")["batchId"]
    conn = set_conn(monkeypatch, "shared_batch", emulator.url)
    triggers = [
        AnnotationBatchTrigger(
            batch_id=batch_id, end_time=time.time() + 60, poll_interval=0.05, annotation_conn_id=conn
        )
        for _ in range(3)
    ]

    async def scenario() -> tuple[list, int]:
        runs = [start(t) for t in triggers]
        await until(lambda: shared_poll.pollers() and only_poller().polls >= 3, "three shared batch polls")
        poller = only_poller()
        emulator.set_batch(batch_id, status=3)
        done = [await asyncio.wait_for(run, LIMIT_S) for run in runs]
        return done, poller.polls

    done, polls = asyncio.run(scenario())
    assert [[e["status"] for e in events] for events in done] == [["final"]] * 3
    assert len(requests_to(emulator, "/task/send/status")) == polls


def test_share_polls_serializes_only_when_off() -> None:
    kwargs = {"project_id": 7, "task_ids": ["1"], "end_time": 1_900_000_000.0}
    _, on = AnnotationTaskTrigger(**kwargs).serialize()
    assert "share_polls" not in on  # a trigger serialized by the previous release loads the same
    _, off = AnnotationTaskTrigger(**kwargs, share_polls=False).serialize()
    assert off["share_polls"] is False
    assert AnnotationTaskTrigger(**json.loads(json.dumps(off))).share_polls is False
    _, batch = AnnotationBatchTrigger(batch_id="b1", end_time=1.0, share_polls=False).serialize()
    assert (
        batch["share_polls"] is False
        and "share_polls" not in AnnotationBatchTrigger(batch_id="b1", end_time=1.0).serialize()[1]
    )


def test_the_cheaper_read_is_chosen_once_a_listing_told_its_cost() -> None:
    assert shared_poll.plan_read(20, 20, None) == "per-task"
    assert shared_poll.plan_read(21, 20, None) == "listing"
    assert shared_poll.plan_read(1000, 20, 10) == "listing"  # 10 pages beat 1,000 reads
    assert shared_poll.plan_read(30, 20, 100) == "per-task"  # 30 reads beat 100 pages
    assert shared_poll.plan_read(5, 20, 5) == "per-task"  # a tie keeps the threshold's rule
    # Several waits, cost not known yet: a listing (it stops at as many pages as ids, and learns).
    assert shared_poll.plan_read(2, 20, None, shared=True) == "listing"
    assert shared_poll.plan_read(1, 20, None, shared=True) == "per-task"
    assert shared_poll.plan_read(1, 0, None, shared=True) == "listing"  # a threshold of 0: always
    assert shared_poll.plan_read(5, 20, 100, shared=True) == "per-task"


def test_the_shared_pace_is_the_shortest_interval_bounded_below(monkeypatch) -> None:
    monkeypatch.setenv("AIRFLOW__ANNOTATION__SHARED_POLL_MIN_INTERVAL", "1")

    async def scenario() -> list[float]:
        poller = shared_poll.SharedPoll("k", "c", None)
        poller._task.cancel()
        poller.waiters = [shared_poll.Waiter(("1",), 0.05)]
        alone = poller.pace()  # one wait keeps its own interval, as without sharing
        poller.waiters += [shared_poll.Waiter(("2",), 30.0), shared_poll.Waiter(("3",), 5.0)]
        shared = poller.pace()
        poller.waiters = poller.waiters[1:]
        return [alone, shared, poller.pace()]

    assert asyncio.run(scenario()) == [0.05, 1.0, 5.0]


def test_the_shared_waits_benchmark_runs_tiny_and_prints_its_table() -> None:
    """Kept working, never timed: each kind once, a few waits, sub-second intervals."""
    import subprocess
    import sys
    from pathlib import Path

    args = ["--projects", "2", "--waits", "3", "--tasks", "2", "--interval", "0.5", "--spread", "1"]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.shared_waits", *args],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    for row in shared_poll_kinds():
        assert f"| {row}" in done.stdout
    assert (
        "6 success" in done.stdout and "CPU per wait per interval, shared / HttpSensorTrigger" in done.stdout
    )


def shared_poll_kinds() -> list[str]:
    from benchmarks.shared_waits import KINDS

    return list(KINDS.values())
