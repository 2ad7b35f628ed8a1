"""The emulator as an ASGI app: FastAPI routes for the platform and control endpoints, wrapped in a
raw ASGI fault layer that records every platform request and can answer wrongly, late or not at all.

The platform's rules live in `openapi`; serving is `emulator`'s job.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
import zlib
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from airflow_provider_annotation.testing import datasets as _datasets
from airflow_provider_annotation.testing.faults import Fault
from airflow_provider_annotation.testing.openapi import (
    FIRST_WORKFLOW_ID,
    FORM_OPERATIONS,
    OPERATIONS,
    QUERY_OPERATIONS,
    SIGNATURE_HEADER,
    EmulatorState,
    HeaderDict,
    Outcome,
    PlatformCode,
    SignatureLog,
    auth_failure,
    envelope,
    json_or_none,
    new_request_id,
)

__all__ = ["CONTROL_PREFIX", "Answer", "FaultLayer", "build_asgi_app", "create_app"]

#: Control plane for tests in other processes; never signed, never recorded.
CONTROL_PREFIX = "/_emulator"


# --- The FastAPI application ------------------------------------------------------------------


def _platform_route(
    state: EmulatorState,
    operation: Callable[..., Outcome],
    seen: SignatureLog,
    *,
    from_query: bool = False,
    from_form: bool = False,
) -> Callable[..., Awaitable[Any]]:
    """Wrap an operation with what every platform endpoint does: authenticate (a replayed signature
    is refused), parse, envelope. GET endpoints (`from_query`) take parameters from the query,
    multipart endpoints (`from_form`) from the form."""

    async def route(request: Request) -> Response:
        request_id = new_request_id()
        code: int | None = auth_failure(state.settings, request.headers, state.now_ms(), seen)
        data = None
        if code is None:
            payload: Any
            if from_query:
                payload = dict(request.query_params)
            elif from_form:
                payload = _datasets.form_fields(request.headers.get("content-type"), await request.body())
            else:
                payload = json_or_none(await request.body())
            if request.path_params:  # an id in the path (``/task/{taskId}/callback``), no body
                payload = {**(payload if isinstance(payload, dict) else {}), **request.path_params}
            if isinstance(payload, dict):
                code, data = operation(state, payload, request_id)
            else:
                code = PlatformCode.INVALID_PARAMETER
        answer = envelope(code, data, request_id=request_id, now_ms=state.now_ms())
        rendered = _datasets.render(answer)  # a dataset's mapping, generated as it is written
        if rendered is not None:
            return Response(rendered, media_type="application/json")
        return JSONResponse(answer)

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

    async def set_task_status(task_id: str, request: Request) -> JSONResponse:
        status = (json_or_none(await request.body()) or {}).get("status")
        try:
            state.set_task_status(task_id, status, state.now_ms())
        except KeyError:
            return JSONResponse({"error": f"no task {task_id!r}"}, status_code=404)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"taskId": task_id, "status": status})

    router.add_api_route(CONTROL_PREFIX + "/tasks/{task_id}/status", set_task_status, methods=["POST"])
    router.add_api_route(CONTROL_PREFIX + "/faults", queue_faults, methods=["POST"])
    router.add_api_route(CONTROL_PREFIX + "/state", read_state, methods=["GET"])
    router.add_api_route(CONTROL_PREFIX + "/reset", reset, methods=["POST"])
    return router


def create_app(state: EmulatorState) -> FastAPI:
    """The routes alone: platform endpoints under the prefix, control endpoints at both roots."""
    app = FastAPI(title="Annotation platform emulator", openapi_url=None, docs_url=None, redoc_url=None)
    platform = APIRouter(prefix=state.settings.prefix)
    seen = SignatureLog()
    for path, operation in OPERATIONS.items():
        platform.add_api_route(path, _platform_route(state, operation, seen), methods=["POST"])
    for path, operation in FORM_OPERATIONS.items():
        platform.add_api_route(
            path, _platform_route(state, operation, seen, from_form=True), methods=["POST"]
        )
    for path, operation in QUERY_OPERATIONS.items():
        platform.add_api_route(
            path, _platform_route(state, operation, seen, from_query=True), methods=["GET"]
        )
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
    #: How it is sent: a byte every `drip` s; after `padding` bytes of whitespace (no length
    #: announced); or gzip-compressed after `gzip_padding` bytes of whitespace.
    drip: float = 0.0
    padding: int = 0
    gzip_padding: int = 0
    gzip_layers: int = 1


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
        busy_for = self.state.over_rate(time.monotonic())
        if self.state.settings.latency_s:
            await asyncio.sleep(self.state.settings.latency_s)
        fault = None if busy_for is not None else self.state.take_fault(endpoint)
        answer: Answer | None
        if busy_for is not None:
            answer = _too_many_requests(busy_for, self.state.now_ms())
        elif fault is None:
            answer = await self._call_app(scope, body)
        else:
            self.state.update_record(record, fault=fault.to_dict())
            answer = await self._faulty_answer(scope, body, fault, headers)
        if answer is None:
            await _drop_connection(send)
            return
        code, request_id = _envelope_fields(answer.body)
        if fault is not None and fault.truncate:
            answer.body = answer.body[: len(answer.body) // 2]
        self.state.update_record(record, status=answer.status, code=code, requestId=request_id)
        if fault is not None and fault.cut_mid_body:
            await _cut_answer(send, answer)
            return
        if answer.drip or answer.padding or answer.gzip_padding:
            await _send_slowly_or_padded(send, answer)
            return
        await _send_answer(send, answer)

    async def _faulty_answer(
        self, scope: dict, body: bytes, fault: Fault, headers: HeaderDict
    ) -> Answer | None:
        """Act (or not), wait, then make the answer the fault asks for; None means drop."""
        body, offset = _paged_request(body, fault)
        real = await self._call_app(scope, body) if fault.act else None
        await asyncio.sleep(fault.delay)
        if real is None and not fault.replaces_answer and fault.half_success is None:
            real = await self._call_app(scope, body)
        if fault.drop:
            return None
        if fault.echo is not None:
            answer: Answer | None = _echo(fault.echo, headers, self.state)
        else:
            answer = _replacement(fault, self.state.now_ms()) or real
        if fault.half_success is not None:
            answer = _half_success(fault.half_success, answer, self.state.now_ms())
        assert answer is not None  # a fault that replaces nothing has acted above
        if fault.page is not None:
            _rewrite_data(answer, lambda data: _lying_page(fault.page, data, offset))  # type: ignore[arg-type]
        if fault.task_field is not None:
            spoil = _task_spoiler(fault.task_field, headers, self.state)
            _rewrite_data(answer, lambda data: _each_task(data, spoil))
        answer.headers.update(fault.headers)
        answer.drip, answer.padding, answer.gzip_padding = fault.drip, fault.pad_to, fault.gzip_bomb
        answer.gzip_layers = fault.gzip_layers
        if answer.padding:
            answer.padding = max(0, answer.padding - len(answer.body))
        return answer

    async def _call_app(self, scope: dict, body: bytes) -> Answer:
        """Run the real endpoint with the already-read body and capture its response."""
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        answer = Answer(status=500, body=b"")
        chunks: list[bytes] = []

        async def receive() -> dict:
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message: MutableMapping[str, Any]) -> None:
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


def _too_many_requests(retry_after: float, now_ms: int) -> Answer:
    """Past the rate limit: HTTP 429, "try again later" (code 500), and when (`Retry-After`)."""
    raw = json.dumps(envelope(PlatformCode.INTERNAL_ERROR, now_ms=now_ms)).encode("utf-8")
    return Answer(429, raw, headers={"Retry-After": f"{retry_after:g}"})


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


#: A log line an echoed value tries to forge, after a newline.
FORGED_LOG_LINE = "2026-01-01T00:00:00.000000Z [info     ] FORGED: task succeeded"


def _echo(where: str, headers: HeaderDict, state: EmulatorState) -> Answer:
    """What a server echoing the request back answers: its headers (X-SIGN included) and the
    secret key, with a newline and a forged log line, in the place `where` names."""
    secret = state.settings.secret_key
    sign = headers.get(SIGNATURE_HEADER) or ""
    echoed = f"echo: secret={secret} sign={sign}\n{FORGED_LOG_LINE}\nheaders={json.dumps(dict(headers))}"
    now = state.now_ms()
    if where == "location":
        location = f"http://user:{secret}@127.0.0.1:9/{sign}?sign={sign}"
        return Answer(302, b"", headers={"Location": location})
    if where == "body":
        return Answer(400, echoed.encode("utf-8"), "text/plain; charset=utf-8")
    if where == "errors":
        return _echo_in_import_errors(echoed, sign, now)
    failure = envelope(PlatformCode.INVALID_PARAMETER, now_ms=now)
    if where == "message":
        failure["message"] = echoed
    else:  # requestId
        failure["requestId"] = f"{sign}\n{FORGED_LOG_LINE} secret={secret}"
    return Answer(200, json.dumps(failure).encode("utf-8"))


#: How many bytes of import errors the ``errors`` echo sends: far more than any message should hold.
ECHO_ERRORS_BYTES = 1024 * 1024


def _echo_in_import_errors(echoed: str, sign: str, now_ms: int) -> Answer:
    """A finished import batch (``/task/send/status``, docs' shape) whose ~1 MB of `errors` carry the
    echo in each `uniqueIdentifier` and `error`, and a signed storage URL in each `jsonLine`."""
    line = json.dumps({"attachment": f"https://bucket.example.com/a.jpg?X-Amz-Signature={sign}"})
    entry = {"uniqueIdentifier": f"id-{sign}\n{echoed}", "jsonLine": line, "error": echoed}
    count = ECHO_ERRORS_BYTES // len(json.dumps(entry)) + 1
    data = {
        "batchId": "1948529430730380288",
        "jsonlName": "records.jsonl",
        "taskCount": count,
        "importFailCount": count,
        "status": 3,
        "errors": [entry] * count,
    }
    return Answer(200, json.dumps(envelope(PlatformCode.SUCCESS, data, now_ms=now_ms)).encode("utf-8"))


def _half_success(how: str, answer: Answer | None, now_ms: int) -> Answer:
    """`answer` (or a made-up success) rewritten to half-claim success, as `Fault.half_claimed`."""
    parsed = json_or_none(answer.body) if answer is not None else None
    if not (isinstance(parsed, dict) and parsed.get("success") is True):
        parsed = envelope(PlatformCode.SUCCESS, {"workflowId": FIRST_WORKFLOW_ID}, now_ms=now_ms)
    data: dict[str, Any] = parsed["data"] if isinstance(parsed.get("data"), dict) else {}
    id_key = next((k for k in data if k.endswith("Id")), "workflowId")
    value = data.get(id_key, FIRST_WORKFLOW_ID)
    rewrite: dict[str, Callable[[], None]] = {
        "success-false": lambda: parsed.update(success=False),
        "code-string": lambda: parsed.update(code="200"),
        "other-code": lambda: parsed.update(code=int(PlatformCode.INTERNAL_ERROR)),
        "id-string": lambda: data.update({id_key: str(value)}),
        "id-float": lambda: data.update({id_key: float(value)}),
        "id-bool": lambda: data.update({id_key: True}),
        "id-negative": lambda: data.update({id_key: -abs(int(value))}),
        "id-huge": lambda: data.update({id_key: 2**63}),
    }
    rewrite[how]()
    parsed["data"] = data
    return Answer(200, json.dumps(parsed).encode("utf-8"))


def _paged_request(body: bytes, fault: Fault) -> tuple[bytes, int]:
    """The request body a lying or capping server acts on, and the page number that was asked."""
    payload = json_or_none(body)
    if not isinstance(payload, dict) or not (fault.page or fault.page_cap):
        return body, 1
    asked = payload.get("offset")
    offset = asked if isinstance(asked, int) else 1
    if fault.page == "ignore-offset":
        payload["offset"] = 1
    if fault.page_cap and isinstance(payload.get("limit"), int):
        payload["limit"] = min(payload["limit"], fault.page_cap)
    return json.dumps(payload).encode("utf-8"), offset


def _rewrite_data(answer: Answer, rewrite: Callable[[Any], Any]) -> None:
    """Apply `rewrite` to a success envelope's `data` in place; other answers stay as they are."""
    parsed = json_or_none(answer.body)
    if isinstance(parsed, dict) and parsed.get("success") is True:
        parsed["data"] = rewrite(parsed.get("data"))
        answer.body = json.dumps(parsed).encode("utf-8")


def _lying_page(how: str, data: Any, offset: int) -> Any:
    """A page as `Fault.paging` makes it lie."""
    if not isinstance(data, dict) or not isinstance(data.get("count"), int):
        return data
    if how == "ignore-offset":
        return {**data, "count": data["count"] * 1000}
    if how == "growing-count":
        return {**data, "count": data["count"] + 1000 * offset}
    return {**data, "data": []}  # empty


#: The size of a spoiled task's huge status or id (`Fault.spoiled_task`).
HUGE_FIELD_CHARS = 300 * 1024


def _task_spoiler(how: str, headers: HeaderDict, state: EmulatorState) -> Callable[[dict], dict]:
    """What `Fault.spoiled_task` does to one task object."""
    secret, sign = state.settings.secret_key, headers.get(SIGNATURE_HEADER) or ""
    echoed = f"sign={sign} secret={secret}\n{FORGED_LOG_LINE}\n"
    huge = (echoed + "x" * HUGE_FIELD_CHARS)[:HUGE_FIELD_CHARS]
    huge_object = {"echo": echoed, "sign": sign, "filler": ["x" * 1000] * (HUGE_FIELD_CHARS // 1000)}
    key = "status" if how.endswith("status") else "id"

    def spoil(task: dict) -> dict:
        task = dict(task)
        if how == "no-id":
            task.pop("id", None)
            task.pop("taskId", None)
        elif how == "other-id":
            task["id"] = str(int(task.get("id") or 0) + 1)
        else:
            task[key] = huge if how.startswith("huge") else huge_object
        return task

    return spoil


def _each_task(data: Any, spoil: Callable[[dict], dict]) -> Any:
    """`spoil` applied to a task answer, or to every task of a page."""
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        return {**data, "data": [spoil(t) if isinstance(t, dict) else t for t in data["data"]]}
    return spoil(data) if isinstance(data, dict) else data


def _envelope_fields(body: bytes) -> tuple[int | None, str | None]:
    """(code, requestId) of an envelope body, for the request log; (None, None) if not one."""
    try:
        parsed = json_or_none(body)
    except RecursionError:  # a hostile body nested too deeply (a fault): not an envelope
        return None, None
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


def _start_message(answer: Answer) -> dict[str, Any]:
    """The ``http.response.start`` message for `answer`, Content-Length from its full body."""
    headers = [(b"content-type", answer.content_type.encode("latin-1"))]
    headers.append((b"content-length", str(len(answer.body)).encode("latin-1")))
    headers.extend((k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers.items())
    return {"type": "http.response.start", "status": answer.status, "headers": headers}


async def _send_answer(send: Callable[[dict], Awaitable[None]], answer: Answer) -> None:
    await send(_start_message(answer))
    await send({"type": "http.response.body", "body": answer.body})


def _disconnected(send: Callable[..., Any]) -> bool:
    """Whether the client has gone (uvicorn's cycle marks it), so a long answer can stop."""
    return bool(getattr(getattr(send, "__self__", None), "disconnected", False))


_MIB = 1024 * 1024


async def _send_slowly_or_padded(send: Callable[..., Any], answer: Answer) -> None:
    """Send `answer` dripping, padded or as a gzip bomb, stopping when the client hangs up."""
    headers = [(b"content-type", answer.content_type.encode("latin-1"))]
    headers.extend((k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers.items())
    if answer.drip:
        headers.append((b"content-length", str(len(answer.body)).encode("latin-1")))
    if answer.gzip_layers > 1:  # small enough on the wire to make whole, then send at once
        body = _stacked_gzip(answer.gzip_padding, answer.body, answer.gzip_layers)
        encoding = ", ".join(["gzip"] * answer.gzip_layers).encode("latin-1")
        headers += [(b"content-encoding", encoding), (b"content-length", str(len(body)).encode("latin-1"))]
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return
    if answer.gzip_padding:
        headers.append((b"content-encoding", b"gzip"))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})

    async def part(data: bytes) -> bool:
        if _disconnected(send):
            return False
        if data:
            await send({"type": "http.response.body", "body": data, "more_body": True})
        return True

    if answer.drip:
        for index in range(len(answer.body)):
            if not await part(answer.body[index : index + 1]):
                return
            await asyncio.sleep(answer.drip)
    elif answer.padding:
        left = answer.padding
        while left > 0:
            if not await part(b" " * min(_MIB, left)):
                return
            left -= _MIB
        await part(answer.body)
    else:
        compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: the gzip container
        block = b" " * _MIB
        left = answer.gzip_padding
        while left > 0:
            if not await part(compressor.compress(block[: min(_MIB, left)])):
                return
            left -= _MIB
            await asyncio.sleep(0)
        await part(compressor.compress(answer.body) + compressor.flush())
    if not _disconnected(send):
        await send({"type": "http.response.body", "body": b"", "more_body": False})


@functools.lru_cache(maxsize=4)
def _gzipped_padding(padding: int) -> Any:
    """A gzip compressor that has taken `padding` bytes of whitespace: made once per size (seconds
    for a GiB), copied for every answer."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b" " * _MIB
    parts, left = [], padding
    while left > 0:
        parts.append(compressor.compress(block[: min(_MIB, left)]))
        left -= _MIB
    return compressor, b"".join(parts)


def _stacked_gzip(padding: int, body: bytes, layers: int) -> bytes:
    """`padding` bytes of whitespace and `body`, gzip-compressed `layers` times over."""
    compressor, head = _gzipped_padding(padding)
    tail = compressor.copy()
    data = head + tail.compress(body) + tail.flush()
    for _ in range(layers - 1):
        layer = zlib.compressobj(9, zlib.DEFLATED, 31)
        data = layer.compress(data) + layer.flush()
    return data


async def _cut_answer(send: Callable[..., Any], answer: Answer) -> None:
    """Promise the whole body, send half of it, then reset: the client's read breaks mid-body.

    ``more_body`` stays true so the server never checks the short body against Content-Length.
    """
    await send(_start_message(answer))
    await send(
        {"type": "http.response.body", "body": answer.body[: len(answer.body) // 2], "more_body": True}
    )
    await _drop_connection(send)


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
