"""Typed values from rendered templates: what an operator's execute() gets after Jinja ran.

Without native rendering, Jinja turns every templated argument into a string: an XCom project id
becomes ``"4242"``, a list becomes ``"['alice', 'bob']"`` (Python repr), ``| tojson`` gives JSON,
and people type ``"alice, bob"`` into Variables. These functions read each of those forms
honestly and refuse everything else with a message naming the argument, so a wrong value fails
before any request instead of being sent half-understood.

`to_project_id` lives with the model (`workflow`), which builds request bodies; it is re-exported
here for the operators. Pure standard library, no Airflow import. Python literals are read with
`ast.literal_eval`, never `eval`. Every error is the one input error,
`AnnotationInputProblemsError` (also named `WorkflowValidationError`; an `AnnotationInputError`,
so a ValueError), worded "invalid workflow input" as since 0.1.0.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

from airflow_provider_annotation.exceptions import AnnotationInputProblemsError
from airflow_provider_annotation.validation import (
    MAX_DEPTH,
    WORKFLOW_INPUT,
    Problems,
    check_strings,
    describe_value,
    shorten,
)
from airflow_provider_annotation.workflow import to_project_id

__all__ = ["to_name_list", "to_pools", "to_project_id"]

#: Strings Jinja renders for a missing value (``{{ None }}``, ``{{ None | tojson }}``).
_RENDERED_NONE = frozenset({"None", "null"})


#: How deep brackets may nest in a rendered string: the pools list, a pool, a free-form field and
#: its own `MAX_DEPTH` levels, with room to spare. Checked before parsing, so neither parser runs
#: near Python's recursion limit.
MAX_TEXT_DEPTH = 2 * MAX_DEPTH

#: Quoted strings (JSON's and Python's) and brackets, for the depth scan.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|[\[\](){}]', re.DOTALL)


def _too_deep(text: str) -> bool:
    """Whether brackets outside quoted strings nest deeper than `MAX_TEXT_DEPTH` anywhere."""
    depth = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in "[({":
            depth += 1
            if depth > MAX_TEXT_DEPTH:
                return True
        elif token in "])}":
            depth -= 1
    return False


def _refused(problems: Problems | str) -> AnnotationInputProblemsError:
    """The input error of these readers, in the workflow model's wording."""
    return AnnotationInputProblemsError(problems, subject=WORKFLOW_INPUT)


def _parse_literal(text: str, field: str) -> Any:
    """JSON first (``| tojson``, templated .json files), then a Python literal (non-native Jinja).

    Nesting deeper than the parsers can follow is refused with the field named, never a
    RecursionError (both parsers recurse).
    """
    if _too_deep(text):
        raise _refused(f"{field}: nested more than {MAX_TEXT_DEPTH} levels deep ({describe_value(text)})")
    try:
        return json.loads(text)
    except RecursionError:
        raise _refused(f"{field}: nested too deeply to read ({describe_value(text)})") from None
    except ValueError as json_error:
        try:
            return ast.literal_eval(text)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            raise _refused(
                f"{field}: neither valid JSON ({json_error}) nor a Python literal: {describe_value(text)}"
            ) from None


def _reject_rendered_none(text: str, field: str, instead: str) -> None:
    """Refuse ``"None"``/``"null"``: a missing upstream value, not data; `instead` says what to pass."""
    if text in _RENDERED_NONE:
        raise _refused(
            f"{field}: got the string {text!r}, which is how Jinja renders a missing value; {instead}"
        )


def _names(items: list[Any] | tuple[Any, ...], field: str) -> list[str]:
    problems = Problems()
    names = check_strings(items, field, problems)
    if names is None:
        raise _refused(problems)
    return names


def to_name_list(value: object, field: str) -> list[str] | None:
    """Account or algorithm names as a list of non-empty strings; None stays None.

    Accepted: a list/tuple of strings; a JSON list (``'["alice", "bob"]'``); the Python repr a
    list renders to (``"['alice', 'bob']"``); comma-separated names (``"alice, bob"``, each
    trimmed, no empty item). A string starting with ``[``, ``(`` or ``{`` must parse as a list.

    An empty (or blank) string gives ``[]``: an empty rendering means "nobody", and an empty
    list is legal (a labeling pool with no workers yet; no inspection pool in `build_pools`).
    The strings ``"None"``/``"null"`` are refused: they are what Jinja makes of a missing value,
    and taking them as an account name would send a silent mistake.
    """
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return _names(value, field)
    if not isinstance(value, str):
        raise _refused(
            f"{field}: expected a list of names, a JSON list or comma-separated names, "
            f"got {describe_value(value)}"
        )
    text = value.strip()
    if not text:
        return []
    _reject_rendered_none(text, field, "pass None or an empty string for no names")
    if text[0] in "[({":
        parsed = _parse_literal(text, field)
        if not isinstance(parsed, (list, tuple)):
            raise _refused(f"{field}: expected a list of names, got {describe_value(parsed)}")
        return _names(parsed, field)
    names = [part.strip() for part in text.split(",")]
    empty = [i for i, name in enumerate(names) if not name]
    if empty:
        where = ", ".join(map(str, empty[:10])) + (f" and {len(empty) - 10} more" if len(empty) > 10 else "")
        raise _refused(f"{field}: empty name at position {where} in comma-separated {shorten(text)!r}")
    return names


def to_pools(value: object, field: str = "pools") -> list[Any]:
    """The pools list from a list, a JSON string or a Python-repr string; items are not checked.

    Full rule checks (with positions) stay in `validate_pools`; this only gets a list out of
    what Jinja rendered: a templated .json file or ``{{ ... | tojson }}`` gives JSON, a list of
    dicts rendered without native rendering gives its Python repr.
    """
    if isinstance(value, (list, tuple)):
        return list(value)
    if not isinstance(value, str):
        raise _refused(f"{field}: expected a list of pool objects or its JSON, got {describe_value(value)}")
    text = value.strip()
    if not text:
        raise _refused(f"{field}: got an empty string; pass None to get the platform's default workflow")
    _reject_rendered_none(text, field, "pass None for the platform's default workflow")
    parsed = _parse_literal(text, field)
    if isinstance(parsed, (list, tuple)):
        return list(parsed)
    if isinstance(parsed, dict):
        keys = ", ".join(repr(shorten(str(k))) for k in list(parsed)[:5])
        raise _refused(
            f"{field}: expected a list of pool objects, got an object with keys {keys}; pass the list itself"
        )
    raise _refused(f"{field}: expected a list of pool objects, got {describe_value(parsed)}")
