"""Misbehaviours the emulator can put into its answers, one request at a time.

A test queues faults (``Emulator.inject`` or ``POST /_emulator/faults``); each platform request
takes the first queued fault whose endpoint matches, FIFO. This module is plain data (no FastAPI)
so a fault can be built, sent over HTTP as a dict and rebuilt anywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

__all__ = [
    "ECHO_PLACES",
    "HALF_SUCCESSES",
    "KINDS",
    "PAGE_FAULTS",
    "PROXY_ERROR_PAGE",
    "PROXY_RESET_TEXT",
    "TASK_FIELD_FAULTS",
    "Fault",
]

#: Envelope codes faults answer with (``overview/response-codes.md``; the emulator shares no
#: constant with the client).
INTERNAL_ERROR = 500
SIGNATURE_EXPIRED = 403

#: What a reverse proxy in front of the platform answers when the platform is down.
PROXY_ERROR_PAGE = (
    "<html><head><title>{status} Bad Gateway</title></head><body><center><h1>{status} Bad Gateway"
    "</h1></center><hr><center>nginx</center></body></html>"
)
#: What Envoy-style proxies answer (plain text, HTTP 503) when the upstream dies mid-request.
PROXY_RESET_TEXT = (
    "upstream connect error or disconnect/reset before headers. reset reason: connection termination"
)
#: Where an echoing server puts what the request carried (its headers, signature, the secret).
ECHO_PLACES = frozenset({"message", "requestId", "location", "body", "errors"})
#: Answers that half-claim success (see `Fault.half_success`).
HALF_SUCCESSES = frozenset(
    {
        "success-false",
        "code-string",
        "other-code",
        "id-string",
        "id-float",
        "id-bool",
        "id-negative",
        "id-huge",
    }
)

#: How a paged answer (``/project/list``, ``/project/tasks``) can lie (see `Fault.paging`).
PAGE_FAULTS = frozenset({"ignore-offset", "growing-count", "empty"})
#: How a task in an answer (``/task/get``, each item of ``/project/tasks``) can be wrong (see
#: `Fault.spoiled_task`): a 300 KB string or object as its status or id, carrying the request's
#: X-SIGN, the secret key and a newline with a forged log line; no id; another task's id.
TASK_FIELD_FAULTS = frozenset({"huge-status", "object-status", "huge-id", "object-id", "no-id", "other-id"})
#: The most gzip layers a bomb may stack (`Fault.gzip`).
MAX_GZIP_LAYERS = 8


@dataclass
class Fault:
    """One misbehaviour, applied to the next `times` requests to `endpoint` (None: any endpoint).

    The answer is replaced when `body`, `code` or `status` is set (a raw `body` wins over a failure
    envelope with `code`, which wins over an empty body under a bare `status`); `drop` cuts the TCP
    connection instead of answering; `truncate` sends only the first half of the answer's bytes;
    `cut_mid_body` announces the full Content-Length, sends half the body, then resets the connection.
    `act` means the platform performs the real operation first and the fault hits the answer only.
    `drip` sends the answer's body one byte every `drip` seconds; `gzip_bomb` answers with that many
    bytes of whitespace before the true envelope, gzip-compressed (Content-Encoding: gzip); `pad_to`
    pads the answer with whitespace to that many bytes; `echo` puts what the request carried (its
    headers, the signature, the emulator's secret key) into the answer (see `ECHO_PLACES`);
    `half_success` rewrites the answer into one that half-claims success (see `HALF_SUCCESSES`);
    `gzip_layers` stacks that many gzip encodings on a bomb (``Content-Encoding: gzip, gzip``);
    `page` makes a paged answer lie (see `PAGE_FAULTS`) and `page_cap` caps its page size whatever
    ``limit`` asked; `task_field` spoils a task in the answer (see `TASK_FIELD_FAULTS`).
    A fault that replaces nothing (e.g. only a `delay`) always acts: it waits `delay`, then acts and
    answers truly. `delay` is slept after acting and before answering (or dropping).

    Build faults with the constructors below (``Fault.http(503, retry_after=1)``,
    ``Fault.failure(500)``, ``Fault.disconnect(act=True)``, ...); over HTTP, the same names are the
    ``"kind"`` of a fault object.
    """

    status: int | None = None
    code: int | None = None
    body: str | bytes | None = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False
    act: bool = False
    truncate: bool = False
    cut_mid_body: bool = False
    drip: float = 0.0
    gzip_bomb: int = 0
    pad_to: int = 0
    echo: str | None = None
    half_success: str | None = None
    gzip_layers: int = 1
    page: str | None = None
    page_cap: int = 0
    task_field: str | None = None
    endpoint: str | None = None
    times: int = 1

    def __post_init__(self) -> None:
        """Reject values that would only fail later, inside the server, where tests cannot see it."""
        if not isinstance(self.times, int) or isinstance(self.times, bool) or self.times < 1:
            raise ValueError(f"Fault.times must be a positive int, not {self.times!r}")
        if self.delay < 0 or self.drip < 0 or self.gzip_bomb < 0 or self.pad_to < 0:
            raise ValueError("Fault.delay, drip, gzip_bomb and pad_to must be >= 0")
        if self.echo is not None and self.echo not in ECHO_PLACES:
            raise ValueError(f"Fault.echo must be one of {sorted(ECHO_PLACES)}, not {self.echo!r}")
        if self.half_success is not None and self.half_success not in HALF_SUCCESSES:
            raise ValueError(
                f"Fault.half_success must be one of {sorted(HALF_SUCCESSES)}, not {self.half_success!r}"
            )
        if not isinstance(self.gzip_layers, int) or not 1 <= self.gzip_layers <= MAX_GZIP_LAYERS:
            raise ValueError(f"Fault.gzip_layers must be 1 to {MAX_GZIP_LAYERS}, not {self.gzip_layers!r}")
        if self.page is not None and self.page not in PAGE_FAULTS:
            raise ValueError(f"Fault.page must be one of {sorted(PAGE_FAULTS)}, not {self.page!r}")
        if not isinstance(self.page_cap, int) or self.page_cap < 0:
            raise ValueError(f"Fault.page_cap must be an int >= 0, not {self.page_cap!r}")
        if self.task_field is not None and self.task_field not in TASK_FIELD_FAULTS:
            raise ValueError(
                f"Fault.task_field must be one of {sorted(TASK_FIELD_FAULTS)}, not {self.task_field!r}"
            )
        self.headers = {str(k): str(v) for k, v in dict(self.headers).items()}

    @property
    def replaces_answer(self) -> bool:
        """Whether the answer (or its absence) comes from the fault rather than the platform."""
        return (
            self.drop
            or self.body is not None
            or self.code is not None
            or self.status is not None
            or self.echo is not None
        )

    def matches(self, endpoint: str) -> bool:
        """Whether this fault applies to a request for `endpoint` (path without the base prefix)."""
        return self.endpoint is None or self.endpoint.rstrip("/") == endpoint.rstrip("/")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (a bytes body is decoded), e.g. for the emulator's state endpoint."""
        data = {f.name: self.__dict__[f.name] for f in fields(self)}
        if isinstance(self.body, bytes):
            data["body"] = self.body.decode("utf-8", errors="replace")
        data["headers"] = dict(self.headers)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Fault:
        """Rebuild a fault from `to_dict` output, or from ``{"kind": "<constructor>", **kwargs}``."""
        if not isinstance(data, Mapping):
            raise ValueError(f"a fault must be a JSON object, not {type(data).__name__}")
        kwargs = dict(data)
        kind = kwargs.pop("kind", None)
        if kind is None:
            known = {f.name for f in fields(cls)}
            unknown = set(kwargs) - known
            if unknown:
                raise ValueError(f"unknown fault field(s): {sorted(unknown)}")
            return cls(**kwargs)
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {sorted(KINDS)}")
        constructor: Callable[..., Fault] = getattr(cls, kind)
        return constructor(**kwargs)

    # -- constructors: what tests usually mean ------------------------------------------------

    @classmethod
    def http(
        cls,
        status: int,
        *,
        retry_after: int | float | str | None = None,
        code: int = INTERNAL_ERROR,
        act: bool = False,
        endpoint: str | None = None,
        times: int = 1,
    ) -> Fault:
        """An HTTP error status carrying a failure envelope (`code`), optionally with Retry-After."""
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        return cls(status=status, code=int(code), headers=headers, act=act, endpoint=endpoint, times=times)

    @classmethod
    def failure(
        cls, code: int, *, status: int = 200, act: bool = False, endpoint: str | None = None, times: int = 1
    ) -> Fault:
        """A failure envelope with `code` under HTTP 200, the way the real platform answers failures."""
        return cls(status=status, code=int(code), act=act, endpoint=endpoint, times=times)

    @classmethod
    def expired(cls, *, endpoint: str | None = None, times: int = 1) -> Fault:
        """A "Signature Expired" envelope (403), as if the caller's clock were off."""
        return cls.failure(SIGNATURE_EXPIRED, endpoint=endpoint, times=times)

    @classmethod
    def disconnect(
        cls, *, act: bool = False, delay: float = 0.0, endpoint: str | None = None, times: int = 1
    ) -> Fault:
        """Cut the connection without any answer; with `act`, after the platform did the work."""
        return cls(drop=True, act=act, delay=delay, endpoint=endpoint, times=times)

    @classmethod
    def slow(cls, seconds: float, *, act: bool = True, endpoint: str | None = None, times: int = 1) -> Fault:
        """Answer truly but `seconds` late; with `act` the work is done before the wait, else after."""
        return cls(delay=seconds, act=act, endpoint=endpoint, times=times)

    @classmethod
    def html(
        cls, status: int = 502, *, act: bool = False, endpoint: str | None = None, times: int = 1
    ) -> Fault:
        """A proxy's HTML error page instead of an envelope."""
        page = PROXY_ERROR_PAGE.format(status=status)
        return cls(
            status=status, body=page, content_type="text/html", act=act, endpoint=endpoint, times=times
        )

    @classmethod
    def truncated(cls, *, act: bool = True, endpoint: str | None = None, times: int = 1) -> Fault:
        """A 200 whose JSON body is cut in half: the real answer if `act`, else a failure envelope's."""
        code = None if act else INTERNAL_ERROR
        return cls(code=code, truncate=True, act=act, endpoint=endpoint, times=times)

    @classmethod
    def empty(
        cls, status: int = 200, *, act: bool = False, endpoint: str | None = None, times: int = 1
    ) -> Fault:
        """An empty body under `status`."""
        return cls(
            status=status, body=b"", content_type="application/json", act=act, endpoint=endpoint, times=times
        )

    @classmethod
    def cut(cls, *, act: bool = True, endpoint: str | None = None, times: int = 1) -> Fault:
        """Half the body under its full Content-Length, then a reset: the client's read breaks.

        The answer is the real one if `act`, else a failure envelope. Unlike `truncated` (a clean but
        short body), the client sees an incomplete read, as when a proxy or the network dies mid-body.
        """
        code = None if act else INTERNAL_ERROR
        return cls(code=code, cut_mid_body=True, act=act, endpoint=endpoint, times=times)

    @classmethod
    def text(
        cls,
        status: int = 503,
        text: str = PROXY_RESET_TEXT,
        *,
        act: bool = False,
        endpoint: str | None = None,
        times: int = 1,
    ) -> Fault:
        """A plain-text answer (default: a proxy's 503 "upstream reset before headers"); with `act`,
        after the platform acted, as when the proxy loses the platform's answer."""
        return cls(
            status=status, body=text, content_type="text/plain", act=act, endpoint=endpoint, times=times
        )

    @classmethod
    def drip_feed(
        cls, every: float = 0.4, *, act: bool = True, endpoint: str | None = None, times: int = 1
    ) -> Fault:
        """The true answer, its body sent one byte every `every` seconds: each byte comes well within
        a read timeout, so only a total deadline ends the wait."""
        return cls(drip=every, act=act, endpoint=endpoint, times=times)

    @classmethod
    def gzip(
        cls,
        inflated_bytes: int = 500 * 1024 * 1024,
        *,
        layers: int = 1,
        act: bool = True,
        endpoint: str | None = None,
        times: int = 1,
    ) -> Fault:
        """A gzip bomb: `inflated_bytes` of whitespace followed by the true envelope (valid JSON, if
        a client read it all), gzip-compressed: about 1/1000 of that on the wire (0.5 MB for 500 MB).
        With `layers` 2 the compressed stream is compressed again and sent as ``Content-Encoding:
        gzip, gzip``: under 2 KB on the wire for 1 GiB."""
        return cls(gzip_bomb=inflated_bytes, gzip_layers=layers, act=act, endpoint=endpoint, times=times)

    @classmethod
    def paging(
        cls, how: str | None = None, *, cap: int = 0, endpoint: str | None = None, times: int = 1
    ) -> Fault:
        """A paged answer that lies: page 1 whatever ``offset`` asked, under a count 1000 times the
        true one (``ignore-offset``); the true page under a count that grows with every page
        (``growing-count``); the true count with no items (``empty``, a truncated listing). With
        `cap`, the server holds at most `cap` items a page, whatever ``limit`` asked."""
        return cls(page=how, page_cap=cap, endpoint=endpoint, times=times)

    @classmethod
    def spoiled_task(cls, how: str, *, endpoint: str | None = None, times: int = 1) -> Fault:
        """The true answer with its task (or every task of a page) spoiled as `TASK_FIELD_FAULTS`
        names: a 300 KB string or object as its status or id holding the request's X-SIGN, the
        secret key and a forged log line; no id; another task's id."""
        return cls(task_field=how, endpoint=endpoint, times=times)

    @classmethod
    def oversized(
        cls, size: int = 64 * 1024 * 1024, *, act: bool = True, endpoint: str | None = None, times: int = 1
    ) -> Fault:
        """The true envelope padded with whitespace to `size` bytes, streamed without Content-Length."""
        return cls(pad_to=size, act=act, endpoint=endpoint, times=times)

    @classmethod
    def echoing(
        cls, where: str = "message", *, act: bool = False, endpoint: str | None = None, times: int = 1
    ) -> Fault:
        """A server that echoes the request's headers, its X-SIGN and the secret key back, with a
        newline and a fake log line, in the envelope `message` (code 400), the `requestId` (code
        400), a redirect's ``Location`` (HTTP 302), a plain-text HTTP 400 body, or (``errors``) a
        finished import batch's ~1 MB of `errors` (each `jsonLine` a signed storage URL)."""
        return cls(echo=where, act=act, endpoint=endpoint, times=times)

    @classmethod
    def half_claimed(
        cls, how: str = "success-false", *, act: bool = True, endpoint: str | None = None, times: int = 1
    ) -> Fault:
        """An answer that half-claims success: code 200 with ``success: false`` (``success-false``),
        the code as a string (``code-string``), ``success: true`` with code 500 (``other-code``), or
        the new id as a string, float, bool, negative or over 2**63 (``id-...``)."""
        return cls(half_success=how, act=act, endpoint=endpoint, times=times)


#: Constructor names, usable as ``{"kind": "<name>", ...}`` over HTTP.
KINDS = frozenset(
    {
        "http",
        "failure",
        "expired",
        "disconnect",
        "slow",
        "html",
        "truncated",
        "empty",
        "cut",
        "text",
        "drip_feed",
        "gzip",
        "oversized",
        "echoing",
        "half_claimed",
        "paging",
        "spoiled_task",
    }
)
