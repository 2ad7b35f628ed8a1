"""The annotation platform's Open API as the emulator plays it: the contract, free of any server.

The response envelope and its messages, request ids, the signed-header check, the pool and workflow
rules, the operations behind each endpoint and everything one emulator remembers
(``shared/platform/api.md``, ``shared/seed/create-workflow.md``). No FastAPI, no uvicorn: `asgi`
puts this on HTTP and `emulator` serves it.
"""

from __future__ import annotations

import copy
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeGuard

from airflow_provider_annotation.codes import PlatformCode, describe
from airflow_provider_annotation.endpoints import (
    CREATE_WORKFLOW,
    PROJECT_GET,
    PROJECT_LIST,
    WORKFLOW_POOLS_KEY,
)
from airflow_provider_annotation.signing import KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature
from airflow_provider_annotation.testing.faults import Fault
from airflow_provider_annotation.workflow import DEFAULT_POOLS, PoolType, RunMode

FIRST_WORKFLOW_ID = 18000
DEFAULT_SIGNATURE_WINDOW_S = 300.0

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


class HeaderDict(dict):
    """Recorded request headers: a plain dict (JSON-ready) whose lookups ignore case.

    ASGI lowercases header names; tests naturally write ``headers["X-SIGN"]``.
    """

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return super().__contains__(key.lower() if isinstance(key, str) else key)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key.lower(), default)


# --- State ----------------------------------------------------------------------------------


@dataclass
class Settings:
    """How this emulator instance behaves; fields may be changed while it runs."""

    access_key: str
    secret_key: str = field(repr=False)
    signature_window_s: float = DEFAULT_SIGNATURE_WINDOW_S
    clock_offset_ms: int = 0
    known_projects: frozenset[int] | None = None
    prefix: str = ""


class EmulatorState:
    """Everything one emulator remembers, behind one lock: tests read it from another thread."""

    def __init__(self, settings: Settings, projects: Iterable[Mapping[str, Any]] = ()) -> None:
        self.settings = settings
        self.projects: list[dict[str, Any]] = [dict(p) for p in projects]
        self._lock = threading.Lock()
        self._workflows: dict[int, dict[str, Any]] = {}
        self._requests: list[dict[str, Any]] = []
        self._faults: list[Fault] = []
        self._next_id = FIRST_WORKFLOW_ID

    def now_ms(self) -> int:
        """The emulator's clock, off by `clock_offset_ms` to provoke clock-skew failures."""
        return time.time_ns() // 1_000_000 + self.settings.clock_offset_ms

    def project_exists(self, project_id: int) -> bool:
        """Whether the project is known (every positive id is, unless `known_projects` is set)."""
        known = self.settings.known_projects
        return known is None or project_id in known

    def add_workflow(self, project_id: int, pools: list[Any], *, default: bool, request_id: str) -> int:
        """Store a created workflow; ids are sequential from 18000, like the documented sample."""
        with self._lock:
            workflow_id = self._next_id
            self._next_id += 1
            self._workflows[workflow_id] = {
                "projectId": project_id,
                "pools": copy.deepcopy(pools),
                "default": default,
                "requestId": request_id,
            }
        return workflow_id

    def queue(self, faults: Iterable[Fault]) -> int:
        """Append faults to the FIFO queue; returns how many are pending."""
        with self._lock:
            self._faults.extend(copy.deepcopy(list(faults)))
            return len(self._faults)

    def take_fault(self, endpoint: str) -> Fault | None:
        """Consume one use of the first queued fault matching `endpoint`."""
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.matches(endpoint):
                    fault.times -= 1
                    if fault.times == 0:
                        del self._faults[index]
                    return _one_use(fault)
        return None

    def open_record(self, method: str, path: str, endpoint: str, headers: HeaderDict, body: bytes) -> dict:
        """Log a request on arrival, so even one never answered (dropped, slow) is visible."""
        record = {
            "method": method,
            "path": path,
            "endpoint": endpoint,
            "headers": headers,
            "body": body,
            "json": json_or_none(body),
            "fault": None,
            "requestId": None,
            "status": None,
            "code": None,
            "received_at": time.time(),
        }
        with self._lock:
            self._requests.append(record)
        return record

    def update_record(self, record: MutableMapping[str, Any], **values: Any) -> None:
        """Fill in a logged request's outcome (under the lock, as readers copy it concurrently)."""
        with self._lock:
            record.update(values)

    @property
    def workflows(self) -> dict[int, dict[str, Any]]:
        """A copy of the created workflows by id."""
        with self._lock:
            return copy.deepcopy(self._workflows)

    @property
    def requests(self) -> list[dict[str, Any]]:
        """A copy of the platform request log, oldest first."""
        with self._lock:
            return copy.deepcopy(self._requests)

    @property
    def pending_faults(self) -> list[Fault]:
        """A copy of the faults not yet used up."""
        with self._lock:
            return copy.deepcopy(self._faults)

    def reset(self) -> None:
        """Forget workflows, requests and faults; ids restart at 18000. Settings are kept."""
        with self._lock:
            self._workflows.clear()
            self._requests.clear()
            self._faults.clear()
            self._next_id = FIRST_WORKFLOW_ID

    def snapshot(self) -> dict[str, Any]:
        """Everything, JSON-ready, for ``GET /_emulator/state`` (bodies decoded as UTF-8 text).

        The control plane is unauthenticated, so a fresh X-SIGN (replayable within the signature
        window) is redacted here; in-process `requests` keeps it for tests that check signing.
        """
        requests = self.requests
        for record in requests:
            record["body"] = record["body"].decode("utf-8", errors="replace")
            record["headers"] = redact_headers(record["headers"])
        return {
            "workflows": {str(k): v for k, v in self.workflows.items()},
            "requests": requests,
            "faults": [f.to_dict() for f in self.pending_faults],
        }


REDACTED = "<redacted>"


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of recorded headers with the signature replaced by `REDACTED`."""
    secret = SIGNATURE_HEADER.lower()
    return {name: REDACTED if name.lower() == secret else value for name, value in headers.items()}


def _one_use(fault: Fault) -> Fault:
    """A copy of `fault` describing the single use just taken (for the request log)."""
    taken = copy.deepcopy(fault)
    taken.times = 1
    return taken


def json_or_none(body: bytes) -> Any:
    """The parsed JSON body, or None when there is none or it is not JSON."""
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


# --- Platform rules ---------------------------------------------------------------------------


def _is_int(value: Any) -> TypeGuard[int]:
    """A JSON integer (bool is an int in Python but not to the platform)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


class SignatureLog:
    """The signatures accepted within the signature window: the same X-SIGN again is a replay
    (someone resending captured headers), refused like an expired signature."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, int] = {}  # X-SIGN -> when it was first accepted (ms), oldest first

    def replayed(self, sign: str, now_ms: int, window_s: float) -> bool:
        """Whether `sign` was accepted before within the window; remembers it otherwise."""
        with self._lock:
            horizon = now_ms - window_s * 1000
            while self._seen:
                oldest = next(iter(self._seen))
                if self._seen[oldest] >= horizon:
                    break
                del self._seen[oldest]
            if sign in self._seen:
                return True
            self._seen[sign] = now_ms
            return False


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


def workflow_failure(workflow: Any) -> PlatformCode | None:
    """Why a given workflow is refused, or None: structure first, then the first/last pool rules."""
    pools = workflow.get(WORKFLOW_POOLS_KEY) if isinstance(workflow, dict) else None
    if not isinstance(pools, list) or not pools or not all(pool_is_well_formed(p) for p in pools):
        return PlatformCode.WORKFLOW_STRUCTURE_ERROR
    if pools[0]["type"] != PoolType.DISTRIBUTION:
        return PlatformCode.FIRST_POOL_NOT_DISTRIBUTION
    if pools[-1]["type"] != PoolType.COMPLETION:
        return PlatformCode.LAST_POOL_NOT_COMPLETION
    return None


Outcome = tuple[int, Any]


def create_workflow(state: EmulatorState, payload: dict[str, Any], request_id: str) -> Outcome:
    """``POST /annotation/workflow/create``: validate, store, answer the new workflowId."""
    project_id = payload.get("projectId")
    if not _is_int(project_id) or project_id <= 0:
        return PlatformCode.INVALID_PARAMETER, None
    if not state.project_exists(project_id):
        return PlatformCode.PROJECT_NOT_FOUND, None
    workflow = payload.get("workflow")
    if workflow is None:
        # What the platform stores for "no workflow": the same default the provider documents.
        pools, default = [dict(p) for p in DEFAULT_POOLS], True
    else:
        failure = workflow_failure(workflow)
        if failure is not None:
            return failure, None
        pools, default = workflow[WORKFLOW_POOLS_KEY], False
    workflow_id = state.add_workflow(project_id, pools, default=default, request_id=request_id)
    return PlatformCode.SUCCESS, {"workflowId": workflow_id}


def list_projects(state: EmulatorState, payload: dict[str, Any], request_id: str) -> Outcome:
    """``POST /project/list``: the configured projects, filtered, one page (`offset` from 1)."""
    offset, limit = payload.get("offset", 1), payload.get("limit", 10)
    filters = {key: payload.get(key) for key in ("status", "dataType") if payload.get(key) is not None}
    if not all(_is_int(v) and v > 0 for v in (offset, limit)) or not all(map(_is_int, filters.values())):
        return PlatformCode.INVALID_PARAMETER, None
    matching = [p for p in state.projects if all(p.get(k) == v for k, v in filters.items())]
    page = matching[(offset - 1) * limit : offset * limit]
    return PlatformCode.SUCCESS, {"count": len(matching), "data": copy.deepcopy(page)}


def get_project(state: EmulatorState, query: dict[str, Any], request_id: str) -> Outcome:
    """``GET /project/get?projectId=``: a configured project, or a bare one for any id that exists."""
    raw = str(query.get("projectId", ""))
    if not raw.isdecimal() or int(raw) <= 0:
        return PlatformCode.INVALID_PARAMETER, None
    project_id = int(raw)
    for project in state.projects:
        if project.get("projectId") == project_id:
            return PlatformCode.SUCCESS, copy.deepcopy(project)
    if state.projects or not state.project_exists(project_id):
        return PlatformCode.PROJECT_NOT_FOUND, None
    return PlatformCode.SUCCESS, {"projectId": project_id}


Operation = Callable[[EmulatorState, dict[str, Any], str], Outcome]

#: POST endpoints: path → operation on (state, JSON body, requestId).
OPERATIONS: dict[str, Operation] = {
    CREATE_WORKFLOW.path: create_workflow,
    PROJECT_LIST.path: list_projects,
}
#: GET endpoints: path → operation on (state, query parameters, requestId).
QUERY_OPERATIONS: dict[str, Operation] = {
    PROJECT_GET.path: get_project,
}
