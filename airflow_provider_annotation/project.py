"""The project-setup model: bodies of Create Folder, Create Project and Annotation Request, and the
two API versions of the workflow.

Pure standard library, no Airflow import: operators build and check their bodies here after
templates render and before anything is sent, and the hook sends what this module builds. Every
builder reports every problem of every argument at once, each naming its argument.

Ids: ``projectId``, ``workflowId``, ``folderId`` and ``datasetId`` are longs and never pass through
a float; task ids and data ids are strings from end to end (task ids exceed 2**53).
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from airflow_provider_annotation.codes import PlatformCode
from airflow_provider_annotation.coercion import _parse_literal
from airflow_provider_annotation.endpoints import (  # the API version's home; re-exported here
    ANNOTATION_REQUEST,
    API_VERSION_2024_07,
    API_VERSION_2024_08,
    API_VERSIONS,
    DEFAULT_API_VERSION,
    PROJECT_LIST,
    WORKFLOW_POOLS_KEY,
    WORKFLOW_VERTEX_KEY,
    Endpoint,
    check_api_version,
    create_workflow_endpoint,
)
from airflow_provider_annotation.exceptions import (
    AnnotationApiError,
    AnnotationMayHaveTakenEffectError,
    AnnotationResponseError,
)
from airflow_provider_annotation.paging import project_key
from airflow_provider_annotation.redaction import scrub
from airflow_provider_annotation.status import ProjectStatus  # noqa: F401 - re-exported (its home moved)
from airflow_provider_annotation.workflow import (
    Problems,
    WorkflowValidationError,
    check_plain_json,
    check_strings,
    describe_value,
    shorten,
    to_project_id,
    validate_pools,
)

__all__ = [
    "API_VERSIONS",
    "DEFAULT_API_VERSION",
    "MAX_DESCRIPTION_BYTES",
    "MAX_FOLDER_NAME_BYTES",
    "MAX_PROJECT_NAME_BYTES",
    "AnnotationRequestResult",
    "CreatedProject",
    "DataType",
    "ProjectStatus",
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
#: The most characters of a task id in an answer: ids are longs as digit strings, with room to spare.
MAX_TASK_ID_CHARS = 40

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class DataType(IntEnum):
    """A project's ``dataType``."""

    TWO_D = 2
    THREE_D = 3


class SetupInputError(WorkflowValidationError):
    """Input for a folder, project or annotation request was refused before anything was sent.

    `problems` holds one line per problem, each starting with the argument it is about.
    """

    def __init__(self, problems: Iterable[str] | str, more: int = 0) -> None:
        super().__init__(problems, more)  # keeps the first MAX_PROBLEMS and counts the rest
        self.message = self.message.replace("invalid workflow input", "invalid input", 1)
        self.args = (self.message,)

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class CreatedProject:
    """What Create Project answers: the new project, its status and its default workflow."""

    project_id: int
    status: int | None
    workflow_id: int | None


@dataclass(frozen=True)
class AnnotationRequestResult:
    """What one Annotation Request answers: the tasks made and the data ids that made none."""

    #: ``[{"taskId": "358183635683250176", "dataId": "frame-1"}, ...]``: ids as strings.
    tasks: list[dict[str, str]]
    rejected_data_ids: list[str]

    @property
    def task_ids(self) -> list[str]:
        return [task["taskId"] for task in self.tasks]

    def to_dict(self) -> dict[str, Any]:
        return {"tasks": self.tasks, "rejected_data_ids": self.rejected_data_ids}


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


def _collect(problems: Problems, read: Callable[[], Any]) -> Any:
    """Run one reader, moving its problems (and their count) into `problems`; None when it refused
    the value."""
    try:
        return read()
    except WorkflowValidationError as err:
        problems.add(err)
        return None


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
    `to_project_id`, which names the field)."""
    if value is None:
        return None
    return _collect(problems, lambda: to_project_id(value, field))


def to_deadline(value: object, field: str = "deadline") -> str:
    """``YYYY-MM-DD`` from that string (a real calendar date) or from a `datetime.date`.

    A datetime (pendulum's too) is accepted only at midnight: its time would otherwise be dropped
    without a word. Surrounding whitespace of a string is allowed.
    """
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0, 0):
            raise SetupInputError(
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
                raise SetupInputError(f"{field}: {text!r} is not a calendar date ({err})") from None
    raise SetupInputError(
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
        raise SetupInputError(
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
    if problems:
        raise SetupInputError(problems)
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
    if isinstance(value, bool) or not isinstance(value, int) or value not in tuple(DataType):
        raise SetupInputError(f"{field}: expected 2 (2D) or 3 (3D), got {describe_value(value)}")
    return int(value)


def _id_string(value: object, field: str) -> str:
    """An id kept as a string: a non-empty string (trimmed) or an int, never a float."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise SetupInputError(f"{field}: expected a string (or an integer), got {describe_value(value)}")
    text = str(value).strip()
    if not text:
        raise SetupInputError(f"{field}: expected a non-empty string, got {describe_value(value)}")
    return text


def to_task_id(value: object, field: str = "task_id") -> str:
    """A task id as a string of digits: a string, or an exact int (never a float: they lose digits)."""
    text = _id_string(value, field)
    if not (text.isascii() and text.isdigit()):
        raise SetupInputError(f"{field}: expected a string of digits, got {describe_value(value)}")
    return text


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
            raise SetupInputError(
                f"{field}: expected a list of data ids or its JSON, got {describe_value(value)}"
            )
        items = _collect_one(lambda: _parse_literal(text, field))
    if not isinstance(items, (list, tuple)) or not items:
        raise SetupInputError(f"{field}: expected a non-empty list of data ids, got {describe_value(items)}")
    problems = Problems()
    ids: list[str] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        where = f"{field}[{i}]"
        data_id = _collect(problems, lambda: _id_string(item, where))  # noqa: B023 (called at once)
        if data_id is None:
            continue
        if data_id in seen:
            problems.append(f"{where}: {shorten(repr(data_id))} repeats {field}[{seen[data_id]}]")
            continue
        seen[data_id] = i
        ids.append(data_id)
    if problems:
        raise SetupInputError(problems)
    return ids


def _collect_one(read: Callable[[], Any]) -> Any:
    try:
        return read()
    except WorkflowValidationError as err:
        raise SetupInputError(err.problems, err.more) from None


# --- Bodies ---------------------------------------------------------------------------------


def folder_body(name: object, external_id: object = None) -> dict[str, Any]:
    """The Create Folder body: ``{"name", "externalId"?}``, both at most 60 bytes."""
    problems = Problems()
    body: dict[str, Any] = {"name": _text(name, "name", MAX_FOLDER_NAME_BYTES, problems, required=True)}
    if external_id is not None:
        body["externalId"] = _text(external_id, "external_id", MAX_EXTERNAL_ID_BYTES, problems, required=True)
    if problems:
        raise SetupInputError(problems)
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
        "dataType": _collect(problems, lambda: _to_data_type(data_type)),
    }
    if description is not None:
        body["description"] = _text(
            description, "description", MAX_DESCRIPTION_BYTES, problems, required=True
        )
    body["deadline"] = _collect(problems, lambda: to_deadline(deadline))
    body["operators"] = _collect(problems, lambda: to_operators(operators, operators_field))
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
        checked = _collect(problems, lambda: validate_pools(pools))
        body["workflow"] = {WORKFLOW_POOLS_KEY: checked}
    if problems:
        raise SetupInputError(problems)
    return body


def annotation_request_body(
    project_id: object, data_ids: object, *, workflow_id: object = None, dataset_id: object = None
) -> dict[str, Any]:
    """The Annotation Request body: ``{"projectId", "workflowId"?, "datasetId"?, "dataIds"}``.

    ``workflowId`` is sent only when given (absent means the project's default workflow);
    ``datasetId`` only when given, as the seed's generation of the docs does not have it.
    """
    problems = Problems()
    body: dict[str, Any] = {"projectId": _collect(problems, lambda: to_project_id(project_id))}
    if workflow_id is not None:
        body["workflowId"] = _optional_id(workflow_id, "workflow_id", problems)
    if dataset_id is not None:
        body["datasetId"] = _optional_id(dataset_id, "dataset_id", problems)
    body["dataIds"] = _collect(problems, lambda: to_data_ids(data_ids))
    if problems:
        raise SetupInputError(problems)
    return body


# --- Answers: what the setup endpoints return, ids kept exact -------------------------------


def _bad_answer(
    what: str, endpoint: Endpoint, request_id: str | None, *, created: bool
) -> AnnotationApiError:
    """A success envelope whose data is not what the docs promise. For a create the object may
    exist, so the error says so; for a read nothing happened."""
    cls = AnnotationMayHaveTakenEffectError if created else AnnotationResponseError
    tail = "; it may have been created: check the platform before re-running" if created else ""
    return cls(
        f"the platform reported success but {what}{tail}",
        code=PlatformCode.SUCCESS,
        request_id=request_id,
        endpoint=endpoint.path,
        method=endpoint.method,
    )


def _is_long(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def optional_long(data: dict[str, Any], key: str, endpoint: Endpoint, request_id: str | None) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if not _is_long(value):
        raise _bad_answer(f"{key} is not an integer ({_short(value)})", endpoint, request_id, created=True)
    return int(value)


def read_object(data: Any, endpoint: Endpoint, request_id: str | None) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _bad_answer(
            f"data is not an object ({type(data).__name__})",
            endpoint,
            request_id,
            created=not endpoint.is_read,
        )
    return data


def read_page(data: Any, endpoint: Endpoint, request_id: str | None) -> dict[str, Any]:
    page = read_object(data, endpoint, request_id)
    if not _is_long(page.get("count")) or not isinstance(page.get("data"), list):
        raise _bad_answer("the page has no integer count and data list", endpoint, request_id, created=False)
    return page


def id_text(value: object, key: str, endpoint: Endpoint, request_id: str | None, *, created: bool) -> str:
    """An id the platform documents as a string, kept exact: a string, or an int the JSON parser
    read exactly; a float has lost digits already and is refused."""
    if isinstance(value, str) and value.strip():
        return value
    if _is_long(value):
        return str(value)
    raise _bad_answer(f"{key} is {_short(value)}, not a string id", endpoint, request_id, created=created)


def read_task(
    task: Any, endpoint: Endpoint, request_id: str | None, task_id: str | None = None
) -> dict[str, Any]:
    """A task object: its id (``id`` or ``taskId``) a string of digits, its `status` an integer.
    With `task_id` (a ``/task/get`` answer), the task must be that one: a task without its id or
    with another task's would otherwise never complete, silently."""
    task = read_object(task, endpoint, request_id)
    for key in ("id", "taskId"):
        if key in task:
            task[key] = id_text(task[key], key, endpoint, request_id, created=False)
    found = task.get("id", task.get("taskId"))
    if found is None or not (found.isascii() and found.isdigit() and len(found) <= MAX_TASK_ID_CHARS):
        what = "no id" if found is None else f"the id {_short(found)}, not a task id"
        raise _bad_answer(f"a task has {what}", endpoint, request_id, created=False)
    if task_id is not None and found != task_id:
        raise _bad_answer(
            f"the answer is task {found}'s, not task {task_id}'s", endpoint, request_id, created=False
        )
    status = task.get("status")
    if not _is_long(status):
        raise _bad_answer(
            f"task {found}'s status is {_short(status)}, not an integer", endpoint, request_id, created=False
        )
    return task


def read_annotation_result(data: Any, request_id: str | None) -> AnnotationRequestResult:
    answer = read_object(data, ANNOTATION_REQUEST, request_id)
    made, rejected = answer.get("successTaskList") or [], answer.get("errorDataIdList") or []
    if not isinstance(made, list) or not isinstance(rejected, list):
        raise _bad_answer(
            f"successTaskList/errorDataIdList are not lists (data={_short(answer)})",
            ANNOTATION_REQUEST,
            request_id,
            created=True,
        )
    tasks = []
    for item in made:
        if not isinstance(item, dict):
            raise _bad_answer(f"a task is {_short(item)}", ANNOTATION_REQUEST, request_id, created=True)
        tasks.append(
            {
                "taskId": id_text(item.get("taskId"), "taskId", ANNOTATION_REQUEST, request_id, created=True),
                "dataId": id_text(item.get("dataId"), "dataId", ANNOTATION_REQUEST, request_id, created=True),
            }
        )
    rejected_ids = [
        id_text(item, "errorDataIdList[]", ANNOTATION_REQUEST, request_id, created=True) for item in rejected
    ]
    return AnnotationRequestResult(tasks=tasks, rejected_data_ids=rejected_ids)


def _short(value: object) -> str:
    """A value the server sent, for an error: its repr scrubbed, escaped and cut (`redaction.scrub`)."""
    return scrub(repr(value))


def to_count(value: object, field: str, *, low: int = 1) -> int:
    if not _is_long(value) or value < low:  # type: ignore[operator]
        raise SetupInputError(f"{field}: expected an integer of at least {low}, got {describe_value(value)}")
    return int(value)  # type: ignore[call-overload]


def project_filters(*, status: int | None, data_type: int | None) -> dict[str, Any]:
    """Project-list filters: ``projects/list-project.md`` requires both (0, a draft, is a real
    status), so a missing one is an input error before any request."""
    problems = Problems()
    for field, value in (("status", status), ("data_type", data_type)):
        if value is None:
            problems.append(f"{field}: required by /project/list (the docs mark it required)")
    if problems:
        raise SetupInputError(problems)
    return {"status": to_count(status, "status", low=0), "dataType": to_count(data_type, "data_type", low=2)}


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
        "startTime": to_count(ALL_TASKS_START_MS if start_time is None else start_time, "startTime", low=0),
        "endTime": to_count(end_time, "endTime", low=0),
        "offset": to_count(offset, "offset"),
        "limit": to_count(limit, "limit"),
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


def one_project_named(name: str, matches: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The one project of `matches` (projects named `name`), None for none; more than one is an
    error, since the platform keeps names unique: a person must pick."""
    if len(matches) > 1:
        ids = ", ".join(str(project_key(p)) for p in matches)
        raise AnnotationApiError(
            f"{len(matches)} projects are named {name!r} (ids {ids}), although the platform keeps "
            "project names unique; pick one by its id",
            endpoint=PROJECT_LIST.path,
            method=PROJECT_LIST.method,
        )
    return matches[0] if matches else None
