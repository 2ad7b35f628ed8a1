"""The annotation platform's Open API as the emulator plays it: the contract, free of any server.

The response envelope and its messages, request ids, the signed-header check, the pool and workflow
rules and the operation behind each endpoint, as the platform's Open API documentation (2024)
describes them. What the operations store lives in `state`; `asgi` puts this on
HTTP and `emulator` serves it. The one server type used here is Starlette's HTTPException: a path
the chosen API version does not serve answers HTTP 404, exactly like an unknown path.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable, Mapping
from datetime import date, datetime, timezone
from enum import IntEnum
from typing import Any, TypeGuard

from starlette.exceptions import HTTPException

from airflow_provider_annotation.testing import datasets as _datasets
from airflow_provider_annotation.testing.state import (
    DEFAULT_SIGNATURE_WINDOW_S,
    FIRST_WORKFLOW_ID,
    REDACTED,
    SIGNATURE_HEADER,
    EmulatorState,
    HeaderDict,
    Settings,
    SignatureLog,
    json_or_none,
    redact_headers,
)

__all__ = [
    "DEFAULT_SIGNATURE_WINDOW_S",
    "FIRST_WORKFLOW_ID",
    "KEY_HEADER",
    "MESSAGES",
    "OPERATIONS",
    "FORM_OPERATIONS",
    "QUERY_OPERATIONS",
    "REDACTED",
    "REQUIRED_FIELDS",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "WORKFLOW_KEYS",
    "EmulatorState",
    "HeaderDict",
    "Operation",
    "Outcome",
    "PlatformCode",
    "Settings",
    "auth_failure",
    "envelope",
    "json_or_none",
    "message_for",
    "new_request_id",
    "pool_is_well_formed",
    "redact_headers",
    "time_text",
    "workflow_failure",
]

# The emulator's own statement of the docs (stardustai/docs-api, src/en at adf3f38, and the seed's
# PR #4 branch for July 2024): it imports nothing of the client (endpoint catalogue, codes, signing,
# workflow rules), so a wrong path, header name, code or signature formula in the provider cannot
# hide by being wrong in both.

#: ``overview/authentication.md``: the three headers of every request.
KEY_HEADER = "X-STARDUST-KEY"
TIMESTAMP_HEADER = "X-TS"


class PlatformCode(IntEnum):
    """``overview/response-codes.md``: every documented code."""

    SUCCESS = 200
    INVALID_PARAMETER = 400
    WRONG_SIGNATURE = 401
    AUTHENTICATION_FAILED = 402
    SIGNATURE_EXPIRED = 403
    NOT_FOUND = 404
    INTERNAL_ERROR = 500
    DATASET_NOT_FOUND = 5308
    FIRST_POOL_NOT_DISTRIBUTION = 5509
    LAST_POOL_NOT_COMPLETION = 5523
    UPLOAD_FILE_EMPTY = 5707
    UPLOAD_FILE_TOO_LARGE = 5708
    UPLOAD_FILE_NOT_ZIP = 5709
    UPLOAD_FILE_WRONG_TREE = 5710
    PROJECT_NAME_EXISTS = 5801
    PROJECT_NOT_FOUND = 5802
    FOLDER_NAME_EXISTS = 5836
    NO_PROJECT_AUTHORITY = 5837
    WRONG_DATA_TYPE = 5838
    OPERATION_ITEM_STRUCTURE_ERROR = 5839
    PROJECT_MANAGER_NOT_FOUND = 5840
    WORKFLOW_STRUCTURE_ERROR = 5841
    ALGORITHM_NOT_AVAILABLE = 5843
    ALGORITHM_MAPPING_ERROR = 5844
    WORKFLOW_NOT_FOUND = 5845


#: Envelope messages: the samples' wording where a sample shows one (``"Succeed"`` on the seed page,
#: ``"Invalid Parameter"``), else the response-code table's.
MESSAGES: dict[int, str] = {
    200: "Succeed",
    400: "Invalid Parameter",
    401: "Wrong Signature",
    402: "Authentication Failed",
    403: "Signature Expired",
    404: "Not Found, the resource is missing",
    500: "Internal Error, please try again later",
    5308: "Dataset not exists",
    5509: "First pool must be distribution",
    5523: "Last pool must be completion",
    5707: "File cannot be empty",
    5708: "File size exceeds 100MB limit",
    5709: "File must be in ZIP format",
    5710: "File tree misalignment, refer to API docs for correction",
    5801: "Project name already exists",
    5802: "Project not exists",
    5836: "Folder name already exists",
    5837: "Not authority to access project",
    5838: "Wrong data type",
    5839: "Operation item structure error",
    5840: "Project manager not exists",
    5841: "Workflow structure error",
    5843: "Algorithm not available",
    5844: "Algorithm Mapping structure error",
    5845: "Workflow not exists",
}

#: Pool types (0 distribution, 1 labeling, 2 inspection, 3 spot check, 4 algorithm, 5 completion)
#: and run modes (0 manually, 1 automatically), from the Create Workflow page.
DISTRIBUTION, ALGORITHM, COMPLETION = 0, 4, 5
POOL_TYPES = frozenset(range(6))
RUN_MODES = frozenset({0, 1})
#: ``projects/workflow-config.md``, "Default Sample": what a project without ``workflow`` gets.
DEFAULT_WORKFLOW: tuple[dict[str, Any], ...] = (
    {"name": "Distribution pool", "runMode": 0, "type": 0},
    {"name": "Labeling pool", "type": 1, "workers": [], "disableOperationItem": []},
    {"name": "Inspection pool", "type": 2, "workers": [], "disableOperationItem": []},
    {"name": "Completion pool", "type": 5},
)

#: The request fields each page marks required (its renderer marks every field required unless it
#: says ``"required": false``), per API version. ``workflow`` on Create Workflow is rendered required
#: but described as "If not set, the platform will give the project a default config": not enforced.
#: ``/tasks/export`` renders both dates and ``taskIds`` required: read as one of the two forms.
_COMMON_REQUIRED: dict[str, tuple[str, ...]] = {
    "/project/create": ("name", "dataType", "deadline", "operators"),
    "/folder/create": ("name",),
    "/project/get": ("projectId",),
    "/project/list": ("status", "dataType"),
    "/annotation/stat": ("projectId", "workflowId"),
    "/task/send": ("projectId", "resourceUrl"),
    "/task/send/status": ("batchId",),
    "/task/get": ("projectId", "taskId"),
    "/project/tasks": ("projectId", "status", "startTime", "endTime"),
    "/tasks/export": ("projectId",),
    "/dataset/import/async": ("resourceUrl", "fileTreeType", "dataType", "name"),
    "/dataset/status": ("datasetId",),
}
REQUIRED_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "2024-07": {
        **_COMMON_REQUIRED,
        "/annotation/workflow/create": ("projectId",),
        "/annotation/request": ("projectId", "dataIds"),
    },
    "2024-08": {
        **_COMMON_REQUIRED,
        "/workflow/create": ("projectId",),
        "/annotation/request": ("projectId", "datasetId", "dataIds"),
    },
}


def missing_fields(api_version: str, path: str, payload: Mapping[str, Any]) -> list[str]:
    """The fields the docs require for `path` that `payload` lacks (null counts as missing)."""
    required = REQUIRED_FIELDS[api_version].get(path, ())
    return [name for name in required if payload.get(name) is None]


# --- Envelope -------------------------------------------------------------------------------


def message_for(code: int) -> str:
    """The envelope `message` for `code`."""
    return MESSAGES.get(code) or f"Error {int(code)}"


def time_text(ms: int) -> str:
    """A time as every documented answer writes it (``"2024-05-16 17:33:53"``); the docs give no
    zone, the emulator writes UTC, so its answers do not depend on the host's zone."""
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def new_request_id() -> str:
    """A fresh 30-hex-character requestId, like the platform's."""
    return secrets.token_hex(15)


def envelope(
    code: int, data: Any = None, *, request_id: str | None = None, now_ms: int | None = None
) -> dict[str, Any]:
    """The platform's response object; failures always carry ``data: null``."""
    ok = code == PlatformCode.SUCCESS
    return {
        "code": int(code),
        "message": message_for(code),
        "data": data if ok else None,
        "date": time_text(now_ms if now_ms is not None else time.time_ns() // 1_000_000),
        "requestId": request_id or new_request_id(),
        "success": ok,
    }


# --- Platform rules ---------------------------------------------------------------------------


def _is_int(value: Any) -> TypeGuard[int]:
    """A JSON integer (bool is an int in Python but not to the platform)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _docs_signature(ts: str, secret_key: str, access_key: str) -> str:
    """``overview/authentication.md``: MD5 hex of "timestamp & AccessKey secret & AccessKey ID"."""
    message = "&".join([ts, secret_key, access_key])
    return hashlib.md5(message.encode("utf-8")).hexdigest()  # noqa: S324 - the platform's scheme


def auth_failure(
    settings: Settings, headers: Mapping[str, str], now_ms: int, seen: SignatureLog | None = None
) -> PlatformCode | None:
    """Why the signed headers are refused, or None. The secret never leaves this function.

    With `seen`, a signature used before within the window is refused as expired (code 403).
    """
    key, ts, sign = (headers.get(h) for h in (KEY_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER))
    if not key or not ts or not sign or key != settings.access_key:
        return PlatformCode.AUTHENTICATION_FAILED
    # Bytes, not str: compare_digest raises TypeError on non-ASCII str, and a bad header is a 401.
    expected = _docs_signature(ts, settings.secret_key, settings.access_key)
    if not hmac.compare_digest(sign.encode("utf-8"), expected.encode("utf-8")):
        return PlatformCode.WRONG_SIGNATURE
    if not ts.isdecimal():
        return PlatformCode.INVALID_PARAMETER
    if abs(now_ms - int(ts)) > settings.signature_window_s * 1000:
        return PlatformCode.SIGNATURE_EXPIRED
    if seen is not None and seen.replayed(sign, now_ms, settings.signature_window_s):
        return PlatformCode.SIGNATURE_EXPIRED
    return None


def pool_is_well_formed(pool: Any) -> bool:
    """A pool object with the documented field types (unknown extra fields are tolerated)."""
    if not isinstance(pool, dict) or not _is_int(pool.get("type")) or pool["type"] not in POOL_TYPES:
        return False
    if "runMode" in pool and not (_is_int(pool["runMode"]) and pool["runMode"] in RUN_MODES):
        return False
    if "name" in pool and not isinstance(pool["name"], str):
        return False
    if "workers" in pool and not _is_str_list(pool["workers"]):
        return False
    if "algorithmList" in pool:
        return pool["type"] == ALGORITHM and _is_str_list(pool["algorithmList"])
    return True


#: What each API version calls the list of pools under ``workflow``: the other key is refused (400).
WORKFLOW_KEYS: dict[str, str] = {"2024-07": "pools", "2024-08": "vertex"}
DATA_TYPES = frozenset({2, 3})
MAX_NAME_BYTES = 60
MAX_DESCRIPTION_BYTES = 200
#: Names that stand for accounts or data that do not exist (``projectManager``, data ids).
UNKNOWN_PREFIXES = ("missing-", "unknown-")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

Outcome = tuple[int, Any]


def _is_text(value: Any, max_bytes: int, *, allow_empty: bool = False) -> TypeGuard[str]:
    """A string within the platform's byte limit (UTF-8), non-blank unless `allow_empty`."""
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        return False
    return len(value.encode("utf-8")) <= max_bytes


def _is_id(value: Any) -> TypeGuard[int]:
    """A positive long id."""
    return _is_int(value) and value > 0


def _is_date(value: Any) -> bool:
    """A ``YYYY-MM-DD`` string naming a real day."""
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _page(payload: Mapping[str, Any]) -> tuple[int, int] | None:
    """(offset, limit) of a paged read, ``offset`` being a page number from 1; None if invalid."""
    offset, limit = payload.get("offset", 1), payload.get("limit", 10)
    return (offset, limit) if _is_id(offset) and _is_id(limit) else None


def workflow_failure(workflow: Any, key: str = "pools") -> PlatformCode | None:
    """Why a given workflow is refused, or None: the other version's key (400), then structure
    (5841), then the first/last pool rules (5509/5523)."""
    if isinstance(workflow, dict) and key not in workflow and set(WORKFLOW_KEYS.values()) & set(workflow):
        return PlatformCode.INVALID_PARAMETER
    pools = workflow.get(key) if isinstance(workflow, dict) else None
    if not isinstance(pools, list) or not pools or not all(pool_is_well_formed(p) for p in pools):
        return PlatformCode.WORKFLOW_STRUCTURE_ERROR
    if pools[0]["type"] != DISTRIBUTION:
        return PlatformCode.FIRST_POOL_NOT_DISTRIBUTION
    if pools[-1]["type"] != COMPLETION:
        return PlatformCode.LAST_POOL_NOT_COMPLETION
    return None


def _workflow_pools(state: EmulatorState, workflow: Any) -> tuple[list[Any], bool] | PlatformCode:
    """(pools, default) for a request's optional ``workflow``, or the code refusing it."""
    if workflow is None:
        # What the platform stores for "no workflow": the same default the provider documents.
        return copy.deepcopy(list(DEFAULT_WORKFLOW)), True
    key = WORKFLOW_KEYS[state.settings.api_version]
    failure = workflow_failure(workflow, key)
    return failure if failure is not None else (workflow[key], False)


def _served_only_in(state: EmulatorState, api_version: str) -> None:
    """Answer HTTP 404, like any unknown path, when the emulator plays the other API version."""
    if state.settings.api_version != api_version:
        raise HTTPException(status_code=404)


def _create_workflow(state: EmulatorState, payload: dict[str, Any], request_id: str) -> Outcome:
    project_id = payload.get("projectId")
    if not _is_id(project_id):
        return PlatformCode.INVALID_PARAMETER, None
    if not state.project_exists(project_id):
        return PlatformCode.PROJECT_NOT_FOUND, None
    pools = _workflow_pools(state, payload.get("workflow"))
    if isinstance(pools, PlatformCode):
        return pools, None
    workflow_id = state.add_workflow(project_id, pools[0], default=pools[1], request_id=request_id)
    return PlatformCode.SUCCESS, {"workflowId": workflow_id}


def create_workflow(state: EmulatorState, payload: dict[str, Any], request_id: str) -> Outcome:
    """``POST /annotation/workflow/create`` (July 2024, ``workflow.pools``): store, answer the id."""
    _served_only_in(state, "2024-07")
    return _create_workflow(state, payload, request_id)


def create_workflow_2024_08(state: EmulatorState, payload: dict[str, Any], request_id: str) -> Outcome:
    """``POST /workflow/create`` (August 2024, ``workflow.vertex``): store, answer the id."""
    _served_only_in(state, "2024-08")
    return _create_workflow(state, payload, request_id)


# --- Folders and projects ----------------------------------------------------------------------


def create_folder(state: EmulatorState, payload: dict[str, Any], request_id: str) -> Outcome:
    """``POST /folder/create``: a uniquely named folder (5836 when the name is taken)."""
    name, external_id = payload.get("name"), payload.get("externalId")
    if not _is_text(name, MAX_NAME_BYTES):
        return PlatformCode.INVALID_PARAMETER, None
    if external_id is not None and not _is_text(external_id, MAX_NAME_BYTES):
        return PlatformCode.INVALID_PARAMETER, None
    with state.locked():
        if state.folder_named(name) is not None:
            return PlatformCode.FOLDER_NAME_EXISTS, None
        record = {"name": name, "externalId": external_id, "createdTime": state.now_ms()}
        folder_id = state.add_folder({**record, "requestId": request_id})
    return PlatformCode.SUCCESS, {"folderId": folder_id}


#: The labeling-tool kinds in the docs' samples ("Labeling tool config", Create Project), each with
#: the object that specifies it.
_TOOL_SPECS = {
    "slot": "slotSpecification",
    "slotChildren": "slotSpecification",
    "input": "inputSpecification",
}


def _labeling_tool_ok(tool: object, depth: int = 0) -> bool:
    """Whether `tool` has the docs' shape: key, type, label; its specification with a type; for
    slotChildren (or any tool with children) a non-empty list of such tools."""
    if not isinstance(tool, dict) or depth > 8:
        return False
    if not all(isinstance(tool.get(name), str) and tool[name] for name in ("key", "type", "label")):
        return False
    spec = tool.get(_TOOL_SPECS.get(tool["type"], ""))
    if not isinstance(spec, dict) or not isinstance(spec.get("type"), str):
        return False
    if tool["type"] != "slotChildren" and "children" not in tool:
        return True
    children = tool.get("children")
    return (
        isinstance(children, list)
        and bool(children)
        and all(_labeling_tool_ok(c, depth + 1) for c in children)
    )


def _project_failure(payload: Mapping[str, Any]) -> PlatformCode | None:
    """Why a Create Project body is refused before anything is looked up, or None."""
    data_type, operators = payload.get("dataType"), payload.get("operators")
    manager, teams = payload.get("projectManager"), payload.get("teamNames")
    description, folder_id = payload.get("description"), payload.get("folderId")
    if not _is_text(payload.get("name"), MAX_NAME_BYTES) or not _is_int(data_type):
        return PlatformCode.INVALID_PARAMETER
    if data_type not in DATA_TYPES:
        return PlatformCode.WRONG_DATA_TYPE
    if not _is_date(payload.get("deadline")) or operators is None:
        return PlatformCode.INVALID_PARAMETER
    if not isinstance(operators, list) or not all(_labeling_tool_ok(item) for item in operators):
        return PlatformCode.OPERATION_ITEM_STRUCTURE_ERROR
    if description is not None and not _is_text(description, MAX_DESCRIPTION_BYTES, allow_empty=True):
        return PlatformCode.INVALID_PARAMETER
    if folder_id is not None and not _is_id(folder_id):
        return PlatformCode.INVALID_PARAMETER
    if teams is not None and not _is_str_list(teams):
        return PlatformCode.INVALID_PARAMETER
    if manager is not None and not _is_text(manager, MAX_DESCRIPTION_BYTES):
        return PlatformCode.INVALID_PARAMETER
    if manager is not None and manager.startswith(UNKNOWN_PREFIXES):
        return PlatformCode.PROJECT_MANAGER_NOT_FOUND
    return None


def create_project(state: EmulatorState, payload: dict[str, Any], request_id: str) -> Outcome:
    """``POST /project/create``: a uniquely named project (5801) and its default workflow, started
    (status 1: the page creates a project "and set[s] the status to 1 which represents START").

    An unknown ``folderId`` is 404 (resource missing): the docs name no code for it.
    """
    failure = _project_failure(payload)
    if failure is not None:
        return failure, None
    pools = _workflow_pools(state, payload.get("workflow"))
    if isinstance(pools, PlatformCode):
        return pools, None
    folder_id = payload.get("folderId")
    with state.locked():
        if folder_id is not None and not state.folder_exists(folder_id):
            return PlatformCode.NOT_FOUND, None
        if state.project_named(payload["name"]) is not None:
            return PlatformCode.PROJECT_NAME_EXISTS, None
        fields = ("name", "dataType", "deadline", "description", "folderId", "projectManager", "teamNames")
        record = {key: copy.deepcopy(payload.get(key)) for key in fields}
        record.update(status=1, operators=copy.deepcopy(payload["operators"]), createdTime=state.now_ms())
        project_id = state.add_project({**record, "requestId": request_id})
        workflow_id = state.add_workflow(project_id, pools[0], default=pools[1], request_id=request_id)
        project = state.project(project_id)
        assert project is not None
        project["workflowId"] = workflow_id
    return PlatformCode.SUCCESS, {"projectId": project_id, "status": 1, "workflowId": workflow_id}


def list_projects(state: EmulatorState, payload: dict[str, Any], request_id: str) -> Outcome:
    """``POST /project/list``: seeded and created projects, filtered, one page (`offset` from 1)."""
    page = _page(payload)
    filters = {key: payload.get(key) for key in ("status", "dataType")}
    if page is None or not all(map(_is_int, filters.values())):
        return PlatformCode.INVALID_PARAMETER, None
    offset, limit = page
    with state.locked():
        matching = [p for p in state.project_records() if all(p.get(k) == v for k, v in filters.items())]
        chosen = [_project_item(state, p) for p in matching[(offset - 1) * limit : offset * limit]]
    return PlatformCode.SUCCESS, {"count": len(matching), "data": chosen}


def _project_item(state: EmulatorState, record: Mapping[str, Any]) -> dict[str, Any]:
    """A project as ``projects/list-project.md`` lists it (``id``, times as text); seeded records
    may carry only ``projectId``, ``name``, ``status`` and ``dataType``. The caller holds the lock."""
    created = record.get("createdTime") or 0
    deadline = record.get("deadline")
    operators = record.get("operators") or []
    manager = record.get("projectManager")
    return {
        "id": record["projectId"],
        "createdTime": time_text(created),
        "updatedTime": time_text(record.get("updatedTime") or created),
        "deadline": f"{deadline} 23:59:59" if deadline else None,
        "status": record.get("status"),
        "name": record.get("name"),
        "creatorId": 1,
        "creatorName": state.settings.access_key,
        "operationNames": [
            str((item.get("slotSpecification") or {}).get("type") or item.get("key")) for item in operators
        ],
        "type": 1,
        "dataType": record.get("dataType"),
        "projectParticipant": {"id": 1, "name": state.settings.access_key},
        "projectManagers": [manager] if manager else [],
    }


def get_project(state: EmulatorState, query: dict[str, Any], request_id: str) -> Outcome:
    """``GET /project/get?projectId=``: a seeded or created project; with none at all, a bare
    record for any id that exists."""
    raw = str(query.get("projectId", ""))
    if not raw.isdecimal() or int(raw) <= 0:
        return PlatformCode.INVALID_PARAMETER, None
    project_id = int(raw)
    with state.locked():
        project, any_project = state.project(project_id), bool(state.project_records())
        if project is not None:
            return PlatformCode.SUCCESS, _project_info(project)
    if any_project or not state.project_exists(project_id):
        return PlatformCode.PROJECT_NOT_FOUND, None
    return PlatformCode.SUCCESS, _project_info({})


def _project_info(record: Mapping[str, Any]) -> dict[str, Any]:
    """A project as ``projects/get-project-info.md`` shows it: its description and creation day."""
    created = record.get("createdTime") or 0
    return {"description": record.get("description") or "", "created_at": time_text(created)[:10]}


# --- Annotation requests, tasks and import batches ---------------------------------------------


def _resolve_workflow(state: EmulatorState, project_id: int, workflow_id: Any) -> int | None:
    """The workflow a request means: the given one if it is the project's, else (0 or absent) the
    project's default (from Create Project, else its oldest workflow); None if there is none.
    The caller holds the lock."""
    if workflow_id not in (None, 0):
        workflow = state.workflow(workflow_id)
        return workflow_id if workflow is not None and workflow["projectId"] == project_id else None
    project = state.project(project_id)
    if project is not None and project.get("workflowId") is not None:
        return project["workflowId"]
    own = state.workflows_of(project_id)
    return own[0] if own else None


def _project_and_workflow(state: EmulatorState, payload: Mapping[str, Any]) -> Outcome:
    """Check ``projectId`` and the optional ``workflowId``: (SUCCESS, (project, workflow)) or a code."""
    project_id, workflow_id = payload.get("projectId"), payload.get("workflowId")
    if not _is_id(project_id) or not (workflow_id is None or (_is_int(workflow_id) and workflow_id >= 0)):
        return PlatformCode.INVALID_PARAMETER, None
    if not state.project_exists(project_id):
        return PlatformCode.PROJECT_NOT_FOUND, None
    resolved = _resolve_workflow(state, project_id, workflow_id)
    if resolved is None:
        return PlatformCode.WORKFLOW_NOT_FOUND, None
    return PlatformCode.SUCCESS, (project_id, resolved)


def request_annotation(state: EmulatorState, payload: dict[str, Any], request_id: str) -> Outcome:
    """``POST /annotation/request``: one task per data id in the project.

    A data id that does not exist, already has a task in the project, or repeats within the
    request lands in ``errorDataIdList`` (a partial success inside a success envelope).
    """
    data_ids, dataset_id = payload.get("dataIds"), payload.get("datasetId")
    if not _is_str_list(data_ids) or not data_ids or not (dataset_id is None or _is_id(dataset_id)):
        return PlatformCode.INVALID_PARAMETER, None
    with state.locked():
        code, found = _project_and_workflow(state, payload)
        if code != PlatformCode.SUCCESS:
            return code, None
        project_id, workflow_id = found
        taken = {task["dataId"] for task in state.tasks_of(project_id)}
        created, rejected = [], []
        now = state.now_ms()
        for data_id in data_ids:
            if data_id in taken or not state.data_id_exists(data_id):
                rejected.append(data_id)
                continue
            taken.add(data_id)
            task = {"projectId": project_id, "workflowId": workflow_id, "dataId": data_id}
            task.update(datasetId=dataset_id, status=1, poolType=0, createdTime=now, updatedTime=now)
            task_id = state.add_task({**task, "requestId": request_id})
            created.append({"taskId": task_id, "dataId": data_id})
    return PlatformCode.SUCCESS, {"successTaskList": created, "errorDataIdList": rejected}


def resend_callback(state: EmulatorState, payload: dict[str, Any], request_id: str) -> Outcome:
    """``POST /task/{taskId}/callback`` (``tasks/callbacks/re-sending.md``): ``data`` null for a
    known task (the emulator sends no callback), 404 for an unknown one."""
    task_id = payload.get("taskId")
    if not isinstance(task_id, str) or not task_id.isdecimal():
        return PlatformCode.INVALID_PARAMETER, None
    with state.locked():
        return (PlatformCode.NOT_FOUND if state.task(task_id) is None else PlatformCode.SUCCESS), None


def annotation_stat(state: EmulatorState, payload: dict[str, Any], request_id: str) -> Outcome:
    """``POST /annotation/stat`` as ``annotations/run-stat.md`` answers it: efficiency, human
    efforts and auto-labeling of one workflow. The emulator counts the objects of its completed
    tasks' generated results (`annotation_result`), all added and inspected by one vendor, with no
    auto-labeling and no work hours."""
    with state.locked():
        code, found = _project_and_workflow(state, payload)
        if code != PlatformCode.SUCCESS:
            return code, None
        project_id, workflow_id = found
        done = [t for t in state.tasks_of(project_id) if t["workflowId"] == workflow_id and t["status"] == 9]
    objects = sum(len(slot["slots"]) for t in done for slot in annotation_result(t)["annotations"])
    effort = {"deleted": 0, "inspected": objects, "added": objects, "corrected": 0, "vendor": "emulator"}
    return PlatformCode.SUCCESS, {
        "projectId": project_id,
        "workflowId": workflow_id,
        "efficiency": {"workHours": 0.0, "objectCount": objects},
        "efforts": [effort] if done else [],
        "autolabeling": [],
    }


def _task_item(task: Mapping[str, Any]) -> dict[str, Any]:
    """A task as ``projects/list-task.md`` lists it: the id a string, times as text, and the
    sample's other fields with plain values (the emulator has no pools, teams or assignees)."""
    return {
        "id": task["taskId"],
        "projectId": task["projectId"],
        "poolId": task["workflowId"],
        "poolName": _POOL_NAMES.get(task["poolType"], "pool"),
        "poolType": task["poolType"],
        "workCount": 0,
        "status": task["status"],
        "title": None,
        "metaData": {"uniqueIdentifier": task["dataId"]},
        "datasetId": task.get("datasetId") or 0,
        "datasetName": f"dataset-{task['datasetId']}.jsonl" if task.get("datasetId") else "",
        "poolAssigneeId": -1,
        "poolAssigneeName": None,
        "affiliationTeamId": 0,
        "affiliationTeamName": None,
        "createdTime": time_text(task["createdTime"]),
        "updatedTime": time_text(task["updatedTime"]),
        "rejectCount": None,
        "taskDeadline": None,
        "isTimeSequence": False,
        "deliveryOrderId": None,
        "deliveryPoolId": 0,
        "isLock": False,
    }


#: Pool names of the docs' Default Sample, by pool type, for task items.
_POOL_NAMES = {pool["type"]: pool["name"] for pool in DEFAULT_WORKFLOW}


def _read_task(state: EmulatorState, task: dict[str, Any]) -> dict[str, Any]:
    """Count one status read of `task`; after ``Settings.tasks_complete_after_reads`` of them a task
    still at status 1 becomes complete (9). The caller holds the lock."""
    after = state.settings.tasks_complete_after_reads
    if after > 0:
        task["reads"] = task.get("reads", 0) + 1
        if task["reads"] >= after and task["status"] == 1:
            now = state.now_ms()
            task.update(status=9, updatedTime=now, completeTime=now)  # exportable, like any completion
    return task


def get_task(state: EmulatorState, payload: dict[str, Any], request_id: str) -> Outcome:
    """``POST /task/get``: one task of the project, in the shape of ``tasks/get-task.md`` (its
    ``result`` is the task's export item once complete); ``taskId`` must be a string (it exceeds
    2**53). An unknown task, or one of another project, is 404."""
    project_id, task_id = payload.get("projectId"), payload.get("taskId")
    if not _is_id(project_id) or not isinstance(task_id, str) or not task_id.isdecimal():
        return PlatformCode.INVALID_PARAMETER, None
    if not state.project_exists(project_id):
        return PlatformCode.PROJECT_NOT_FOUND, None
    with state.locked():
        task = state.task(task_id)
        if task is None or task["projectId"] != project_id:
            return PlatformCode.NOT_FOUND, None
        task = _read_task(state, task)
        project = state.project(project_id) or {}
        item = {
            "taskId": task["taskId"],
            "taskParams": {"record": {"metadata": {"uniqueIdentifier": task["dataId"]}}, "operators": []},
            "pointData": None,
            "taskNoteDTOList": [],
            "result": annotation_result(task) if task["status"] == 9 else None,
            "previousResult": None,
            "appendInfo": {
                "poolInfo": {
                    "poolId": task["workflowId"],
                    "poolType": task["poolType"],
                    "operatorIdBlackList": [],
                    "reverseType": None,
                    "isTimeSequence": False,
                },
                "projectInfo": {
                    "projectId": project_id,
                    "projectName": project.get("name"),
                    "tutorial": None,
                },
                "projectIssueShortCut": [],
                "projectAlgorithm": [],
                "isNeedQualityCheck": None,
                "samplePackageId": None,
                "sampleInfo": None,
                "previousPointDataOssUrl": None,
                "updateTime": time_text(task["updatedTime"]),
            },
            "status": task["status"],
            "qualityStatus": None,
            "taskDeadline": None,
            "rejectDeadline": None,
            "serverTime": time_text(state.now_ms()),
            "qualityMessages": [],
            "errorMessage": {"pointErrorMsgs": None, "isPointTimeOut": None},
            "workerInfo": None,
            "issueTransferConfigs": [],
            "instancePropertyShortcutMappingList": None,
        }
    return PlatformCode.SUCCESS, item


def list_project_tasks(state: EmulatorState, payload: dict[str, Any], request_id: str) -> Outcome:
    """``POST /project/tasks``: the project's tasks, oldest first, one page (`offset` from 1).
    ``startTime`` (inclusive) and ``endTime`` (exclusive) filter on ``createdTime`` (ms); ``status``
    ("generally 1", undocumented) must be an integer and filters nothing: the page's own sample
    lists a task at status 9."""
    project_id, page = payload.get("projectId"), _page(payload)
    start, end = payload.get("startTime"), payload.get("endTime")
    if not _is_id(project_id) or page is None or not all(map(_is_int, (start, end, payload.get("status")))):
        return PlatformCode.INVALID_PARAMETER, None
    if not state.project_exists(project_id):
        return PlatformCode.PROJECT_NOT_FOUND, None
    offset, limit = page
    with state.locked():
        matching = [t for t in state.tasks_of(project_id) if start <= t["createdTime"] < end]
        chosen = [
            _task_item(_read_task(state, task)) for task in matching[(offset - 1) * limit : offset * limit]
        ]
    return PlatformCode.SUCCESS, {"count": len(matching), "data": chosen}


def send_tasks(state: EmulatorState, payload: dict[str, Any], request_id: str) -> Outcome:
    """``POST /task/send``: accept an import from an http(s) ``resourceUrl``.

    The emulator does not fetch the file: the batch is finished (status 3) with no tasks and no
    errors, at once or after ``Settings.batch_polls_until_final`` status reads (status 1 until then).
    """
    project_id, url = payload.get("projectId"), payload.get("resourceUrl")
    if not _is_id(project_id) or not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return PlatformCode.INVALID_PARAMETER, None
    if not state.project_exists(project_id):
        return PlatformCode.PROJECT_NOT_FOUND, None
    name = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    batch = {"projectId": project_id, "resourceUrl": url, "jsonlName": name, "createdTime": state.now_ms()}
    polls = state.settings.batch_polls_until_final
    batch.update(status=1 if polls else 3, pollsLeft=polls)
    batch.update(taskCount=0, importFailCount=0, errors=[], requestId=request_id)
    return PlatformCode.SUCCESS, {"importStatus": 1, "batchId": state.add_batch(batch)}


def send_status(state: EmulatorState, payload: dict[str, Any], request_id: str) -> Outcome:
    """``POST /task/send/status``: an import batch as the docs' sample shows it (``batchId``,
    ``jsonlName``, ``taskCount``, ``importFailCount``, ``status``, ``errors`` of
    ``{uniqueIdentifier, jsonLine, error}``); an unknown ``batchId`` is 404."""
    batch_id = payload.get("batchId")
    if not isinstance(batch_id, str) or not batch_id:
        return PlatformCode.INVALID_PARAMETER, None
    with state.locked():
        batch = state.batch(batch_id)
        if batch is None:
            return PlatformCode.NOT_FOUND, None
        if batch["pollsLeft"] > 0:
            batch["pollsLeft"] -= 1
            if batch["pollsLeft"] == 0:
                batch["status"] = 3
        fields = ("batchId", "jsonlName", "taskCount", "importFailCount", "status", "errors")
        return PlatformCode.SUCCESS, {key: copy.deepcopy(batch[key]) for key in fields}


#: Labels the generated annotation results draw from.
_LABELS = ("car", "pedestrian", "cyclist", "traffic-sign", "bus")


def annotation_result(task: Mapping[str, Any]) -> dict[str, Any]:
    """The annotation result of a completed task, as ``/tasks/export`` lists it: the fields of the
    docs' sample (``export/export-tasks.md``), generated from the task (so the same task always
    exports the same bytes), about 0.7 KB like a few labelled objects, and with no task id and no
    ``uniqueIdentifier`` in it, as the docs show."""
    seed = int(task["taskId"])
    digest = hashlib.sha256(str(seed).encode("ascii")).hexdigest()
    slots = []
    for index in range(3):
        n = seed // (index + 1)
        label = _LABELS[n % len(_LABELS)]
        slot_id = f"{digest[8 * index : 8 * index + 8]}-{digest[40 + index : 44 + index]}"
        slots.append(
            {
                "confidence": 0.9,
                "confirmed": n % 2 == 0,
                "hintConfidence": "High",
                "hintStatus": "Unconfirmed",
                "id": slot_id,
                "label": label,
                "length": n % 64,
                "source": "annotator-01",
                "start": n % 640,
                "text": label,
                "type": "text",
            }
        )
    return {
        "annotations": [{"key": "text-[7aba5]", "label": "object", "slots": slots, "type": "slot"}],
        "hints": [],
        "issues": [],
        "metadata": {"imageRotateAngle": 0, "invalidFrame": [], "noNeedToAnnotate": False},
        "notes": [],
    }


def _day_start_ms(day: str) -> int:
    """Epoch milliseconds at 00:00 UTC of a ``YYYY-MM-DD`` day."""
    return int(datetime.fromisoformat(day).replace(tzinfo=timezone.utc).timestamp()) * 1000


def export_tasks(state: EmulatorState, payload: dict[str, Any], request_id: str) -> Outcome:
    """``POST /tasks/export``: the annotation results of the project's completed tasks (status 9),
    by completion days (UTC; both dates, ``completeTimeAfter`` including its day,
    ``completeTimeBefore`` excluding its own) or by ``taskIds`` (exact integers: ``long[]``), never
    both; in completion order, inline."""
    project_id, task_ids = payload.get("projectId"), payload.get("taskIds")
    after, before = payload.get("completeTimeAfter"), payload.get("completeTimeBefore")
    by_window = after is not None or before is not None
    if not _is_id(project_id) or by_window == (task_ids is not None):
        return PlatformCode.INVALID_PARAMETER, None
    if by_window and (after is None or before is None):  # both dates are rendered required
        return PlatformCode.INVALID_PARAMETER, None
    if task_ids is not None and (not isinstance(task_ids, list) or not all(_is_id(t) for t in task_ids)):
        return PlatformCode.INVALID_PARAMETER, None
    if not all(d is None or _is_date(d) for d in (after, before)):
        return PlatformCode.INVALID_PARAMETER, None
    if not state.project_exists(project_id):
        return PlatformCode.PROJECT_NOT_FOUND, None
    wanted = None if task_ids is None else {str(t) for t in task_ids}
    low = 0 if after is None else _day_start_ms(after)
    high = None if before is None else _day_start_ms(before)
    with state.locked():
        done = [t for t in state.tasks_of(project_id) if t["status"] == 9 and t.get("completeTime")]
        if wanted is not None:
            chosen = [t for t in done if t["taskId"] in wanted]
        else:
            chosen = [
                t for t in done if low <= t["completeTime"] and (high is None or t["completeTime"] < high)
            ]
        chosen.sort(key=lambda t: (t["completeTime"], int(t["taskId"])))
        results = [annotation_result(t) for t in chosen]
    return PlatformCode.SUCCESS, {"annotationResultList": results}


Operation = Callable[[EmulatorState, dict[str, Any], str], Outcome]


def _enforcing_required(operations: dict[str, Operation]) -> dict[str, Operation]:
    """The same registry, each operation first refusing (400) a body that lacks a field the docs
    require for its path in the emulator's API version (`REQUIRED_FIELDS`)."""

    def checked(path: str, operation: Operation) -> Operation:
        def run(state: EmulatorState, payload: dict[str, Any], request_id: str) -> Outcome:
            if missing_fields(state.settings.api_version, path, payload):
                return PlatformCode.INVALID_PARAMETER, None
            return operation(state, payload, request_id)

        run.__doc__ = operation.__doc__
        run.__wrapped__ = operation  # type: ignore[attr-defined]
        return run

    return {path: checked(path, operation) for path, operation in operations.items()}


#: POST endpoints: path → operation on (state, JSON body, requestId).
OPERATIONS: dict[str, Operation] = {
    "/annotation/workflow/create": create_workflow,
    "/workflow/create": create_workflow_2024_08,
    "/folder/create": create_folder,
    "/project/create": create_project,
    "/project/list": list_projects,
    "/annotation/request": request_annotation,
    "/annotation/stat": annotation_stat,
    "/task/get": get_task,
    "/task/{taskId}/callback": resend_callback,
    "/project/tasks": list_project_tasks,
    "/task/send": send_tasks,
    "/task/send/status": send_status,
    "/tasks/export": export_tasks,
    _datasets.IMPORT_PATH: _datasets.import_dataset,
}
#: GET endpoints: path → operation on (state, query parameters, requestId).
QUERY_OPERATIONS: dict[str, Operation] = {
    "/project/get": get_project,
    _datasets.STATUS_PATH: _datasets.dataset_status,
}
#: POST endpoints taking a multipart form: path → operation on (state, form fields, requestId).
FORM_OPERATIONS: dict[str, Operation] = {
    _datasets.UPLOAD_PATH: _datasets.upload_dataset,
}
#: Each operation first refuses a body missing a field the docs require (`REQUIRED_FIELDS`).
OPERATIONS = _enforcing_required(OPERATIONS)
QUERY_OPERATIONS = _enforcing_required(QUERY_OPERATIONS)
