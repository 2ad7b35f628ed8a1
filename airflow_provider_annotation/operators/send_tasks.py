"""SendTasksOperator: import a JSON-lines file of records into a project, and wait for the import.

The batch id is kept in the task's ``task_state_store`` right after the platform answers, before any
wait: a retried task reconnects to its batch instead of sending the file again (Airflow 3.3+, through
`ResumableJobMixin`; older Airflow sends again on every try). Imports no HTTP library at module level.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import (
    AirflowException,
    AirflowFailException,
    BaseOperator,
    ResumableJobMixin,
    conf,
)

from airflow_provider_annotation.batch import IDENTIFIER_CHARS, to_batch_id
from airflow_provider_annotation.exceptions import (
    AnnotationInputError,
    AnnotationInputProblemsError,
    AnnotationMayHaveTakenEffectError,
    AnnotationValidationError,
)
from airflow_provider_annotation.links import AnnotationPlatformLink, push_platform_url
from airflow_provider_annotation.operators._create import (
    NOT_RETRYING_REFUSAL,
    input_failure,
)
from airflow_provider_annotation.operators.base import AnnotationHookMixin
from airflow_provider_annotation.redaction import scrub
from airflow_provider_annotation.status import (
    DEFAULT_BATCH_FINAL_STATUSES,
    Phase,
    batch_summary,
    classify_batch,
)
from airflow_provider_annotation.validation import Problems, describe_value, is_int, to_long_id

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context, XComArg

__all__ = ["IMPORT_SUMMARY_KEY", "SendTasksOperator"]

#: XCom key of the finished batch's counts and first errors.
IMPORT_SUMMARY_KEY = "import_summary"


class SendTasksOperator(AnnotationHookMixin, ResumableJobMixin, BaseOperator):
    """Start importing the records of a JSON-lines file (``POST /task/send``) into a project and,
    by default, wait until the import batch is final. Returns the `batchId` (a string).

    When the batch is final its counts go to XCom under ``import_summary``: ``batch_id``,
    ``status``, ``task_count``, ``import_fail_count``, ``duplicates``, ``failed``,
    ``inconsistencies`` and the first errors and duplicates as ``{"uniqueIdentifier", "error"}``
    (scrubbed and cut; a record's ``jsonLine`` is never kept). Records refused as ``Duplicate
    UniqueIdentifier`` (already in the project, e.g. after a re-send) are counted apart and do not
    count as failed. More than `max_failed_records` failed records, or counts that contradict each
    other (a negative ``importFailCount``, more errors listed than counted), fail the task.

    The batch id is an opaque string (the docs' type): whatever the send returned is waited on as
    it is. The platform does not document which batch statuses are final: `final_statuses`
    defaults to (3,), the status its one sample shows for a batch the importer had finished with
    (see `status.DEFAULT_BATCH_FINAL_STATUSES`).

    The platform has no cancel endpoint: killing this task does not stop the import.

    :param project_id: the project to import into.
    :param resource_url: an open http(s) URL of the JSON-lines file (templated).
    :param wait_for_completion: wait until the batch is final; False returns right after sending.
    :param deferrable: wait on the triggerer instead of a worker slot.
    :param poll_interval: seconds between status reads.
    :param timeout: seconds to wait for a final status before failing (the import goes on; a retry
        reconnects to it).
    :param max_failed_records: how many records (duplicates not counted) may fail.
    :param final_statuses: the batch statuses read as final.
    :param annotation_conn_id: the Airflow connection holding the access-key pair.
    """

    template_fields: Sequence[str] = ("project_id", "resource_url", "annotation_conn_id")
    ui_color = "#e8f4ea"
    operator_extra_links = (AnnotationPlatformLink(),)
    #: task_state_store key of the sent batch. Renaming it breaks in-flight retries.
    external_id_key = "annotation_batch_id"

    def __init__(
        self,
        *,
        project_id: int | str | XComArg,
        resource_url: str | XComArg,
        wait_for_completion: bool = True,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: float = 30.0,
        timeout: float = 6 * 3600.0,
        max_failed_records: int = 0,
        final_statuses: Sequence[int] = DEFAULT_BATCH_FINAL_STATUSES,
        annotation_conn_id: str = "annotation_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.project_id = project_id
        self.resource_url = resource_url
        self.wait_for_completion = wait_for_completion
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.max_failed_records = max_failed_records
        self.final_statuses = final_statuses
        self.annotation_conn_id = annotation_conn_id
        self._summary: dict[str, Any] | None = None
        self._project_id: int | None = None
        self._link_pushed = False
        self._reported: str | None = None

    # -- inputs, checked after rendering --------------------------------------------------------

    def check_inputs(self) -> int:
        """The project id; AirflowFailException naming every bad argument, before anything is sent."""
        problems = Problems()
        project_id = problems.collect(lambda: to_long_id(self.project_id, "project_id"))
        url = self.resource_url
        if not isinstance(url, str) or not url.strip().lower().startswith(("http://", "https://")):
            problems.append(f"resource_url: expected an http(s) URL, got {describe_value(url)}")
        if not is_int(self.max_failed_records) or self.max_failed_records < 0:
            problems.append(
                f"max_failed_records: expected an int of at least 0, got {self.max_failed_records!r}"
            )
        statuses = self.final_statuses
        # Any int: the statuses are undocumented, and other endpoints use negative ones (-1 error).
        if not isinstance(statuses, (list, tuple)) or not statuses or not all(map(is_int, statuses)):
            problems.append(
                f"final_statuses: expected a non-empty list of ints, got {describe_value(statuses)}"
            )
        for name in ("poll_interval", "timeout"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
                problems.append(f"{name}: expected a number of seconds above 0, got {value!r}")
        if problems:
            raise input_failure(AnnotationInputProblemsError(problems))
        return project_id

    # -- the resumable protocol ------------------------------------------------------------------

    def execute(self, context: Context) -> Any:
        self._project_id = self.check_inputs()
        try:
            return self.execute_resumable(context)
        finally:
            self.close_hook()

    def submit_job(self, context: Context) -> str:
        """Send the file once; a lost answer is not sent again (it may have started a batch)."""
        project_id = self.check_inputs()
        try:
            answer = self.hook.send_tasks(project_id, str(self.resource_url))  # a str: check_inputs
        except AnnotationMayHaveTakenEffectError as err:
            raise AirflowFailException(
                f"{err}\nNot retrying this task: the platform may have started an import batch already; "
                "a second send would import the records again. Check the project before clearing the task."
            ) from err
        except AnnotationValidationError as err:
            raise AirflowFailException(f"{err}\n{NOT_RETRYING_REFUSAL}") from err
        except AnnotationInputError as err:
            raise input_failure(err) from err
        batch_id = answer["batchId"]
        self.log.info(
            "Import batch %s started for project %s (importStatus %s)",
            batch_id,
            project_id,
            answer.get("importStatus"),
        )
        return batch_id

    def get_job_status(self, external_id: Any, context: Context) -> str:
        batch_id = to_batch_id(external_id, f"the batch id kept under {self.external_id_key!r}")
        self._summary = batch_summary(batch_id, self.hook.get_send_status(batch_id))
        return str(self._summary["status"])

    def is_job_active(self, status: str) -> bool:
        return self._phase() is Phase.ACTIVE

    def is_job_succeeded(self, status: str) -> bool:
        return self._phase() is Phase.SUCCESS

    def poll_until_complete(self, external_id: Any, context: Context) -> Any:
        """Wait until the batch is final and return the result: on a reconnect Airflow's mixin
        returns this value as the task's, after a fresh send it asks `get_job_result` again."""
        from airflow_provider_annotation.waiting import DEFER_GRACE_SECONDS, wait_until

        batch_id = str(external_id)
        # The link goes out before any wait, so it works while the task is deferred.
        self._push_link(context, batch_id)
        if not self.wait_for_completion:
            return self.get_job_result(batch_id, context)
        if self.deferrable:
            from airflow_provider_annotation.triggers.annotation import AnnotationBatchTrigger

            self.log.info("Deferring: waiting for import batch %s on the triggerer", batch_id)
            self.defer(
                trigger=AnnotationBatchTrigger(
                    batch_id=batch_id,
                    end_time=time.time() + float(self.timeout),
                    poll_interval=float(self.poll_interval),
                    final_statuses=list(self.final_statuses),
                    annotation_conn_id=self.annotation_conn_id,
                ),
                method_name="execute_complete",
                timeout=timedelta(seconds=float(self.timeout) + DEFER_GRACE_SECONDS),
            )

        def final(status: str) -> str | None:
            if not self.is_job_active(status):
                return status
            self.log.info("Import batch %s: status %s, waiting", batch_id, status)
            return None

        # The batch trigger's loop on the worker: transient errors are read again, the deadline ends it.
        status = wait_until(
            lambda: self.get_job_status(batch_id, context),
            final,
            timeout=float(self.timeout),
            poll_interval=float(self.poll_interval),
            log=self.log,
            what=f"Polling batch {batch_id}",
        )
        if status is None:
            raise AirflowException(self._timeout_message(batch_id))
        return self.get_job_result(batch_id, context)

    def get_job_result(self, external_id: Any, context: Context) -> str:
        """The batch id; a final batch's summary goes to XCom, and too many failures fail the task."""
        batch_id = str(external_id)
        self._push_link(context, batch_id)  # a retry that finds the batch finished has not pushed it yet
        if self._summary is None or not self.wait_for_completion or self._reported == batch_id:
            return batch_id  # the mixin asks again after a fresh send: report once
        summary = self._summary
        ti = context.get("ti")  # none in a quick check, execute(context={})
        if ti is not None:
            ti.xcom_push(key=IMPORT_SUMMARY_KEY, value=summary)
        if summary["duplicates"]:
            self.log.warning(
                "Import batch %s: %d record(s) refused as duplicates (already in the project; not counted "
                "as failed), e.g. %s",
                batch_id,
                summary["duplicates"],
                describe_batch_errors(summary.get("first_duplicates")),
            )
        if self._phase() is Phase.FAILURE:
            raise AirflowFailException(self._failure_message(batch_id, summary))
        self.log.info(
            "Import batch %s final (status %s): %s task(s), %d failed, %d duplicate(s)",
            batch_id,
            summary["status"],
            summary["task_count"],
            summary["failed"],
            summary["duplicates"],
        )
        self._reported = batch_id
        return batch_id

    def execute_complete(self, context: Context, event: Any = None) -> str:
        """Turn the batch trigger's one event into the task's result; anything unexpected fails loudly."""
        try:
            return self._complete(context, event)
        finally:
            self.close_hook()

    def _complete(self, context: Context, event: Any) -> str:
        from airflow_provider_annotation.waiting import BATCH_EVENT_STATUSES, unexpected_event

        if refused := unexpected_event(event, BATCH_EVENT_STATUSES, "AnnotationBatchTrigger"):
            raise AirflowException(refused)
        batch_id = to_batch_id(event.get("batch_id"), "the event's batch_id")
        if event["status"] == "timeout":
            raise AirflowException(self._timeout_message(str(batch_id)))
        if event["status"] == "error":
            raise AirflowException(
                f"Waiting for import batch {batch_id} failed: {scrub(event.get('message'), limit=2000)}"
            )
        summary = event.get("summary")
        if not isinstance(summary, dict) or not {"status", "failed", "duplicates"} <= summary.keys():
            raise AirflowException(unexpected_event(event, (), "AnnotationBatchTrigger"))
        self._summary = summary
        self._link_pushed = True  # before deferring
        return self.get_job_result(batch_id, context)

    def on_kill(self) -> None:
        self.log.warning(
            "The platform has no cancel endpoint: the import batch keeps running on the platform; "
            "a retry of this task reconnects to it (Airflow 3.3+)."
        )

    # -- helpers ---------------------------------------------------------------------------------

    def _phase(self) -> Phase:
        assert self._summary is not None, "get_job_status first"
        return classify_batch(self._summary, tuple(self.final_statuses), int(self.max_failed_records))

    def _push_link(self, context: Context, batch_id: str) -> None:
        if not self._link_pushed:
            push_platform_url(
                context, self.hook.config, self.log, project_id=self._project_id, batch_id=batch_id
            )
            self._link_pushed = True

    def _failure_message(self, batch_id: str, summary: dict[str, Any]) -> str:
        """Why a final batch fails the task, in a few KiB at most: counts, contradictions and the
        first errors' identifiers and texts (never a record's `jsonLine`)."""
        why = []
        if summary.get("inconsistencies"):
            why.append(
                "the platform's counts contradict each other ("
                + "; ".join(scrub(text) for text in summary["inconsistencies"][:5])
                + "), so this is not a clean success"
            )
        if summary["failed"] > self.max_failed_records:
            why.append(
                f"{summary['failed']} record(s) failed, more than max_failed_records="
                f"{self.max_failed_records} (duplicates not counted: {summary['duplicates']})"
            )
        first = describe_batch_errors(summary.get("first_errors"))
        return f"Import batch {batch_id}: " + "; ".join(why) + (f"; first errors: {first}" if first else "")

    def _summary_value(self, key: str) -> Any:
        return None if self._summary is None else self._summary.get(key)

    def _timeout_message(self, batch_id: str) -> str:
        return (
            f"Import batch {batch_id} not final after {float(self.timeout):g} s (last status "
            f"{self._summary_value('status')}; final statuses {list(self.final_statuses)}). The import goes "
            "on: a retry reconnects to the same batch."
        )


#: Error entries a message or log line shows.
_SHOWN_ERRORS = 3


def describe_batch_errors(entries: Any) -> str:
    """The first error entries of a batch summary as one bounded line: ``'id-1': error text; ...``."""
    if not isinstance(entries, list):
        return ""
    shown = []
    for entry in entries[:_SHOWN_ERRORS]:
        entry = entry if isinstance(entry, dict) else {"error": entry}
        identifier, text = entry.get("uniqueIdentifier"), scrub(entry.get("error"))
        shown.append(text if identifier is None else f"{scrub(identifier, limit=IDENTIFIER_CHARS)!r}: {text}")
    more = len(entries) - len(shown)
    return "; ".join(shown) + (f" (and {more} more in the import_summary XCom)" if more > 0 else "")
