"""The platform's answer judged without any HTTP library: the response envelope, the success rule,
error mapping, and the bounds of one attempt.

Every function works on (HTTP status, headers, body bytes) and an `Endpoint`, so the `requests`
hook and an async (httpx) client share them unchanged. Nothing here sends, sleeps or logs.

The success rule: an envelope whose `code` is the integer 200 and whose `success` is true. An
answer that half-claims success (code 200 with ``success: false``, ``success: true`` with another
code, the code as a string) may hide a created object: for a create it is "may have taken effect"
and is never re-sent.
"""

from __future__ import annotations

import email.utils
import json
import math
import tempfile
import time
from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_annotation.codes import PlatformCode, describe
from airflow_provider_annotation.endpoints import Effect, Endpoint
from airflow_provider_annotation.exceptions import (
    AnnotationApiError,
    AnnotationMayHaveTakenEffectError,
    AnnotationResponseError,
    AnnotationUnavailableError,
    error_class_for_code,
)
from airflow_provider_annotation.redaction import scrub

__all__ = [
    "MAX_ID",
    "AnswerBudget",
    "AnswerTooLarge",
    "AttemptDeadlinePassed",
    "claims_success",
    "created_id",
    "created_text_id",
    "judge_answer",
    "lost_answer",
    "parse_envelope",
    "parse_retry_after",
    "too_large",
]

#: Ids are Java longs on the platform: a created id is 1 .. 2**63 - 1.
MAX_ID = 2**63 - 1
#: HTTP statuses that say "busy, come back later" whatever the body: the platform did not act.
_TOO_MANY_REQUESTS = 429
#: Under this status only the platform's own envelope proves "not done": a proxy's 503 may not.
_SERVICE_UNAVAILABLE = 503
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_REQUEST_ID_CHARS = 100
#: Set on an error raised for an answer that claimed success: never re-sent, whatever the policy.
_CLAIMED_SUCCESS = "claimed_success"


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds a `Retry-After` header asks for (delta-seconds or an HTTP date), or None when absent
    or unreadable (``nan`` and ``inf`` included)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    return max(0.0, seconds) if math.isfinite(seconds) else None


def parse_envelope(body: bytes) -> dict[str, Any] | None:
    """The platform's JSON envelope, or None when the body is anything else (not JSON, not an
    object, nested too deeply to parse, missing `code` or `success`)."""
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if isinstance(parsed, dict) and "code" in parsed and "success" in parsed:
        return parsed
    return None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _mark_claimed_success(err: AnnotationApiError) -> AnnotationApiError:
    setattr(err, _CLAIMED_SUCCESS, True)  # noqa: B010 - a flag, not a field of every error
    return err


def claims_success(err: BaseException) -> bool:
    """Whether `err` was raised for an answer that (half-)claimed success: never re-sent."""
    return getattr(err, _CLAIMED_SUCCESS, False) is True


def lost_answer(endpoint: Endpoint, what: str, **where: Any) -> AnnotationApiError:
    """The error for an attempt whose answer was lost after the request was sent.

    For a create the platform may have acted (`AnnotationMayHaveTakenEffectError`, not re-sent by
    default); a read changes nothing, so it is `AnnotationUnavailableError` and sent again.
    """
    where = {"endpoint": endpoint.path, "method": endpoint.method, **where}
    if endpoint.effect is Effect.READ:
        return AnnotationUnavailableError(f"{what}; a read changes nothing, so it may be sent again", **where)
    return AnnotationMayHaveTakenEffectError(f"{what}; the platform may have acted", **where)


def judge_answer(
    endpoint: Endpoint, status: int, headers: Mapping[str, str], body: bytes, secrets: Iterable[str] = ()
) -> tuple[Any, str | None]:
    """``(data, requestId)`` of a successful answer; otherwise raise the typed error it means.

    `headers` is any case-insensitive mapping (requests' or httpx's). Everything the server sent
    reaches the error only scrubbed of `secrets` (the secret key, this attempt's signature, proxy
    passwords), bounded and on one line.
    """
    where: dict[str, Any] = {"endpoint": endpoint.path, "method": endpoint.method, "http_status": status}
    if status in _REDIRECTS:
        location = scrub(headers.get("Location") or "", secrets)
        raise AnnotationResponseError(
            f"HTTP {status} redirect to {location!r}, not followed (the signed headers would go "
            "along); set the connection's Host to the final base URL",
            **where,
        )
    retry_after = parse_retry_after(headers.get("Retry-After"))
    envelope = parse_envelope(body)
    if envelope is None:
        snippet = scrub(body, secrets, squeeze=True) or "(empty)"
        if status == _TOO_MANY_REQUESTS:
            raise AnnotationUnavailableError(
                f"platform busy (HTTP {status}); body: {snippet!r}", retry_after=retry_after, **where
            )
        if status >= 500 or 200 <= status < 300:
            raise lost_answer(
                endpoint,
                f"HTTP {status} with a body that is not the platform's JSON envelope, so the outcome "
                f"is unknown; body: {snippet!r}",
                http_status=status,
            )
        raise AnnotationResponseError(
            f"HTTP {status} with a body that is not the platform's JSON envelope "
            f"(is the base URL right?); body: {snippet!r}",
            **where,
        )
    code, success = envelope.get("code"), envelope.get("success")
    raw_id = envelope.get("requestId")
    request_id = scrub(raw_id, secrets, limit=_REQUEST_ID_CHARS) if raw_id else None
    if _is_int(code) and code == PlatformCode.SUCCESS and success is True:
        return envelope.get("data"), request_id
    message = scrub(envelope.get("message") or describe(code if _is_int(code) else None), secrets)
    where["request_id"] = request_id
    if success is True or code == PlatformCode.SUCCESS or code == str(int(PlatformCode.SUCCESS)):
        what = (
            f"the answer half-claims success (code={scrub(repr(code), secrets)}, "
            f"success={scrub(repr(success), secrets)}, message {message!r})"
        )
        if endpoint.effect is Effect.READ:
            raise AnnotationResponseError(f"{what}; not the platform's success envelope", **where)
        raise _mark_claimed_success(
            AnnotationMayHaveTakenEffectError(f"{what}; the platform may have acted", **where)
        )
    if not _is_int(code):
        if status == _TOO_MANY_REQUESTS:
            raise AnnotationUnavailableError(message, retry_after=retry_after, **where)
        raise AnnotationResponseError(
            f"a failure envelope whose code is not an integer (code={scrub(repr(code), secrets)}): {message}",
            **where,
        )
    busy = status in (_TOO_MANY_REQUESTS, _SERVICE_UNAVAILABLE)
    cls = AnnotationUnavailableError if busy else error_class_for_code(code)
    raise cls(message, code=code, retry_after=retry_after, **where)


def created_id(endpoint: Endpoint, data: Any, key: str, request_id: str | None) -> int:
    """The new object's id under `key` in a success's `data`: a positive int that fits in 64 bits
    (never a bool, float or string). Anything else is "may have taken effect", not a guess."""
    value: Any = data.get(key) if isinstance(data, dict) else None
    if _is_int(value) and 0 < value <= MAX_ID:
        return int(value)
    raise _missing_id(endpoint, data, key, "a positive integer", request_id)


def created_text_id(endpoint: Endpoint, data: Any, key: str, request_id: str | None) -> str:
    """Like `created_id` for the ids the platform documents as strings (`taskId`, `batchId`)."""
    value = data.get(key) if isinstance(data, dict) else None
    if isinstance(value, str) and value.strip() and len(value) <= _REQUEST_ID_CHARS:
        return value
    raise _missing_id(endpoint, data, key, "a non-empty string", request_id)


def _missing_id(
    endpoint: Endpoint, data: Any, key: str, kind: str, request_id: str | None
) -> AnnotationApiError:
    return _mark_claimed_success(
        AnnotationMayHaveTakenEffectError(
            f"the platform reported success but {key} is not {kind} (data={scrub(repr(data))}); "
            "the object may exist: check the platform before re-running",
            code=PlatformCode.SUCCESS,
            request_id=request_id,
            endpoint=endpoint.path,
            method=endpoint.method,
        )
    )


class AnswerBudget:
    """Collects one answer's body up to a size limit (counted after decompression) and a deadline
    (a `time.monotonic()` value). Feed it chunks as they arrive; `take` raises when either is
    passed, so a huge, inflating or dripping answer ends the attempt instead of a worker."""

    __slots__ = ("_chunks", "_deadline", "_limit", "_size", "file")

    #: What a spooled answer keeps in memory before it moves to a temporary file.
    SPOOL_IN_MEMORY = 1024 * 1024

    def __init__(self, limit: int, deadline: float, *, spool: bool = False) -> None:
        self._limit = limit
        self._deadline = deadline
        self._chunks: list[bytes] = []
        self._size = 0
        #: With `spool`, the answer goes here instead of memory (`Endpoint.spooled`).
        self.file: Any = (
            tempfile.SpooledTemporaryFile(max_size=self.SPOOL_IN_MEMORY)  # noqa: SIM115 - closed by its reader
            if spool
            else None
        )

    def check_declared(self, content_length: str | None) -> None:
        """Refuse at once an answer whose Content-Length already passes the limit."""
        if content_length and content_length.isdigit() and int(content_length) > self._limit:
            raise AnswerTooLarge(f"the answer announces {int(content_length)} bytes")

    def take(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self._limit:
            raise AnswerTooLarge(f"the answer passed {self._size} bytes")
        if self.file is not None:
            self.file.write(chunk)
        else:
            self._chunks.append(chunk)
        self.check_deadline()

    def check_deadline(self) -> None:
        if time.monotonic() > self._deadline:
            raise AttemptDeadlinePassed

    @property
    def body(self) -> bytes:
        return self._chunks[0] if len(self._chunks) == 1 else b"".join(self._chunks)


class AnswerTooLarge(Exception):
    """The answer passed its endpoint's size limit."""


class AttemptDeadlinePassed(Exception):
    """The attempt's total deadline passed while the answer was still arriving."""


def too_large(endpoint: Endpoint, reason: AnswerTooLarge, **where: Any) -> AnnotationApiError:
    """The error for an answer over its endpoint's limit: a read would only get it again, so it is
    refused (`AnnotationResponseError`); for a create the platform may have acted."""
    what = f"{reason}, over this endpoint's limit of {endpoint.max_answer_bytes} bytes; not read further"
    where = {"endpoint": endpoint.path, "method": endpoint.method, **where}
    if endpoint.effect is Effect.READ:
        return AnnotationResponseError(what, **where)
    return AnnotationMayHaveTakenEffectError(f"{what}; the platform may have acted", **where)
