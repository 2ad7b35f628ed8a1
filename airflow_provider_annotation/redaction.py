"""Scrubbing what a server sent before it reaches a log line or an error.

A hostile or misconfigured server (or a proxy) can echo the request back: the secret key, the
signature, proxy credentials. It can also send a 5 MB `message` or a newline in `requestId` that
would forge a second log line. `scrub` removes the first, bounds the second, escapes the third.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from contextvars import ContextVar

__all__ = ["MESSAGE_CHARS", "SNIPPET_CHARS", "remember_secrets", "scrub"]

#: The most characters of server-sent text an error or log line shows.
SNIPPET_CHARS = 200
#: The most characters of a whole message built around server text (a trigger event's message).
MESSAGE_CHARS = 4096
#: What the answer last read in this context must keep secret (the secret key, the attempt's
#: X-SIGN, proxy passwords). The hook sets it per attempt; every `scrub` in the same context (the
#: same thread, or the same asyncio task) blanks it too, so a reader that checks an answer after the
#: hook returned it cannot leak an echoed signature it was never handed.
_ANSWER_SECRETS: ContextVar[tuple[str, ...]] = ContextVar("annotation_answer_secrets", default=())
_BLANK = "***"
#: ``scheme://user:password@`` in any URL, e.g. a proxy's inside a connection error.
_URL_CREDENTIALS = re.compile(r"(?i)([a-z][a-z0-9+.-]*://)[^/\s@]*@")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SPACES = re.compile(r"\s+")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char) or (
        f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
    )


def remember_secrets(secrets: Iterable[str]) -> None:
    """Record what the answer now being read must keep secret, for every later `scrub` in this
    context (see `_ANSWER_SECRETS`)."""
    _ANSWER_SECRETS.set(tuple(s for s in secrets if s))


def scrub(
    value: object, secrets: Iterable[str] = (), *, limit: int = SNIPPET_CHARS, squeeze: bool = False
) -> str:
    """`value` as one bounded, printable line with every secret blanked.

    Secrets are removed before the text is cut to `limit`, so no part of one survives at the cut;
    besides `secrets`, those the hook remembered for the answer last read here (`remember_secrets`).
    `squeeze` folds runs of whitespace first (for HTML or pretty-printed bodies).
    """
    if isinstance(value, (bytes, bytearray)):
        text = bytes(value[: limit * 4 + 4096]).decode("utf-8", errors="replace")
    else:
        text = str(value)
    wanted = [s for s in (*secrets, *_ANSWER_SECRETS.get()) if s]
    # Look only at what can show, plus room for a secret that starts inside it.
    window = limit + max((len(s) for s in wanted), default=0) + 64
    text = text[: window * (4 if squeeze else 1)]
    if squeeze:
        text = _SPACES.sub(" ", text).strip()
    for secret in sorted(wanted, key=len, reverse=True):
        text = text.replace(secret, _BLANK)
    text = _URL_CREDENTIALS.sub(lambda m: m.group(1) + _BLANK + "@", text)
    cut = len(text) > limit
    text = _CONTROL.sub(_escape, text[:limit])
    return text + ("..." if cut else "")
