"""The annotation platform's Open API as the emulator plays it: the contract, free of any server.

The response envelope and its messages, request ids, the signed-header check, the pool and workflow
rules and the operation behind each endpoint, as the platform's Open API documentation (2024)
describes them. What the operations store lives in `state`; `asgi` puts this on
HTTP and `emulator` serves it. The one server type used here is Starlette's HTTPException: a path
the chosen API version does not serve answers HTTP 404, exactly like an unknown path.
"""

from __future__ import annotations

import copy
import hmac
import re
import secrets
import time
from collections.abc import Callable, Mapping
from datetime import date, datetime, timezone
from typing import Any, TypeGuard

from starlette.exceptions import HTTPException

from airflow_provider_annotation.codes import PlatformCode, describe
from airflow_provider_annotation.endpoints import (
    ANNOTATION_REQUEST,
    ANNOTATION_STAT,
    CREATE_WORKFLOW,
    CREATE_WORKFLOW_2024_08,
    FOLDER_CREATE,
    PROJECT_CREATE,
    PROJECT_GET,
    PROJECT_LIST,
    PROJECT_TASKS,
    TASK_GET,
    TASK_SEND,
    TASK_SEND_STATUS,
    TASKS_EXPORT,
    WORKFLOW_POOLS_KEY,
    WORKFLOW_VERTEX_KEY,
)
from airflow_provider_annotation.signing import KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature
from airflow_provider_annotation.testing import datasets as _datasets
from airflow_provider_annotation.testing.state import (
    DEFAULT_SIGNATURE_WINDOW_S,
    FIRST_WORKFLOW_ID,
    REDACTED,
    EmulatorState,
    HeaderDict,
    Settings,
    SignatureLog,
    json_or_none,
    redact_headers,
)
from airflow_provider_annotation.workflow import DEFAULT_POOLS, PoolType, RunMode

__all__ = [
    "DEFAULT_SIGNATURE_WINDOW_S",
    "FIRST_WORKFLOW_ID",
    "MESSAGES",
    "OPERATIONS",
    "FORM_OPERATIONS",
    "QUERY_OPERATIONS",
    "REDACTED",
    "WORKFLOW_KEYS",
    "EmulatorState",
    "HeaderDict",
    "Operation",
    "Outcome",
    "Settings",
    "auth_failure",
    "envelope",
    "json_or_none",
    "message_for",
    "new_request_id",
    "pool_is_well_formed",
    "redact_headers",
    "workflow_failure",
]

#: The platform's enumerations come from `workflow` (one definition); the emulator's structure rules
#: below stay its own on purpose, so a bug in the provider's validation cannot hide in both.
POOL_TYPES = frozenset(int(t) for t in PoolType)
RUN_MODES = frozenset(int(m) for m in RunMode)

#: Envelope messages where the platform's wording is known; other codes use codes.describe().
MESSAGES: dict[int, str] = {
    PlatformCode.SUCCESS: "Succeed",
    PlatformCode.INVALID_PARAMETER: "Invalid Parameter",
    PlatformCode.WRONG_SIGNATURE: "Wrong Signature",
    PlatformCode.AUTHENTICATION_FAILED: "Authentication Failed",
    PlatformCode.SIGNATURE_EXPIRED: "Signature Expired",
    PlatformCode.NOT_FOUND: "Not Found",
    PlatformCode.INTERNAL_ERROR: "Internal Error, Please Try Again Later",
}


# --- Envelope -------------------------------------------------------------------------------


def message_for(code: int) -> str:
    """The envelope `message` for `code`."""
    text = MESSAGES.get(code) or describe(code)
    return text[:1].upper() + text[1:]


def new_request_id() -> str:
    """A fresh 30-hex-character requestId, like the platform's."""
    return secrets.token_hex(15)


def envelope(
    code: int, data: Any = None, *, request_id: str | None = None, now_ms: int | None = None
) -> dict[str, Any]:
    """The platform's response object; failures always carry ``data: null``."""
    now_s = (now_ms if now_ms is not None else time.time_ns() // 1_000_000) / 1000
    ok = code == PlatformCode.SUCCESS
    return {
        "code": int(code),
        "message": message_for(code),
        "data": data if ok else None,
        "date": datetime.fromtimestamp(now_s).strftime("%Y-%m-%d %H:%M:%S"),
        "requestId": request_id or new_request_id(),
        "success": ok,
    }


# --- Platform rules ---------------------------------------------------------------------------


def _is_int(value: Any) -> TypeGuard[int]:
    """A JSON integer (bool is an int in Python but not to the platform)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


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
    expected = signature(ts, settings.secret_key, settings.access_key)
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
        return pool["type"] == PoolType.ALGORITHM and _is_str_list(pool["algorithmList"])
    return True


#: What each API version calls the list of pools under ``workflow``: the other key is refused (400).
WORKFLOW_KEYS: dict[str, str] = {"2024-07": WORKFLOW_POOLS_KEY, "2024-08": WORKFLOW_VERTEX_KEY}
DATA_TYPES = frozenset({2, 3})
TASK_STATUSES = range(1, 11)
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


def workflow_failure(workflow: Any, key: str = WORKFLOW_POOLS_KEY) -> PlatformCode | None:
    """Why a given workflow is refused, or None: the other version's key (400), then structure
    (5841), then the first/last pool rules (5509/5523)."""
    if isinstance(workflow, dict) and key not in workflow and set(WORKFLOW_KEYS.values()) & set(workflow):
        return PlatformCode.INVALID_PARAMETER
    pools = workflow.get(key) if isinstance(workflow, dict) else None
    if not isinstance(pools, list) or not pools or not all(pool_is_well_formed(p) for p in pools):
        return PlatformCode.WORKFLOW_STRUCTURE_ERROR
    if pools[0]["type"] != PoolType.DISTRIBUTION:
        return PlatformCode.FIRST_POOL_NOT_DISTRIBUTION
    if pools[-1]["type"] != PoolType.COMPLETION:
        return PlatformCode.LAST_POOL_NOT_COMPLETION
    return None


def _workflow_pools(state: EmulatorState, workflow: Any) -> tuple[list[Any], bool] | PlatformCode:
    """(pools, default) for a request's optional ``workflow``, or the code refusing it."""
    if workflow is None:
        # What the platform stores for "no workflow": the same default the provider documents.
        return [dict(p) for p in DEFAULT_POOLS], True
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
    if not isinstance(operators, list) or not all(isinstance(item, dict) for item in operators):
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
    """``POST /project/create``: a uniquely named project (5801) and its default workflow.

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
        record.update(status=0, operators=copy.deepcopy(payload["operators"]), createdTime=state.now_ms())
        project_id = state.add_project({**record, "requestId": request_id})
        workflow_id = state.add_workflow(project_id, pools[0], default=pools[1], request_id=request_id)
        project = state.project(project_id)
        assert project is not None
        project["workflowId"] = workflow_id
    return PlatformCode.SUCCESS, {"projectId": project_id, "status": 0, "workflowId": workflow_id}


def list_projects(state: EmulatorState, payload: dict[str, Any], request_id: str) -> Outcome:
    """``POST /project/list``: seeded and created projects, filtered, one page (`offset` from 1)."""
    page = _page(payload)
    filters = {key: payload.get(key) for key in ("status", "dataType") if payload.get(key) is not None}
    if page is None or not all(map(_is_int, filters.values())):
        return PlatformCode.INVALID_PARAMETER, None
    offset, limit = page
    with state.locked():
        matching = [p for p in state.project_records() if all(p.get(k) == v for k, v in filters.items())]
        chosen = [_public(p) for p in matching[(offset - 1) * limit : offset * limit]]
    return PlatformCode.SUCCESS, {"count": len(matching), "data": chosen}


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
            return PlatformCode.SUCCESS, _public(project)
    if any_project or not state.project_exists(project_id):
        return PlatformCode.PROJECT_NOT_FOUND, None
    return PlatformCode.SUCCESS, {"projectId": project_id}


def _public(record: Mapping[str, Any]) -> dict[str, Any]:
    """A stored record as the platform shows it: without the emulator's own ``requestId``."""
    return {k: copy.deepcopy(v) for k, v in record.items() if k != "requestId"}


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


def annotation_stat(state: EmulatorState, payload: dict[str, Any], request_id: str) -> Outcome:
    """``POST /annotation/stat``: task counts by status for one workflow, the completion rate and
    the (always zero) effort figures; the platform's own shape is not documented."""
    with state.locked():
        code, found = _project_and_workflow(state, payload)
        if code != PlatformCode.SUCCESS:
            return code, None
        project_id, workflow_id = found
        statuses = [t["status"] for t in state.tasks_of(project_id) if t["workflowId"] == workflow_id]
    by_status = {str(s): statuses.count(s) for s in TASK_STATUSES}
    completed = by_status["9"]
    return PlatformCode.SUCCESS, {
        "projectId": project_id,
        "workflowId": workflow_id,
        "taskCount": len(statuses),
        "completedTaskCount": completed,
        "statusCount": by_status,
        "completionRate": round(completed / len(statuses), 4) if statuses else 0.0,
        "workDurationMs": 0,
        "workerCount": 0,
    }


def _task_item(task: Mapping[str, Any]) -> dict[str, Any]:
    """A task as ``/project/tasks`` lists it (the id stays a string)."""
    return {
        "id": task["taskId"],
        "status": task["status"],
        "poolType": task["poolType"],
        "metaData": {"uniqueIdentifier": task["dataId"]},
        "createdTime": task["createdTime"],
        "updatedTime": task["updatedTime"],
    }


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
    """``POST /task/get``: one task of the project; ``taskId`` must be a string (it exceeds 2**53).
    An unknown task, or one of another project, is 404."""
    project_id, task_id = payload.get("projectId"), payload.get("taskId")
    if not _is_id(project_id) or not isinstance(task_id, str) or not task_id.isdecimal():
        return PlatformCode.INVALID_PARAMETER, None
    if not state.project_exists(project_id):
        return PlatformCode.PROJECT_NOT_FOUND, None
    with state.locked():
        task = state.task(task_id)
        if task is None or task["projectId"] != project_id:
            return PlatformCode.NOT_FOUND, None
        item = {
            **_task_item(_read_task(state, task)),
            "projectId": project_id,
            "workflowId": task["workflowId"],
        }
    return PlatformCode.SUCCESS, item


def list_project_tasks(state: EmulatorState, payload: dict[str, Any], request_id: str) -> Outcome:
    """``POST /project/tasks``: the project's tasks, oldest first, one page (`offset` from 1).
    ``startTime`` (inclusive) and ``endTime`` (exclusive) filter on ``createdTime`` (ms)."""
    project_id, page = payload.get("projectId"), _page(payload)
    start, end = payload.get("startTime"), payload.get("endTime")
    if not _is_id(project_id) or page is None or not all(t is None or _is_int(t) for t in (start, end)):
        return PlatformCode.INVALID_PARAMETER, None
    if not state.project_exists(project_id):
        return PlatformCode.PROJECT_NOT_FOUND, None
    offset, limit = page
    with state.locked():
        matching = [
            t
            for t in state.tasks_of(project_id)
            if (start is None or t["createdTime"] >= start) and (end is None or t["createdTime"] < end)
        ]
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
    batch = {"projectId": project_id, "resourceUrl": url, "createdTime": state.now_ms()}
    polls = state.settings.batch_polls_until_final
    batch.update(status=1 if polls else 3, pollsLeft=polls)
    batch.update(taskCount=0, importFailCount=0, errors=[], requestId=request_id)
    return PlatformCode.SUCCESS, {"importStatus": 1, "batchId": state.add_batch(batch)}


def send_status(state: EmulatorState, payload: dict[str, Any], request_id: str) -> Outcome:
    """``POST /task/send/status``: an import batch's counts; an unknown ``batchId`` is 404."""
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
        fields = ("taskCount", "importFailCount", "status", "errors")
        return PlatformCode.SUCCESS, {key: copy.deepcopy(batch[key]) for key in fields}


#: Labels the generated annotation results draw from.
_LABELS = ("car", "pedestrian", "cyclist", "traffic-sign", "bus")


def annotation_result(task: Mapping[str, Any]) -> dict[str, Any]:
    """The annotation result of a completed task, as ``/tasks/export`` lists it: generated from the
    task id (so the same task always exports the same bytes), about 0.7 KB like a few labelled boxes,
    and with no task id in it, as the docs show."""
    seed = int(task["taskId"])
    boxes = []
    for index in range(3):
        n = seed // (index + 1)
        boxes.append(
            {
                "id": f"{task['taskId']}-{index}",
                "label": _LABELS[n % len(_LABELS)],
                "type": "RECTANGLE",
                "points": [{"x": n % 640, "y": n % 480}, {"x": n % 640 + 64, "y": n % 480 + 48}],
                "attributes": {"occluded": n % 2 == 0, "truncated": n % 3 == 0, "confidence": 0.9},
                "labeler": "annotator-01",
            }
        )
    return {
        "annotations": boxes,
        "hints": [],
        "issues": [],
        "metadata": {"uniqueIdentifier": task["dataId"]},
        "notes": [],
    }


def _day_start_ms(day: str) -> int:
    """Epoch milliseconds at 00:00 UTC of a ``YYYY-MM-DD`` day."""
    return int(datetime.fromisoformat(day).replace(tzinfo=timezone.utc).timestamp()) * 1000


def export_tasks(state: EmulatorState, payload: dict[str, Any], request_id: str) -> Outcome:
    """``POST /tasks/export``: the annotation results of the project's completed tasks (status 9),
    by completion day (UTC; ``completeTimeAfter`` includes its day, ``completeTimeBefore`` excludes
    its own) or by ``taskIds`` (exact integers: ``long[]``), never both; in completion order, inline."""
    project_id, task_ids = payload.get("projectId"), payload.get("taskIds")
    after, before = payload.get("completeTimeAfter"), payload.get("completeTimeBefore")
    by_window = after is not None or before is not None
    if not _is_id(project_id) or by_window == (task_ids is not None):
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

#: POST endpoints: path → operation on (state, JSON body, requestId).
OPERATIONS: dict[str, Operation] = {
    CREATE_WORKFLOW.path: create_workflow,
    CREATE_WORKFLOW_2024_08.path: create_workflow_2024_08,
    FOLDER_CREATE.path: create_folder,
    PROJECT_CREATE.path: create_project,
    PROJECT_LIST.path: list_projects,
    ANNOTATION_REQUEST.path: request_annotation,
    ANNOTATION_STAT.path: annotation_stat,
    TASK_GET.path: get_task,
    PROJECT_TASKS.path: list_project_tasks,
    TASK_SEND.path: send_tasks,
    TASK_SEND_STATUS.path: send_status,
    TASKS_EXPORT.path: export_tasks,
    _datasets.IMPORT_PATH: _datasets.import_dataset,
}
#: GET endpoints: path → operation on (state, query parameters, requestId).
QUERY_OPERATIONS: dict[str, Operation] = {
    PROJECT_GET.path: get_project,
    _datasets.STATUS_PATH: _datasets.dataset_status,
}
#: POST endpoints taking a multipart form: path → operation on (state, form fields, requestId).
FORM_OPERATIONS: dict[str, Operation] = {
    _datasets.UPLOAD_PATH: _datasets.upload_dataset,
}
