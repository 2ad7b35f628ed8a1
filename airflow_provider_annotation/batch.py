"""Import batches (``/task/send``, ``/task/send/status``): the batch id and the status answer.

The docs give `batchId` as a string (sample ``"1948529430730380288"``), so it is kept opaque:
whatever the send returned is what a status read sends back, never re-read as a number. Its only
limits are those that keep it safe to log, link and store (`envelope.text_id_problem`).

Each entry of a status answer's `errors` is, per the docs, ``{uniqueIdentifier, jsonLine, error}``.
`jsonLine` is the user's own record (it may hold signed storage URLs): it is dropped here, at the
hook, so it never reaches a log line, an exception, a trigger event or an XCom. The other texts are
scrubbed of the request's secrets and cut. What the counts mean is `status.batch_summary`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from airflow_provider_annotation.answers import bad_answer, read_object
from airflow_provider_annotation.endpoints import TASK_SEND, TASK_SEND_STATUS
from airflow_provider_annotation.envelope import created_text_id, text_id_problem
from airflow_provider_annotation.exceptions import AnnotationInputProblemsError
from airflow_provider_annotation.redaction import SNIPPET_CHARS, scrub
from airflow_provider_annotation.validation import describe_value, is_int, is_long

__all__ = ["IDENTIFIER_CHARS", "read_send_answer", "read_send_status", "to_batch_id"]

#: Characters kept of one error's `uniqueIdentifier` (its `error` text keeps `SNIPPET_CHARS`).
IDENTIFIER_CHARS = 100
_COUNTS = ("taskCount", "importFailCount")


def to_batch_id(value: object, field: str = "batch_id") -> str:
    """A batch id as `send_tasks` returned it: an opaque string, refused (naming `field`) only when
    it could not be logged or linked safely. An int is taken as its digits (an older XCom)."""
    if is_int(value):
        value = str(value)
    problem = text_id_problem(value)
    if problem is not None:
        raise AnnotationInputProblemsError(
            f"{field}: an opaque id as the send returned it, but {problem}: {describe_value(value)}"
        )
    return str(value)


def read_send_answer(data: Any, request_id: str | None, secrets: Iterable[str] = ()) -> dict[str, Any]:
    """``{"importStatus", "batchId"}`` of a send's answer: the batch id as `to_batch_id` would take
    it, else "may have taken effect" (a batch may have started; the answer is shown scrubbed). An
    `importStatus` that is not an integer is dropped (None): it would reach the log unscrubbed."""
    answer = read_object(data, TASK_SEND, request_id)
    batch_id = created_text_id(TASK_SEND, answer, "batchId", request_id, secrets)
    status = answer.get("importStatus")
    return {"importStatus": status if is_long(status) else None, "batchId": batch_id}


def read_send_status(data: Any, request_id: str | None, secrets: Iterable[str] = ()) -> dict[str, Any]:
    """A ``/task/send/status`` answer, checked and safe to show: ``{batchId, jsonlName, taskCount,
    importFailCount, status, errors}`` with each error ``{"uniqueIdentifier", "error"}`` (scrubbed
    of `secrets`, cut; no `jsonLine`). A status or count that is not an integer, or `errors` that
    is not a list, is a malformed answer (`AnnotationResponseError`, naming the field only)."""
    answer = read_object(data, TASK_SEND_STATUS, request_id)
    status = answer.get("status")
    if not is_long(status):
        raise bad_answer(
            f"the batch's status is not an integer ({type(status).__name__})",
            TASK_SEND_STATUS,
            request_id,
            created=False,
        )
    read: dict[str, Any] = {"status": status}
    for key in _COUNTS:
        value = answer.get(key)
        if value is not None and not is_long(value):
            raise bad_answer(
                f"{key} is not an integer ({type(value).__name__})",
                TASK_SEND_STATUS,
                request_id,
                created=False,
            )
        read[key] = value
    errors = answer.get("errors")
    if errors is None:
        errors = []
    if not isinstance(errors, list):
        raise bad_answer(
            f"errors is not a list ({type(errors).__name__})", TASK_SEND_STATUS, request_id, created=False
        )
    secrets = tuple(secrets)
    read["errors"] = [_error_entry(item, secrets) for item in errors]
    for key in ("batchId", "jsonlName"):
        if isinstance(answer.get(key), str):
            read[key] = scrub(answer[key], secrets, limit=IDENTIFIER_CHARS)
    return read


def _error_entry(item: object, secrets: tuple[str, ...]) -> dict[str, str | None]:
    """One entry of `errors` without its `jsonLine`. A bare string (not the docs' shape) is taken
    as the error text; anything else is shown by its type only."""
    if isinstance(item, dict):
        identifier, text = item.get("uniqueIdentifier"), item.get("error")
    elif isinstance(item, str):
        identifier, text = None, item
    else:
        identifier, text = None, f"(an error entry that is not an object: {type(item).__name__})"
    return {
        "uniqueIdentifier": None
        if identifier is None
        else scrub(identifier, secrets, limit=IDENTIFIER_CHARS),
        "error": scrub("" if text is None else text, secrets, limit=SNIPPET_CHARS),
    }
