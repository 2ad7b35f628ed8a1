"""One pace for many threads calling the platform through one hook.

When the platform says "try again later" (HTTP 429 or 503, or its code 500) to one thread, the
others are about to hear the same: every thread pauses until the time it asked for
(`Retry-After`, else `DEFAULT_PAUSE_S`), and the calls then start at half the rate that provoked
it, recovering by a tenth of that rate per quiet second. Without a pacer (the default) a hook
behaves as before. Transport-free: no HTTP library, no Airflow.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from airflow_provider_annotation.codes import PlatformCode
from airflow_provider_annotation.exceptions import AnnotationUnavailableError

__all__ = ["DEFAULT_PAUSE_S", "Pacer", "is_try_again_later"]

#: How long every thread pauses after a "try again later" that named no time.
DEFAULT_PAUSE_S = 1.0
#: The longest pause honoured from a `Retry-After` (a date far ahead would hold the task for hours).
MAX_PAUSE_S = 60.0
#: Seconds over which the rate that provoked a "try again later" is measured.
_WINDOW_S = 2.0
#: The slowest pace (calls per second) a slow-down goes to.
_MIN_RATE = 0.5
#: Per quiet second, the pace grows by this share of the rate it was cut to.
_RECOVERY = 0.1
#: Past this pace the limit is lifted altogether.
_NO_LIMIT_RATE = 1000.0
_BUSY_STATUSES = frozenset({429, 503})


def is_try_again_later(err: BaseException) -> bool:
    """Whether the platform asked to come back later (429, 503 or code 500), as opposed to a
    connection that could not be made at all."""
    return isinstance(err, AnnotationUnavailableError) and (
        getattr(err, "http_status", None) in _BUSY_STATUSES
        or getattr(err, "code", None) == PlatformCode.INTERNAL_ERROR
    )


class Pacer:
    """Shared by every thread of one batch; thread-safe. The hook calls `before_attempt` before each
    attempt and `try_again_later` when an answer asks to slow down.

    :param clock: monotonic seconds (tests pass a fake).
    :param sleep: how a thread waits its turn (tests pass a recorder).
    :param on_slow_down: called with (pause seconds, new rate) after each slow-down, for the log.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] = time.sleep,
        on_slow_down: Callable[[float, float], Any] | None = None,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._on_slow_down = on_slow_down
        self._lock = threading.Lock()
        self._starts: deque[float] = deque()
        self._pause_until = 0.0
        self._next_start = 0.0
        self._cut_rate: float | None = None  # calls/s set by the last slow-down; None: no limit
        self._cut_at = 0.0
        #: How many times the platform's answers slowed every thread down.
        self.slow_downs = 0

    def rate(self, now: float | None = None) -> float | None:
        """The pace in calls per second now; None while there is no limit."""
        with self._lock:
            return self._rate(self._clock() if now is None else now)

    def _rate(self, now: float) -> float | None:
        if self._cut_rate is None:
            return None
        quiet = max(0.0, now - max(self._cut_at, self._pause_until))
        rate = self._cut_rate * (1.0 + _RECOVERY * quiet)
        if rate >= _NO_LIMIT_RATE:
            self._cut_rate = None
            return None
        return rate

    def before_attempt(self) -> None:
        """Wait for this thread's turn: past any shared pause, and one interval after the last start."""
        with self._lock:
            now = self._clock()
            start = max(now, self._pause_until)
            rate = self._rate(now)
            if rate is not None:
                start = max(start, self._next_start)
                self._next_start = start + 1.0 / rate
            self._starts.append(start)
            while self._starts and self._starts[0] < now - _WINDOW_S:
                self._starts.popleft()
        if start > now:
            self._sleep(start - now)

    def try_again_later(self, retry_after: float | None) -> None:
        """Pause every thread for `retry_after` seconds (or `DEFAULT_PAUSE_S`), then go at half the
        rate measured. A burst of such answers to calls already in flight cuts the rate once."""
        pause = min(MAX_PAUSE_S, DEFAULT_PAUSE_S if retry_after is None else max(0.0, retry_after))
        with self._lock:
            now = self._clock()
            in_same_pause = now < self._pause_until
            self._pause_until = max(self._pause_until, now + pause)
            self._next_start = max(self._next_start, self._pause_until)
            if in_same_pause:
                return
            measured = sum(1 for t in self._starts if t >= now - _WINDOW_S) / _WINDOW_S
            current = self._rate(now)
            base = measured if current is None else min(current, measured or current)
            self._cut_rate = max(_MIN_RATE, base / 2)
            self._cut_at = now
            self.slow_downs += 1
            rate = self._cut_rate
        if self._on_slow_down is not None:
            self._on_slow_down(pause, rate)
