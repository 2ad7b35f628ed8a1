"""The hooks' log lines: one INFO line per attempt and one WARNING line per retry, the same words from
the sync and the async hook. Never headers, bodies or signatures: only what identifies the call."""

from __future__ import annotations

import logging
import time
from typing import Any

import tenacity

from airflow_provider_annotation.codes import PlatformCode
from airflow_provider_annotation.endpoints import Endpoint

__all__ = ["CallLogMixin"]


class CallLogMixin:
    """For a hook with a `log` (Airflow's LoggingMixin): method, endpoint, status, code, requestId,
    duration and attempt of each call; why and how long before each retry."""

    log: Any
    #: Level of the line of a successful call. A long wait sets DEBUG once it is going, so its log
    #: holds one progress line per poll instead of one line per request; failures stay at INFO.
    call_log_level: int = logging.INFO

    def log_calls_at_debug(self) -> None:
        """Log successful calls at DEBUG from now on: a long wait's progress lines say enough."""
        self.call_log_level = logging.DEBUG

    def _log_call(
        self,
        endpoint: Endpoint,
        status: int,
        code: int | None,
        request_id: str | None,
        started: float,
        attempt: int,
        ids: str = "",
    ) -> None:
        # A refusal (an envelope code other than success) is a warning where alerting looks; other
        # unsuccessful answers stay at INFO (a retry's warning or the raised error says the rest).
        if status == 200 and code == PlatformCode.SUCCESS:
            level = self.call_log_level
        else:
            level = logging.WARNING if code is not None and code != PlatformCode.SUCCESS else logging.INFO
        self.log.log(
            level,
            "%s %s -> HTTP %s, code %s, requestId=%s, %.1f ms (attempt %d)%s",
            endpoint.method,
            endpoint.path,
            status,
            "-" if code is None else int(code),
            request_id or "-",
            (time.monotonic() - started) * 1000,
            attempt,
            ids,
        )

    def _log_no_answer(self, endpoint: Endpoint, started: float, attempt: int, err: Exception) -> None:
        """The line of an attempt that ended without a usable answer (lost, refused, unreachable)."""
        self.log.info(
            "%s %s -> no usable answer, %.1f ms (attempt %d): %s",
            endpoint.method,
            endpoint.path,
            (time.monotonic() - started) * 1000,
            attempt,
            getattr(err, "message", err),
        )

    def _log_retry(self, state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        self.log.warning(
            "Attempt %d failed (%s); sending again in %.2f s", state.attempt_number, exc, state.upcoming_sleep
        )
