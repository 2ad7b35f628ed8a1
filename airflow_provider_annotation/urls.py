"""Rules for the URLs a user configures: the platform's base URL and proxy URLs.

`urllib.parse` is lenient: it drops tabs and newlines, keeps spaces and backslashes in a host,
ignores text after an IPv6 literal's `]`, and only complains about a bad port when asked for it.
Anything it lets through would fail later, at request time, or reach a different host than the
one written. These checks refuse such URLs up front, with reasons that never quote the URL (so
never its credentials), and `redact_url` shows a URL without them.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from urllib.parse import SplitResult, urlsplit

__all__ = ["check_http_url", "is_loopback", "redact_url"]

_ASCII_HOST = re.compile(r"[A-Za-z0-9._-]+")
_BRACKETED = re.compile(r"\[([^\[\]]*)\](?::(.*))?")


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine only (a name other than localhost is never assumed to)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def redact_url(url: str) -> str:
    """`url` with everything before the last `@` of its authority shown as `***`.

    Cut at the last `@`, not where a URL parser would put it: a password holding an unescaped `/`
    or `@` makes parsers misplace the authority, and then only part of it would be hidden.
    """
    head, at, tail = url.rpartition("@")
    if not at:
        return url
    scheme, slashes, _ = head.partition("://")
    return f"{scheme}://***@{tail}" if slashes else f"***@{tail}"


def check_http_url(url: str, *, example: str, credentials: bool = False) -> SplitResult:
    """Split an http(s) URL, or raise ValueError saying what is wrong with it.

    `credentials` allows a `user:password@` (proxies take one; a base URL must not). The reasons
    never quote the URL: show it with `redact_url` next to them.
    """
    for position, char in enumerate(url, 1):
        if char.isspace() or unicodedata.category(char).startswith("C"):
            raise ValueError(f"character {position} (U+{ord(char):04X}) is a space or control character")
        if char == "\\":
            raise ValueError(f"character {position} is a backslash; URLs use '/'")
    if "@" in url and not credentials:
        raise ValueError("carries user:password@, which is never sent; remove it")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise ValueError("has a malformed IPv6 address (check its '[' and ']')") from None
    if parts.scheme not in ("http", "https") or not url.lower().startswith(f"{parts.scheme}://"):
        raise ValueError(f"is not an http:// or https:// URL, e.g. {example}")
    _check_host_and_port(parts.netloc.rpartition("@")[2])
    return parts


def _check_host_and_port(hostport: str) -> None:
    if hostport.startswith("["):
        match = _BRACKETED.fullmatch(hostport)
        if not match:
            raise ValueError("has a malformed IPv6 address: nothing but ':port' may follow its ']'")
        host, port = match.group(1), match.group(2)
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError("has a malformed IPv6 address between '[' and ']'") from None
    else:
        host, colon, port_text = hostport.partition(":")
        port = port_text if colon else None
        if ":" in port_text:
            raise ValueError("has an IPv6 address without brackets: write https://[::1]:8443")
        if not host:
            raise ValueError("has no host name")
        _check_host_name(host)
    if port is not None and not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
        raise ValueError("has a port that is not a number from 1 to 65535")


def _check_host_name(host: str) -> None:
    if host.isascii():
        if not _ASCII_HOST.fullmatch(host):
            raise ValueError("has a host name with characters other than letters, digits, '.', '-', '_'")
        try:
            host.encode("idna")  # what the socket layer does with it: checks each label's length
        except UnicodeError:
            raise ValueError("has a host name with an empty label ('..') or one over 63 characters") from None
        return
    import idna  # requests encodes non-ASCII host names with it, so check them the same way

    try:
        idna.encode(host, uts46=True)
    except idna.IDNAError:
        raise ValueError(
            "has a non-ASCII host name that is not a valid internationalised domain name"
        ) from None
