"""A task instance's durable state: what lets a retry find what an earlier try did on the platform
instead of doing it a second time. One rule for every operator that sends something:

- read what an earlier try kept (`TaskState.read`, or `TaskState.kept_for` for a record tied to a
  body);
- keep a record right after the platform's answer, before any other call (`TaskState.keep`);
- refuse to send a different body where an earlier try's record stands (`TaskState.kept_for`):
  creating again would orphan the first object, and only a person can tell which one is right.

It lives in Airflow 3.3's ``task_state_store``; without one (Airflow < 3.3, or a run outside a
task run such as ``execute(context={})``) nothing is kept and the log says what a retry repeats.

The keys and the values kept under them are part of the provider's contract with tasks in flight:
a task retried across an upgrade must find what the previous release kept. Its users:

- the create protocol (`operators._create`): one record ``{<id key>: id, ..., "body_sha256"}``
  under the operator's ``state_key``;
- the chunked submit (`SubmitAnnotationDataOperator`): ``{"body_sha256", "chunks"}`` under its
  ``state_key`` and each chunk's answer under ``<state_key>.<n>``;
- `CreateProjectsOperator` (`operators._batch.Ledger`): ``{"sent_below": k}`` under
  ``annotation_projects`` and the kept items in groups under ``annotation_projects.<j>``;
- `SendTasksOperator`: the batch id under ``annotation_batch_id``, read and written by Airflow's
  `ResumableJobMixin` (which also decides, by the batch's status, whether to reconnect).

Imports nothing from the model or the hooks: cheap at DAG-parse time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_annotation.version_compat import AIRFLOW_V_3_3_PLUS

__all__ = ["DIGEST_KEY", "TaskState", "body_digest", "note_no_state_store"]

#: The field of a kept record holding the digest of the body it was kept for.
DIGEST_KEY = "body_sha256"


def body_digest(body: Any) -> str:
    """SHA-256 of the body's canonical JSON: what a kept record is tied to."""
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def note_no_state_store(log: Any, consequence: str) -> None:
    """Say why a task has no ``task_state_store``, naming the true cause: Airflow before 3.3 (a
    warning: retries repeat the work), or a run outside a task run such as ``execute(context={})``
    (no retries there: a note)."""
    if AIRFLOW_V_3_3_PLUS:
        log.info("Run outside a task run (no task_state_store in the context): %s", consequence)
    else:
        log.warning("No task_state_store (Airflow < 3.3): %s", consequence)


class TaskState:
    """The ``task_state_store`` of one run of a task instance, or nothing to keep state in.

    :param context: the task's context.
    :param log: where the missing store is noted.
    :param without: what a retry repeats when there is no store, noted once, here; None when the
        caller says it itself.
    """

    def __init__(self, context: Mapping[str, Any], log: Any, *, without: str | None = None) -> None:
        self.store = context.get("task_state_store")
        if self.store is None and without is not None:
            note_no_state_store(log, without)

    @property
    def durable(self) -> bool:
        """Whether anything kept here outlives this try."""
        return self.store is not None

    def read(self, key: str) -> Any:
        """What an earlier try kept under `key`; None when nothing was (or there is no store)."""
        return None if self.store is None else self.store.get(key)

    def keep(self, key: str, value: Any) -> None:
        """Keep `value` under `key`: call it right after the answer it records, before any other
        call, so a crash after the answer still leaves it for the retry."""
        if self.store is not None:
            self.store.set(key, value)

    def kept_for(
        self,
        key: str,
        digest: str,
        *,
        refusal: Callable[[dict[str, Any]], str],
        valid: Callable[[dict[str, Any]], bool] = lambda record: True,
    ) -> dict[str, Any] | None:
        """The record kept under `key` for the body of `digest`, or None when none was kept (a
        value that is not a `valid` record counts as none). A record kept for another body fails
        the task without retries, saying `refusal(record)`: sending this body would act twice."""
        kept = self.read(key)
        if not isinstance(kept, dict) or not valid(kept):
            return None
        if kept.get(DIGEST_KEY) != digest:
            raise AirflowFailException(refusal(kept))
        return kept
