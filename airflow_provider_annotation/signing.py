"""Request signing, per the platform's docs: the one place that knows the header names.

`X-SIGN` is the lowercase hex MD5 of ``"{ts}&{secret}&{access_key}"``; it binds only the time and
the key pair, so every attempt (retries included) gets a fresh timestamp and signature. Timestamps
this process stamps never repeat (two attempts in the same millisecond get consecutive ones),
because a platform that refuses a replayed signature would refuse the second.
"""

from __future__ import annotations

import hashlib
import threading
import time

__all__ = ["KEY_HEADER", "SIGNATURE_HEADER", "TIMESTAMP_HEADER", "signature", "signed_headers"]

KEY_HEADER = "X-STARDUST-KEY"
TIMESTAMP_HEADER = "X-TS"
SIGNATURE_HEADER = "X-SIGN"

_stamp_lock = threading.Lock()
_last_stamp_ms = 0


def signature(timestamp_ms: int | str, secret_key: str, access_key: str) -> str:
    """The `X-SIGN` value for one timestamp (milliseconds since the epoch)."""
    message = f"{timestamp_ms}&{secret_key}&{access_key}"
    return hashlib.md5(message.encode("utf-8")).hexdigest()  # noqa: S324 - the platform's scheme


def _fresh_stamp_ms() -> int:
    """Now in ms, strictly later than any stamp this process handed out before."""
    global _last_stamp_ms
    now = time.time_ns() // 1_000_000
    with _stamp_lock:
        _last_stamp_ms = now if now > _last_stamp_ms else _last_stamp_ms + 1
        return _last_stamp_ms


def signed_headers(access_key: str, secret_key: str, timestamp_ms: int | None = None) -> dict[str, str]:
    """The three auth headers for one attempt, freshly stamped unless `timestamp_ms` is given."""
    ts = str(timestamp_ms if timestamp_ms is not None else _fresh_stamp_ms())
    return {
        KEY_HEADER: access_key,
        TIMESTAMP_HEADER: ts,
        SIGNATURE_HEADER: signature(ts, secret_key, access_key),
    }
