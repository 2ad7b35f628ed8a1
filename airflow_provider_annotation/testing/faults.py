"""Misbehaviours the emulator can put into its answers, one request at a time.

A test queues faults (``Emulator.inject`` or ``POST /_emulator/faults``); each platform request
takes the first queued fault whose endpoint matches, FIFO. This module is plain data (no FastAPI)
so a fault can be built, sent over HTTP as a dict and rebuilt anywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from airflow_provider_annotation.codes import PlatformCode

#: What a reverse proxy in front of the platform answers when the platform is down.
PROXY_ERROR_PAGE = (
    "<html><head><title>{status} Bad Gateway</title></head><body><center><h1>{status} Bad Gateway"
    "</h1></center><hr><center>nginx</center></body></html>"
)


@dataclass
class Fault:
    """One misbehaviour, applied to the next `times` requests to `endpoint` (None: any endpoint).

    The answer is replaced when `body`, `code` or `status` is set (a raw `body` wins over a failure
    envelope with `code`, which wins over an empty body under a bare `status`); `drop` cuts the TCP
    connection instead of answering; `truncate` sends only the first half of the answer's bytes;
    `cut_mid_body` announces the full Content-Length, sends half the body, then resets the connection.
    `act` means the platform performs the real operation first and the fault hits the answer only.
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
    endpoint: str | None = None
    times: int = 1

    def __post_init__(self) -> None:
        """Reject values that would only fail later, inside the server, where tests cannot see it."""
        if not isinstance(self.times, int) or isinstance(self.times, bool) or self.times < 1:
            raise ValueError(f"Fault.times must be a positive int, not {self.times!r}")
        if self.delay < 0:
            raise ValueError(f"Fault.delay must be >= 0, not {self.delay!r}")
        self.headers = {str(k): str(v) for k, v in dict(self.headers).items()}

    @property
    def replaces_answer(self) -> bool:
        """Whether the answer (or its absence) comes from the fault rather than the platform."""
        return self.drop or self.body is not None or self.code is not None or self.status is not None

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
        code: int = PlatformCode.INTERNAL_ERROR,
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
        return cls.failure(PlatformCode.SIGNATURE_EXPIRED, endpoint=endpoint, times=times)

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
        code = None if act else int(PlatformCode.INTERNAL_ERROR)
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
        code = None if act else int(PlatformCode.INTERNAL_ERROR)
        return cls(code=code, cut_mid_body=True, act=act, endpoint=endpoint, times=times)


#: Constructor names, usable as ``{"kind": "<name>", ...}`` over HTTP.
KINDS = frozenset({"http", "failure", "expired", "disconnect", "slow", "html", "truncated", "empty", "cut"})
