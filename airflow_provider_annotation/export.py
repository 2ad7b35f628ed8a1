"""Exporting finished annotations: which chunks to ask ``/tasks/export`` for, and the lines to write.

Pure functions, no HTTP and no Airflow: the hook sends what `export_body` builds, and
`ExportTasksOperator` writes what `jsonl_line` makes. A window is a pair of days
``[complete_after, complete_before)``: the platform says ``completeTimeAfter`` includes its day and
``completeTimeBefore`` means "before the date", read here as exclusive so consecutive days never
overlap.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from airflow_provider_annotation.answers import bad_answer, read_object
from airflow_provider_annotation.coercion import _parse_literal, _reject_rendered_none
from airflow_provider_annotation.endpoints import TASKS_EXPORT, Endpoint
from airflow_provider_annotation.envelope import judge_answer
from airflow_provider_annotation.exceptions import AnnotationInputProblemsError, AnnotationResponseError
from airflow_provider_annotation.validation import Problems, describe_value, is_int, to_long_id, to_task_id

__all__ = [
    "DEFAULT_ID_CHUNK",
    "MAX_ID_CHUNK",
    "Chunk",
    "day_chunks",
    "export_body",
    "id_chunks",
    "jsonl_line",
    "ExportRecordError",
    "ExportResults",
    "judge_export_answer",
    "read_export",
    "read_export_results",
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
            raise AnnotationInputProblemsError(
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
    raise AnnotationInputProblemsError(
        f"{field}: expected a day as 'YYYY-MM-DD', got {describe_value(value)}"
    )


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
        raise AnnotationInputProblemsError(
            f"{field}: expected a list of task ids, got {describe_value(value)}"
        )
    if not value:
        raise AnnotationInputProblemsError(f"{field}: the list is empty; give at least one task id")
    problems = Problems()
    seen: dict[int, None] = {}
    for index, item in enumerate(value):
        task_id = problems.collect(lambda: to_task_id(item, f"{field}[{index}]"))  # noqa: B023 (called at once)
        if task_id is not None:
            seen.setdefault(int(task_id), None)
    problems.raise_all()
    return list(seen)


def to_chunk_size(value: object, *, by_ids: bool) -> int | None:
    """`chunk` checked: ``"day"`` (one call per day; for ids, `DEFAULT_ID_CHUNK` per call) or, for
    an export by ids, a count of task ids per call. None means per day."""
    if value == "day":
        return DEFAULT_ID_CHUNK if by_ids else None
    if not is_int(value):
        raise AnnotationInputProblemsError(
            f"chunk: expected 'day' or a number of task ids, got {describe_value(value)}"
        )
    if not by_ids:
        raise AnnotationInputProblemsError(
            f"chunk: a window is exported one day per call; a number ({value}) applies only with task_ids"
        )
    if not 1 <= value <= MAX_ID_CHUNK:
        raise AnnotationInputProblemsError(
            f"chunk: expected 1 to {MAX_ID_CHUNK} task ids per call, got {value}"
        )
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
    """The body of one ``/tasks/export`` call: a window of days or task ids, never both. Every
    problem of every argument is reported at once."""
    problems = Problems()
    body: dict[str, Any] = {"projectId": problems.collect(lambda: to_long_id(project_id, "project_id"))}
    by_window = complete_after is not None or complete_before is not None
    if by_window == (task_ids is not None):
        problems.append(
            "task_ids, complete_after/complete_before: select by a window of days or by task ids, "
            "exactly one of the two"
        )
    elif task_ids is not None:
        body["taskIds"] = problems.collect(lambda: to_export_task_ids(task_ids))
    else:
        # The docs render both dates required (export/export-tasks.md): a window names both ends.
        for name, value, key in (
            ("complete_after", complete_after, "completeTimeAfter"),
            ("complete_before", complete_before, "completeTimeBefore"),
        ):
            if value is None:
                problems.append(f"{name}: required for a window of days (the docs require both dates)")
            else:
                day = problems.collect(lambda: to_day(value, name))  # noqa: B023 (called at once)
                body[key] = None if day is None else day.isoformat()
    problems.raise_all()
    return body


def read_export_results(data: Any, request_id: str | None) -> ExportResults:
    """The `ExportResults` of an answer `judge_export_answer` judged; anything else is a typed error."""
    results = read_object(data, TASKS_EXPORT, request_id).get("annotationResultList")
    if not isinstance(results, ExportResults):
        what = "annotationResultList is not a list of objects"
        raise bad_answer(what, TASKS_EXPORT, request_id, created=False)
    return results


def read_export(data: Any, request_id: str | None) -> list[dict[str, Any]]:
    """The ``annotationResultList`` of an answer, each item an object; anything else is a typed error."""
    results = read_object(data, TASKS_EXPORT, request_id).get("annotationResultList")
    if not isinstance(results, list) or not all(isinstance(item, dict) for item in results):
        what = "annotationResultList is not a list of objects"
        raise bad_answer(what, TASKS_EXPORT, request_id, created=False)
    return results


def jsonl_line(project_id: int, chunk: str, result: dict[str, Any]) -> bytes:
    """One JSON Lines line (UTF-8, compact, ``\\n``-terminated) from an annotation result already
    read into Python: the project id, the chunk it came from, then the result's own fields.

    Strict JSON (RFC 8259): a lone surrogate is written as its ``\\uXXXX`` escape, a non-finite
    number (``NaN``, or a float that overflowed) is refused with ValueError. `ExportResults.lines`
    writes answers as the platform sent them, numbers' text included; this is for results in hand."""
    record = {"projectId": project_id, "chunk": chunk, **result}
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return _LONE_SURROGATE.sub(_escape_surrogate, text).encode("utf-8") + b"\n"


# --- reading an export answer item by item --------------------------------------------------------

#: Insignificant JSON whitespace. Inside a valid JSON string no raw newline can occur, so removing
#: ``\\n`` and ``\\r`` from a valid item keeps it the same JSON on one line.
_WS = re.compile(r"[ \t\n\r]*")
#: The standard library's C string scanner: ``(text, position after the opening quote, strict)``
#: -> ``(value, position after the closing quote)`` (not in the type stubs).
_scanstring: Callable[[str, int, bool], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
#: Where a string or a run of whitespace may start, in a valid JSON item.
_STRING_OR_SPACE = re.compile(r'[" \t\n\r]')
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
#: Fields every line starts with: an item holding one of them could not be kept exactly.
_ADDED_FIELDS = ("projectId", "chunk")


def _escape_surrogate(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def _compact(item: str) -> str:
    """A valid JSON item on one line. An item without a line break is one line already and is kept
    as sent (the platform writes compact JSON); a pretty-printed one (line breaks can only be
    between tokens in valid JSON) loses the whitespace between its tokens, strings kept as written."""
    if "\n" not in item and "\r" not in item:
        return item
    out, pos = [], 0
    while (found := _STRING_OR_SPACE.search(item, pos)) is not None:
        start = found.start()
        out.append(item[pos:start])
        if item[start] == '"':
            pos = _scanstring(item, start + 1, True)[1]
            out.append(item[start:pos])
        else:
            pos = _WS.match(item, start).end()  # type: ignore[union-attr]
    out.append(item[pos:])
    return "".join(out)


class ExportRecordError(AnnotationResponseError):
    """An export answer (or one record in it) that cannot be written exactly as strict JSON; it is
    found while the answer is read, before anything is written to the destination."""


class _NotStrictJson(ValueError):
    """A token strict JSON does not have (``NaN``, ``Infinity``, ``-Infinity``)."""


def _refuse_constant(name: str) -> Any:
    raise _NotStrictJson(name)


def _keep_text(text: str) -> str:
    """Numbers are not converted (their text is what is written): no overflow, no rounding."""
    return text


#: Reads one item to check it: numbers left as text, non-standard constants refused.
_STRICT = json.JSONDecoder(parse_float=_keep_text, parse_int=_keep_text, parse_constant=_refuse_constant)
#: Skips any other value of the envelope (nothing in it is kept from this reading).
_LENIENT = json.JSONDecoder(parse_float=_keep_text, parse_int=_keep_text, parse_constant=_keep_text)


class _Malformed(Exception):
    """The answer is not the JSON object the walk expects; the generic judge says why."""


class _Walk:
    """A walk over JSON held in one string, member by member and item by item, each value read by
    the standard library's scanner (C speed) and dropped at once."""

    def __init__(self, text: str) -> None:
        self.text = text
        #: Where the last array `items` walked ends (after its ``]``).
        self.array_end = 0

    def ws(self, pos: int) -> int:
        return _WS.match(self.text, pos).end()  # type: ignore[union-attr]

    def expect(self, pos: int, char: str) -> int:
        if self.text[pos : pos + 1] != char:
            raise _Malformed
        return pos + 1

    def value(self, pos: int, decoder: json.JSONDecoder = _LENIENT) -> tuple[Any, int]:
        try:
            return decoder.raw_decode(self.text, pos)
        except _NotStrictJson:
            raise
        except (ValueError, RecursionError):
            raise _Malformed from None

    def members(self, pos: int, on_value: Callable[[str, int], int]) -> int:
        """Call ``on_value(key, position) -> end`` for each member of the object at `pos`; the end."""
        pos = self.ws(self.expect(pos, "{"))
        if self.text[pos : pos + 1] == "}":
            return pos + 1
        while True:
            pos = self.expect(pos, '"')
            try:
                key, pos = _scanstring(self.text, pos, True)
            except ValueError:
                raise _Malformed from None
            pos = self.ws(self.expect(self.ws(pos), ":"))
            pos = self.ws(on_value(key, self.ws(pos)))
            if self.text[pos : pos + 1] == ",":
                pos = self.ws(pos + 1)
                continue
            return self.expect(pos, "}")

    def items(self, pos: int, decoder: json.JSONDecoder = _LENIENT) -> Iterator[tuple[int, int, Any]]:
        """``(start, end, value)`` of each item of the array at `pos`; `array_end` set at its end."""
        pos = self.ws(self.expect(pos, "["))
        if self.text[pos : pos + 1] == "]":
            self.array_end = pos + 1
            return
        while True:
            value, end = self.value(pos, decoder)
            yield pos, end, value
            pos = self.ws(end)
            if self.text[pos : pos + 1] == ",":
                pos = self.ws(pos + 1)
                continue
            self.array_end = self.expect(pos, "]")
            return


class ExportResults:
    """The ``annotationResultList`` of one export answer, kept as the text the platform sent and
    written line by line from it (`lines`): numbers keep their text (``1e400`` stays ``1e400``),
    escapes stay escapes (``"\\ud83d"``), and only one item at a time is read into objects.

    Built by `judge_export_answer`, which has checked every item already: each is an object, holds
    no ``projectId``/``chunk`` of its own and only tokens strict JSON has (no ``NaN``,
    ``Infinity``). Peak memory is about twice the answer's size (its bytes, then its text), not the
    ~10x a full parse into Python objects costs."""

    def __init__(self, text: str, start: int, count: int) -> None:
        self._text = text
        self._start = start
        self.count = count

    def __len__(self) -> int:
        return self.count

    def lines(self, project_id: int, chunk: str) -> Iterator[bytes]:
        """Each item as one JSON Lines line: ``{"projectId":..,"chunk":..,`` then its own members."""
        head = '{"projectId":' + str(int(project_id)) + ',"chunk":' + json.dumps(chunk)
        walk = _Walk(self._text)
        for start, end, _ in walk.items(self._start):
            inner = _compact(self._text[walk.ws(start + 1) : end])
            yield (head + ("}" if inner == "}" else "," + inner)).encode("utf-8") + b"\n"

    def records(self) -> Iterator[dict[str, Any]]:
        """Each item read into Python objects (numbers as Python reads them), one at a time."""
        for _, _, record in _Walk(self._text).items(self._start, json.JSONDecoder()):
            yield record


def judge_export_answer(
    endpoint: Endpoint, status: int, headers: Mapping[str, str], body: bytes, secrets: Iterable[str] = ()
) -> tuple[Any, str | None]:
    """`envelope.judge_answer` for ``/tasks/export`` without parsing its result list into objects:
    the list is found and checked item by item in the answer's text, the rest of the envelope is
    judged as usual. A success's ``annotationResultList`` is an `ExportResults`.

    A record that cannot be written exactly as strict JSON is an `ExportRecordError` naming it (its
    position in the list); so is an answer that is not UTF-8, or one this walk cannot follow."""
    where: dict[str, Any] = {"endpoint": endpoint.path, "method": endpoint.method}
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        judge_answer(endpoint, status, headers, body, secrets)  # a failure or a non-envelope says so
        raise ExportRecordError(
            f"the export answer is not UTF-8 (byte {err.start}); nothing was written", **where
        ) from None
    found: dict[str, int] = {}
    walk = _Walk(text)

    def in_data(key: str, pos: int) -> int:
        if key != "annotationResultList" or text[pos : pos + 1] != "[" or found:
            return walk.value(pos)[1]
        count = 0
        try:
            for _, _, record in walk.items(pos, _STRICT):
                _check_record(record, count, where)
                count += 1
        except _NotStrictJson as err:
            raise ExportRecordError(
                f"annotationResultList[{count}] holds {err}, which strict JSON (RFC 8259) cannot write; "
                "nothing was written",
                **where,
            ) from None
        found.update(start=pos, end=walk.array_end, count=count)
        return walk.array_end

    def in_envelope(key: str, pos: int) -> int:
        if key == "data" and text[pos : pos + 1] == "{":
            return walk.members(pos, in_data)
        return walk.value(pos)[1]

    try:
        walk.members(walk.ws(0), in_envelope)
    except _Malformed:
        _, request_id = judge_answer(endpoint, status, headers, body, secrets)
        raise ExportRecordError(
            "the export answer is JSON this reader cannot follow item by item; nothing was written",
            request_id=request_id,
            **where,
        ) from None
    if not found:
        return judge_answer(endpoint, status, headers, body, secrets)
    small = text[: found["start"]] + "[]" + text[found["end"] :]
    data, request_id = judge_answer(endpoint, status, headers, small.encode("utf-8"), secrets)
    if isinstance(data, dict) and data.get("annotationResultList") == []:
        data["annotationResultList"] = ExportResults(text, found["start"], found["count"])
    return data, request_id


def _check_record(record: Any, index: int, where: dict[str, Any]) -> None:
    """Refuse (naming the record) an item strict JSON lines could not carry exactly."""
    if not isinstance(record, dict):
        raise ExportRecordError(
            f"annotationResultList[{index}] is not an object ({type(record).__name__}); nothing was written",
            **where,
        )
    taken = [key for key in _ADDED_FIELDS if key in record]
    if taken:
        raise ExportRecordError(
            f"annotationResultList[{index}] holds its own {', '.join(map(repr, taken))}, which every "
            "line of the export adds, so it cannot be kept exactly; nothing was written",
            **where,
        )
