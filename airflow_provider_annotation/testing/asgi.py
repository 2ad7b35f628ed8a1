"""The emulator as an ASGI app: FastAPI routes for the platform and control endpoints, wrapped in a
raw ASGI fault layer that records every platform request and can answer wrongly, late or not at all.

The platform's rules live in `openapi`; serving is `emulator`'s job.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from airflow_provider_annotation.codes import PlatformCode
from airflow_provider_annotation.testing.faults import Fault
from airflow_provider_annotation.testing.openapi import (
    OPERATIONS,
    QUERY_OPERATIONS,
    EmulatorState,
    HeaderDict,
    Outcome,
    auth_failure,
    envelope,
    json_or_none,
    new_request_id,
)

#: Control plane for tests in other processes; never signed, never recorded.
CONTROL_PREFIX = "/_emulator"


# --- The FastAPI application ------------------------------------------------------------------


def _platform_route(
    state: EmulatorState, operation: Callable[..., Outcome], *, from_query: bool = False
) -> Callable[..., Awaitable[Any]]:
    """Wrap an operation with what every platform endpoint does: authenticate, parse, envelope.
    GET endpoints (`from_query`) take their parameters from the query string."""

    async def route(request: Request) -> JSONResponse:
        request_id = new_request_id()
        code: int | None = auth_failure(state.settings, request.headers, state.now_ms())
        data = None
        if code is None:
            payload = dict(request.query_params) if from_query else json_or_none(await request.body())
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
    for path, operation in OPERATIONS.items():
        platform.add_api_route(path, _platform_route(state, operation), methods=["POST"])
    for path, operation in QUERY_OPERATIONS.items():
        platform.add_api_route(path, _platform_route(state, operation, from_query=True), methods=["GET"])
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
        answer: Answer | None
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
        if fault is not None and fault.cut_mid_body:
            await _cut_answer(send, answer)
            return
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
    parsed = json_or_none(body)
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
