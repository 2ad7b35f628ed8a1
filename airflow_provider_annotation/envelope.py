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
import unicodedata
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from airflow_provider_annotation.codes import PlatformCode, describe
from airflow_provider_annotation.endpoints import CreatedId, Effect, Endpoint
from airflow_provider_annotation.exceptions import (
    AnnotationApiError,
    AnnotationMayHaveTakenEffectError,
    AnnotationResponseError,
    AnnotationUnavailableError,
    error_class_for_code,
)
from airflow_provider_annotation.redaction import scrub

__all__ = [
    "ACCEPT_ENCODING",
    "MAX_ENCODINGS",
    "MAX_ID",
    "AnswerBroken",
    "AnswerBudget",
    "AnswerEncodingRefused",
    "AnswerRefused",
    "AnswerTooLarge",
    "MAX_TEXT_ID_CHARS",
    "Judge",
    "Reader",
    "AttemptDeadlinePassed",
    "claims_success",
    "check_created",
    "created_id",
    "created_text_id",
    "judge_answer",
    "lost_answer",
    "parse_envelope",
    "parse_retry_after",
    "text_id_problem",
    "too_large",
]

#: Ids are Java longs on the platform: a created id is 1 .. 2**63 - 1.
from airflow_provider_annotation.validation import MAX_LONG as MAX_ID  # noqa: E402 - one bound, defined once

#: HTTP statuses that say "busy, come back later" whatever the body: the platform did not act.
_TOO_MANY_REQUESTS = 429
#: Under this status only the platform's own envelope proves "not done": a proxy's 503 may not.
_SERVICE_UNAVAILABLE = 503
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_REQUEST_ID_CHARS = 100
#: The longest opaque string id (`batchId`) taken from the platform or a user.
MAX_TEXT_ID_CHARS = 100
#: Unicode categories refused in an opaque id: control, format, surrogate, private use, unassigned,
#: line and paragraph separators.
_NOT_IN_TEXT_IDS = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
#: Turns a success's data into a method's result while the attempt's secrets are known:
#: ``read(data, request_id, secrets)``; raises the typed error of a malformed answer.
Reader = Callable[[Any, "str | None", "tuple[str, ...]"], Any]
#: Judges one answer: ``judge(endpoint, status, headers, body, secrets) -> (data, request_id)``, as
#: `judge_answer` does.
Judge = Callable[[Endpoint, int, Mapping[str, str], bytes, Iterable[str]], "tuple[Any, str | None]"]
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


def check_created(
    endpoint: Endpoint, data: Any, request_id: str | None, secrets: Iterable[str] = ()
) -> int | str | None:
    """The id a create's success must carry (`Endpoint.created_key`), checked as its
    `Endpoint.created_id` says; None for an endpoint that names none. Both hooks apply this to every
    success, whichever method (``call``, ``request`` or the endpoint's own) made the call."""
    key = endpoint.created_key
    if key is None:
        return None
    if endpoint.created_id is CreatedId.LONG:
        return created_id(endpoint, data, key, request_id)
    if (
        endpoint.created_id is CreatedId.TEXT_OR_LONG
        and isinstance(data, dict)
        and type(data.get(key)) is int
    ):
        data = {**data, key: str(data[key])}
    return created_text_id(endpoint, data, key, request_id, secrets)


def text_id_problem(value: object) -> str | None:
    """Why `value` cannot be an opaque id the platform documents as a string (`batchId`), or None.

    Such an id goes back to the platform as it came and into log lines, XCom and links, so it is a
    non-blank string of at most `MAX_TEXT_ID_CHARS` characters with no control, format or
    line-separator character (a newline in it would forge a log line)."""
    if not isinstance(value, str):
        return f"not a string ({type(value).__name__})"
    if not value.strip():
        return "blank"
    if len(value) > MAX_TEXT_ID_CHARS:
        return f"longer than {MAX_TEXT_ID_CHARS} characters ({len(value)})"
    for position, char in enumerate(value, 1):
        if unicodedata.category(char) in _NOT_IN_TEXT_IDS:
            return f"character {position} (U+{ord(char):04X}) is a control character"
    return None


def created_text_id(
    endpoint: Endpoint, data: Any, key: str, request_id: str | None, secrets: Iterable[str] = ()
) -> str:
    """Like `created_id` for the ids the platform documents as strings (`batchId`): an opaque id
    `text_id_problem` accepts. `secrets` are blanked if the refused answer is shown."""
    value = data.get(key) if isinstance(data, dict) else None
    problem = text_id_problem(value)
    if problem is None:
        return str(value)
    raise _missing_id(endpoint, data, key, f"a usable id: {problem}", request_id, secrets)


def _missing_id(
    endpoint: Endpoint, data: Any, key: str, kind: str, request_id: str | None, secrets: Iterable[str] = ()
) -> AnnotationApiError:
    return _mark_claimed_success(
        AnnotationMayHaveTakenEffectError(
            f"the platform reported success but {key} is not {kind} (data={scrub(repr(data), secrets)}); "
            "the object may exist: check the platform before re-running",
            code=PlatformCode.SUCCESS,
            request_id=request_id,
            endpoint=endpoint.path,
            method=endpoint.method,
        )
    )


#: The content encodings the hooks ask for (``Accept-Encoding``) and inflate themselves, through
#: `AnswerBudget`, a bounded piece at a time; an answer in any other encoding is refused.
ACCEPT_ENCODING = "gzip, deflate"
#: The most content encodings one answer may stack (``gzip, gzip``); more are refused, unread.
MAX_ENCODINGS = 2
_ENCODINGS = frozenset({"gzip", "x-gzip", "deflate"})
#: The most bytes one inflating step may produce: memory per step stays this, whatever the ratio.
_PIECE_BYTES = 64 * 1024
#: zlib window bits that read a gzip or a zlib header (HTTP's "deflate" is zlib-wrapped).
_GZIP_OR_ZLIB = 32 + 15


class AnswerBudget:
    """Collects one answer's body up to a size limit and a deadline (a `time.monotonic()` value).

    The one place the size cap is counted, for the sync and the async hook alike: each feeds the
    bytes as they come off the wire (`take`), undecoded, after `begin` with the answer's headers.
    Compressed answers are inflated here a bounded piece at a time through every stacked encoding,
    and counted as they inflate, so a 2 KB answer that inflates to a GiB ends at the limit, having
    cost a few pieces of memory. `take` raises when either bound is passed, so a huge, inflating or
    dripping answer ends the attempt instead of a worker."""

    __slots__ = ("_chunks", "_deadline", "_layers", "_limit", "_size", "file")

    #: What a spooled answer keeps in memory before it moves to a temporary file.
    SPOOL_IN_MEMORY = 1024 * 1024

    def __init__(self, limit: int, deadline: float, *, spool: bool = False) -> None:
        self._limit = limit
        self._deadline = deadline
        self._chunks: list[bytes] = []
        self._size = 0
        self._layers: list[Any] = []
        #: With `spool`, the answer goes here instead of memory (`Endpoint.spooled`).
        self.file: Any = (
            tempfile.SpooledTemporaryFile(max_size=self.SPOOL_IN_MEMORY)  # noqa: SIM115 - closed by its reader
            if spool
            else None
        )

    def begin(self, headers: Mapping[str, str]) -> None:
        """Read the answer's headers (any case-insensitive mapping): refuse at once a
        Content-Length already over the limit, or an encoding not asked for or stacked too deep."""
        declared = headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self._limit:
            raise AnswerTooLarge(f"the answer announces {int(declared)} bytes")
        header = headers.get("Content-Encoding") or ""
        names = [n.strip().lower() for n in header.split(",") if n.strip().lower() not in ("", "identity")]
        if len(names) > MAX_ENCODINGS:
            raise AnswerEncodingRefused(
                f"the answer stacks {len(names)} content encodings ({scrub(header, limit=80)!r}); "
                f"at most {MAX_ENCODINGS} are read"
            )
        unknown = [n for n in names if n not in _ENCODINGS]
        if unknown:
            raise AnswerEncodingRefused(
                f"the answer's content encoding {scrub(unknown[0], limit=40)!r} is not one this client "
                f"asks for ({ACCEPT_ENCODING})"
            )
        # The last encoding listed was applied last: it comes off first.
        self._layers = [zlib.decompressobj(_GZIP_OR_ZLIB) for _ in names]

    def take(self, chunk: bytes) -> None:
        """Count (and keep: in memory, or in `file` when spooled) one piece of the body as it came
        off the wire."""
        for piece in self._inflate(chunk, 0):
            self._size += len(piece)
            if self._size > self._limit:
                inflated = " once inflated" if self._layers else ""
                raise AnswerTooLarge(f"the answer passed {self._size} bytes{inflated}")
            if self.file is not None:
                self.file.write(piece)
            else:
                self._chunks.append(piece)
        self.check_deadline()

    def _inflate(self, data: bytes, depth: int) -> Iterator[bytes]:
        """`data` through the encodings from `depth` on, in pieces of at most `_PIECE_BYTES`."""
        if depth == len(self._layers):
            if data:
                yield data
            return
        while True:
            layer = self._layers[depth]
            try:
                out = layer.decompress(data, _PIECE_BYTES)
            except zlib.error as exc:
                raise AnswerBroken(f"its compressed body is corrupt ({exc})") from None
            data = layer.unconsumed_tail
            if out:
                yield from self._inflate(out, depth + 1)
            if layer.eof and layer.unused_data:  # a next gzip member follows
                data = layer.unused_data
                self._layers[depth] = zlib.decompressobj(_GZIP_OR_ZLIB)
                continue
            if not data and len(out) < _PIECE_BYTES:  # input used up, nothing held back
                return

    def check_deadline(self) -> None:
        if time.monotonic() > self._deadline:
            raise AttemptDeadlinePassed

    @property
    def body(self) -> bytes:
        """The whole answer; joined once, and the pieces let go, so a large answer is held once."""
        if len(self._chunks) != 1:
            self._chunks = [b"".join(self._chunks)]
        return self._chunks[0]


class AnswerRefused(Exception):
    """The answer cannot be read within this endpoint's bounds: not read further."""


class AnswerTooLarge(AnswerRefused):
    """The answer passed its endpoint's size limit (counted once inflated)."""


class AnswerEncodingRefused(AnswerRefused):
    """The answer's content encoding is not one asked for, or stacked too deep."""


class AnswerBroken(Exception):
    """The answer's compressed body is corrupt: the answer was lost on the way."""


class AttemptDeadlinePassed(Exception):
    """The attempt's total deadline passed while the answer was still arriving."""


def too_large(endpoint: Endpoint, reason: AnswerRefused, **where: Any) -> AnnotationApiError:
    """The error for an answer over its endpoint's limit, or in an encoding refused: a read would
    only get it again, so it is refused (`AnnotationResponseError`); for a create the platform may
    have acted."""
    limit = f", over this endpoint's limit of {endpoint.max_answer_bytes} bytes"
    what = f"{reason}{limit if isinstance(reason, AnswerTooLarge) else ''}; not read further"
    where = {"endpoint": endpoint.path, "method": endpoint.method, **where}
    if endpoint.effect is Effect.READ:
        return AnnotationResponseError(what, **where)
    return AnnotationMayHaveTakenEffectError(f"{what}; the platform may have acted", **where)
