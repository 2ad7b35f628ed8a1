"""AnnotationTaskSensor: wait until annotation tasks on the platform are complete.

Labeling takes hours to days. In deferrable mode the wait runs on the triggerer
(`AnnotationTaskTrigger`) and holds no worker slot; poke mode polls from the worker. Both read,
page and warn by the rules of `waiting` and decide through the same `status.TaskWait`, so they give
the same results. Imports no HTTP library, and not the trigger, at module level.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow.providers.common.compat.sdk import (
    AirflowException,
    AirflowFailException,
    AirflowSensorTimeout,
    BaseSensorOperator,
    PokeReturnValue,
    conf,
)

from airflow_provider_annotation.coercion import _parse_literal
from airflow_provider_annotation.exceptions import (
    AnnotationConnectionConfigError,
    AnnotationError,
    AnnotationInputProblemsError,
)
from airflow_provider_annotation.links import AnnotationPlatformLink, push_platform_url
from airflow_provider_annotation.operators.base import AnnotationHookMixin, connection_failure
from airflow_provider_annotation.status import (
    DEFAULT_FAILURE_STATUSES,
    DEFAULT_SUCCESS_STATUSES,
    TaskWait,
    WaitProgress,
    WaitVerdict,
    human_duration,
)
from airflow_provider_annotation.urls import is_loopback, redact_url
from airflow_provider_annotation.validation import Problems, describe_value, is_int, to_long_id, to_task_id
from airflow_provider_annotation.waiting import (
    DEFAULT_PAGE_THRESHOLD,
    DEFER_GRACE_SECONDS,
    EVENT_STATUSES,
    StallWarnings,
    describe,
    is_transient,
    read_statuses,
    unexpected_event,
)

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context, XComArg

__all__ = ["AnnotationTaskSensor", "to_task_ids"]

#: The deferral grace's name here in earlier releases (`waiting.DEFER_GRACE_SECONDS`).
_DEFER_GRACE_SECONDS = DEFER_GRACE_SECONDS


def to_task_ids(value: object, field: str = "task_ids") -> list[str]:
    """Task ids as a non-empty list of digit strings, in order, without repeats.

    Accepted: a list or tuple of strings or exact ints; the XCom of `SubmitAnnotationDataOperator`
    (a dict with ``task_ids``); the JSON or Python repr of either (what Jinja renders).
    """
    problems = Problems()
    if isinstance(value, str):
        if value.strip() in ("None", "null", ""):
            raise AnnotationInputProblemsError(
                f"{field}: got {value!r}, which is how Jinja renders a missing value; pass a list of task "
                "ids or the XCom of SubmitAnnotationDataOperator"
            )
        text = value
        value = problems.collect(lambda: _parse_literal(text, field))
        problems.raise_all()
    if isinstance(value, dict):
        if "task_ids" not in value:
            raise AnnotationInputProblemsError(
                f"{field}: a dict without 'task_ids' ({describe_value(value)})"
            )
        value = value["task_ids"]
    if not isinstance(value, (list, tuple)) or not value:
        raise AnnotationInputProblemsError(
            f"{field}: expected a non-empty list of task ids, got {describe_value(value)}"
        )
    ids: dict[str, None] = {}  # in order, without repeats
    for i, item in enumerate(value):
        task_id = problems.collect(lambda: to_task_id(item, f"{field}[{i}]"))  # noqa: B023 (called at once)
        if task_id is not None:
            ids.setdefault(task_id)
    problems.raise_all()
    return list(ids)


class AnnotationTaskSensor(AnnotationHookMixin, BaseSensorOperator):
    """Wait until the platform's annotation tasks reach a final status.

    Succeeds once the tasks `require` asks for are complete (a status in `success_statuses`) and
    returns ``{"complete": [...], "failed": [...], "statuses": {task_id: status}}`` (XCom). Fails,
    naming the task ids, as soon as a status in `failure_statuses` (or 6, Error, unless
    `error_fails` is False) makes the requirement impossible. Tasks paused or suspended (5, 7) keep
    the sensor waiting, with a warning once.

    :param project_id: the project holding the tasks.
    :param task_ids: a list of task ids, or the XCom of `SubmitAnnotationDataOperator` (templated).
    :param success_statuses: statuses that count as complete.
    :param failure_statuses: statuses that count as failed.
    :param require: "all", "any", or the ratio of tasks (above 0, at most 1) that must complete.
    :param error_fails: whether status 6 (Error) counts as failed; False waits on it like a pause.
    :param deferrable: wait on the triggerer instead of a worker slot.
    :param page_threshold: above this many tasks, page ``/project/tasks`` instead of one
        ``/task/get`` per task.
    :param annotation_conn_id: the Airflow connection holding the access-key pair.
    :param share_polls: deferred, read through the one shared poll of this connection and project
        in the triggerer (`triggers.shared_poll`); False polls on its own.
    """

    template_fields: Sequence[str] = ("project_id", "task_ids", "annotation_conn_id")
    ui_color = "#e8f4ea"
    operator_extra_links = (AnnotationPlatformLink(),)

    def __init__(
        self,
        *,
        project_id: int | str | XComArg,
        task_ids: Any,
        success_statuses: Sequence[int] = DEFAULT_SUCCESS_STATUSES,
        failure_statuses: Sequence[int] = DEFAULT_FAILURE_STATUSES,
        require: str | float = "all",
        error_fails: bool = True,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        page_threshold: int = DEFAULT_PAGE_THRESHOLD,
        annotation_conn_id: str = "annotation_default",
        share_polls: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.share_polls = share_polls
        self.project_id = project_id
        self.task_ids = task_ids
        self.success_statuses = success_statuses
        self.failure_statuses = failure_statuses
        self.require = require
        self.error_fails = error_fails
        self.deferrable = deferrable
        self.page_threshold = page_threshold
        self.annotation_conn_id = annotation_conn_id
        self._stalls = StallWarnings()
        self._progress = WaitProgress()

    # -- inputs, checked after rendering --------------------------------------------------------

    def checked_wait(self) -> tuple[int, TaskWait]:
        """The project id and the wait, or AirflowFailException naming every bad argument."""
        problems = Problems()
        project_id = problems.collect(lambda: to_long_id(self.project_id, "project_id"))
        task_ids = problems.collect(lambda: to_task_ids(self.task_ids))
        wait = None
        try:  # TaskWait names the bad setting in a ValueError; a stand-in id when task_ids was refused
            wait = TaskWait(
                tuple(task_ids) if task_ids is not None else ("1",),
                tuple(self.success_statuses),
                tuple(self.failure_statuses),
                self.require,
                self.error_fails,
            )
        except ValueError as err:
            problems.append(str(err))
        threshold = self.page_threshold
        if not is_int(threshold) or threshold < 0:
            problems.append(f"page_threshold: expected an int of at least 0, got {threshold!r}")
        if problems:
            refused = AnnotationInputProblemsError(problems)
            raise AirflowFailException(f"{refused}\nNothing was sent; not retrying.") from refused
        return project_id, wait  # type: ignore[return-value]

    # -- deferrable ------------------------------------------------------------------------------

    def execute(self, context: Context) -> Any:
        project_id, wait = self.checked_wait()
        # `hook` resolves the connection: a bad one fails here, at once.
        push_platform_url(context, self.hook.config, self.log, project_id=project_id)
        if not self.deferrable:
            try:
                return super().execute(context)
            except AirflowSensorTimeout as err:
                hint = self.emulator_hint()
                if not hint:
                    raise
                raise AirflowSensorTimeout(f"{err}{hint}") from err
            finally:
                self.close_hook()
        self.close_hook()
        from airflow_provider_annotation.triggers.annotation import AnnotationTaskTrigger

        trigger = AnnotationTaskTrigger(
            project_id=project_id,
            task_ids=list(wait.task_ids),
            end_time=time.time() + float(self.timeout),
            poll_interval=float(self.poke_interval),
            success_statuses=wait.success_statuses,
            failure_statuses=wait.failure_statuses,
            require=wait.require,
            error_fails=wait.error_fails,
            page_threshold=self.page_threshold,
            annotation_conn_id=self.annotation_conn_id,
            share_polls=bool(self.share_polls),
        )
        self.log.info(
            "Deferring: waiting for %d task(s) of project %s on the triggerer (every %s, up to %s)",
            len(wait.task_ids),
            project_id,
            human_duration(float(self.poke_interval)),
            human_duration(float(self.timeout)),
        )
        from datetime import timedelta

        self.defer(
            trigger=trigger,
            method_name="execute_complete",
            timeout=timedelta(seconds=float(self.timeout) + DEFER_GRACE_SECONDS),
        )

    def execute_complete(self, context: Context, event: Any = None) -> dict[str, Any]:
        """Turn the trigger's one event into the task's result; anything unexpected fails loudly."""
        if refused := unexpected_event(event, EVENT_STATUSES, "AnnotationTaskTrigger"):
            raise AirflowException(refused)
        status, message = event["status"], event.get("message", "")
        if status == "timeout":
            raise AirflowSensorTimeout(
                f"Timed out after {human_duration(float(self.timeout))}: {message}{self.emulator_hint()}"
            )
        if status == "error":
            raise AirflowException(f"Waiting for the tasks failed: {message}")
        summary = {key: event.get(key) for key in ("complete", "failed", "statuses")}
        if not isinstance(summary["complete"], list) or not isinstance(summary["statuses"], dict):
            raise AirflowException(unexpected_event(event, (), "AnnotationTaskTrigger"))
        if status == "failure":
            raise AirflowFailException(f"Annotation tasks failed: {message}")
        self.log.info("Annotation tasks done: %s", message)
        return summary

    def emulator_hint(self) -> str:
        """After a timeout, when the platform is on this machine (the provider's emulator, most
        likely): how to make its tasks complete. Empty otherwise."""
        try:
            base_url = self.hook.config.base_url
        except Exception:  # a hint must never hide the timeout itself
            return ""
        if not is_loopback(urlsplit(base_url).hostname or ""):
            return ""
        return (
            f"\nThe platform at {redact_url(base_url)} is on this machine. If it is the provider's "
            "emulator, its tasks move only when told: set_task_status(task_id, 9), or let them complete "
            "on their own with tasks_complete_after_reads=N (the pytest plugin's default is 1: at the "
            "first status read; 0 never) or complete_after_s=SECONDS after creation (CLI: "
            "--tasks-complete-after-reads N, --complete-after SECONDS)."
        )

    # -- poke mode -------------------------------------------------------------------------------

    def poke(self, context: Context) -> PokeReturnValue | bool:
        project_id, wait = self.checked_wait()
        try:
            statuses = self.read_statuses(project_id, list(wait.task_ids))
        except AnnotationConnectionConfigError as err:
            raise connection_failure(err, self.annotation_conn_id) from err
        except AnnotationError as err:
            if not is_transient(err):
                raise
            self.log.warning("Polling task statuses failed (%s); polling again", err)
            return False
        verdict = wait.judge(statuses)
        self.warn_stalled(verdict)
        if verdict.outcome == "failure":
            raise AirflowFailException(f"Annotation tasks failed: {describe(verdict)}")
        if verdict.outcome == "success":
            self.log.info("Annotation tasks done: %s", describe(verdict))
            return PokeReturnValue(is_done=True, xcom_value=verdict.summary())
        self.log.info("Still waiting: %s", self._progress.line(verdict))
        self.hook.log_calls_at_debug()  # the progress lines say it from now on
        return False

    def read_statuses(self, project_id: int, task_ids: list[str]) -> dict[str, int]:
        """Statuses now, read as the trigger reads them (`waiting.read_statuses`: per task, or paged
        above the threshold, stopping once every wanted task was seen)."""
        return read_statuses(self.hook, project_id, task_ids, self.page_threshold)

    def warn_stalled(self, verdict: WaitVerdict) -> None:
        """A warning once per stalled task (`waiting.StallWarnings`, as the trigger warns)."""
        self._stalls.warn(verdict, self.log)

    def on_kill(self) -> None:
        self.log.info("Stopped waiting; the annotation tasks on the platform are not affected.")
