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
    until the absolute `end_time` (epoch seconds). Transient errors are logged and read again; any
    other error ends the wait with an ``error`` event. Yields exactly one event, `base` included."""
    while True:
        try:
            outcome = decide(await read())
        except AnnotationError as err:
            if not is_transient(err):
                yield {**base, "status": "error", "message": f"{type(err).__name__}: {err}"}
                return
            log.warning("%s failed (%s); polling again", what, err)
        else:
            if outcome is not None:
                yield {**base, **outcome}
                return
        remaining = end_time - time.time()
        if remaining <= 0:
            yield {**base, "status": "timeout", "message": "the deadline passed"}
            return
        await asyncio.sleep(min(poll_interval, remaining))


def statuses_of(tasks: Iterable[Mapping[str, Any]], endpoint: Endpoint) -> dict[str, int]:
    """``{task id: status}`` of task objects (``id`` or ``taskId``); a status that is not an integer
    is an answer the platform does not give: AnnotationResponseError."""
    found: dict[str, int] = {}
    for task in tasks:
        task_id = task.get("id", task.get("taskId"))
        status = task.get("status")
        if not isinstance(status, int) or isinstance(status, bool):
            raise AnnotationResponseError(
                f"task {task_id}: status is {status!r}, not an integer",
                endpoint=endpoint.path,
                method=endpoint.method,
            )
        found[str(task_id)] = status
    return found


class AnnotationTaskTrigger(BaseTrigger):
    """Polls the statuses of `task_ids` in `project_id` every `poll_interval` seconds until the
    `TaskWait` they configure decides, or `end_time` (epoch seconds) passes.

    Up to `page_threshold` tasks are read one ``/task/get`` each; more are read by paging
    ``/project/tasks``. Serialized as plain JSON (ids, numbers, the connection id): no secret.
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
    ) -> None:
        super().__init__()
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
        from airflow_provider_annotation.hooks.async_annotation import AnnotationAsyncHook

        try:
            wait = self.wait()
        except ValueError as err:
            yield TriggerEvent(self._event("error", None, f"invalid trigger arguments: {err}"))
            return
        stalled_warned: set[str] = set()

        def decide(statuses: dict[str, int]) -> dict[str, Any] | None:
            verdict = wait.judge(statuses)
            for task_id in set(verdict.stalled) - stalled_warned:
                self.log.warning(
                    "Task %s is stalled (status %s): nothing moves until someone resumes it; still waiting",
                    task_id,
                    verdict.statuses[task_id],
                )
            stalled_warned.update(verdict.stalled)
            if verdict.outcome is None:
                return None
            return self._event(verdict.outcome, verdict, describe(verdict))

        async with AnnotationAsyncHook(self.annotation_conn_id) as hook:
            async for event in poll_until(
                lambda: self.poll(hook),
                decide,
                end_time=self.end_time,
                poll_interval=self.poll_interval,
                base={"project_id": self.project_id},
                log=self.log,
                what="Polling task statuses",
            ):
                yield TriggerEvent(event)

    async def poll(self, hook: AnnotationAsyncHook) -> dict[str, int]:
        """The statuses seen now: one ``/task/get`` per task, or pages of ``/project/tasks``."""
        if len(self.task_ids) <= self.page_threshold:
            tasks = await asyncio.gather(*(hook.get_task(self.project_id, t) for t in self.task_ids))
            return statuses_of(tasks, TASK_GET)
        wanted, found = set(self.task_ids), {}
        offset, seen = 1, 0
        while True:
            page = await hook.list_project_tasks(self.project_id, offset=offset, limit=PAGE_SIZE)
            statuses = statuses_of(page["data"], PROJECT_TASKS)
            found.update({k: v for k, v in statuses.items() if k in wanted})
            seen += len(page["data"])
            if not page["data"] or seen >= page["count"] or len(found) == len(wanted):
                return found
            offset += 1

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
    or ``error``. Transient errors are polled again, as in `AnnotationTaskTrigger`.
    """

    def __init__(
        self,
        *,
        batch_id: str,
        end_time: float,
        poll_interval: float = 30.0,
        final_statuses: Iterable[int] = (3,),
        annotation_conn_id: str = "annotation_default",
    ) -> None:
        super().__init__()
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
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_annotation.hooks.async_annotation import AnnotationAsyncHook

        def decide(answer: dict[str, Any]) -> dict[str, Any] | None:
            summary = batch_summary(self.batch_id, answer)
            if classify_batch(summary, self.final_statuses) is Phase.ACTIVE:
                return None
            return {"status": "final", "message": "", "summary": summary}

        async with AnnotationAsyncHook(self.annotation_conn_id) as hook:
            async for event in poll_until(
                lambda: hook.get_send_status(self.batch_id),
                decide,
                end_time=self.end_time,
                poll_interval=self.poll_interval,
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
