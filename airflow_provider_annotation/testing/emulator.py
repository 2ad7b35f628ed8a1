"""A local stand-in for the annotation platform's Open API, over real HTTP on loopback.

No platform instance is reachable from development machines, so demos, this project's tests and
users' own DAG tests talk to this emulator instead: same paths, same signed headers, same response
envelope and codes (``shared/platform/api.md``, ``shared/seed/create-workflow.md``), plus injectable
faults (``faults.Fault``) to exercise the client's error handling. Deliberately free of Airflow.

Run it in-process (``with Emulator() as emu: ...``) or as a process::

    python -m airflow_provider_annotation.testing.emulator --port 0
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import hmac
import json
import os
import secrets
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Awaitable, Callable, Iterable, Mapping, MutableMapping, Sequence

import uvicorn
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from airflow_provider_annotation.codes import PlatformCode, describe
from airflow_provider_annotation.endpoints import CREATE_WORKFLOW, PROJECT_LIST, WORKFLOW_POOLS_KEY
from airflow_provider_annotation.signing import KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature
from airflow_provider_annotation.testing.faults import Fault

#: Control plane for tests in other processes; never signed, never recorded.
CONTROL_PREFIX = "/_emulator"

FIRST_WORKFLOW_ID = 18000
DEFAULT_SIGNATURE_WINDOW_S = 300.0
#: Longer than any client pool's idle time, so the server never closes a connection under a client.
KEEP_ALIVE_S = 75
ACCESS_KEY_ENV = "ANNOTATION_EMULATOR_ACCESS_KEY"
SECRET_KEY_ENV = "ANNOTATION_EMULATOR_SECRET_KEY"
DEFAULT_ACCESS_KEY = "emulator-ak"
DEFAULT_SECRET_KEY = "emulator-sk"
STARTUP_TIMEOUT_S = 10.0

POOL_DISTRIBUTION, POOL_LABELING, POOL_INSPECTION, POOL_SPOT_CHECK, POOL_ALGORITHM, POOL_COMPLETION = range(6)
POOL_TYPES = frozenset(range(6))
RUN_MODES = frozenset({0, 1})

#: What the platform stores when a create request carries no workflow (api.md, "default").
DEFAULT_POOLS: tuple[Mapping[str, Any], ...] = (
    {"name": "Distribution", "type": POOL_DISTRIBUTION, "runMode": 0},
    {"name": "Labeling", "type": POOL_LABELING, "runMode": 0, "workers": []},
    {"name": "Inspection", "type": POOL_INSPECTION, "runMode": 0, "workers": []},
    {"name": "Completion", "type": POOL_COMPLETION, "runMode": 0},
)

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
            "json": _json_or_none(body),
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
        """Everything, JSON-ready, for ``GET /_emulator/state`` (bodies decoded as UTF-8 text)."""
        requests = self.requests
        for record in requests:
            record["body"] = record["body"].decode("utf-8", errors="replace")
        return {
            "workflows": {str(k): v for k, v in self.workflows.items()},
            "requests": requests,
            "faults": [f.to_dict() for f in self.pending_faults],
        }


def _one_use(fault: Fault) -> Fault:
    """A copy of `fault` describing the single use just taken (for the request log)."""
    taken = copy.deepcopy(fault)
    taken.times = 1
    return taken


def _json_or_none(body: bytes) -> Any:
    """The parsed JSON body, or None when there is none or it is not JSON."""
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


# --- Platform rules ---------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    """A JSON integer (bool is an int in Python but not to the platform)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def auth_failure(settings: Settings, headers: Mapping[str, str], now_ms: int) -> PlatformCode | None:
    """Why the signed headers are refused, or None. The secret never leaves this function."""
    key, ts, sign = (headers.get(h) for h in (KEY_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER))
    if not key or not ts or not sign or key != settings.access_key:
        return PlatformCode.AUTHENTICATION_FAILED
    if not hmac.compare_digest(sign, signature(ts, settings.secret_key, settings.access_key)):
        return PlatformCode.WRONG_SIGNATURE
    if not ts.isdecimal():
        return PlatformCode.INVALID_PARAMETER
    if abs(now_ms - int(ts)) > settings.signature_window_s * 1000:
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
        return pool["type"] == POOL_ALGORITHM and _is_str_list(pool["algorithmList"])
    return True


def workflow_failure(workflow: Any) -> PlatformCode | None:
    """Why a given workflow is refused, or None: structure first, then the first/last pool rules."""
    pools = workflow.get(WORKFLOW_POOLS_KEY) if isinstance(workflow, dict) else None
    if not isinstance(pools, list) or not pools or not all(pool_is_well_formed(p) for p in pools):
        return PlatformCode.WORKFLOW_STRUCTURE_ERROR
    if pools[0]["type"] != POOL_DISTRIBUTION:
        return PlatformCode.FIRST_POOL_NOT_DISTRIBUTION
    if pools[-1]["type"] != POOL_COMPLETION:
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
        pools, default = list(DEFAULT_POOLS), True
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


#: Platform endpoints: path → operation on (state, JSON body, requestId).
OPERATIONS: dict[str, Callable[[EmulatorState, dict[str, Any], str], Outcome]] = {
    CREATE_WORKFLOW: create_workflow,
    PROJECT_LIST: list_projects,
}


# --- The FastAPI application ------------------------------------------------------------------


def _platform_route(state: EmulatorState, operation: Callable[..., Outcome]) -> Callable[..., Awaitable[Any]]:
    """Wrap an operation with what every platform endpoint does: authenticate, parse, envelope."""

    async def route(request: Request) -> JSONResponse:
        request_id = new_request_id()
        code: int | None = auth_failure(state.settings, request.headers, state.now_ms())
        data = None
        if code is None:
            payload = _json_or_none(await request.body())
            if isinstance(payload, dict):
                code, data = operation(state, payload, request_id)
            else:
                code = PlatformCode.INVALID_PARAMETER
        return JSONResponse(envelope(code, data, request_id=request_id, now_ms=state.now_ms()))

    return route


def _control_router(state: EmulatorState) -> APIRouter:
    """``/_emulator/*``: queue faults, read state, reset; for tests driving another process."""
    router = APIRouter()

    async def queue_faults(request: Request) -> JSONResponse:
        try:
            raw = json.loads(await request.body())
            faults = [Fault.from_dict(item) for item in (raw if isinstance(raw, list) else [raw])]
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"queued": len(faults), "pending": state.queue(faults)})

    async def read_state() -> JSONResponse:
        return JSONResponse(state.snapshot())

    async def reset() -> JSONResponse:
        state.reset()
        return JSONResponse({"reset": True})

    router.add_api_route(CONTROL_PREFIX + "/faults", queue_faults, methods=["POST"])
    router.add_api_route(CONTROL_PREFIX + "/state", read_state, methods=["GET"])
    router.add_api_route(CONTROL_PREFIX + "/reset", reset, methods=["POST"])
    return router


def create_app(state: EmulatorState) -> FastAPI:
    """The routes alone: platform endpoints under the prefix, control endpoints at both roots."""
    app = FastAPI(title="Annotation platform emulator", openapi_url=None, docs_url=None, redoc_url=None)
    platform = APIRouter(prefix=state.settings.prefix)
    for path, operation in OPERATIONS.items():
        platform.add_api_route(path, _platform_route(state, operation), methods=["POST"])
    app.include_router(platform)
    control = _control_router(state)
    app.include_router(control)
    if state.settings.prefix:
        app.include_router(control, prefix=state.settings.prefix)

    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = PlatformCode.NOT_FOUND if exc.status_code == 404 else PlatformCode.INVALID_PARAMETER
        return JSONResponse(envelope(code, now_ms=state.now_ms()), status_code=exc.status_code)

    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]
    return app


# --- Fault layer: a raw ASGI wrapper, because it must be able to not answer at all -------------


@dataclass
class Answer:
    """One HTTP response, captured or made up, before it is sent."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


class FaultLayer:
    """Records every platform request and applies queued faults around the FastAPI app.

    It is the outermost ASGI app, so `send` is uvicorn's own: its ``__self__.transport`` is the
    connection, which `drop` aborts (a reset, not an HTTP error).
    """

    def __init__(self, app: FastAPI, state: EmulatorState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or self._is_control(scope["path"]):
            await self.app(scope, receive, send)
            return
        endpoint = self._endpoint(scope["path"])
        body = await _read_body(receive)
        headers = HeaderDict((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"])
        record = self.state.open_record(scope["method"], scope["path"], endpoint, headers, body)
        fault = self.state.take_fault(endpoint)
        if fault is None:
            answer = await self._call_app(scope, body)
        else:
            self.state.update_record(record, fault=fault.to_dict())
            answer = await self._faulty_answer(scope, body, fault)
        if answer is None:
            await _drop_connection(send)
            return
        code, request_id = _envelope_fields(answer.body)
        if fault is not None and fault.truncate:
            answer.body = answer.body[: len(answer.body) // 2]
        self.state.update_record(record, status=answer.status, code=code, requestId=request_id)
        await _send_answer(send, answer)

    async def _faulty_answer(self, scope: dict, body: bytes, fault: Fault) -> Answer | None:
        """Act (or not), wait, then make the answer the fault asks for; None means drop."""
        real = await self._call_app(scope, body) if fault.act else None
        await asyncio.sleep(fault.delay)
        if real is None and not fault.replaces_answer:
            real = await self._call_app(scope, body)
        if fault.drop:
            return None
        answer = _replacement(fault, self.state.now_ms()) or real
        assert answer is not None  # a fault that replaces nothing has acted above
        answer.headers.update(fault.headers)
        return answer

    async def _call_app(self, scope: dict, body: bytes) -> Answer:
        """Run the real endpoint with the already-read body and capture its response."""
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        answer = Answer(status=500, body=b"")
        chunks: list[bytes] = []

        async def receive() -> dict:
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            if message["type"] == "http.response.start":
                answer.status = message["status"]
                for name, value in message.get("headers", []):
                    if name.lower() == b"content-type":
                        answer.content_type = value.decode("latin-1")
                    elif name.lower() != b"content-length":
                        answer.headers[name.decode("latin-1")] = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        answer.body = b"".join(chunks)
        return answer

    def _endpoint(self, path: str) -> str:
        """The request path without the base URL's prefix."""
        prefix = self.state.settings.prefix
        if prefix and (path == prefix or path.startswith(prefix + "/")):
            return path[len(prefix) :] or "/"
        return path

    def _is_control(self, path: str) -> bool:
        endpoint = self._endpoint(path)
        return any(p == CONTROL_PREFIX or p.startswith(CONTROL_PREFIX + "/") for p in (path, endpoint))


def _replacement(fault: Fault, now_ms: int) -> Answer | None:
    """The made-up answer a fault specifies, or None when it keeps the real one."""
    if fault.body is not None:
        raw = fault.body.encode("utf-8") if isinstance(fault.body, str) else fault.body
        return Answer(fault.status or 200, raw, fault.content_type or "text/plain; charset=utf-8")
    if fault.code is not None:
        raw = json.dumps(envelope(fault.code, now_ms=now_ms)).encode("utf-8")
        return Answer(fault.status or 200, raw, fault.content_type or "application/json")
    if fault.status is not None:
        return Answer(fault.status, b"", fault.content_type or "application/json")
    return None


def _envelope_fields(body: bytes) -> tuple[int | None, str | None]:
    """(code, requestId) of an envelope body, for the request log; (None, None) if not one."""
    parsed = _json_or_none(body)
    if not isinstance(parsed, dict):
        return None, None
    return parsed.get("code"), parsed.get("requestId")


async def _read_body(receive: Callable[[], Awaitable[dict]]) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _send_answer(send: Callable[[dict], Awaitable[None]], answer: Answer) -> None:
    headers = [(b"content-type", answer.content_type.encode("latin-1"))]
    headers.append((b"content-length", str(len(answer.body)).encode("latin-1")))
    headers.extend((k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers.items())
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})


async def _drop_connection(send: Callable[..., Any]) -> None:
    """Abort the TCP connection so the client sees a reset, never an HTTP answer.

    uvicorn's `send` is a bound method of its RequestResponseCycle, which holds the transport.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise RuntimeError("cannot drop the connection: the server's send() exposes no transport")
    transport.abort()
    # Let connection_lost() run and mark the cycle disconnected, so uvicorn does not answer 500.
    await asyncio.sleep(0)
    await asyncio.sleep(0)


def build_asgi_app(state: EmulatorState) -> FaultLayer:
    """The complete emulator as an ASGI app (routes wrapped by the recording/fault layer)."""
    return FaultLayer(create_app(state), state)


# --- Serving --------------------------------------------------------------------------------


def _normalize_prefix(prefix: str) -> str:
    prefix = prefix.strip().rstrip("/")
    return prefix if not prefix or prefix.startswith("/") else "/" + prefix


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket; binding ourselves makes port 0 usable (the real port is known at once)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted sockets only when it sees it,
    # and without TCP_NODELAY a keep-alive client waits ~40 ms for a delayed ACK on every call.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _server(app: FaultLayer, log_config: Any = None) -> uvicorn.Server:
    """A quiet uvicorn server; h11 and asyncio are explicit because `drop` relies on their transport."""
    config = uvicorn.Config(
        app,
        http="h11",
        loop="asyncio",
        interface="asgi3",
        lifespan="off",
        proxy_headers=False,
        log_level="warning",
        access_log=False,
        log_config=log_config,
        timeout_keep_alive=KEEP_ALIVE_S,
        timeout_graceful_shutdown=2,
    )
    return uvicorn.Server(config)


class Emulator:
    """The platform emulator on a loopback port: ``with Emulator(port=0) as emu: emu.url``.

    Each instance has its own state, so several can run in one process.
    """

    def __init__(
        self,
        access_key: str | None = None,
        secret_key: str | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        prefix: str = "",
        signature_window: float = DEFAULT_SIGNATURE_WINDOW_S,
        clock_offset_ms: int = 0,
        known_projects: Iterable[int] | None = None,
        projects: Iterable[Mapping[str, Any]] = (),
    ) -> None:
        settings = Settings(
            access_key=access_key or os.environ.get(ACCESS_KEY_ENV) or DEFAULT_ACCESS_KEY,
            secret_key=secret_key or os.environ.get(SECRET_KEY_ENV) or DEFAULT_SECRET_KEY,
            signature_window_s=signature_window,
            clock_offset_ms=clock_offset_ms,
            known_projects=None if known_projects is None else frozenset(known_projects),
            prefix=_normalize_prefix(prefix),
        )
        self.host = host
        self.port = port
        self.state = EmulatorState(settings, projects)
        self.app = build_asgi_app(self.state)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    # -- lifecycle

    def bind(self) -> socket.socket:
        """Bind the listening socket (fixing `port` when it was 0) without serving yet."""
        if self._socket is None:
            self._socket = _bind(self.host, self.port)
            self.port = self._socket.getsockname()[1]
        return self._socket

    def start(self) -> Emulator:
        """Serve from a daemon thread; returns once the server is up."""
        if self._thread is not None:
            return self
        sock = self.bind()
        self._server = _server(self.app)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name=f"annotation-emulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        self._wait_started()
        return self

    def _wait_started(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not (self._server and self._server.started):
            if not (self._thread and self._thread.is_alive()) or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the annotation emulator did not start on {self.host}:{self.port}")
            time.sleep(0.01)

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the CLI; uvicorn handles SIGINT/SIGTERM)."""
        _server(self.app, log_config=uvicorn.config.LOGGING_CONFIG).run(sockets=[self.bind()])

    def stop(self) -> None:
        """Stop serving and release the port; the recorded state stays readable."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- what tests use

    @property
    def url(self) -> str:
        """The base URL to configure a connection with (includes the prefix)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{self.state.settings.prefix}"

    @property
    def access_key(self) -> str:
        return self.state.settings.access_key

    @property
    def clock_offset_ms(self) -> int:
        """How far the emulator's clock is off; set it to provoke (or cure) Signature Expired."""
        return self.state.settings.clock_offset_ms

    @clock_offset_ms.setter
    def clock_offset_ms(self, value: int) -> None:
        self.state.settings.clock_offset_ms = value

    def inject(self, *faults: Fault) -> None:
        """Queue faults (FIFO) for the coming platform requests."""
        self.state.queue(faults)

    @property
    def workflows(self) -> dict[int, dict[str, Any]]:
        """Copy of the created workflows: id → {projectId, pools, default, requestId}."""
        return self.state.workflows

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Copy of the platform requests received (method, path, endpoint, headers, body, json,
        fault, requestId, status, code), oldest first."""
        return self.state.requests

    @property
    def faults(self) -> list[Fault]:
        """Copy of the faults still queued."""
        return self.state.pending_faults

    def reset(self) -> None:
        """Forget workflows, requests and queued faults."""
        self.state.reset()


# --- CLI ------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_annotation.testing.emulator",
        description="Serve a local emulator of the annotation platform's Open API.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port (printed)")
    parser.add_argument("--access-key", default=None, help=f"${ACCESS_KEY_ENV} or {DEFAULT_ACCESS_KEY}")
    parser.add_argument("--secret-key", default=None, help=f"${SECRET_KEY_ENV} or {DEFAULT_SECRET_KEY}")
    parser.add_argument("--signature-window", type=float, default=DEFAULT_SIGNATURE_WINDOW_S, help="seconds")
    parser.add_argument("--clock-offset-ms", type=int, default=0, help="skew the emulator's clock")
    parser.add_argument("--prefix", default="", help="base URL path prefix, e.g. /openapi")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Print the base URL (one flushed line) and serve until killed. Never prints the secret."""
    args = parse_args(argv)
    emulator = Emulator(
        args.access_key,
        args.secret_key,
        host=args.host,
        port=args.port,
        prefix=args.prefix,
        signature_window=args.signature_window,
        clock_offset_ms=args.clock_offset_ms,
    )
    emulator.bind()
    print(f"Annotation emulator listening on {emulator.url}", flush=True)
    emulator.serve_forever()


if __name__ == "__main__":  # pragma: no cover - exercised through a subprocess in the tests
    sys.exit(main())
