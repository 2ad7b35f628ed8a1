"""Triggers that wait on the platform from the triggerer, holding no worker slot.

AnnotationTaskTrigger waits for annotation tasks; AnnotationBatchTrigger for an import batch;
AnnotationDatasetTrigger for a dataset to leave BUILDING. All three run the one loop `poll_until`
and read, page and word their events by the rules of `waiting`, which the sensor's poke and the
operators' waits on a worker share.

They poll with `AnnotationAsyncHook` (reads only) and decide with the same `status` functions as
the poke and sync paths. Transient errors (platform unavailable, 429, 5xx, lost answers) are logged
and polled again; they never end the wait. Each sends exactly one event, ``timeout`` once the
absolute deadline passes and ``error`` for an error no retry can cure.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_annotation.status import (
    DEFAULT_BATCH_FINAL_STATUSES,
    DEFAULT_FAILURE_STATUSES,
    DEFAULT_SUCCESS_STATUSES,
    Phase,
    TaskWait,
    WaitProgress,
    WaitVerdict,
    batch_summary,
    classify_batch,
)

# The waiting rules live in `waiting`; the names stay importable here, where earlier releases had them.
from airflow_provider_annotation.waiting import (
    DATASET_EVENT_STATUSES,
    DEFAULT_PAGE_THRESHOLD,
    EVENT_STATUSES,
    PAGE_SIZE,
    StallWarnings,
    a_read_statuses,
    all_or_none,  # noqa: F401 - importable here, as in earlier releases
    dataset_outcome,
    describe,
    event_message,  # noqa: F401 - importable here, as in earlier releases
    is_transient,
    poll_until,
    statuses_of,
)

if TYPE_CHECKING:
    from airflow_provider_annotation.datasets import DatasetState
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


class _PollingTrigger(BaseTrigger):
    """What the three triggers share: a serialized form of plain JSON, and one `run`: `poll_until`
    over `read` and the `decider`'s verdicts, on an `AnnotationAsyncHook` opened for the wait and
    closed after it. A trigger says what it reads, how it decides, and what its events carry."""

    #: The constructor's keyword arguments, in the order `serialize` writes them. Deferred tasks in
    #: users' databases resume from this form: a name or classpath changed here breaks them.
    serialized: ClassVar[tuple[str, ...]]

    def __init__(self, *, end_time: float, poll_interval: float, annotation_conn_id: str) -> None:
        super().__init__()
        #: The wait's absolute end, epoch seconds: a restarted triggerer keeps it.
        self.end_time = float(end_time)
        self.poll_interval = float(poll_interval)
        self.annotation_conn_id = annotation_conn_id

    #: Whether this wait may read through the shared poll of its key (`triggers.shared_poll`):
    #: the task and batch triggers take it as an argument, serialized only when False, so forms
    #: written by earlier releases (and every default one) stay byte for byte the same.
    share_polls: bool = False

    def serialize(self) -> tuple[str, dict[str, Any]]:
        kwargs = {name: _plain(getattr(self, name)) for name in self.serialized}
        if "share_polls" in vars(self) and not self.share_polls:  # a trigger taking the argument
            kwargs["share_polls"] = False
        return (f"{type(self).__module__}.{type(self).__qualname__}", kwargs)

    def polling(self) -> str:
        """What a failed poll's warning says was failing: "<this> failed (...); polling again"."""
        raise NotImplementedError

    def event_base(self) -> dict[str, Any]:
        """The fields every event of this trigger carries (the id waited on)."""
        raise NotImplementedError

    async def read(self, hook: AnnotationAsyncHook) -> Any:
        """One poll's read."""
        raise NotImplementedError

    def decider(self, hook: AnnotationAsyncHook) -> Callable[[Any], dict[str, Any] | None]:
        """For one wait: a read's answer -> the event's fields, or None to wait on."""
        raise NotImplementedError

    def refusal(self) -> dict[str, Any] | None:
        """The ``error`` event for arguments no wait can use, or None: checked before any read."""
        return None

    async def run(self) -> AsyncIterator[TriggerEvent]:
        refused = self.refusal()
        if refused is not None:
            yield TriggerEvent(refused)
            return
        from airflow_provider_annotation.triggers import shared_poll

        # Its own hook and pace, or (`share_polls`) the shared poll of its connection and project.
        async with shared_poll.reads(self, self.read) as (read, hook, interval):
            async for event in poll_until(
                read,
                self.decider(hook),
                end_time=self.end_time,
                poll_interval=interval,
                base=self.event_base(),
                log=self.log,
                what=self.polling(),
            ):
                yield TriggerEvent(event)


def _plain(value: Any) -> Any:
    """A serialized value: lists copied, so the serialized form never shares the trigger's own."""
    return list(value) if isinstance(value, list) else value


class AnnotationTaskTrigger(_PollingTrigger):
    """Polls the statuses of `task_ids` in `project_id` every `poll_interval` seconds until the
    `TaskWait` they configure decides, or `end_time` (epoch seconds) passes.

    Up to `page_threshold` tasks are read one ``/task/get`` each; more are read by paging
    ``/project/tasks`` (`waiting.a_read_statuses`, the poke's rule too). Serialized as plain JSON
    (ids, numbers, the connection id): no secret. With `share_polls` (default; also
    ``[annotation] share_polls``) the waits on one connection and project in a triggerer read
    through one poll (`triggers.shared_poll`), each judging its own.
    """

    serialized = (
        "project_id",
        "task_ids",
        "end_time",
        "poll_interval",
        "success_statuses",
        "failure_statuses",
        "require",
        "error_fails",
        "page_threshold",
        "annotation_conn_id",
    )

    def __init__(
        self,
        *,
        project_id: int,
        task_ids: list[str],
        end_time: float,
        poll_interval: float = 60.0,
        success_statuses: Iterable[int] = DEFAULT_SUCCESS_STATUSES,
        failure_statuses: Iterable[int] = DEFAULT_FAILURE_STATUSES,
        require: str | float = "all",
        error_fails: bool = True,
        page_threshold: int = DEFAULT_PAGE_THRESHOLD,
        annotation_conn_id: str = "annotation_default",
        share_polls: bool = True,
    ) -> None:
        super().__init__(
            end_time=end_time, poll_interval=poll_interval, annotation_conn_id=annotation_conn_id
        )
        self.share_polls = bool(share_polls)
        self.project_id = int(project_id)
        self.task_ids = [str(task_id) for task_id in task_ids]
        self.success_statuses = [int(s) for s in success_statuses]
        self.failure_statuses = [int(s) for s in failure_statuses]
        self.require = require
        self.error_fails = bool(error_fails)
        self.page_threshold = int(page_threshold)

    def wait(self) -> TaskWait:
        return TaskWait(
            tuple(self.task_ids),
            tuple(self.success_statuses),
            tuple(self.failure_statuses),
            self.require,
            self.error_fails,
        )

    def polling(self) -> str:
        return "Polling task statuses"

    def event_base(self) -> dict[str, Any]:
        return {"project_id": self.project_id}

    def refusal(self) -> dict[str, Any] | None:
        try:
            self.wait()
        except ValueError as err:
            return self._event("error", None, f"invalid trigger arguments: {err}")
        return None

    def decider(self, hook: AnnotationAsyncHook) -> Callable[[dict[str, int]], dict[str, Any] | None]:
        wait, stalls = self.wait(), StallWarnings()
        progress = WaitProgress()  # one line per poll, saying what changed

        def decide(statuses: dict[str, int]) -> dict[str, Any] | None:
            verdict = wait.judge(statuses)
            self.log.info("Progress: %s", progress.line(verdict))
            hook.log_calls_at_debug()  # the progress lines say it from now on
            stalls.warn(verdict, self.log)
            if verdict.outcome is None:
                return None
            return self._event(verdict.outcome, verdict, describe(verdict))

        return decide

    async def read(self, hook: AnnotationAsyncHook) -> dict[str, int]:
        return await self.read_statuses(hook)

    async def read_statuses(self, hook: AnnotationAsyncHook) -> dict[str, int]:
        """One poll: the statuses of the wanted tasks now, ``{task id: status}``. The one place a
        poll reads (a read shared between triggers plugs in here)."""
        return await a_read_statuses(hook, self.project_id, self.task_ids, self.page_threshold)

    #: The name of `read_statuses` in earlier releases.
    poll = read_statuses

    def _event(self, status: str, verdict: WaitVerdict | None, message: str) -> dict[str, Any]:
        event: dict[str, Any] = {"status": status, "message": message, "project_id": self.project_id}
        if verdict is not None:
            event.update(verdict.summary())
        return event


class AnnotationBatchTrigger(_PollingTrigger):
    """Polls an import batch (``/task/send/status``) every `poll_interval` seconds until its status
    is one of `final_statuses` or `end_time` (epoch seconds) passes.

    Events: ``final`` with the batch's `status.batch_summary` (the operator judges it), ``timeout``,
    or ``error`` (`waiting.BATCH_EVENT_STATUSES`). Transient errors are polled again, as in
    `AnnotationTaskTrigger`; with `share_polls` the waits on one batch read it once per interval
    between them.
    """

    serialized = ("batch_id", "end_time", "poll_interval", "final_statuses", "annotation_conn_id")

    def __init__(
        self,
        *,
        batch_id: str,
        end_time: float,
        poll_interval: float = 30.0,
        final_statuses: Iterable[int] = DEFAULT_BATCH_FINAL_STATUSES,
        annotation_conn_id: str = "annotation_default",
        share_polls: bool = True,
    ) -> None:
        super().__init__(
            end_time=end_time, poll_interval=poll_interval, annotation_conn_id=annotation_conn_id
        )
        self.share_polls = bool(share_polls)
        self.batch_id = str(batch_id)
        self.final_statuses = [int(s) for s in final_statuses]

    def event_base(self) -> dict[str, Any]:
        return {"batch_id": self.batch_id}

    def polling(self) -> str:
        return f"Polling batch {self.batch_id}"

    async def read(self, hook: AnnotationAsyncHook) -> dict[str, Any]:
        return await hook.get_send_status(self.batch_id)

    def decider(self, hook: AnnotationAsyncHook) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
        def decide(answer: dict[str, Any]) -> dict[str, Any] | None:
            summary = batch_summary(self.batch_id, answer)
            if classify_batch(summary, self.final_statuses) is Phase.ACTIVE:
                return None
            return {"status": "final", "message": "", "summary": summary}

        return decide


class AnnotationDatasetTrigger(_PollingTrigger):
    """Polls ``/dataset/status`` every `poll_interval` seconds until the dataset leaves BUILDING or
    `end_time` (epoch seconds) passes, with the task trigger's loop (`poll_until`).

    The event carries ``dataset_id``, ``status`` (`DATASET_EVENT_STATUSES`), ``message`` (scrubbed,
    cut) and ``dataset_status``; never the mapping list, which the worker reads afterwards.
    """

    serialized = ("dataset_id", "end_time", "poll_interval", "annotation_conn_id")

    def __init__(
        self,
        *,
        dataset_id: str,
        end_time: float,
        poll_interval: float = 30.0,
        annotation_conn_id: str = "annotation_default",
    ) -> None:
        super().__init__(
            end_time=end_time, poll_interval=poll_interval, annotation_conn_id=annotation_conn_id
        )
        self.dataset_id = str(dataset_id)

    def event_base(self) -> dict[str, Any]:
        return {"dataset_id": self.dataset_id}

    def polling(self) -> str:
        return f"Polling dataset {self.dataset_id}"

    async def read(self, hook: AnnotationAsyncHook) -> DatasetState:
        return await hook.get_dataset_status(self.dataset_id)

    def decider(self, hook: AnnotationAsyncHook) -> Callable[[DatasetState], dict[str, Any] | None]:
        return dataset_outcome
