"""The `requests` adapter of the call pipeline (`hooks.pipeline`): sends one attempt of the sync
hook. It does I/O and nothing else: the attempt's headers, budget and typed errors come from
`pipeline.Attempt`, the proxies and TLS setting from `pipeline.resolve_transport`, exactly as the
`httpx` adapter (`hooks.async_transport`) gets them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import requests
from urllib3.exceptions import ProtocolError, ReadTimeoutError

from airflow_provider_annotation.envelope import (
    AnswerBroken,
    AnswerBudget,
    AnswerRefused,
    AttemptDeadlinePassed,
)
from airflow_provider_annotation.hooks.pipeline import Attempt, Transport, user_agent

__all__ = ["exchange", "sync_user_agent"]

#: Bytes read from the socket at a time; the answer budget is checked between reads.
_CHUNK_BYTES = 64 * 1024


def exchange(
    session: requests.Session,
    attempt: Attempt,
    transport: Transport,
    json: Any,
    params: dict[str, Any] | None,
    form: Callable[[], Any] | None = None,
) -> tuple[int, Any]:
    """Send, then read the whole answer into the attempt's budget; ``(status, headers)``, or the
    typed error of the moment it failed at. `form` makes a multipart body (`datasets.MultipartBody`)
    afresh for this attempt."""
    cfg = attempt.cfg
    headers = attempt.headers
    data = form() if form is not None else None
    if data is not None:
        headers = {**headers, "Content-Type": data.content_type}
    try:
        response = session.request(
            attempt.endpoint.method,
            attempt.url,
            json=json,
            data=data,
            params=params,
            headers=headers,
            timeout=(cfg.connect_timeout, cfg.read_timeout),
            # The connection's settings win over REQUESTS_CA_BUNDLE / *_PROXY (`transport`).
            verify=transport.verify,
            proxies=transport.proxies,
            # A redirect would carry the signed headers to another host (requests strips only
            # Authorization) and turn the POST into a GET: refuse it (envelope.judge_answer).
            allow_redirects=False,
            stream=True,  # read below, bounded in size and time
        )
    except requests.exceptions.SSLError as exc:
        raise attempt.tls_failed(exc) from None
    except requests.exceptions.ReadTimeout:
        raise attempt.no_answer() from None
    except requests.exceptions.ConnectionError as exc:  # also ConnectTimeout and ProxyError
        raise (attempt.unreachable(exc) if _never_connected(exc) else attempt.dropped(exc)) from None
    except requests.exceptions.RequestException as exc:
        raise attempt.not_sent(exc) from None
    status = response.status_code
    try:
        _read_answer(response, attempt.budget)
    except AnswerRefused as exc:
        response.close()
        raise attempt.refused(exc, status) from None
    except AttemptDeadlinePassed:
        response.close()
        raise attempt.past_deadline(status) from None
    except ReadTimeoutError:
        response.close()
        raise attempt.stalled(status) from None
    except (ProtocolError, AnswerBroken, OSError) as exc:
        response.close()
        raise attempt.broke_off(exc, status) from None
    return status, response.headers


def _read_answer(response: requests.Response, budget: AnswerBudget) -> None:
    """Read the body into `budget` as it comes off the wire (the budget inflates it, a bounded
    piece at a time), then hand the connection back to the pool for keep-alive."""
    raw = response.raw
    budget.begin(response.headers)
    budget.check_deadline()  # headers that took past the deadline end the attempt too
    while True:
        chunk = raw.read1(_CHUNK_BYTES, decode_content=False)
        if not chunk:
            break
        budget.take(chunk)
    raw.release_conn()


def _never_connected(exc: requests.exceptions.ConnectionError) -> bool:
    """True when the request cannot have reached the server (refused, DNS, connect timeout, proxy)."""
    from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

    if isinstance(exc, (requests.exceptions.ConnectTimeout, requests.exceptions.ProxyError)):
        return True
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))


@functools.lru_cache(maxsize=1)
def sync_user_agent() -> str:
    """The User-Agent of the sync hook's session."""
    return user_agent("requests", requests.__version__)
