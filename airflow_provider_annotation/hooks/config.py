"""The Airflow connection, resolved once into a small, validated config object.

Kept apart from the hook so the rules for each field live in one readable place and every bad value
is reported with the connection field or extra key it came from, before any request is sent.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_annotation.exceptions import AnnotationConnectionConfigError
from airflow_provider_annotation.hooks.retry import RetryPolicy
from airflow_provider_annotation.project import API_VERSIONS, DEFAULT_API_VERSION

DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 60.0
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_MAX_RETRY_WAIT = 60.0
DEFAULT_RETRY_BASE_DELAY = 1.0

#: Connection extras this provider reads; anything else in `extra` is refused, not ignored.
EXTRA_KEYS = (
    "timeout",
    "verify",
    "proxies",
    "max_attempts",
    "max_retry_wait",
    "retry_base_delay",
    "allow_insecure_http",
    "retry_ambiguous",
    "api_version",
)


_LEGACY_PREFIX = re.compile(r"^extra__annotation__")


@dataclass(frozen=True)
class AnnotationConnectionConfig:
    """What the hook needs from the connection. `secret_key` is excluded from `repr`."""

    base_url: str
    access_key: str
    secret_key: str = field(repr=False)
    connect_timeout: float
    read_timeout: float
    verify: bool | str
    proxies: dict[str, str] | None
    allow_insecure_http: bool
    #: The extras max_attempts, max_retry_wait, retry_base_delay and retry_ambiguous.
    retry: RetryPolicy
    #: Which documented form of Create Workflow to send: "2024-07" (default) or "2024-08".
    api_version: str = DEFAULT_API_VERSION

    @classmethod
    def from_connection(cls, conn: Any) -> AnnotationConnectionConfig:
        """Build from an Airflow `Connection` (anything with host/port/schema/login/password/extra)."""
        conn_id = getattr(conn, "conn_id", None) or "?"
        extra = _extras(conn, conn_id)
        allow_insecure = _bool(extra, "allow_insecure_http", False, conn_id)
        base_url = _base_url(conn, conn_id, allow_insecure)
        if not conn.login:
            raise _error(conn_id, "login", "the Access Key ID is empty")
        if not conn.password:
            raise _error(conn_id, "password", "the Secret Key is empty")
        connect_timeout, read_timeout = _timeouts(extra.get("timeout"), conn_id)
        return cls(
            base_url=base_url,
            access_key=str(conn.login).strip(),
            secret_key=str(conn.password),
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            verify=_verify(extra.get("verify", True), conn_id),
            proxies=_proxies(extra.get("proxies"), conn_id),
            allow_insecure_http=allow_insecure,
            retry=RetryPolicy(
                max_attempts=int(
                    _number(extra, "max_attempts", DEFAULT_MAX_ATTEMPTS, conn_id, integer=True, low=1)
                ),
                max_retry_wait=_number(extra, "max_retry_wait", DEFAULT_MAX_RETRY_WAIT, conn_id),
                base_delay=_number(extra, "retry_base_delay", DEFAULT_RETRY_BASE_DELAY, conn_id),
                retry_ambiguous=_bool(extra, "retry_ambiguous", False, conn_id),
            ),
            api_version=_api_version(extra.get("api_version", DEFAULT_API_VERSION), conn_id),
        )


def _error(conn_id: str, where: str, what: str) -> AnnotationConnectionConfigError:
    return AnnotationConnectionConfigError(f"connection {conn_id!r}, {where}: {what}")


def _extras(conn: Any, conn_id: str) -> dict[str, Any]:
    extra = conn.extra_dejson if hasattr(conn, "extra_dejson") else (conn.extra or {})
    if not isinstance(extra, dict):
        raise _error(conn_id, "extra", f"expected a JSON object, got {type(extra).__name__}")
    # Forms store unset optional fields as empty values: those mean "use the default". Older
    # Airflow forms prefixed custom fields with "extra__<conn_type>__": the same field.
    extra = {_LEGACY_PREFIX.sub("", k): v for k, v in extra.items() if v not in (None, "")}
    for key in extra:
        if key not in EXTRA_KEYS:
            near = difflib.get_close_matches(key, EXTRA_KEYS, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else f"; known keys: {', '.join(EXTRA_KEYS)}"
            raise _error(conn_id, f"extra {key!r}", f"unknown key{hint}")
    return extra


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine only (a name other than localhost is never assumed to)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _base_url(conn: Any, conn_id: str, allow_insecure: bool) -> str:
    host = (conn.host or "").strip()
    if not host:
        raise _error(conn_id, "host", "the platform's base URL is empty (e.g. https://host/openapi)")
    parts = urlsplit(host)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _error(conn_id, "host", f"{host!r} is not a base URL with scheme, e.g. https://host/openapi")
    if parts.query or parts.fragment:
        raise _error(conn_id, "host", f"{host!r}: a base URL cannot carry a query or fragment")
    netloc = parts.netloc
    if conn.port:
        if parts.port and parts.port != conn.port:
            raise _error(conn_id, "port", f"{conn.port} contradicts the port in host {host!r}")
        if not parts.port:
            netloc = f"{netloc}:{conn.port}"
    if conn.schema:
        raise _error(conn_id, "schema", "is not used; put any path prefix in host (https://host/prefix)")
    if parts.scheme == "http" and not is_loopback(parts.hostname) and not allow_insecure:
        raise _error(
            conn_id,
            "host",
            f"plain http:// to {parts.hostname!r} would send the signature in clear; use https:// "
            'or set extra "allow_insecure_http": true',
        )
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"


def _number(
    extra: dict[str, Any],
    key: str,
    default: float,
    conn_id: str,
    *,
    where: str | None = None,
    integer: bool = False,
    low: float = 0,
    positive: bool = False,
) -> float:
    """`extra[key]` as a number (strings of digits accepted, forms store them); `where` names the
    field in messages when it is not a top-level extra."""
    where = where or f"extra {key!r}"
    value = extra.get(key, default)
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise _error(conn_id, where, f"expected a number, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _error(conn_id, where, f"expected a number, got {type(value).__name__}")
    if integer and value != int(value):
        raise _error(conn_id, where, f"expected a whole number, got {value!r}")
    if positive and value <= 0:
        raise _error(conn_id, where, f"must be greater than 0 seconds, got {value!r}")
    if value < low:
        raise _error(conn_id, where, f"must be at least {low}, got {value!r}")
    return float(value)


def _bool(extra: dict[str, Any], key: str, default: bool, conn_id: str) -> bool:
    value = extra.get(key, default)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if not isinstance(value, bool):
        raise _error(conn_id, f"extra {key!r}", f"expected true or false, got {value!r}")
    return value


def _timeouts(value: Any, conn_id: str) -> tuple[float, float]:
    """`timeout`: one number for both phases, or {"connect": s, "read": s}."""
    if value is None:
        return DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT
    if isinstance(value, dict):
        unknown = set(value) - {"connect", "read"}
        if unknown:
            raise _error(
                conn_id, "extra 'timeout'", f"unknown keys {sorted(unknown)}; use 'connect' and 'read'"
            )
        connect = _number(
            value, "connect", DEFAULT_CONNECT_TIMEOUT, conn_id, where="extra 'timeout.connect'", positive=True
        )
        read = _number(
            value, "read", DEFAULT_READ_TIMEOUT, conn_id, where="extra 'timeout.read'", positive=True
        )
        return connect, read
    connect = read = _number({"timeout": value}, "timeout", 0, conn_id, positive=True)
    return connect, read


def _verify(value: Any, conn_id: str) -> bool | str:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        if not os.path.exists(value):
            raise _error(conn_id, "extra 'verify'", f"CA bundle {value!r} does not exist on this machine")
        return value
    raise _error(conn_id, "extra 'verify'", f"expected true, false or a CA-bundle path, got {value!r}")


def _proxies(value: Any, conn_id: str) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise _error(conn_id, "extra 'proxies'", 'expected an object like {"https": "http://proxy:3128"}')
    return dict(value)


def _api_version(value: Any, conn_id: str) -> str:
    if value not in API_VERSIONS:
        raise _error(
            conn_id, "extra 'api_version'", f"expected one of {', '.join(API_VERSIONS)}, got {value!r}"
        )
    return str(value)
