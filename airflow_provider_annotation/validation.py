"""Input checks every model module shares: the problem list, how a value is shown in a message, and
the checks of ids and numbers.

Pure standard library, no Airflow import: DAG files reach this module at parse time. Checks run
after templates render and before anything is sent; each names the argument it is about, and a
caller collects every problem of every argument in one `Problems` and raises once
(`Problems.raise_all`), so one run shows everything to fix.

Ids: the platform's ``projectId``, ``workflowId``, ``folderId`` and ``datasetId`` are Java longs
(`to_long_id`); task ids exceed 2**53 and are kept as digit strings (`to_task_id`), never floats.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing_extensions import TypeIs

from airflow_provider_annotation.exceptions import MAX_PROBLEMS, AnnotationInputProblemsError

__all__ = [
    "MAX_DEPTH",
    "MAX_LONG",
    "MAX_PROBLEMS",
    "MIN_LONG",
    "SHORT_CHARS",
    "WORKFLOW_INPUT",
    "Problems",
    "check_plain_json",
    "check_strings",
    "describe_value",
    "id_string",
    "is_int",
    "is_long",
    "shorten",
    "to_int_at_least",
    "to_long_id",
    "to_task_id",
    "utf8_problem",
]

#: The platform (Java) reads integers as signed 64-bit longs: its ids are 1 .. `MAX_LONG`.
MIN_LONG, MAX_LONG = -(2**63), 2**63 - 1
_MAX_LONG_DIGITS = len(str(MAX_LONG))

#: How deep lists and objects may nest inside a free-form field. The documented fields nest two
#: levels at most; the limit keeps every check iterative-safe (no RecursionError) and bounded.
MAX_DEPTH = 32

#: The most characters of a user's value an input error quotes.
SHORT_CHARS = 60

#: The `AnnotationInputProblemsError.subject` of the workflow model's checks (pools, names, the
#: project id of Create Workflow): their messages have said "invalid workflow input" since 0.1.0.
WORKFLOW_INPUT = "workflow input"


class Problems(list[str]):
    """A problem list that keeps the first `MAX_PROBLEMS` lines and only counts the rest (`more`),
    so checking a huge input takes bounded memory for its report."""

    def __init__(self, problems: Iterable[str] = ()) -> None:
        super().__init__()
        self.more = 0
        self.extend(problems)

    def append(self, problem: str) -> None:
        if len(self) < MAX_PROBLEMS:
            super().append(problem)
        else:
            self.more += 1

    def extend(self, problems: Iterable[str]) -> None:
        for problem in problems:
            self.append(problem)
        self.more += getattr(problems, "more", 0)

    def add(self, err: AnnotationInputProblemsError) -> None:
        """Take over every problem `err` reported, counted ones included."""
        self.extend(err.problems)
        self.more += err.more

    def collect(self, read: Callable[[], Any]) -> Any:
        """`read()`, or None after taking over the problems of the input error it raised. (Typed
        Any: a caller uses the value after `raise_all`, when no read was refused.)"""
        try:
            return read()
        except AnnotationInputProblemsError as err:
            self.add(err)
            return None

    def raise_all(self, subject: str = "input") -> None:
        """Raise one `AnnotationInputProblemsError` with every problem, if there is any."""
        if self:
            raise AnnotationInputProblemsError(self, subject=subject)


_repr = reprlib.Repr()
_repr.maxlevel = 3
_repr.maxstring = SHORT_CHARS
_repr.maxother = SHORT_CHARS
_repr.maxlong = 24


def shorten(text: str, limit: int = SHORT_CHARS) -> str:
    """`text` cut to `limit` characters (with ``...``), for a user's value echoed in a message.
    (What a server sent is cut by `redaction.scrub`, which also blanks secrets.)"""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_value(value: object) -> str:
    """``str 'alice'``, ``bool True``: the type and a shortened repr, for error messages.

    Bounded for any input: long strings, huge ints, deep nesting and objects whose repr fails
    are shortened or named by type, never echoed whole.
    """
    if is_int(value) and value.bit_length() > 64:
        return f"{type(value).__name__} of {value.bit_length()} bits"
    try:
        text = _repr.repr(value)
    except Exception:  # a user object's __repr__ may raise anything; its type still names it
        text = "<unprintable>"
    return f"{type(value).__name__} {shorten(text)}"


def is_int(value: object) -> TypeIs[int]:
    """An int that JSON sends as a number; bool is an int to Python but not to the platform."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_long(value: object) -> bool:
    """An int the platform (Java) can read or send: not a bool, and not 10**400."""
    return is_int(value) and MIN_LONG <= value <= MAX_LONG


def to_long_id(value: object, field: str) -> int:
    """One of the platform's long ids (project, workflow, folder, dataset): a positive int from an
    int or a string of ASCII digits (surrounding whitespace allowed).

    Rejected: bool, float (even 3.0: a float id means something upstream computed it wrongly),
    zero, negatives, signs, decimals, anything beyond the platform's long range, non-strings.
    """
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise AnnotationInputProblemsError(
            f"{field}: expected a positive integer, got {describe_value(value)}"
        )
    if isinstance(value, str):
        text = value.strip()
        if not (text.isascii() and text.isdigit()):
            raise AnnotationInputProblemsError(
                f"{field}: expected a positive integer or a string of digits, got {describe_value(value)}"
            )
        digits = text.lstrip("0") or "0"
        if len(digits) > _MAX_LONG_DIGITS:  # checked before int(): no huge conversions
            raise AnnotationInputProblemsError(
                f"{field}: {describe_value(value)} is beyond the platform's range"
            )
        number = int(digits)
    else:
        number = int(value)  # plain int from an int subclass (IntEnum, ...)
    if number <= 0:
        raise AnnotationInputProblemsError(f"{field}: must be positive, got {describe_value(value)}")
    if number > MAX_LONG:
        raise AnnotationInputProblemsError(f"{field}: {describe_value(value)} is beyond the platform's range")
    return number


def to_int_at_least(value: object, field: str, *, low: int = 1) -> int:
    """An int (not a bool) of at least `low`: a page's offset or size, a time in ms, a status
    filter. Strings are refused: these come from code, not from templates."""
    if not is_int(value) or not low <= value <= MAX_LONG:
        raise AnnotationInputProblemsError(
            f"{field}: expected an integer of at least {low}, got {describe_value(value)}"
        )
    return int(value)


def id_string(value: object, field: str) -> str:
    """An id kept as a string: a non-empty string (trimmed) or an int, never a float."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise AnnotationInputProblemsError(
            f"{field}: expected a string (or an integer), got {describe_value(value)}"
        )
    text = str(value).strip()
    if not text:
        raise AnnotationInputProblemsError(
            f"{field}: expected a non-empty string, got {describe_value(value)}"
        )
    return text


def to_task_id(value: object, field: str = "task_id") -> str:
    """A task id as a string of digits: a string, or an exact int (never a float: they lose digits)."""
    text = id_string(value, field)
    if not (text.isascii() and text.isdigit()):
        raise AnnotationInputProblemsError(
            f"{field}: expected a string of digits, got {describe_value(value)}"
        )
    return text


def utf8_problem(text: str) -> str | None:
    """Why `text` cannot go in the UTF-8 JSON body (a lone surrogate), or None when it can."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return f"not encodable as UTF-8 (lone surrogate?): {describe_value(text)}"
    return None


def check_strings(value: object, where: str, problems: list[str]) -> list[str] | None:
    """A list of non-empty strings (a copy), or None after recording what is wrong at `where`."""
    if not isinstance(value, (list, tuple)):
        problems.append(f"{where}: expected a list of strings, got {describe_value(value)}")
        return None
    bad = False
    for j, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            problems.append(f"{where}[{j}]: expected a non-empty string, got {describe_value(item)}")
            bad = True
        elif (why := utf8_problem(item)) is not None:
            problems.append(f"{where}[{j}]: {why}")
            bad = True
    return None if bad else [str(item) for item in value]


def _not_plain_json(value: object) -> str:
    hint = {
        "set": "; a set has no JSON form and no order: pass a list",
        "frozenset": "; a set has no JSON form and no order: pass a list",
        "bytes": "; pass text (str)",
        "bytearray": "; pass text (str)",
    }.get(type(value).__name__, "")
    return f"not plain JSON (null, bool, number, string, list or object), got {describe_value(value)}{hint}"


def check_plain_json(value: object, where: str, problems: list[str], depth: int = 0) -> Any:
    """A plain-JSON copy of `value` (tuples become lists, int/str/float subclasses plain), or None
    after recording at `where` each part JSON cannot carry faithfully.

    Refused: sets, bytes and other objects; NaN and infinities (not JSON); objects with non-string
    keys (JSON would silently turn ``1`` into ``"1"``); ints beyond 64 bits (the platform's range);
    strings that are not valid UTF-8; nesting deeper than `MAX_DEPTH`.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if not is_long(value):
            problems.append(f"{where}: {describe_value(value)} is beyond the platform's 64-bit integer range")
            return None
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            problems.append(f"{where}: {value!r} is not a JSON number (NaN and infinities are not JSON)")
            return None
        return float(value)
    if isinstance(value, str):
        if (why := utf8_problem(value)) is not None:
            problems.append(f"{where}: {why}")
            return None
        return str(value)
    if isinstance(value, (list, tuple, Mapping)) and depth >= MAX_DEPTH:
        problems.append(f"{where}: nested more than {MAX_DEPTH} levels deep")
        return None
    if isinstance(value, (list, tuple)):
        return [check_plain_json(item, f"{where}[{j}]", problems, depth + 1) for j, item in enumerate(value)]
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                problems.append(f"{where}: keys must be strings, got key {describe_value(key)}")
                continue
            out[str(key)] = check_plain_json(item, f"{where}.{shorten(key)}", problems, depth + 1)
        return out
    problems.append(f"{where}: {_not_plain_json(value)}")
    return None
