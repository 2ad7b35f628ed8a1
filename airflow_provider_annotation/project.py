"""The project-setup model: request bodies of Create Folder, Create Project, Annotation Request and
the project lists, and the two API versions of the workflow.

Pure standard library, no Airflow import: operators build and check their bodies here after
templates render and before anything is sent, and the hook sends what this module builds. Every
builder reports every problem of every argument at once, each naming its argument. What the
platform answers is read by `answers` (its names are re-exported here, where they used to live);
the shared checks are `validation`'s.

Ids: ``projectId``, ``workflowId``, ``folderId`` and ``datasetId`` are longs and never pass through
a float; task ids and data ids are strings from end to end (task ids exceed 2**53).
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Mapping
from enum import IntEnum
from typing import Any

from airflow_provider_annotation.answers import (  # noqa: F401 - re-exported (their home moved)
    MAX_TASK_ID_CHARS,
    AnnotationRequestResult,
    CreatedProject,
    id_text,
    one_project_named,
    optional_long,
    read_annotation_result,
    read_object,
    read_page,
    read_task,
)
from airflow_provider_annotation.codes import PlatformCode
from airflow_provider_annotation.coercion import _parse_literal
from airflow_provider_annotation.endpoints import (  # the API version's home; re-exported here
    API_VERSION_2024_07,
    API_VERSION_2024_08,
    API_VERSIONS,
    DEFAULT_API_VERSION,
    WORKFLOW_POOLS_KEY,
    WORKFLOW_VERTEX_KEY,
    check_api_version,
    create_workflow_endpoint,
)
from airflow_provider_annotation.exceptions import (
    AnnotationApiError,
    AnnotationInputProblemsError,
    AnnotationMayHaveTakenEffectError,
)
from airflow_provider_annotation.validation import (
    Problems,
    check_plain_json,
    check_strings,
    describe_value,
    id_string,
    is_int,
    shorten,
    to_int_at_least,
    to_long_id,
    to_task_id,
)
from airflow_provider_annotation.workflow import to_project_id, validate_pools

__all__ = [
    "API_VERSIONS",
    "DEFAULT_API_VERSION",
    "MAX_DESCRIPTION_BYTES",
    "MAX_FOLDER_NAME_BYTES",
    "MAX_PROJECT_NAME_BYTES",
    "AnnotationRequestResult",
    "CreatedProject",
    "DataType",
    "SetupInputError",
    "annotation_request_body",
    "check_api_version",
    "create_workflow_endpoint",
    "folder_body",
    "one_project_named",
    "project_body",
    "to_data_ids",
    "to_deadline",
    "to_operators",
    "to_task_id",
    "workflow_for_api",
    "id_text",
    "optional_long",
    "project_filters",
    "project_tasks_body",
    "check_annotation_request",
    "with_api_version_hint",
    "API_VERSION_HINT",
    "CONNECTION_TEST_FILTERS",
    "read_annotation_result",
    "read_object",
    "read_page",
    "read_task",
    "to_count",
]

MAX_FOLDER_NAME_BYTES = 60
MAX_PROJECT_NAME_BYTES = 60
MAX_DESCRIPTION_BYTES = 200
MAX_EXTERNAL_ID_BYTES = 60

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class DataType(IntEnum):
    """A project's ``dataType``."""

    TWO_D = 2
    THREE_D = 3


#: The name the input error had for a folder, project or annotation request: the one input-error
#: class (`exceptions.AnnotationInputProblemsError`), worded "invalid input".
SetupInputError = AnnotationInputProblemsError

#: `validation.to_int_at_least` under its earlier name (it checks status filters and times too).
to_count = to_int_at_least


# --- API version ----------------------------------------------------------------------------


def workflow_for_api(body: Mapping[str, Any], api_version: str) -> dict[str, Any]:
    """`body` (a Create Workflow or Create Project body, pools under ``workflow.pools``) as
    `api_version` sends it: unchanged for 2024-07, ``workflow.vertex`` for 2024-08."""
    out = dict(body)
    workflow = out.get("workflow")
    if check_api_version(api_version) == API_VERSION_2024_08 and isinstance(workflow, Mapping):
        out["workflow"] = {
            (WORKFLOW_VERTEX_KEY if key == WORKFLOW_POOLS_KEY else key): value
            for key, value in workflow.items()
        }
    return out


# --- Field checks: each appends to `problems` and returns the value (or None) -----------------


def _text(value: object, field: str, max_bytes: int, problems: Problems, *, required: bool) -> str | None:
    """A string of at most `max_bytes` UTF-8 bytes (the platform counts bytes, not characters)."""
    if value is None:
        if required:
            problems.append(f"{field}: required, a non-empty string of at most {max_bytes} bytes")
        return None
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{field}: expected a non-empty string, got {describe_value(value)}")
        return None
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        problems.append(f"{field}: not encodable as UTF-8 (lone surrogate?): {describe_value(value)}")
        return None
    if size > max_bytes:
        problems.append(f"{field}: {size} bytes in UTF-8, the platform allows at most {max_bytes}")
        return None
    return value


def _optional_id(value: object, field: str, problems: Problems) -> int | None:
    """A positive long, or None for None (``"None"``/empty rendered strings are refused by
    `to_long_id`, which names the field)."""
    if value is None:
        return None
    return problems.collect(lambda: to_long_id(value, field))


def to_deadline(value: object, field: str = "deadline") -> str:
    """``YYYY-MM-DD`` from that string (a real calendar date) or from a `datetime.date`.

    A datetime (pendulum's too) is accepted only at midnight: its time would otherwise be dropped
    without a word. Surrounding whitespace of a string is allowed.
    """
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0, 0):
            raise AnnotationInputProblemsError(
                f"{field}: a date is expected, got a datetime with time {value.time().isoformat()}; "
                "pass its .date() or a 'YYYY-MM-DD' string"
            )
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        text = value.strip()
        if _DATE.fullmatch(text):
            try:
                return dt.date.fromisoformat(text).isoformat()
            except ValueError as err:
                raise AnnotationInputProblemsError(
                    f"{field}: {text!r} is not a calendar date ({err})"
                ) from None
    raise AnnotationInputProblemsError(
        f"{field}: expected a date as 'YYYY-MM-DD' or a date object, got {describe_value(value)}"
    )


#: The labeling-tool kinds of the platform's docs ("Labeling tool config" in Create Project) and the
#: object each one is specified by. A ``slotChildren`` tool also has ``children``.
LABELING_TOOL_SPECS = {
    "slot": "slotSpecification",
    "slotChildren": "slotSpecification",
    "input": "inputSpecification",
}
#: Nesting of ``children`` accepted: the docs show one level.
MAX_TOOL_DEPTH = 8


def to_operators(value: object, field: str = "operators") -> list[dict[str, Any]]:
    """The labeling-tool configuration (the platform's ``operators``): a non-empty list of tool
    objects, from a list or its JSON (what a templated ``.json`` file or ``| tojson`` renders to).

    Each tool, as the platform's docs show it: ``key`` (e.g. ``"box2d-[02b3b]"``), ``label`` and
    ``type``; a ``slot`` (a shape) has ``slotSpecification`` with its ``type`` (``box2d``,
    ``polygon``, ``box3d``, ...), an ``input`` (an attribute) has ``inputSpecification`` with its
    ``type`` (``text``, ``select``, ...), a ``slotChildren`` (a shape with nested tools) has
    ``slotSpecification`` and ``children``, each a tool. Other keys are passed on unchanged.
    Problems name the path of the bad item (``operators[0].children[1].key``)."""
    parsed = _collect_one(lambda: _parse_literal(value.strip(), field)) if isinstance(value, str) else value
    if not isinstance(parsed, (list, tuple)) or not parsed:
        raise AnnotationInputProblemsError(
            f"{field}: expected a non-empty list of labeling-tool objects, got {describe_value(parsed)}"
        )
    problems = Problems()
    items = []
    for i, item in enumerate(parsed):
        if not isinstance(item, Mapping):
            problems.append(f"{field}[{i}]: expected a labeling-tool object, got {describe_value(item)}")
            continue
        found = len(problems) + problems.more
        plain = check_plain_json(item, f"{field}[{i}]", problems)  # a plain-JSON copy
        if isinstance(plain, Mapping) and len(problems) + problems.more == found:
            _check_tool(plain, f"{field}[{i}]", problems, 0)
        items.append(plain)
    problems.raise_all()
    return items


def _check_tool(tool: Mapping[str, Any], where: str, problems: list[str], depth: int) -> None:
    """Record at `where` what keeps `tool` from the documented shape of a labeling tool."""
    for key in ("key", "type", "label"):
        value = tool.get(key)
        if not isinstance(value, str) or not value.strip():
            got = "missing" if value is None else f"got {describe_value(value)}"
            problems.append(f"{where}.{key}: required, a non-empty string; {got}")
    kind = tool.get("type")
    spec = LABELING_TOOL_SPECS.get(kind) if isinstance(kind, str) else None
    if isinstance(kind, str) and kind.strip() and spec is None:
        problems.append(
            f"{where}.type: expected 'slot', 'slotChildren' or 'input', got {kind!r} (a shape such as "
            "'box2d' goes in slotSpecification.type, an attribute kind in inputSpecification.type)"
        )
    if spec is not None:
        detail = tool.get(spec)
        if not isinstance(detail, Mapping) or not isinstance(detail.get("type"), str) or not detail["type"]:
            got = "missing" if detail is None else f"got {describe_value(detail)}"
            problems.append(
                f"{where}.{spec}: a tool of type {kind!r} needs {spec} with a 'type' string; {got}"
            )
    children = tool.get("children")
    if kind == "slotChildren" and children is None:
        problems.append(f"{where}.children: a tool of type 'slotChildren' needs a list of tools")
    if children is None:
        return
    if not isinstance(children, list) or not children:
        problems.append(
            f"{where}.children: expected a non-empty list of tools, got {describe_value(children)}"
        )
        return
    if depth >= MAX_TOOL_DEPTH:
        problems.append(f"{where}.children: nested deeper than {MAX_TOOL_DEPTH} levels")
        return
    for i, child in enumerate(children):
        if not isinstance(child, Mapping):
            problems.append(
                f"{where}.children[{i}]: expected a labeling-tool object, got {describe_value(child)}"
            )
        else:
            _check_tool(child, f"{where}.children[{i}]", problems, depth + 1)


def _to_data_type(value: object, field: str = "data_type") -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not is_int(value) or value not in tuple(DataType):
        raise AnnotationInputProblemsError(f"{field}: expected 2 (2D) or 3 (3D), got {describe_value(value)}")
    return int(value)


def to_data_ids(value: object, field: str = "data_ids") -> list[str]:
    """Data ids as a non-empty list of distinct strings.

    Accepted: a list or tuple of strings or ints; its JSON or Python repr (what Jinja renders).
    Floats are refused (an id that went through a float may have lost digits), and so are
    duplicates: the platform makes one task per data id, so a duplicate is a mistake upstream.
    """
    items = value
    if isinstance(value, str):
        text = value.strip()
        if not text.startswith("["):
            raise AnnotationInputProblemsError(
                f"{field}: expected a list of data ids or its JSON, got {describe_value(value)}"
            )
        items = _collect_one(lambda: _parse_literal(text, field))
    if not isinstance(items, (list, tuple)) or not items:
        raise AnnotationInputProblemsError(
            f"{field}: expected a non-empty list of data ids, got {describe_value(items)}"
        )
    problems = Problems()
    ids: list[str] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        where = f"{field}[{i}]"
        data_id = problems.collect(lambda: id_string(item, where))  # noqa: B023 (called at once)
        if data_id is None:
            continue
        if data_id in seen:
            problems.append(f"{where}: {shorten(repr(data_id))} repeats {field}[{seen[data_id]}]")
            continue
        seen[data_id] = i
        ids.append(data_id)
    problems.raise_all()
    return ids


def _collect_one(read: Callable[[], Any]) -> Any:
    """`read()`, its input error (if any) raised again in this module's wording ("invalid input")."""
    problems = Problems()
    value = problems.collect(read)
    problems.raise_all()
    return value


# --- Bodies ---------------------------------------------------------------------------------


def folder_body(name: object, external_id: object = None) -> dict[str, Any]:
    """The Create Folder body: ``{"name", "externalId"?}``, both at most 60 bytes."""
    problems = Problems()
    body: dict[str, Any] = {"name": _text(name, "name", MAX_FOLDER_NAME_BYTES, problems, required=True)}
    if external_id is not None:
        body["externalId"] = _text(external_id, "external_id", MAX_EXTERNAL_ID_BYTES, problems, required=True)
    problems.raise_all()
    return body


def project_body(
    *,
    name: object,
    data_type: object,
    deadline: object,
    operators: object,
    description: object = None,
    folder_id: object = None,
    project_manager: object = None,
    team_names: object = None,
    pools: object = None,
    operators_field: str = "operators",
) -> dict[str, Any]:
    """The Create Project body with every documented key in the documented order; optional keys
    only when given. `pools` is the workflow's pool list (checked by `validate_pools`); the body
    carries it as ``workflow.pools``, `workflow_for_api` turns it into the connection's version."""
    problems = Problems()
    body: dict[str, Any] = {
        "name": _text(name, "name", MAX_PROJECT_NAME_BYTES, problems, required=True),
        "dataType": problems.collect(lambda: _to_data_type(data_type)),
    }
    if description is not None:
        body["description"] = _text(
            description, "description", MAX_DESCRIPTION_BYTES, problems, required=True
        )
    body["deadline"] = problems.collect(lambda: to_deadline(deadline))
    body["operators"] = problems.collect(lambda: to_operators(operators, operators_field))
    if folder_id is not None:
        body["folderId"] = _optional_id(folder_id, "folder_id", problems)
    if project_manager is not None:
        if not isinstance(project_manager, str) or not project_manager.strip():  # no documented limit
            problems.append(
                f"project_manager: expected a non-empty string, got {describe_value(project_manager)}"
            )
        body["projectManager"] = project_manager
    if team_names is not None:
        body["teamNames"] = check_strings(team_names, "team_names", problems)
    if pools is not None:
        checked = problems.collect(lambda: validate_pools(pools))
        body["workflow"] = {WORKFLOW_POOLS_KEY: checked}
    problems.raise_all()
    return body


def annotation_request_body(
    project_id: object, data_ids: object, *, workflow_id: object = None, dataset_id: object = None
) -> dict[str, Any]:
    """The Annotation Request body: ``{"projectId", "workflowId"?, "datasetId"?, "dataIds"}``.

    ``workflowId`` is sent only when given (absent means the project's default workflow);
    ``datasetId`` only when given, as the seed's generation of the docs does not have it.
    """
    problems = Problems()
    body: dict[str, Any] = {"projectId": problems.collect(lambda: to_long_id(project_id, "project_id"))}
    if workflow_id is not None:
        body["workflowId"] = _optional_id(workflow_id, "workflow_id", problems)
    if dataset_id is not None:
        body["datasetId"] = _optional_id(dataset_id, "dataset_id", problems)
    body["dataIds"] = problems.collect(lambda: to_data_ids(data_ids))
    problems.raise_all()
    return body


def project_filters(*, status: int | None, data_type: int | None) -> dict[str, Any]:
    """Project-list filters: ``projects/list-project.md`` requires both (0, a draft, is a real
    status), so a missing one is an input error before any request."""
    problems = Problems()
    for field, value in (("status", status), ("data_type", data_type)):
        if value is None:
            problems.append(f"{field}: required by /project/list (the docs mark it required)")
    problems.raise_all()
    return {
        "status": to_int_at_least(status, "status", low=0),
        "dataType": to_int_at_least(data_type, "data_type", low=2),
    }


#: The filters `AnnotationHook.test_connection` sends to ``/project/list``: required by the docs,
#: and any success envelope (even an empty page) proves the key pair, so their values do not matter.
CONNECTION_TEST_FILTERS: dict[str, int] = {"status": 1, "dataType": 2}

#: ``/project/tasks`` ``status`` ("status, generally 1", a hidden but required field of
#: ``projects/list-task.md``): not a task status, since the page's own sample answer lists a task
#: at status 9.
PROJECT_TASKS_STATUS = 1
#: The default ``startTime`` of ``/project/tasks``: the epoch, so no task is too old.
ALL_TASKS_START_MS = 0
#: The default ``endTime``: now plus a day, so no task is too new, even with clock skew (the docs
#: do not say which time the range filters on).
ALL_TASKS_END_MARGIN_MS = 24 * 3600 * 1000


def project_tasks_body(
    project_id: object,
    *,
    start_time: int | None = None,
    end_time: int | None = None,
    offset: int = 1,
    limit: int = 100,
    now_ms: int | None = None,
) -> dict[str, Any]:
    """The ``/project/tasks`` body, one builder for the sync and async hooks (sensor, trigger,
    `iter_project_tasks`): the docs require ``status``, ``startTime`` and ``endTime`` (ms), so a
    range not given selects every task: from the epoch to a day after now."""
    if end_time is None:
        end_time = (now_ms if now_ms is not None else time.time_ns() // 1_000_000) + ALL_TASKS_END_MARGIN_MS
    return {
        "projectId": to_project_id(project_id),
        "status": PROJECT_TASKS_STATUS,
        "startTime": to_int_at_least(
            ALL_TASKS_START_MS if start_time is None else start_time, "startTime", low=0
        ),
        "endTime": to_int_at_least(end_time, "endTime", low=0),
        "offset": to_int_at_least(offset, "offset"),
        "limit": to_int_at_least(limit, "limit"),
    }


#: What the seed's Create Workflow meets on a platform that serves the August 2024 form.
API_VERSION_HINT = "this platform may expect api_version=2024-08"
#: Words of an envelope message saying the path or a body key is unknown.
_UNKNOWN_WORDS = ("unknown", "unrecognized", "not found", "no handler", "no such", "path", "pools", "vertex")


def with_api_version_hint(err: AnnotationApiError, api_version: str) -> AnnotationApiError:
    """`err` again, its message ending in `API_VERSION_HINT`, when the seed's Create Workflow
    (api_version 2024-07) was answered HTTP 404 or with an envelope saying the path or key is
    unknown: the public docs moved it to ``/workflow/create`` with ``workflow.vertex``. Else `err`."""
    if check_api_version(api_version) != API_VERSION_2024_07 or isinstance(
        err, AnnotationMayHaveTakenEffectError
    ):
        return err
    text = (err.message or "").lower()
    said_unknown = err.code is not None and any(word in text for word in _UNKNOWN_WORDS)
    if not (err.http_status == 404 or err.code == PlatformCode.NOT_FOUND or said_unknown):
        return err
    return err.with_message(
        f"{err.message}; {API_VERSION_HINT} (the public docs show Create Workflow at /workflow/create "
        "with workflow.vertex: set api_version in the connection's extras)"
    )


def check_annotation_request(body: Mapping[str, Any], api_version: str) -> None:
    """``datasetId`` is required by Annotation Request from August 2024 on (a long since
    2024-07-26) and absent from the seed's generation: an input error before any request."""
    if check_api_version(api_version) == API_VERSION_2024_08 and body.get("datasetId") is None:
        raise SetupInputError(
            "dataset_id: required with api_version=2024-08 (the docs' Annotation Request requires "
            "datasetId, the dataset the data ids belong to)"
        )
