"""AnnotationTaskSensor: wait until annotation tasks on the platform are complete.

Labeling takes hours to days. In deferrable mode the wait runs on the triggerer
(`AnnotationTaskTrigger`) and holds no worker slot; poke mode polls from the worker. Both decide
through the same `status.TaskWait`, so they give the same results. Imports no HTTP library at module
level.
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
from airflow_provider_annotation.exceptions import AnnotationConnectionConfigError, AnnotationError
from airflow_provider_annotation.links import AnnotationPlatformLink, push_platform_url
from airflow_provider_annotation.operators._create import open_hook
from airflow_provider_annotation.project import to_task_id
from airflow_provider_annotation.status import TaskWait, WaitProgress, WaitVerdict, human_duration
from airflow_provider_annotation.triggers.annotation import (
    EVENT_STATUSES,
    PAGE_SIZE,
    AnnotationTaskTrigger,
    describe,
    is_transient,
    statuses_of,
)
from airflow_provider_annotation.urls import is_loopback, redact_url
from airflow_provider_annotation.workflow import WorkflowValidationError, describe_value, to_project_id

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context, XComArg

    from airflow_provider_annotation.hooks.annotation import AnnotationHook

__all__ = ["AnnotationTaskSensor", "to_task_ids"]

#: Extra time Airflow gives a deferred sensor beyond its own deadline before failing it regardless:
#: the trigger's timeout event comes first.
_DEFER_GRACE_SECONDS = 300


def to_task_ids(value: object, field: str = "task_ids") -> list[str]:
    """Task ids as a non-empty list of digit strings, in order, without repeats.

    Accepted: a list or tuple of strings or exact ints; the XCom of `SubmitAnnotationDataOperator`
    (a dict with ``task_ids``); the JSON or Python repr of either (what Jinja renders).
    """
    if isinstance(value, str):
        if value.strip() in ("None", "null", ""):
            raise WorkflowValidationError(
                f"{field}: got {value!r}, which is how Jinja renders a missing value; pass a list of task "
                "ids or the XCom of SubmitAnnotationDataOperator"
            )
        value = _parse_literal(value, field)
    if isinstance(value, dict):
        if "task_ids" not in value:
            raise WorkflowValidationError(f"{field}: a dict without 'task_ids' ({describe_value(value)})")
        value = value["task_ids"]
    if not isinstance(value, (list, tuple)) or not value:
        raise WorkflowValidationError(
            f"{field}: expected a non-empty list of task ids, got {describe_value(value)}"
        )
    ids = [to_task_id(item, f"{field}[{i}]") for i, item in enumerate(value)]
    return list(dict.fromkeys(ids))


class AnnotationTaskSensor(BaseSensorOperator):
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
    """

    template_fields: Sequence[str] = ("project_id", "task_ids", "annotation_conn_id")
    ui_color = "#e8f4ea"
    operator_extra_links = (AnnotationPlatformLink(),)

    def __init__(
        self,
        *,
        project_id: int | str | XComArg,
        task_ids: Any,
        success_statuses: Sequence[int] = (9,),
        failure_statuses: Sequence[int] = (8, 10),
        require: str | float = "all",
        error_fails: bool = True,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        page_threshold: int = 20,
        annotation_conn_id: str = "annotation_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.project_id = project_id
        self.task_ids = task_ids
        self.success_statuses = success_statuses
        self.failure_statuses = failure_statuses
        self.require = require
        self.error_fails = error_fails
        self.deferrable = deferrable
        self.page_threshold = page_threshold
        self.annotation_conn_id = annotation_conn_id
        self._stalled_warned: set[str] = set()
        self._progress = WaitProgress()
        self._hook: AnnotationHook | None = None

    # -- inputs, checked after rendering --------------------------------------------------------

    def checked_wait(self) -> tuple[int, TaskWait]:
        """The project id and the wait, or AirflowFailException naming the bad argument."""
        try:
            project_id = to_project_id(self.project_id)
            task_ids = to_task_ids(self.task_ids)
            wait = TaskWait(
                tuple(task_ids),
                tuple(self.success_statuses),
                tuple(self.failure_statuses),
                self.require,
                self.error_fails,
            )
        except (ValueError, AnnotationError) as err:
            raise AirflowFailException(f"invalid input: {err}\nNothing was sent; not retrying.") from err
        threshold = self.page_threshold
        if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 0:
            raise AirflowFailException(
                f"invalid input: page_threshold: expected an int of at least 0, got {threshold!r}"
            )
        return project_id, wait

    # -- deferrable ------------------------------------------------------------------------------

    def execute(self, context: Context) -> Any:
        project_id, wait = self.checked_wait()
        self._hook = open_hook(self.annotation_conn_id)  # a bad connection fails here, at once
        push_platform_url(context, self._hook.config, self.log, project_id=project_id)
        if not self.deferrable:
            try:
                return super().execute(context)
            except AirflowSensorTimeout as err:
                hint = self.emulator_hint()
                if not hint:
                    raise
                raise AirflowSensorTimeout(f"{err}{hint}") from err
            finally:
                self._hook.close()
        self._hook.close()
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
            timeout=timedelta(seconds=float(self.timeout) + _DEFER_GRACE_SECONDS),
        )

    def execute_complete(self, context: Context, event: Any = None) -> dict[str, Any]:
        """Turn the trigger's one event into the task's result; anything unexpected fails loudly."""
        if not isinstance(event, dict) or event.get("status") not in EVENT_STATUSES:
            raise AirflowException(f"unexpected event from AnnotationTaskTrigger: {event!r}")
        status, message = event["status"], event.get("message", "")
        if status == "timeout":
            raise AirflowSensorTimeout(
                f"Timed out after {human_duration(float(self.timeout))}: {message}{self.emulator_hint()}"
            )
        if status == "error":
            raise AirflowException(f"Waiting for the tasks failed: {message}")
        summary = {key: event.get(key) for key in ("complete", "failed", "statuses")}
        if not isinstance(summary["complete"], list) or not isinstance(summary["statuses"], dict):
            raise AirflowException(f"unexpected event from AnnotationTaskTrigger: {event!r}")
        if status == "failure":
            raise AirflowFailException(f"Annotation tasks failed: {message}")
        self.log.info("Annotation tasks done: %s", message)
        return summary

    def emulator_hint(self) -> str:
        """After a timeout, when the platform is on this machine (the provider's emulator, most
        likely): how to make its tasks complete. Empty otherwise."""
        try:
            base_url = (self._hook or open_hook(self.annotation_conn_id)).config.base_url
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
            raise AirflowFailException(f"{err}\nNothing was sent; not retrying.") from err
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
        if self._hook is not None:
            self._hook.log_calls_at_debug()  # the progress lines say it from now on
        return False

    def read_statuses(self, project_id: int, task_ids: list[str]) -> dict[str, int]:
        """Statuses now, read as the trigger reads them (per task, or paged above the threshold)."""
        from airflow_provider_annotation.endpoints import PROJECT_TASKS, TASK_GET
        from airflow_provider_annotation.hooks.annotation import AnnotationHook

        if self._hook is None:
            self._hook = AnnotationHook(annotation_conn_id=self.annotation_conn_id)
        hook = self._hook
        if len(task_ids) <= self.page_threshold:
            return statuses_of((hook.get_task(project_id, t) for t in task_ids), TASK_GET)
        wanted = set(task_ids)
        found = statuses_of(hook.iter_project_tasks(project_id, page_size=PAGE_SIZE), PROJECT_TASKS)
        return {task_id: status for task_id, status in found.items() if task_id in wanted}

    def warn_stalled(self, verdict: WaitVerdict) -> None:
        for task_id in sorted(set(verdict.stalled) - self._stalled_warned):
            self.log.warning(
                "Task %s is stalled (status %s): nothing moves until someone resumes it; still waiting",
                task_id,
                verdict.statuses[task_id],
            )
        self._stalled_warned.update(verdict.stalled)

    def on_kill(self) -> None:
        self.log.info("Stopped waiting; the annotation tasks on the platform are not affected.")
