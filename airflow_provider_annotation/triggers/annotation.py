"""Triggers that wait on the platform from the triggerer, holding no worker slot.

AnnotationTaskTrigger waits for annotation tasks; AnnotationBatchTrigger for an import batch;
AnnotationDatasetTrigger for a dataset to leave BUILDING. All three run the one loop `poll_until`.

They poll with `AnnotationAsyncHook` (reads only) and decide with the same `status` functions as
the poke and sync paths. Transient errors (platform unavailable, 429, 5xx, lost answers) are logged
and polled again; they never end the wait. Each sends exactly one event, ``timeout`` once the
absolute deadline passes and ``error`` for an error no retry can cure.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_annotation.datasets import DatasetState, DatasetStatus
from airflow_provider_annotation.endpoints import PROJECT_TASKS, TASK_GET, Effect, Endpoint
from airflow_provider_annotation.exceptions import (
    AnnotationApiError,
    AnnotationError,
    AnnotationResponseError,
)
from airflow_provider_annotation.hooks.retry import RetryPolicy, should_retry
from airflow_provider_annotation.paging import task_key
from airflow_provider_annotation.redaction import MESSAGE_CHARS, scrub
from airflow_provider_annotation.status import Phase, TaskWait, WaitVerdict, batch_summary, classify_batch

if TYPE_CHECKING:
    from airflow_provider_annotation.hooks.async_annotation import AnnotationAsyncHook

__all__ = [
    "DATASET_EVENT_STATUSES",
    "EVENT_STATUSES",
    "PAGE_SIZE",
    "AnnotationBatchTrigger",
    "AnnotationDatasetTrigger",
    "AnnotationTaskTrigger",
    "is_transient",
    "poll_until",
    "statuses_of",
]

#: Every status an event of the task trigger can carry.
EVENT_STATUSES = frozenset({"success", "failure", "timeout", "error"})
#: Page size when the trigger pages ``/project/tasks`` instead of asking per task.
PAGE_SIZE = 100
_READ_POLICY = RetryPolicy(max_attempts=1, max_retry_wait=0.0, base_delay=0.0, retry_ambiguous=False)


def is_transient(err: BaseException) -> bool:
    """Whether polling again may cure `err`: the hook's own retry decision for a read."""
    return isinstance(err, AnnotationApiError) and should_retry(err, Effect.READ, _READ_POLICY)


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
    while True:
        remaining = end_time - time.time()
        if remaining <= 0:
            break
        try:
            outcome = decide(await asyncio.wait_for(read(), remaining))
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
        remaining = end_time - time.time()
        if remaining <= 0:
            break
        await asyncio.sleep(min(poll_interval, remaining))
    yield {**base, "status": "timeout", "message": "the deadline passed"}


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


def event_message(err: BaseException) -> str:
    """An error as a trigger event's message: its type and text, scrubbed and cut (the text may
    quote what the server sent)."""
    return scrub(f"{type(err).__name__}: {err}", limit=MESSAGE_CHARS)


class AnnotationTaskTrigger(BaseTrigger):
    """Polls the statuses of `task_ids` in `project_id` every `poll_interval` seconds until the
    `TaskWait` they configure decides, or `end_time` (epoch seconds) passes.

    Up to `page_threshold` tasks are read one ``/task/get`` each; more are read by paging
    ``/project/tasks``. Serialized as plain JSON (ids, numbers, the connection id): no secret.
    With `share_polls` (default; also ``[annotation] share_polls``) the waits on one connection and
    project in a triggerer read through one poll (`triggers.shared_poll`), each judging its own.
    """

    def __init__(
        self,
        *,
        project_id: int,
        task_ids: list[str],
        end_time: float,
        poll_interval: float = 60.0,
        success_statuses: Iterable[int] = (9,),
        failure_statuses: Iterable[int] = (8, 10),
        require: str | float = "all",
        error_fails: bool = True,
        page_threshold: int = 20,
        annotation_conn_id: str = "annotation_default",
        share_polls: bool = True,
    ) -> None:
        super().__init__()
        self.share_polls = share_polls  # serialized only when False (`shared_poll`)
        self.project_id = int(project_id)
        self.task_ids = [str(task_id) for task_id in task_ids]
        self.end_time = float(end_time)
        self.poll_interval = float(poll_interval)
        self.success_statuses = [int(s) for s in success_statuses]
        self.failure_statuses = [int(s) for s in failure_statuses]
        self.require = require
        self.error_fails = bool(error_fails)
        self.page_threshold = int(page_threshold)
        self.annotation_conn_id = annotation_conn_id

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "project_id": self.project_id,
                "task_ids": list(self.task_ids),
                "end_time": self.end_time,
                "poll_interval": self.poll_interval,
                "success_statuses": list(self.success_statuses),
                "failure_statuses": list(self.failure_statuses),
                "require": self.require,
                "error_fails": self.error_fails,
                "page_threshold": self.page_threshold,
                "annotation_conn_id": self.annotation_conn_id,
                **({} if self.share_polls else {"share_polls": False}),
            },
        )

    def wait(self) -> TaskWait:
        return TaskWait(
            tuple(self.task_ids),
            tuple(self.success_statuses),
            tuple(self.failure_statuses),
            self.require,
            self.error_fails,
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_annotation.status import WaitProgress
        from airflow_provider_annotation.triggers import shared_poll

        try:
            wait = self.wait()
        except ValueError as err:
            yield TriggerEvent(self._event("error", None, f"invalid trigger arguments: {err}"))
            return
        stalled_warned: set[str] = set()
        progress = WaitProgress()  # one line per poll, saying what changed
        async with shared_poll.reads(self, self.poll) as (read, hook, interval):  # shared, or its own

            def decide(statuses: dict[str, int]) -> dict[str, Any] | None:
                verdict = wait.judge(statuses)
                self.log.info("Progress: %s", progress.line(verdict))
                hook.log_calls_at_debug()  # the progress lines say it from now on
                for task_id in set(verdict.stalled) - stalled_warned:
                    self.log.warning(
                        "Task %s is stalled (status %s): nothing moves until someone resumes it; "
                        "still waiting",
                        task_id,
                        verdict.statuses[task_id],
                    )
                stalled_warned.update(verdict.stalled)
                if verdict.outcome is None:
                    return None
                return self._event(verdict.outcome, verdict, describe(verdict))

            async for event in poll_until(
                read,
                decide,
                end_time=self.end_time,
                poll_interval=interval,
                base={"project_id": self.project_id},
                log=self.log,
                what="Polling task statuses",
            ):
                yield TriggerEvent(event)

    async def poll(self, hook: AnnotationAsyncHook) -> dict[str, int]:
        """The statuses seen now: one ``/task/get`` per task, or pages of ``/project/tasks``
        (`paging.Pager`'s rule), until every wanted task was seen."""
        if len(self.task_ids) <= self.page_threshold:
            answers = await all_or_none(hook.get_task(self.project_id, t) for t in self.task_ids)
            return statuses_of(answers, TASK_GET)
        wanted, found = set(self.task_ids), {}
        async with contextlib.aclosing(
            hook.iter_project_tasks(self.project_id, page_size=PAGE_SIZE)
        ) as tasks:
            async for task in tasks:
                if task_key(task) in wanted:
                    found.update(statuses_of([task], PROJECT_TASKS))
                    if len(found) == len(wanted):
                        break
        return found

    def _event(self, status: str, verdict: WaitVerdict | None, message: str) -> dict[str, Any]:
        event: dict[str, Any] = {"status": status, "message": message, "project_id": self.project_id}
        if verdict is not None:
            event.update(verdict.summary())
        return event


def describe(verdict: WaitVerdict) -> str:
    """One line for the log and for a failure: what succeeded, what failed."""
    text = f"{len(verdict.complete)} of {len(verdict.statuses)} seen tasks complete (needed {verdict.needed})"
    if verdict.failed:
        failed = ", ".join(f"{t} (status {verdict.statuses[t]})" for t in verdict.failed)
        text += f"; failed: {failed}"
    return text


class AnnotationBatchTrigger(BaseTrigger):
    """Polls an import batch (``/task/send/status``) every `poll_interval` seconds until its status
    is one of `final_statuses` or `end_time` (epoch seconds) passes.

    Events: ``final`` with the batch's `status.batch_summary` (the operator judges it), ``timeout``,
    or ``error``. Transient errors are polled again, as in `AnnotationTaskTrigger`; with
    `share_polls` the waits on one batch read it once per interval between them.
    """

    def __init__(
        self,
        *,
        batch_id: str,
        end_time: float,
        poll_interval: float = 30.0,
        final_statuses: Iterable[int] = (3,),
        annotation_conn_id: str = "annotation_default",
        share_polls: bool = True,
    ) -> None:
        super().__init__()
        self.share_polls = share_polls  # serialized only when False (`shared_poll`)
        self.batch_id = str(batch_id)
        self.end_time = float(end_time)
        self.poll_interval = float(poll_interval)
        self.final_statuses = [int(s) for s in final_statuses]
        self.annotation_conn_id = annotation_conn_id

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "batch_id": self.batch_id,
                "end_time": self.end_time,
                "poll_interval": self.poll_interval,
                "final_statuses": list(self.final_statuses),
                "annotation_conn_id": self.annotation_conn_id,
                **({} if self.share_polls else {"share_polls": False}),
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_annotation.triggers import shared_poll

        def decide(answer: dict[str, Any]) -> dict[str, Any] | None:
            summary = batch_summary(self.batch_id, answer)
            if classify_batch(summary, self.final_statuses) is Phase.ACTIVE:
                return None
            return {"status": "final", "message": "", "summary": summary}

        async with shared_poll.reads(self, lambda hook: hook.get_send_status(self.batch_id)) as (
            read,
            _,
            interval,
        ):
            async for event in poll_until(
                read,
                decide,
                end_time=self.end_time,
                poll_interval=interval,
                base={"batch_id": self.batch_id},
                log=self.log,
                what=f"Polling batch {self.batch_id}",
            ):
                yield TriggerEvent(event)


#: Every status an event of the dataset trigger can carry: ``ready`` (status 2), ``failure``
#: (status -1, the platform's reason in ``message``), ``timeout``, ``error``.
DATASET_EVENT_STATUSES = frozenset({"ready", "failure", "timeout", "error"})


class AnnotationDatasetTrigger(BaseTrigger):
    """Polls ``/dataset/status`` every `poll_interval` seconds until the dataset leaves BUILDING or
    `end_time` (epoch seconds) passes, with the task trigger's loop (`poll_until`).

    The event carries ``dataset_id``, ``status`` (`DATASET_EVENT_STATUSES`), ``message`` (scrubbed,
    cut) and ``dataset_status``; never the mapping list, which the worker reads afterwards.
    """

    def __init__(
        self,
        *,
        dataset_id: str,
        end_time: float,
        poll_interval: float = 30.0,
        annotation_conn_id: str = "annotation_default",
    ) -> None:
        super().__init__()
        self.dataset_id = str(dataset_id)
        self.end_time = float(end_time)
        self.poll_interval = float(poll_interval)
        self.annotation_conn_id = annotation_conn_id

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "dataset_id": self.dataset_id,
                "end_time": self.end_time,
                "poll_interval": self.poll_interval,
                "annotation_conn_id": self.annotation_conn_id,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_annotation.hooks.async_annotation import AnnotationAsyncHook

        async with AnnotationAsyncHook(self.annotation_conn_id) as hook:
            async for event in poll_until(
                lambda: hook.get_dataset_status(self.dataset_id),
                dataset_outcome,
                end_time=self.end_time,
                poll_interval=self.poll_interval,
                base={"dataset_id": self.dataset_id},
                log=self.log,
                what=f"Polling dataset {self.dataset_id}",
            ):
                yield TriggerEvent(event)


def dataset_outcome(state: DatasetState) -> dict[str, Any] | None:
    """The event fields for a dataset that left BUILDING, None while it builds; the poll of
    `ImportDatasetOperator` decides with this too."""
    if state.status == DatasetStatus.BUILDING:
        return None
    if state.status == DatasetStatus.READY:
        return {"status": "ready", "message": "", "dataset_status": state.status}
    return {
        "status": "failure",
        "message": state.message or "the platform gives no reason",
        "dataset_status": state.status,
    }
