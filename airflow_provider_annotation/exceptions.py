"""Typed errors of the provider.

No Airflow import here: the pure workflow model subclasses `AnnotationValidationError`, and DAG
parsing must not pay for Airflow's exception machinery through it.
"""

from __future__ import annotations

from collections.abc import Iterable

from airflow_provider_annotation.codes import (
    AUTH_CODES,
    CONFLICT_CODES,
    NOT_FOUND_CODES,
    VALIDATION_CODES,
    PlatformCode,
    describe,
)

__all__ = [
    "AnnotationApiError",
    "AnnotationAuthError",
    "AnnotationClockSkewError",
    "AnnotationConflictError",
    "AnnotationConnectionConfigError",
    "AnnotationError",
    "AnnotationInputError",
    "AnnotationInputProblemsError",
    "AnnotationInvalidRequestError",
    "AnnotationMayHaveTakenEffectError",
    "AnnotationNotFoundError",
    "AnnotationResponseError",
    "AnnotationUnavailableError",
    "AnnotationValidationError",
    "error_class_for_code",
]


class AnnotationError(Exception):
    """Base of everything this provider raises on purpose: catch this to catch them all."""


class AnnotationInvalidRequestError(AnnotationError):
    """The request is wrong and sending it again will not help: fix the input.

    Catches both kinds: `AnnotationInputError` (refused here, before anything was sent) and
    `AnnotationValidationError` (refused by the platform).
    """


class AnnotationInputError(AnnotationInvalidRequestError, ValueError):
    """Input refused by this provider's own checks, before any request was sent.

    No requestId, HTTP status or platform code: nothing reached the platform. A ValueError too, so
    plain Python callers can catch it without knowing this provider's hierarchy.
    """


#: An input error lists at most this many problems, then a count of the rest: a huge wrong input
#: gives a message a person can read, not one echoing megabytes of it.
MAX_PROBLEMS = 20


class AnnotationInputProblemsError(AnnotationInputError):
    """Input refused before anything was sent, with every problem found at once.

    `problems` holds one line per problem, each starting with where it is (``pools[2].workers:
    ...``, ``task_ids[3]: ...``), at most `MAX_PROBLEMS` of them; `more` counts the problems beyond
    those. `subject` names the input in the message's first words: ``invalid input (3 problems):``,
    or ``invalid workflow input: ...`` for the workflow model's own checks (their wording since
    0.1.0). The one input-error class: the model's checks, the operators and the sensor raise it,
    collected in a `validation.Problems`. ``WorkflowValidationError`` and ``SetupInputError`` are
    other names of it.
    """

    def __init__(self, problems: Iterable[str] | str, more: int = 0, subject: str = "input") -> None:
        listed: list[str] = [problems] if isinstance(problems, str) else list(problems)
        more += getattr(problems, "more", 0) + max(0, len(listed) - MAX_PROBLEMS)
        self.problems: list[str] = listed[:MAX_PROBLEMS]
        self.more: int = more
        self.subject: str = subject
        total = len(self.problems) + more
        if total == 1:
            message = f"invalid {subject}: {self.problems[0]}"
        else:
            shown = f", the first {len(self.problems)} shown" if more else ""
            message = f"invalid {subject} ({total} problems{shown}):\n" + "\n".join(
                f"  {p}" for p in self.problems
            )
            if more:
                message += f"\n  ... and {more} more"
        super().__init__(message)
        self.message = message

    def __reduce__(self):
        return (type(self), (self.problems, self.more, self.subject))


class AnnotationConnectionConfigError(AnnotationError, ValueError):
    """The connection's fields or extras are not usable; the message names the field. Raised
    before any request is sent."""


class AnnotationApiError(AnnotationError):
    """A call to the platform did not succeed.

    Carries what a person needs to act or to ask the platform's support: the envelope `code` and
    `message`, the `request_id`, the HTTP status and the endpoint. Any of them may be None when
    the failure happened before the platform answered (or it answered with no envelope).
    """

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        request_id: str | None = None,
        http_status: int | None = None,
        endpoint: str | None = None,
        method: str | None = None,
        retry_after: float | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.request_id = request_id or None
        self.http_status = http_status
        self.endpoint = endpoint
        self.method = method
        #: Seconds the platform asked to wait (`Retry-After`), when it asked.
        self.retry_after = retry_after
        #: How many times the request was sent before this error was raised.
        self.attempts = attempts
        #: What to fix (`advice.advice_for`), set by the hook that raised it; shown after the error.
        self.advice: str | None = None

    def __str__(self) -> str:
        text = self.summary()
        return f"{text}\n{self.advice}" if self.advice else text

    def summary(self) -> str:
        """The error without the advice: endpoint, message, code, HTTP status, requestId."""
        where = " ".join(p for p in (self.method, self.endpoint) if p) or "request"
        parts = [f"{where}: {self.message}"]
        if self.code is not None:
            meaning = describe(self.code)
            said = self.message.strip().rstrip(".").lower() == meaning.lower()  # not twice in one line
            parts.append(f"code={self.code}" if said else f"code={self.code} ({meaning})")
        if self.http_status is not None:
            parts.append(f"http_status={self.http_status}")
        parts.append(f"requestId={self.request_id or '-'}")
        if self.retry_after is not None:
            parts.append(f"the platform asked to retry after {self.retry_after:g} s")
        if self.attempts > 1:
            parts.append(f"after {self.attempts} attempts")
        return "; ".join(parts)

    def with_message(self, message: str) -> AnnotationApiError:
        """The same error with another message (a hint added): every other field and the advice
        kept, by the rule pickling keeps them (`__reduce__`), so a new field cannot be dropped."""
        rebuild, (cls, _, fields, advice) = self.__reduce__()
        return rebuild(cls, message, fields, advice)

    def __reduce__(self):  # keep pickling (e.g. across processes) lossless
        return (
            _rebuild,
            (
                type(self),
                self.message,
                {
                    "code": self.code,
                    "request_id": self.request_id,
                    "http_status": self.http_status,
                    "endpoint": self.endpoint,
                    "method": self.method,
                    "retry_after": self.retry_after,
                    "attempts": self.attempts,
                },
                self.advice,
            ),
        )


def _rebuild(
    cls: type[AnnotationApiError], message: str, kwargs: dict, advice: str | None = None
) -> AnnotationApiError:
    err = cls(message, **kwargs)
    err.advice = advice
    return err


class AnnotationAuthError(AnnotationApiError):
    """Wrong secret (401), unknown or disabled key (402) or an expired signature (403)."""


class AnnotationClockSkewError(AnnotationAuthError):
    """The platform kept calling fresh signatures expired: this machine's clock is off."""


class AnnotationValidationError(AnnotationInvalidRequestError, AnnotationApiError):
    """The platform refused the request as malformed (400, 55xx/58xx structure codes)."""


class AnnotationConflictError(AnnotationApiError):
    """The name is taken: a project (5801) or folder (5836) with this name already exists."""


class AnnotationNotFoundError(AnnotationApiError):
    """Something the request names (project, workflow, dataset, manager) does not exist."""


class AnnotationUnavailableError(AnnotationApiError):
    """The platform could not be reached or kept answering 'try again later' (429, 503, code 500)
    until the retry budget ran out. Nothing was done on the platform's side."""


class AnnotationMayHaveTakenEffectError(AnnotationApiError):
    """The request reached the platform but its answer was lost or unreadable (read timeout,
    connection dropped after sending, HTTP 502/504, an unreadable 2xx body).

    The platform may already have acted: re-sending a create could make a second object, so it is
    not retried by default. Check the platform (quote the requestId, if any) before re-running.
    """


class AnnotationResponseError(AnnotationApiError):
    """The platform answered something this provider cannot read as its envelope, in a case
    where nothing suggests it acted (e.g. an HTML 404 page from a wrong base URL)."""


def error_class_for_code(code: int | None) -> type[AnnotationApiError]:
    """The typed error that a failure envelope with `code` raises."""
    if code in AUTH_CODES:
        return AnnotationAuthError
    if code in VALIDATION_CODES:
        return AnnotationValidationError
    if code in NOT_FOUND_CODES:
        return AnnotationNotFoundError
    if code in CONFLICT_CODES:
        return AnnotationConflictError
    if code == PlatformCode.INTERNAL_ERROR:
        return AnnotationUnavailableError
    return AnnotationApiError
