"""Waiting on the platform: what the sensor's poke, the three triggers and the operators' waits on a
worker share, in one place, so no two of them can read, page, judge or time out differently.

- reading task statuses: one ``/task/get`` per task up to the page threshold, above it pages of
  ``/project/tasks`` (`PAGE_SIZE` a page, `paging.Pager`'s rule) until every wanted task was seen;
  `read_statuses` on the sync hook, `a_read_statuses` on the async one, both through `WantedTasks`;
- which errors a wait outlives (`is_transient`: the hooks' own retry decision for a read);
- the events (`EVENT_STATUSES`, `BATCH_EVENT_STATUSES`, `DATASET_EVENT_STATUSES`, `event_message`)
  and their wording (`describe`, `dataset_outcome`), stall warnings (`StallWarnings`);
- the deferral grace (`DEFER_GRACE_SECONDS`) and the loop, one `Deadline` under both
  `poll_until` (the triggers, async) and `wait_until` (a worker, sync).

No Airflow and no HTTP library: the hooks are handed in, so the sensor and the operators import it
at no parse cost and the triggerer pays only for what it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_annotation.endpoints import PROJECT_TASKS, TASK_GET, Effect, Endpoint
from airflow_provider_annotation.exceptions import (
    AnnotationApiError,
    AnnotationError,
    AnnotationResponseError,
)
from airflow_provider_annotation.paging import task_key
from airflow_provider_annotation.redaction import MESSAGE_CHARS, scrub
from airflow_provider_annotation.status import WaitVerdict

if TYPE_CHECKING:
    from airflow_provider_annotation.datasets import DatasetState
    from airflow_provider_annotation.hooks.annotation import AnnotationHook
    from airflow_provider_annotation.hooks.async_annotation import AnnotationAsyncHook
    from airflow_provider_annotation.hooks.retry import RetryPolicy

__all__ = [
    "unexpected_event",
    "BATCH_EVENT_STATUSES",
    "DATASET_EVENT_STATUSES",
    "DEFAULT_PAGE_THRESHOLD",
    "DEFER_GRACE_SECONDS",
    "EVENT_STATUSES",
    "PAGE_SIZE",
    "TIMEOUT_OUTCOME",
    "Deadline",
    "StallWarnings",
    "WantedTasks",
    "a_read_statuses",
    "all_or_none",
    "dataset_outcome",
    "describe",
    "event_message",
    "is_transient",
    "poll_until",
    "read_statuses",
    "statuses_of",
    "wait_until",
]

T = TypeVar("T")

#: Extra time Airflow gives a deferred task beyond its own deadline before failing it regardless:
#: the trigger's ``timeout`` event comes first.
DEFER_GRACE_SECONDS = 300

#: Every status an event of the task trigger can carry.
EVENT_STATUSES = frozenset({"success", "failure", "timeout", "error"})
#: Every status an event of the batch trigger can carry (``final``: the operator judges the summary).
BATCH_EVENT_STATUSES = frozenset({"final", "timeout", "error"})
#: Every status an event of the dataset trigger can carry: ``ready`` (status 2), ``failure``
#: (status -1, the platform's reason in ``message``), ``timeout``, ``error``.
DATASET_EVENT_STATUSES = frozenset({"ready", "failure", "timeout", "error"})
#: The fields of every trigger's ``timeout`` event.
TIMEOUT_OUTCOME: Mapping[str, str] = {"status": "timeout", "message": "the deadline passed"}

#: Page size when a wait pages ``/project/tasks`` instead of asking per task.
PAGE_SIZE = 100
#: Up to this many tasks a wait reads one ``/task/get`` each; above it, pages of ``/project/tasks``.
DEFAULT_PAGE_THRESHOLD = 20


# -- which errors a wait outlives ------------------------------------------------------------------


@cache
def _read_policy() -> RetryPolicy:
    """One attempt, no wait: asks the hooks' retry rule only whether a read may be sent again
    (imported on the first error, so importing this module costs no retry library)."""
    from airflow_provider_annotation.hooks.retry import RetryPolicy

    return RetryPolicy(max_attempts=1, max_retry_wait=0.0, base_delay=0.0, retry_ambiguous=False)


def is_transient(err: BaseException) -> bool:
    """Whether polling again may cure `err`: the hook's own retry decision for a read."""
    from airflow_provider_annotation.hooks.retry import should_retry

    return isinstance(err, AnnotationApiError) and should_retry(err, Effect.READ, _read_policy())


def event_message(err: BaseException) -> str:
    """An error as a trigger event's message: its type and text, scrubbed and cut (the text may
    quote what the server sent)."""
    return scrub(f"{type(err).__name__}: {err}", limit=MESSAGE_CHARS)


def unexpected_event(event: Any, statuses: Collection[str], source: str) -> str | None:
    """Why `event` is not one `source` (a trigger of ours) sends, or None: a dict whose ``status``
    is one of `statuses`. The sensor and every deferring operator check their event this way; the
    message quotes the event scrubbed and cut, as any text that may hold a server's words."""
    if isinstance(event, dict) and event.get("status") in statuses:
        return None
    return scrub(f"unexpected event from {source}: {event!r}", limit=MESSAGE_CHARS)


# -- reading task statuses ---------------------------------------------------------------------------


def statuses_of(tasks: Iterable[Mapping[str, Any]], endpoint: Endpoint) -> dict[str, int]:
    """``{task id: status}`` of task objects (``id`` or ``taskId``); a status that is not an integer
    is an answer the platform does not give: AnnotationResponseError."""
    found: dict[str, int] = {}
    for task in tasks:
        task_id = task_key(task)
        status = task.get("status")
        if not isinstance(status, int) or isinstance(status, bool):
            raise AnnotationResponseError(
                f"task {scrub(task_id)}: status is {scrub(repr(status))}, not an integer",
                endpoint=endpoint.path,
                method=endpoint.method,
            )
        found[str(task_id)] = status
    return found


class WantedTasks:
    """The statuses of the wanted tasks met in a ``/project/tasks`` listing; `take` says when every
    one was met, so a poll stops paging there. Tasks not wanted are not checked."""

    def __init__(self, task_ids: Iterable[str]) -> None:
        self.wanted = set(task_ids)
        self.statuses: dict[str, int] = {}

    def take(self, task: Mapping[str, Any]) -> bool:
        """Keep `task`'s status if it is wanted; True once every wanted task was met."""
        if task_key(task) in self.wanted:
            self.statuses.update(statuses_of([task], PROJECT_TASKS))
        return len(self.statuses) == len(self.wanted)


def reads_each_task(task_ids: Sequence[str], page_threshold: int) -> bool:
    """Whether a poll asks ``/task/get`` per task (up to `page_threshold` tasks) or pages."""
    return len(task_ids) <= page_threshold


def read_statuses(
    hook: AnnotationHook, project_id: int, task_ids: Sequence[str], page_threshold: int
) -> dict[str, int]:
    """The statuses seen now, on a worker: `a_read_statuses`'s reads, one after the other."""
    if reads_each_task(task_ids, page_threshold):
        return statuses_of((hook.get_task(project_id, t) for t in task_ids), TASK_GET)
    wanted = WantedTasks(task_ids)
    for task in hook.iter_project_tasks(project_id, page_size=PAGE_SIZE):
        if wanted.take(task):
            break  # the generator is closed with its last reference: no further page is asked
    return wanted.statuses


async def a_read_statuses(
    hook: AnnotationAsyncHook, project_id: int, task_ids: Sequence[str], page_threshold: int
) -> dict[str, int]:
    """The statuses seen now: one ``/task/get`` per task, all at once (`all_or_none`), or pages of
    ``/project/tasks`` (`paging.Pager`'s rule) until every wanted task was seen."""
    if reads_each_task(task_ids, page_threshold):
        answers = await all_or_none(hook.get_task(project_id, t) for t in task_ids)
        return statuses_of(answers, TASK_GET)
    wanted = WantedTasks(task_ids)
    async with contextlib.aclosing(hook.iter_project_tasks(project_id, page_size=PAGE_SIZE)) as tasks:
        async for task in tasks:
            if wanted.take(task):
                break
    return wanted.statuses


async def all_or_none(reads: Iterable[Awaitable[Any]]) -> list[Any]:
    """The results of `reads`, run at once and in order; the first failure cancels the reads still
    running (the next poll sends them afresh) and is raised itself."""
    running = [asyncio.ensure_future(read) for read in reads]
    try:
        await asyncio.wait(running, return_when=asyncio.FIRST_EXCEPTION)
    finally:  # also when the poll itself is cancelled (its deadline passed)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
    failed = next((t for t in running if not t.cancelled() and t.exception() is not None), None)
    if failed is not None:
        raise failed.exception()  # type: ignore[misc]
    return [task.result() for task in running]


# -- what a wait says ------------------------------------------------------------------------------


def describe(verdict: WaitVerdict) -> str:
    """One line for the log and for a failure: what succeeded, what failed."""
    text = f"{len(verdict.complete)} of {len(verdict.statuses)} seen tasks complete (needed {verdict.needed})"
    if verdict.failed:
        failed = ", ".join(f"{t} (status {verdict.statuses[t]})" for t in verdict.failed)
        text += f"; failed: {failed}"
    return text


class StallWarnings:
    """A warning once per task that waits on a person (paused, suspended), however many polls see it."""

    def __init__(self) -> None:
        self.warned: set[str] = set()

    def warn(self, verdict: WaitVerdict, log: Any) -> None:
        for task_id in sorted(set(verdict.stalled) - self.warned):
            log.warning(
                "Task %s is stalled (status %s): nothing moves until someone resumes it; still waiting",
                task_id,
                verdict.statuses[task_id],
            )
        self.warned.update(verdict.stalled)


def dataset_outcome(state: DatasetState) -> dict[str, Any] | None:
    """The event fields for a dataset that left BUILDING, None while it builds; the dataset
    operator's wait on a worker decides with this too."""
    from airflow_provider_annotation.datasets import DatasetStatus

    if state.status == DatasetStatus.BUILDING:
        return None
    if state.status == DatasetStatus.READY:
        return {"status": "ready", "message": "", "dataset_status": state.status}
    return {
        "status": "failure",
        "message": state.message or "the platform gives no reason",
        "dataset_status": state.status,
    }


# -- the loop ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    """The absolute end of a wait (epoch seconds, so a restarted triggerer keeps it) and its pace."""

    end_time: float
    poll_interval: float

    def remaining(self) -> float:
        return self.end_time - time.time()

    def pause(self) -> float | None:
        """Seconds to rest before the next read, never past the end; None once the end passed."""
        remaining = self.remaining()
        return min(self.poll_interval, remaining) if remaining > 0 else None


async def poll_until(
    read: Callable[[], Awaitable[Any]],
    decide: Callable[[Any], dict[str, Any] | None],
    *,
    end_time: float,
    poll_interval: float,
    base: dict[str, Any],
    log: Any,
    what: str,
) -> AsyncIterator[dict[str, Any]]:
    """The one wait of every trigger: `read`, then `decide` (an event's fields, or None to wait on)
    until the absolute `end_time` (epoch seconds). A read never outlives `end_time`, so the
    ``timeout`` event comes before Airflow's own deferral timeout. Transient errors are logged and
    read again; any other error ends the wait with an ``error`` event, its message scrubbed and cut
    (`event_message`). Yields exactly one event, `base` included."""
    deadline = Deadline(end_time, poll_interval)
    while (remaining := deadline.remaining()) > 0:
        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for loses a cancellation that lands
            # as the read completes, and a cancelled trigger would poll on.
            async with asyncio.timeout(remaining):
                answer = await read()
            outcome = decide(answer)
        except TimeoutError:
            break
        except AnnotationError as err:
            if not is_transient(err):
                yield {**base, "status": "error", "message": event_message(err)}
                return
            log.warning("%s failed (%s); polling again", what, err)
        else:
            if outcome is not None:
                yield {**base, **outcome}
                return
        pause = deadline.pause()
        if pause is None:
            break
        await asyncio.sleep(pause)
    yield {**base, **TIMEOUT_OUTCOME}


def wait_until(
    read: Callable[[], Any],
    decide: Callable[[Any], T | None],
    *,
    timeout: float,
    poll_interval: float,
    log: Any,
    what: str,
) -> T | None:
    """`poll_until` on a worker: `read`, then `decide`, every `poll_interval` seconds; the first
    answer `decide` gives, or None once `timeout` seconds passed. Transient errors are logged and read
    again; any other is raised, for the operator to word. The first read happens whatever `timeout`."""
    deadline = Deadline(time.time() + timeout, poll_interval)
    while True:
        try:
            outcome = decide(read())
        except AnnotationError as err:
            if not is_transient(err):
                raise
            log.warning("%s failed (%s); polling again", what, err)
        else:
            if outcome is not None:
                return outcome
        pause = deadline.pause()
        if pause is None:
            return None
        time.sleep(pause)
