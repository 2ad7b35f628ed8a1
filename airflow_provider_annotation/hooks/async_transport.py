"""The `httpx` adapter of the call pipeline (`hooks.pipeline`): sends one attempt on an event loop.

Loaded only when an ``a_*`` method of `AnnotationHook` is awaited (a trigger, on the triggerer), so
a task that uses the sync hook never imports it. It does I/O and nothing else: the attempt's
headers, budget and typed errors come from `pipeline.Attempt`, the proxies and TLS setting from
`pipeline.resolve_transport`, exactly as the `requests` adapter gets them.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from typing import Any

import httpx

from airflow_provider_annotation.envelope import (
    ACCEPT_ENCODING,
    AnswerBroken,
    AnswerRefused,
    AttemptDeadlinePassed,
)
from airflow_provider_annotation.hooks.config import AnnotationConnectionConfig
from airflow_provider_annotation.hooks.pipeline import Attempt, Transport, user_agent

__all__ = ["exchange", "make_client"]


def make_client(cfg: AnnotationConnectionConfig, transport: Transport) -> httpx.AsyncClient:
    """One client for a hook: the resolved proxies and TLS setting (the environment is not read
    again), the connection's timeouts, no redirects (the signed headers must not go to another host)."""
    verify = _tls_context(transport.verify)
    mounts = {
        f"{scheme}://": httpx.AsyncHTTPTransport(proxy=url, verify=verify)
        for scheme, url in transport.proxies.items()
    }
    return httpx.AsyncClient(
        verify=verify,
        mounts=mounts or None,
        trust_env=False,
        timeout=httpx.Timeout(cfg.read_timeout, connect=cfg.connect_timeout),
        follow_redirects=False,
        headers={"User-Agent": _user_agent(), "Accept-Encoding": ACCEPT_ENCODING},
    )


async def exchange(
    client: httpx.AsyncClient, attempt: Attempt, json: Any, params: dict[str, Any] | None
) -> tuple[int, httpx.Headers]:
    """Send, then read the whole answer into the attempt's budget, within the attempt's total
    timeout; ``(status, headers)``, or the typed error of the moment it failed at."""
    endpoint, budget = attempt.endpoint, attempt.budget
    seen: dict[str, int] = {}

    async def send_and_read() -> httpx.Headers:
        async with client.stream(
            endpoint.method, attempt.url, json=json, params=params, headers=attempt.headers
        ) as response:
            seen["status"] = response.status_code
            budget.begin(response.headers)
            async for chunk in response.aiter_raw():  # undecoded: the budget inflates it
                budget.take(chunk)
            return response.headers

    try:
        # A bound on the whole attempt, however slowly the answer drips in.
        # (asyncio.timeout, not wait_for, which on Python 3.11 can lose a cancellation of the read.)
        async with asyncio.timeout(attempt.cfg.total_timeout):
            headers = await send_and_read()
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.ProxyError) as exc:
        raise attempt.unreachable(exc) from None
    except AnswerRefused as exc:
        raise attempt.refused(exc, seen.get("status")) from None
    except (AttemptDeadlinePassed, TimeoutError):
        raise attempt.past_deadline(seen.get("status")) from None
    except httpx.ReadTimeout:
        raise (attempt.no_answer() if "status" not in seen else attempt.stalled(seen["status"])) from None
    except (httpx.UnsupportedProtocol, httpx.LocalProtocolError, httpx.DecodingError) as exc:
        raise attempt.not_sent(exc) from None
    except (httpx.HTTPError, AnswerBroken, OSError) as exc:  # dropped, broken or malformed answers
        if "status" not in seen:
            raise attempt.dropped(exc) from None
        raise attempt.broke_off(exc, seen["status"]) from None
    return seen["status"], headers


@functools.lru_cache(maxsize=8)
def _tls_context(verify: bool | str) -> ssl.SSLContext:
    """One TLS context per `verify` setting for the whole process: loading the CA bundle costs tens
    of milliseconds and about a megabyte, too much to pay again for each of many waiting triggers."""
    return httpx.create_ssl_context(verify=verify)


@functools.lru_cache(maxsize=1)
def _user_agent() -> str:
    return user_agent("httpx", httpx.__version__)
