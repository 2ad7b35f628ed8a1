"""The Airflow connection, resolved once into a small, validated config object.

Kept apart from the hook so the rules for each field live in one readable place and every bad value
is reported with the connection field or extra key it came from, before any request is sent.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import reprlib
import string
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_annotation.endpoints import DEFAULT_API_VERSION, api_version_problem
from airflow_provider_annotation.exceptions import AnnotationConnectionConfigError
from airflow_provider_annotation.hooks.retry import RetryPolicy
from airflow_provider_annotation.urls import check_http_url, is_loopback, redact_url

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_MAX_RETRY_WAIT",
    "DEFAULT_READ_TIMEOUT",
    "DEFAULT_RETRY_BASE_DELAY",
    "EXTRA_KEYS",
    "MAX_ATTEMPTS",
    "MAX_TIMEOUT",
    "MAX_WAIT",
    "AnnotationConnectionConfig",
    "Proxies",
]

DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 60.0
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_MAX_RETRY_WAIT = 60.0
DEFAULT_RETRY_BASE_DELAY = 1.0

# Upper bounds: beyond them a value is a typo or a unit mix-up (ms for s), and it would hold a
# worker for hours. Timeouts are per phase (connect, read), waits are seconds.
MAX_ATTEMPTS = 20
MAX_WAIT = 3600.0
MAX_TIMEOUT = 600.0

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
    "ui_url_template",
)


_LEGACY_PREFIX = re.compile(r"^extra__annotation__")
#: Proxy keys requests reads for one base URL: its scheme, or "all".
_PROXY_KEYS = ("http", "https", "all")

# Values quoted in messages are shortened: a pasted file must not become a huge error.
_short = reprlib.Repr()
_short.maxstring = 80
_short.maxlong = 24
_show = _short.repr


class Proxies(dict[str, str]):
    """The `proxies` extra, as requests takes it; shown (repr, str, messages) without any
    `user:password@` in its URLs."""

    def __repr__(self) -> str:
        return repr({key: redact_url(url) for key, url in self.items()})


@dataclass(frozen=True)
class AnnotationConnectionConfig:
    """What the hook needs from the connection. `repr` leaves out `secret_key` and shows proxies
    without credentials."""

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
    #: Seconds one attempt may take in all (extra `timeout.total`, default connect + read): a server
    #: dripping its answer cannot hold an attempt beyond it.
    total_timeout: float = DEFAULT_CONNECT_TIMEOUT + DEFAULT_READ_TIMEOUT
    #: The platform web UI's page for a task's work, with ``{project_id}`` and/or ``{batch_id}``
    #: (extra `ui_url_template`); None: no operator links (the docs give no URL pattern).
    ui_url_template: str | None = None

    @classmethod
    def from_connection(cls, conn: Any) -> AnnotationConnectionConfig:
        """Build from an Airflow `Connection` (anything with host/port/schema/login/password/extra)."""
        conn_id = getattr(conn, "conn_id", None) or "?"
        extra = _extras(conn, conn_id)
        allow_insecure = _bool(extra, "allow_insecure_http", False, conn_id)
        base_url = _base_url(conn, conn_id, allow_insecure)
        connect_timeout, read_timeout = _timeouts(extra.get("timeout"), conn_id)
        return cls(
            base_url=base_url,
            access_key=_access_key(conn.login, conn_id),
            secret_key=_secret_key(conn.password, conn_id),
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            verify=_verify(extra.get("verify", True), conn_id),
            proxies=_proxies(extra.get("proxies"), conn_id, base_url.partition(":")[0]),
            allow_insecure_http=allow_insecure,
            total_timeout=_total_timeout(extra.get("timeout"), connect_timeout + read_timeout, conn_id),
            retry=RetryPolicy(
                max_attempts=int(
                    _number(
                        extra,
                        "max_attempts",
                        DEFAULT_MAX_ATTEMPTS,
                        conn_id,
                        integer=True,
                        low=1,
                        high=MAX_ATTEMPTS,
                    )
                ),
                max_retry_wait=_number(
                    extra, "max_retry_wait", DEFAULT_MAX_RETRY_WAIT, conn_id, high=MAX_WAIT
                ),
                base_delay=_number(
                    extra, "retry_base_delay", DEFAULT_RETRY_BASE_DELAY, conn_id, high=MAX_WAIT
                ),
                retry_ambiguous=_bool(extra, "retry_ambiguous", False, conn_id),
            ),
            api_version=_api_version(extra.get("api_version", DEFAULT_API_VERSION), conn_id),
            ui_url_template=_ui_url_template(extra.get("ui_url_template"), conn_id),
        )


def _error(conn_id: str, where: str, what: str) -> AnnotationConnectionConfigError:
    return AnnotationConnectionConfigError(f"connection {conn_id!r}, {where}: {what}")


def _extras(conn: Any, conn_id: str) -> dict[str, Any]:
    extra = conn.extra_dejson if hasattr(conn, "extra_dejson") else (conn.extra or {})
    if not isinstance(extra, dict):
        raise _error(conn_id, "extra", f"expected a JSON object, got {type(extra).__name__}")
    # Forms store unset optional fields as empty values: those mean "use the default". Older
    # Airflow forms prefixed custom fields with "extra__<conn_type>__": the same field.
    named: dict[str, str] = {}
    read: dict[str, Any] = {}
    for raw_key, value in extra.items():
        if value in (None, ""):
            continue
        key = _LEGACY_PREFIX.sub("", raw_key)
        if key in read and read[key] != value:
            # Both spellings of one field with different values: which one wins is an accident of
            # dict order, so neither is taken.
            raise _error(
                conn_id,
                f"extra {_show(named[key])} and extra {_show(raw_key)}",
                "the same field twice (once with the legacy 'extra__annotation__' prefix) with "
                "different values; keep one",
            )
        named[key], read[key] = raw_key, value
    extra = read
    for key in extra:
        if key not in EXTRA_KEYS:
            near = difflib.get_close_matches(key, EXTRA_KEYS, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else f"; known keys: {', '.join(EXTRA_KEYS)}"
            raise _error(conn_id, f"extra {key!r}", f"unknown key{hint}")
    return extra


def _base_url(conn: Any, conn_id: str, allow_insecure: bool) -> str:
    host = (conn.host or "").strip()
    if not host:
        raise _error(conn_id, "host", "the platform's base URL is empty (e.g. https://host/openapi)")
    try:
        parts = check_http_url(host, example="https://host/openapi")
    except ValueError as exc:
        raise _error(conn_id, "host", f"{_show(redact_url(host))} {exc}") from None
    if parts.query or parts.fragment:
        raise _error(conn_id, "host", f"{_show(host)}: a base URL cannot carry a query or fragment")
    netloc = parts.netloc
    port = _port(conn.port, conn_id)
    if port:
        if parts.port and parts.port != port:
            raise _error(conn_id, "port", f"{port} contradicts the port in host {_show(host)}")
        if not parts.port:
            netloc = f"{netloc}:{port}"
    if conn.schema:
        raise _error(conn_id, "schema", "is not used; put any path prefix in host (https://host/prefix)")
    hostname = parts.hostname or ""
    if parts.scheme == "http" and not is_loopback(hostname) and not allow_insecure:
        raise _error(
            conn_id,
            "host",
            f"plain http:// to {hostname!r} would send the signature in clear; use https:// "
            'or set extra "allow_insecure_http": true',
        )
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"


def _port(value: Any, conn_id: str) -> int | None:
    """The Port field (hidden in the form, but settable by URI, JSON or CLI): 1 to 65535."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise _error(conn_id, "port", f"expected a number from 1 to 65535, got {_show(value)}")
    return value


def _access_key(login: Any, conn_id: str) -> str:
    """The Access Key ID travels in a header and is signed as UTF-8: printable ASCII only, since
    anything else would be sent in one encoding and signed in another."""
    if not login:
        raise _error(conn_id, "login", "the Access Key ID is empty")
    key = str(login).strip()
    if not key:
        raise _error(conn_id, "login", "the Access Key ID is only whitespace")
    for position, char in enumerate(key, 1):
        if not "!" <= char <= "~":
            raise _error(
                conn_id,
                "login",
                f"character {position} (U+{ord(char):04X}) cannot be in an Access Key ID, which goes in "
                "an HTTP header: printable ASCII without spaces only",
            )
    return key


def _secret_key(password: Any, conn_id: str) -> str:
    """Any text works as a secret (it is only hashed, as UTF-8), except what UTF-8 cannot encode."""
    if not password:
        raise _error(conn_id, "password", "the Secret Key is empty")
    secret = str(password)
    try:
        secret.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise _error(
            conn_id, "password", f"character {exc.start + 1} cannot be encoded as UTF-8, so cannot be signed"
        ) from None
    return secret


def _number(
    extra: dict[str, Any],
    key: str,
    default: float,
    conn_id: str,
    *,
    where: str | None = None,
    integer: bool = False,
    low: float = 0,
    high: float = MAX_TIMEOUT,
    positive: bool = False,
) -> float:
    """`extra[key]` as a finite number from `low` to `high` (numeric strings accepted, forms
    store them); `where` names the field in messages when it is not a top-level extra."""
    where = where or f"extra {key!r}"
    value = extra.get(key, default)
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise _error(conn_id, where, f"expected a number, got {_show(value)}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _error(conn_id, where, f"expected a number, got {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):  # JSON and float() take NaN, Infinity, 1e999
        raise _error(conn_id, where, f"expected a finite number, got {value!r}")
    if integer and value != int(value):
        raise _error(conn_id, where, f"expected a whole number, got {value!r}")
    if positive and value <= 0:
        raise _error(conn_id, where, f"must be greater than 0 seconds, got {value!r}")
    if value < low:
        raise _error(conn_id, where, f"must be at least {low:g}, got {_show(value)}")
    if value > high:
        raise _error(conn_id, where, f"must be at most {high:g}, got {_show(value)}")
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
        unknown = set(value) - {"connect", "read", "total"}
        if unknown:
            raise _error(
                conn_id, "extra 'timeout'", f"unknown keys {sorted(unknown)}; use 'connect', 'read', 'total'"
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


def _total_timeout(value: Any, default: float, conn_id: str) -> float:
    """`timeout.total`: the most seconds one attempt may take, answer included."""
    if not isinstance(value, dict) or "total" not in value:
        return default
    return _number(value, "total", default, conn_id, where="extra 'timeout.total'", positive=True)


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


def _proxies(value: Any, conn_id: str, scheme: str) -> Proxies | None:
    """Proxy URLs for the base URL's `scheme` (or "all"), http(s) only; credentials allowed, and
    never shown."""
    if value is None:
        return None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise _error(conn_id, "extra 'proxies'", 'expected an object like {"https": "http://proxy:3128"}')
    for key, url in value.items():
        if key not in _PROXY_KEYS:
            raise _error(
                conn_id,
                "extra 'proxies'",
                f"unknown key {_show(key)}; use {scheme!r} (the base URL's scheme) or 'all'",
            )
        where = f"extra 'proxies'.{key}"
        if key not in (scheme, "all"):
            raise _error(conn_id, where, f"would never be used: the base URL is {scheme}://")
        try:
            check_http_url(url, example="http://proxy:3128", credentials=True)
        except ValueError as exc:
            raise _error(conn_id, where, f"{_show(redact_url(url))} {exc}") from None
    return Proxies(value)


def _api_version(value: Any, conn_id: str) -> str:
    problem = api_version_problem(value)
    if problem is not None:
        raise _error(conn_id, "extra 'api_version'", problem)
    return str(value)


#: Placeholders `ui_url_template` may hold.
UI_URL_PLACEHOLDERS = frozenset({"project_id", "batch_id", "dataset_id"})
#: The longest `ui_url_template`: far above any real link, far below a pasted file.
MAX_UI_URL_TEMPLATE_CHARS = 2048


def _ui_url_template(value: Any, conn_id: str) -> str | None:
    """An http(s) URL with only ``{project_id}``/``{batch_id}``/``{dataset_id}`` placeholders, or
    None when unset."""
    if value is None or value == "":
        return None
    where = "extra 'ui_url_template'"
    if not isinstance(value, str):
        raise _error(conn_id, where, f"expected a URL string, got {_show(value)}")
    if len(value) > MAX_UI_URL_TEMPLATE_CHARS:
        raise _error(conn_id, where, f"longer than {MAX_UI_URL_TEMPLATE_CHARS} characters ({len(value)})")
    try:
        fields = [
            (name, spec, conv) for _, name, spec, conv in string.Formatter().parse(value) if name is not None
        ]
    except ValueError as exc:
        raise _error(conn_id, where, f"{_show(value)} is not a template ({exc})") from None
    for name, spec, conversion in fields:
        # A spec or conversion either crashes on the id's text (`:d`), pads or rewrites it into
        # another project's id (`:08`, `!z`) or builds a huge link (`:>200000000`): ids go in as
        # they are, URL-quoted.
        if spec or conversion:
            written = (
                "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            )
            raise _error(
                conn_id,
                where,
                f"{_show(written)}: format specs and conversions are not allowed; write {{{name}}} alone",
            )
    names = {name for name, _, _ in fields}
    unknown = names - UI_URL_PLACEHOLDERS
    if unknown or not names:
        raise _error(
            conn_id,
            where,
            f"{_show(value)}: placeholders must be {{project_id}}, {{batch_id}} and/or {{dataset_id}}"
            + (f", not {sorted(unknown)}" if unknown else ", and it has none"),
        )
    if not value.lower().startswith(("https://", "http://")):
        raise _error(conn_id, where, f"expected an http(s) URL, got {_show(value)}")
    return value
