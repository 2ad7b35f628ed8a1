"""The hook's retry policy: what is re-sent, how long to wait, when to give up.

Re-sent: nothing reached the platform (connect failure) or it said "try again later" (429, 503,
code 500), and an expired signature once, re-signed. Not re-sent by default: answers lost after
the request was sent, because a second create could duplicate the first (GET excepted).
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import tenacity

from airflow_provider_annotation.codes import PlatformCode
from airflow_provider_annotation.exceptions import (
    AnnotationApiError,
    AnnotationClockSkewError,
    AnnotationMayHaveTakenEffectError,
    AnnotationUnavailableError,
)

#: Methods the HTTP spec calls safe: re-sending them cannot create anything.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class RetryPolicy:
    """The retry settings of one call; the defaults live with the connection config."""

    max_attempts: int
    max_retry_wait: float  # seconds of waiting between attempts, in total
    base_delay: float  # first backoff step; 0 makes retries instant (tests)
    retry_ambiguous: bool  # opt-in: re-send requests that may have taken effect


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds a `Retry-After` header asks for (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def is_expired_signature(exc: BaseException | None) -> bool:
    return (
        isinstance(exc, AnnotationApiError)
        and not isinstance(exc, AnnotationClockSkewError)
        and exc.code == PlatformCode.SIGNATURE_EXPIRED
    )


def should_retry(exc: BaseException, method: str, policy: RetryPolicy) -> bool:
    """Whether one failed attempt may be sent again."""
    if isinstance(exc, AnnotationUnavailableError) or is_expired_signature(exc):
        return True
    if isinstance(exc, AnnotationMayHaveTakenEffectError):
        return method in SAFE_METHODS or policy.retry_ambiguous
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
            return retry_after
        if is_expired_signature(exc):
            return 0.0
        return self._backoff(retry_state)


class _StopWhenBudgetSpent(tenacity.stop.stop_base):
    """Stop when the next wait would push the total time spent waiting past the budget."""

    def __init__(self, budget: float) -> None:
        self._budget = budget

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        return retry_state.idle_for + retry_state.upcoming_sleep > self._budget


def retrying(
    method: str,
    policy: RetryPolicy,
    before_sleep: Callable[[tenacity.RetryCallState], Any] | None = None,
    sleep: Callable[[float], Any] = time.sleep,
) -> tenacity.Retrying:
    """A tenacity controller; the last error is re-raised as is. Reusable call after call (tenacity
    keeps each call's state thread-locally), so a hook builds one per method and policy."""
    return tenacity.Retrying(
        retry=tenacity.retry_if_exception(lambda exc: should_retry(exc, method, policy)),
        wait=_WaitForPlatform(policy.base_delay, cap=policy.max_retry_wait),
        stop=tenacity.stop_after_attempt(policy.max_attempts) | _StopWhenBudgetSpent(policy.max_retry_wait),
        before_sleep=before_sleep,
        sleep=sleep,
        reraise=True,
    )
