"""The hook's retry policy: what is re-sent, how long to wait, when to give up.

Decided by what an endpoint does (`endpoints.Effect`), not by its HTTP method. Re-sent: nothing
reached the platform (connect failure) or it said "try again later" (429, code 500, a 503 with its
envelope), an expired signature once, re-signed, and any lost answer of a read. A create whose
answer was lost is not re-sent by default, because a second create could duplicate the first.

Transport-free: the same decisions drive the `requests` hook (`retrying`) and an async client
(`async_retrying`, tenacity's AsyncRetrying).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import tenacity

from airflow_provider_annotation.codes import PlatformCode
from airflow_provider_annotation.endpoints import Effect, Endpoint
from airflow_provider_annotation.envelope import claims_success
from airflow_provider_annotation.exceptions import (
    AnnotationApiError,
    AnnotationClockSkewError,
    AnnotationMayHaveTakenEffectError,
    AnnotationUnavailableError,
)

__all__ = [
    "RetryPolicy",
    "SignatureExpiry",
    "async_retrying",
    "is_expired_signature",
    "retrying",
    "should_retry",
]


@dataclass(frozen=True)
class RetryPolicy:
    """The retry settings of one call; the defaults live with the connection config."""

    max_attempts: int
    max_retry_wait: float  # seconds of waiting between attempts, in total
    base_delay: float  # first backoff step; 0 makes retries instant (tests)
    retry_ambiguous: bool  # opt-in: re-send creates that may have taken effect


def is_expired_signature(exc: BaseException | None) -> bool:
    """A 403 "signature expired" that a fresh signature may cure (not yet called clock skew)."""
    return (
        isinstance(exc, AnnotationApiError)
        and not isinstance(exc, AnnotationClockSkewError)
        and exc.code == PlatformCode.SIGNATURE_EXPIRED
    )


class SignatureExpiry:
    """One call's expired signatures: the first is re-signed and sent again, a second one on a fresh
    signature means this machine's clock is off. The sync and async hooks share this rule."""

    def __init__(self) -> None:
        self._seen = False

    def check(self, err: AnnotationApiError, endpoint: Endpoint) -> None:
        """Raise `AnnotationClockSkewError` for a second expired signature; note a first one."""
        if not is_expired_signature(err):
            return
        if self._seen:
            raise AnnotationClockSkewError(
                "signature expired again on a freshly signed retry: this machine's clock "
                "is probably off from the platform's (check NTP)",
                code=err.code,
                request_id=err.request_id,
                http_status=err.http_status,
                endpoint=endpoint.path,
                method=endpoint.method,
            ) from err
        self._seen = True


def should_retry(exc: BaseException, effect: Effect, policy: RetryPolicy) -> bool:
    """Whether one failed attempt of an endpoint with `effect` may be sent again."""
    if isinstance(exc, AnnotationUnavailableError) or is_expired_signature(exc):
        return True
    if isinstance(exc, AnnotationMayHaveTakenEffectError):
        # An answer that claimed success is never re-sent: the platform most likely acted.
        return not claims_success(exc) and (effect is Effect.READ or policy.retry_ambiguous)
    return False


class _WaitForPlatform(tenacity.wait.wait_base):
    """Exponential backoff with full jitter, or what `Retry-After` asked for; a re-sign after an
    expired signature goes at once."""

    def __init__(self, base_delay: float, cap: float) -> None:
        # A base delay of 0 makes every backoff 0: retries at once (tests).
        self._backoff = tenacity.wait_random_exponential(multiplier=base_delay, max=cap)

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            return float(retry_after)
        if is_expired_signature(exc):
            return 0.0
        return float(self._backoff(retry_state))


class _StopWhenBudgetSpent(tenacity.stop.stop_base):
    """Stop when the next wait would push the total time spent waiting past the budget."""

    def __init__(self, budget: float) -> None:
        self._budget = budget

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        return retry_state.idle_for + (retry_state.upcoming_sleep or 0.0) > self._budget


def _controller_args(effect: Effect, policy: RetryPolicy) -> dict[str, Any]:
    return {
        "retry": tenacity.retry_if_exception(lambda exc: should_retry(exc, effect, policy)),
        "wait": _WaitForPlatform(policy.base_delay, cap=policy.max_retry_wait),
        "stop": tenacity.stop_after_attempt(policy.max_attempts)
        | _StopWhenBudgetSpent(policy.max_retry_wait),
        "reraise": True,
    }


def retrying(
    effect: Effect,
    policy: RetryPolicy,
    before_sleep: Callable[[tenacity.RetryCallState], Any] | None = None,
    sleep: Callable[[float], Any] = time.sleep,
) -> tenacity.Retrying:
    """A tenacity controller; the last error is re-raised as is. Reusable call after call (tenacity
    keeps each call's state thread-locally), so a hook builds one per effect and policy."""
    return tenacity.Retrying(before_sleep=before_sleep, sleep=sleep, **_controller_args(effect, policy))


def async_retrying(
    effect: Effect,
    policy: RetryPolicy,
    before_sleep: Callable[[tenacity.RetryCallState], Any] | None = None,
    sleep: Callable[[float], Awaitable[Any]] | None = None,
) -> tenacity.AsyncRetrying:
    """The same decisions for an async client (``await controller(coroutine_function)``)."""
    extra: dict[str, Any] = {} if sleep is None else {"sleep": sleep}
    return tenacity.AsyncRetrying(before_sleep=before_sleep, **extra, **_controller_args(effect, policy))
