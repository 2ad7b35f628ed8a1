"""Exporting finished annotations: which chunks to ask ``/tasks/export`` for, and the lines to write.

Pure functions, no HTTP and no Airflow: the hook sends what `export_body` builds, and
`ExportTasksOperator` writes what `jsonl_line` makes. A window is a pair of days
``[complete_after, complete_before)``: the platform says ``completeTimeAfter`` includes its day and
``completeTimeBefore`` means "before the date", read here as exclusive so consecutive days never
overlap.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from airflow_provider_annotation.coercion import _parse_literal, _reject_rendered_none
from airflow_provider_annotation.endpoints import TASKS_EXPORT
from airflow_provider_annotation.project import SetupInputError, _bad_answer, read_object, to_task_id
from airflow_provider_annotation.workflow import describe_value, to_project_id

__all__ = [
    "DEFAULT_ID_CHUNK",
    "MAX_ID_CHUNK",
    "Chunk",
    "day_chunks",
    "export_body",
    "id_chunks",
    "jsonl_line",
    "read_export",
    "to_chunk_size",
    "to_day",
    "to_export_task_ids",
]

#: Task ids per call when `chunk` is left at ``"day"`` for an export by ids.
DEFAULT_ID_CHUNK = 1000
#: The most task ids one call may carry: keeps every answer far below the endpoint's size limit.
MAX_ID_CHUNK = 10_000

#: One call's selection: ``(label, body fields)``; the label goes into every line it produced.
Chunk = tuple[str, dict[str, Any]]


def to_day(value: object, field: str) -> date:
    """A day from ``"YYYY-MM-DD"`` (what ``{{ ds }}`` renders), a `date`, or a `datetime` at
    midnight (an aware one is taken in UTC). Any other time of day is refused, not rounded."""
    if isinstance(value, datetime):
        moment = value.astimezone(timezone.utc) if value.tzinfo else value
        if moment.time() != time(0):
            raise SetupInputError(
                f"{field}: expected a day, got the datetime {moment.isoformat()} (not at midnight UTC); "
                "pass a date such as '{{ data_interval_start | ds }}'"
            )
        return moment.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            if len(value.strip()) == 10:
                return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise SetupInputError(f"{field}: expected a day as 'YYYY-MM-DD', got {describe_value(value)}")


def to_export_task_ids(value: object, field: str = "task_ids") -> list[int]:
    """Task ids as exact integers (the endpoint documents ``long[]``), in the given order, each once.

    Accepts a list of strings of digits or ints, its rendered text (JSON or a Python list), or the
    task sensor's XCom as a whole (its ``complete`` list is exported, its ``failed`` ones are not);
    floats are refused, as they have lost digits already."""
    if isinstance(value, str):  # rendered without native objects: JSON or a Python list literal
        _reject_rendered_none(value.strip(), field, "pass the sensor's XCom, e.g. sensor.output['complete']")
        value = _parse_literal(value.strip(), field)
    if isinstance(value, Mapping) and "complete" in value:  # AnnotationTaskSensor's XCom as a whole
        value = value["complete"]
    if not isinstance(value, (list, tuple)):
        raise SetupInputError(f"{field}: expected a list of task ids, got {describe_value(value)}")
    if not value:
        raise SetupInputError(f"{field}: the list is empty; give at least one task id")
    seen: dict[int, None] = {}
    for index, item in enumerate(value):
        seen.setdefault(int(to_task_id(item, f"{field}[{index}]")), None)
    return list(seen)


def to_chunk_size(value: object, *, by_ids: bool) -> int | None:
    """`chunk` checked: ``"day"`` (one call per day; for ids, `DEFAULT_ID_CHUNK` per call) or, for
    an export by ids, a count of task ids per call. None means per day."""
    if value == "day":
        return DEFAULT_ID_CHUNK if by_ids else None
    if isinstance(value, bool) or not isinstance(value, int):
        raise SetupInputError(f"chunk: expected 'day' or a number of task ids, got {describe_value(value)}")
    if not by_ids:
        raise SetupInputError(
            f"chunk: a window is exported one day per call; a number ({value}) applies only with task_ids"
        )
    if not 1 <= value <= MAX_ID_CHUNK:
        raise SetupInputError(f"chunk: expected 1 to {MAX_ID_CHUNK} task ids per call, got {value}")
    return value


def day_chunks(after: date, before: date) -> Iterator[Chunk]:
    """One chunk per day of ``[after, before)``, labelled by its day."""
    day = after
    while day < before:
        following = day + timedelta(days=1)
        yield (
            day.isoformat(),
            {
                "completeTimeAfter": day.isoformat(),
                "completeTimeBefore": following.isoformat(),
            },
        )
        day = following


def id_chunks(task_ids: Sequence[int], size: int) -> Iterator[Chunk]:
    """`size` task ids per chunk, labelled ``task-ids-1``, ``task-ids-2``, ..."""
    for number, start in enumerate(range(0, len(task_ids), size), start=1):
        yield f"task-ids-{number}", {"taskIds": list(task_ids[start : start + size])}


def export_body(
    project_id: object,
    *,
    complete_after: object = None,
    complete_before: object = None,
    task_ids: object = None,
) -> dict[str, Any]:
    """The body of one ``/tasks/export`` call: a window of days or task ids, never both."""
    body: dict[str, Any] = {"projectId": to_project_id(project_id)}
    by_window = complete_after is not None or complete_before is not None
    if by_window == (task_ids is not None):
        raise SetupInputError(
            "task_ids, complete_after/complete_before: select by a window of days or by task ids, "
            "exactly one of the two"
        )
    if task_ids is not None:
        body["taskIds"] = to_export_task_ids(task_ids)
        return body
    # The docs render both dates required (export/export-tasks.md): a window names both ends.
    for name, value in (("complete_after", complete_after), ("complete_before", complete_before)):
        if value is None:
            raise SetupInputError(f"{name}: required for a window of days (the docs require both dates)")
    body["completeTimeAfter"] = to_day(complete_after, "complete_after").isoformat()
    body["completeTimeBefore"] = to_day(complete_before, "complete_before").isoformat()
    return body


def read_export(data: Any, request_id: str | None) -> list[dict[str, Any]]:
    """The ``annotationResultList`` of an answer, each item an object; anything else is a typed error."""
    results = read_object(data, TASKS_EXPORT, request_id).get("annotationResultList")
    if not isinstance(results, list) or not all(isinstance(item, dict) for item in results):
        what = "annotationResultList is not a list of objects"
        raise _bad_answer(what, TASKS_EXPORT, request_id, created=False)
    return results


def jsonl_line(project_id: int, chunk: str, result: dict[str, Any]) -> bytes:
    """One JSON Lines line (UTF-8, compact, ``\\n``-terminated): the project id, the chunk it came
    from, then the annotation result's own fields as the platform sent them."""
    record = {"projectId": project_id, "chunk": chunk, **result}
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
