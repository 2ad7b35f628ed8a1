"""The hooks' one call pipeline, without I/O ("sans-IO", as h11 and hyper are built).

Everything a call decides, except sending bytes and reading them, is here once: the proxies, TLS
setting and standing secrets of a connection (`resolve_transport`); one attempt's signed headers,
secrets and answer budget, the typed error for each moment a transport can fail at, and the judging
of its answer with its log line (`Attempt`); a call's attempts, their pacing and signature-expiry
rule, and the advice on its last error (`CallRun`). `AnnotationHook` drives it with `requests`
(`hooks.sync_transport`) and, for its ``a_*`` methods, with `httpx` (`hooks.async_transport`): two
thin adapters, so the sync and async paths cannot drift apart.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow_provider_annotation import __version__
from airflow_provider_annotation.advice import advice_for
from airflow_provider_annotation.codes import PlatformCode
from airflow_provider_annotation.datasets import judge_budget
from airflow_provider_annotation.endpoints import Endpoint
from airflow_provider_annotation.envelope import (
    AnswerBudget,
    AnswerRefused,
    Judge,
    Reader,
    check_created,
    judge_answer,
    lost_answer,
    too_large,
)
from airflow_provider_annotation.exceptions import AnnotationApiError, AnnotationUnavailableError
from airflow_provider_annotation.hooks.pacing import Pacer, is_try_again_later
from airflow_provider_annotation.hooks.retry import SignatureExpiry
from airflow_provider_annotation.redaction import remember_secrets, scrub
from airflow_provider_annotation.signing import SIGNATURE_HEADER, signed_headers

if TYPE_CHECKING:
    from airflow_provider_annotation.hooks.call_log import CallLogMixin
    from airflow_provider_annotation.hooks.config import AnnotationConnectionConfig

__all__ = ["Attempt", "CallRun", "Transport", "resolve_transport", "user_agent"]

#: The URL schemes a proxy may be set for (``requests``' keys; the httpx adapter mounts them).
PROXY_SCHEMES = ("http", "https", "all")


@dataclass(frozen=True)
class Transport:
    """What every request of one connection goes through, read once per hook."""

    #: Scheme (``http``, ``https``, ``all``) -> proxy URL: the connection's, else the environment's.
    proxies: dict[str, str]
    #: TLS verification: the connection's `verify`, else ``REQUESTS_CA_BUNDLE``, else True.
    verify: bool | str
    #: What must never show in a log line or error: the secret key and every proxy password.
    secrets: tuple[str, ...]


def resolve_transport(cfg: AnnotationConnectionConfig) -> Transport:
    """Proxies and TLS verification for the base URL, as requests would work them out on each call
    (the connection's `proxies` and `verify` first, then ``HTTPS_PROXY``, ``NO_PROXY``,
    ``REQUESTS_CA_BUNDLE``, ...), once: both adapters then send with exactly these."""
    import os

    from requests.utils import get_environ_proxies  # requests' own rule (NO_PROXY with CIDRs, ...)

    merged = dict(cfg.proxies or {})
    for key, url in get_environ_proxies(cfg.base_url, no_proxy=merged.get("no_proxy")).items():
        merged.setdefault(key, url)
    verify: bool | str = cfg.verify
    if verify is True:
        verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    proxies = {key: url for key, url in merged.items() if key in PROXY_SCHEMES and url}
    passwords = (urlsplit(url).password for url in proxies.values())
    return Transport(proxies, verify, (cfg.secret_key, *(p for p in passwords if p)))


def user_agent(library: str, library_version: str) -> str:
    """The User-Agent both adapters send: provider, Airflow and HTTP library versions."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        airflow_version = version("apache-airflow")
    except PackageNotFoundError:  # pragma: no cover - airflow-core only installs
        airflow_version = "unknown"
    return (
        f"airflow-provider-annotation/{__version__} apache-airflow/{airflow_version} "
        f"{library}/{library_version}"
    )


def reason(exc: BaseException, secrets: tuple[str, ...]) -> str:
    """The innermost cause's text, without a library's long wrapper, scrubbed (a proxy URL in it may
    carry credentials)."""
    cause: Any = exc.args[0] if exc.args else exc
    cause = getattr(cause, "reason", cause)
    return scrub(str(cause) or type(exc).__name__, secrets)


@dataclass
class Attempt:
    """One signed attempt at `endpoint`: made by `begin`, sent by an adapter, judged by `finish`.

    The adapter turns each failure of its library into the typed error its moment means with the
    methods below (before anything was sent, lost after sending, over the budget), so both
    adapters raise the same errors with the same words."""

    endpoint: Endpoint
    number: int
    cfg: AnnotationConnectionConfig
    headers: dict[str, str]
    secrets: tuple[str, ...]
    started: float
    budget: AnswerBudget
    where: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def begin(
        cls, cfg: AnnotationConnectionConfig, transport: Transport, endpoint: Endpoint, number: int
    ) -> Attempt:
        """Sign afresh; the attempt's secrets (its signature among them) are remembered for every
        reader of this answer (`redaction.remember_secrets`)."""
        headers = signed_headers(cfg.access_key, cfg.secret_key)
        secrets = (*transport.secrets, headers[SIGNATURE_HEADER])
        remember_secrets(secrets)
        started = time.monotonic()
        budget = AnswerBudget(endpoint.max_answer_bytes, started + cfg.total_timeout, spool=endpoint.spooled)
        where = {"endpoint": endpoint.path, "method": endpoint.method}
        return cls(endpoint, number, cfg, headers, secrets, started, budget, where)

    @property
    def url(self) -> str:
        return self.cfg.base_url + self.endpoint.path

    # -- the typed error of each moment a transport can fail at -------------------------------

    def not_sent(self, exc: BaseException) -> AnnotationApiError:
        """Failed before sending (an invalid URL or header, a body that is not JSON)."""
        return AnnotationApiError(f"the request could not be sent: {reason(exc, self.secrets)}", **self.where)

    def tls_failed(self, exc: BaseException) -> AnnotationApiError:
        return AnnotationApiError(
            f"TLS handshake with {self.cfg.base_url} failed ({reason(exc, self.secrets)}); "
            "check the 'verify' extra",
            **self.where,
        )

    def unreachable(self, exc: BaseException) -> AnnotationApiError:
        """Never connected (refused, DNS, connect timeout, proxy): nothing reached the platform."""
        return AnnotationUnavailableError(
            f"could not connect to {self.cfg.base_url}: {reason(exc, self.secrets)}", **self.where
        )

    def no_answer(self) -> AnnotationApiError:
        return lost_answer(
            self.endpoint,
            f"no answer within {self.cfg.read_timeout:g} s (read timeout) after the request was sent",
        )

    def dropped(self, exc: BaseException) -> AnnotationApiError:
        return lost_answer(
            self.endpoint, f"connection dropped after the request was sent ({reason(exc, self.secrets)})"
        )

    def refused(self, exc: AnswerRefused, status: int | None) -> AnnotationApiError:
        return too_large(self.endpoint, exc, http_status=status)

    def past_deadline(self, status: int | None) -> AnnotationApiError:
        return lost_answer(
            self.endpoint,
            f"the answer was still arriving after {self.cfg.total_timeout:g} s (the attempt's total timeout)",
            http_status=status,
        )

    def stalled(self, status: int | None) -> AnnotationApiError:
        return lost_answer(
            self.endpoint,
            f"the answer stalled for {self.cfg.read_timeout:g} s (read timeout)",
            http_status=status,
        )

    def broke_off(self, exc: BaseException, status: int | None) -> AnnotationApiError:
        return lost_answer(
            self.endpoint,
            f"the answer broke off while it was being read ({reason(exc, self.secrets)})",
            http_status=status,
        )

    # -- the answer ----------------------------------------------------------------------------

    @contextmanager
    def exchanging(self, log: CallLogMixin) -> Iterator[None]:
        """Around the adapter's send-and-read: an attempt that ends without a usable answer logs
        its one line too (`CallLogMixin._log_no_answer`)."""
        try:
            yield
        except AnnotationApiError as err:
            log._log_no_answer(self.endpoint, self.started, self.number, err)
            raise

    def finish(
        self,
        log: CallLogMixin,
        status: int,
        headers: Any,
        *,
        read: Reader | None = None,
        judge: Judge = judge_answer,
        keep_mapping: bool = False,
    ) -> tuple[Any, str | None]:
        """``(data, request_id)`` of a success, `read` applied; the typed error otherwise. The
        endpoint's success rule holds for every caller: the envelope (`judge`), and for a create
        the id it must return (`envelope.check_created`). One log line either way."""
        endpoint, secrets = self.endpoint, self.secrets
        try:
            if self.budget.file is None:
                data, request_id = judge(endpoint, status, headers, self.budget.body, secrets)
            else:  # a spooled answer (`Endpoint.spooled`): judged on its envelope, read from the file
                data, request_id = judge_budget(
                    endpoint, status, headers, self.budget, secrets, keep_mapping=keep_mapping
                )
            check_created(endpoint, data, request_id, secrets)
        except AnnotationApiError as err:
            log._log_call(endpoint, status, err.code, err.request_id, self.started, self.number, "")
            raise
        log._log_call(
            endpoint, status, PlatformCode.SUCCESS, request_id, self.started, self.number, ids_of(data)
        )
        return (data if read is None else read(data, request_id, secrets)), request_id


class CallRun:
    """One call's attempts, for the retry controller of either adapter: counts them, paces them
    (`hooks.pacing`), re-signs an expired signature once (`hooks.retry.SignatureExpiry`), and gives
    the last error its attempt count and advice."""

    def __init__(
        self, cfg: AnnotationConnectionConfig, endpoint: Endpoint, pacer: Pacer | None = None
    ) -> None:
        self.cfg = cfg
        self.endpoint = endpoint
        self.pacer = pacer
        self.attempts = 0
        self._expiry = SignatureExpiry()

    @contextmanager
    def attempt(self) -> Iterator[int]:
        """Around one attempt; yields its number, from 1."""
        self.attempts += 1
        if self.pacer is not None:
            self.pacer.before_attempt()
        try:
            yield self.attempts
        except AnnotationApiError as err:
            if self.pacer is not None and is_try_again_later(err):
                self.pacer.try_again_later(err.retry_after)
            self._expiry.check(err, self.endpoint)
            raise

    @contextmanager
    def outcome(self) -> Iterator[None]:
        """Around the whole retried call: the last error says how many attempts were made and what
        to do about it (`advice.advice_for`)."""
        try:
            yield
        except AnnotationApiError as err:
            err.attempts = self.attempts
            err.advice = advice_for(err, base_url=self.cfg.base_url, access_key=self.cfg.access_key)
            raise


def ids_of(data: Any) -> str:
    """The ids a successful answer carries (``: workflowId=18000``), for the call's log line, so
    the new object and its requestId stand on one line."""
    if not isinstance(data, dict):
        return ""
    ids = [
        f"{key}={value}"
        for key, value in data.items()
        if isinstance(key, str) and key.endswith("Id") and type(value) is int
    ]
    return scrub(": " + ", ".join(ids), limit=120) if ids else ""
