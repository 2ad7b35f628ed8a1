"""What the platform's status numbers mean for someone waiting on them.

The platform documents only the names of its task statuses, not which ones are final. This module
holds the provider's reading of them, in one place: the sensor's poke, its trigger and any sync poll
all decide through `classify_task` and `TaskWait`, so the modes cannot disagree. Pure: no Airflow,
no HTTP.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum, IntEnum
from typing import Any

__all__ = [
    "DEFAULT_BATCH_FINAL_STATUSES",
    "DEFAULT_FAILURE_STATUSES",
    "DEFAULT_STALLED_STATUSES",
    "DEFAULT_SUCCESS_STATUSES",
    "Phase",
    "ProjectStatus",
    "TaskStatus",
    "TaskWait",
    "WaitProgress",
    "WaitVerdict",
    "batch_summary",
    "classify_batch",
    "classify_task",
    "counted",
    "human_duration",
]


class TaskStatus(IntEnum):
    """A task's ``status`` as ``/task/get`` and ``/project/tasks`` return it."""

    WAITING_FOR_DISTRIBUTION = 1
    DISTRIBUTED = 2
    WORKING = 3
    WAITING_FOR_SUBMISSION = 4
    PAUSED = 5
    ERROR = 6
    SUSPENDED = 7
    SUBMISSION_FAILED = 8
    COMPLETE = 9
    INVALID = 10


class ProjectStatus(IntEnum):
    """A project's ``status``."""

    DRAFT = 0
    STARTED = 1
    PAUSED = 2
    DONE = 3


class Phase(str, Enum):
    """Where a job stands for someone waiting on it."""

    #: Work goes on: keep waiting.
    ACTIVE = "active"
    #: Nothing moves until a person acts (paused, suspended): keep waiting, and say so once.
    STALLED = "stalled"
    SUCCESS = "success"
    FAILURE = "failure"


# Plain ints (`.value`), as they show in a signature, a serialized trigger and the docs: ``(9,)``.
#: Task statuses a wait counts as complete unless told otherwise (the sensor's and the trigger's default).
DEFAULT_SUCCESS_STATUSES: tuple[int, ...] = (TaskStatus.COMPLETE.value,)
#: Task statuses a wait counts as failed unless told otherwise.
DEFAULT_FAILURE_STATUSES: tuple[int, ...] = (TaskStatus.SUBMISSION_FAILED.value, TaskStatus.INVALID.value)
#: Task statuses that keep a wait going until a person acts.
DEFAULT_STALLED_STATUSES: tuple[int, ...] = (TaskStatus.PAUSED.value, TaskStatus.SUSPENDED.value)


def classify_task(
    status: int,
    success_statuses: Iterable[int] = DEFAULT_SUCCESS_STATUSES,
    failure_statuses: Iterable[int] = DEFAULT_FAILURE_STATUSES,
    error_fails: bool = True,
) -> Phase:
    """The phase of one task's status. Listed statuses win; then 6 (Error) is a failure unless
    `error_fails` is False; 5 and 7 are stalled; anything else (1-4, or a number the docs do not
    name) is active."""
    if status in tuple(success_statuses):
        return Phase.SUCCESS
    if status in tuple(failure_statuses):
        return Phase.FAILURE
    if status == TaskStatus.ERROR:
        return Phase.FAILURE if error_fails else Phase.STALLED
    if status in DEFAULT_STALLED_STATUSES:
        return Phase.STALLED
    return Phase.ACTIVE


#: Import-batch statuses read as final. The docs name none (the schema of ``/task/send/status`` is
#: empty): their one sample shows status 3 for a batch the importer had finished with (all four
#: records refused and listed, ``importFailCount`` equal to ``taskCount``), while a send answers
#: ``importStatus`` 1 for a batch just started. So 3 is the default, a parameter of
#: `SendTasksOperator` (`final_statuses`) for platforms that end batches otherwise.
DEFAULT_BATCH_FINAL_STATUSES: tuple[int, ...] = (3,)
#: How the platform words a record refused because its uniqueIdentifier was imported before.
DUPLICATE_MARK = "Duplicate UniqueIdentifier"
#: Errors (and duplicates) kept in a batch summary: the first ones are enough to act on.
FIRST_ERRORS = 5


def batch_summary(batch_id: str, answer: Mapping[str, Any]) -> dict[str, Any]:
    """An import batch's counts from its ``/task/send/status`` answer (as `batch.read_send_status`
    made it safe to show), duplicates apart, and the counts' contradictions.

    ``failed`` counts the refused records that are not duplicates: a record refused as a duplicate
    (``Duplicate UniqueIdentifier``, e.g. after a re-send) is in the project already. ``first_errors``
    and ``first_duplicates`` hold the first `FIRST_ERRORS` entries, ``{"uniqueIdentifier", "error"}``.
    ``inconsistencies`` lists counts that contradict each other (a negative count, more errors listed
    than failures counted, more failures than records): a final batch with any is not a success.
    """
    entries = [_error_entry(e) for e in _as_list(answer.get("errors"))]
    is_duplicate = [DUPLICATE_MARK.lower() in str(e["error"]).lower() for e in entries]
    duplicates = sum(is_duplicate)
    task_count, reported = _count(answer.get("taskCount")), _count(answer.get("importFailCount"))
    inconsistencies = []
    if task_count is not None and task_count < 0:
        inconsistencies.append(f"taskCount is negative ({task_count})")
    if reported is not None and reported < 0:
        inconsistencies.append(
            f"importFailCount is negative ({reported}) with {len(entries)} error(s) listed"
        )
    elif reported is not None and len(entries) > reported:
        inconsistencies.append(f"{len(entries)} error(s) listed but importFailCount is {reported}")
    if reported is not None and task_count is not None and 0 <= task_count < reported:
        inconsistencies.append(f"importFailCount {reported} is more than taskCount {task_count}")
    refused = max(reported if reported is not None and reported > 0 else 0, len(entries))
    return {
        "batch_id": batch_id,
        "status": answer.get("status"),
        "task_count": task_count,
        "import_fail_count": reported if reported is not None else len(entries),
        "duplicates": duplicates,
        "failed": max(refused - duplicates, 0),
        "first_errors": [e for e, dup in zip(entries, is_duplicate, strict=True) if not dup][:FIRST_ERRORS],
        "first_duplicates": [e for e, dup in zip(entries, is_duplicate, strict=True) if dup][:FIRST_ERRORS],
        "inconsistencies": inconsistencies,
    }


def _as_list(errors: object) -> list[Any]:
    if errors is None:
        return []
    return errors if isinstance(errors, list) else [errors]


def _error_entry(entry: object) -> dict[str, Any]:
    """``{"uniqueIdentifier", "error"}`` of one entry; never its ``jsonLine`` (the user's record)."""
    if isinstance(entry, Mapping):
        return {"uniqueIdentifier": entry.get("uniqueIdentifier"), "error": entry.get("error")}
    return {"uniqueIdentifier": None, "error": entry}


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def classify_batch(
    summary: Mapping[str, Any],
    final_statuses: Iterable[int] = DEFAULT_BATCH_FINAL_STATUSES,
    max_failed_records: int = 0,
) -> Phase:
    """The phase of an import batch (a `batch_summary`): active until its status is final, then a
    failure when more than `max_failed_records` records failed (duplicates not counted) or its
    counts contradict each other."""
    if summary.get("status") not in tuple(final_statuses):
        return Phase.ACTIVE
    if summary.get("inconsistencies") or summary["failed"] > max_failed_records:
        return Phase.FAILURE
    return Phase.SUCCESS


@dataclass(frozen=True)
class WaitVerdict:
    """One look at a set of tasks: done (`outcome` "success" or "failure") or still waiting (None)."""

    outcome: str | None
    complete: list[str]
    failed: list[str]
    stalled: list[str]
    statuses: dict[str, int]
    needed: int

    def summary(self) -> dict[str, Any]:
        """The sensor's XCom: ``{"complete": [...], "failed": [...], "statuses": {id: status}}``."""
        return {"complete": self.complete, "failed": self.failed, "statuses": self.statuses}


@dataclass(frozen=True)
class TaskWait:
    """Waiting for a set of tasks: which statuses count as success and failure, and how many tasks
    must succeed (`require`: "all", "any" or a ratio in (0, 1]).

    Success once `needed` tasks are complete; failure as soon as that can no longer happen (with
    "all", the first failed task). Bad settings raise ValueError naming the argument.
    """

    task_ids: tuple[str, ...]
    success_statuses: tuple[int, ...] = DEFAULT_SUCCESS_STATUSES
    failure_statuses: tuple[int, ...] = DEFAULT_FAILURE_STATUSES
    require: str | float = "all"
    error_fails: bool = True
    needed: int = field(init=False)

    def __post_init__(self) -> None:
        if not self.task_ids:
            raise ValueError("task_ids: no task to wait for (an empty list)")
        for name in ("success_statuses", "failure_statuses"):
            values = getattr(self, name)
            if not values or not all(_is_status(v) for v in values):
                raise ValueError(f"{name}: expected task statuses (ints from 1 to 10), got {values!r}")
        both = set(self.success_statuses) & set(self.failure_statuses)
        if both:
            raise ValueError(f"success_statuses and failure_statuses both hold {sorted(both)}")
        if not isinstance(self.error_fails, bool):  # a rendered "False" must not read as true
            raise ValueError(f"error_fails: expected True or False, got {self.error_fails!r}")
        object.__setattr__(self, "needed", _needed(self.require, len(self.task_ids)))

    def classify(self, status: int) -> Phase:
        return classify_task(status, self.success_statuses, self.failure_statuses, self.error_fails)

    def judge(self, statuses: Mapping[str, int]) -> WaitVerdict:
        """The verdict for the statuses seen now; a task missing from `statuses` counts as active."""
        complete, failed, stalled = [], [], []
        for task_id in self.task_ids:
            if task_id not in statuses:
                continue
            phase = self.classify(statuses[task_id])
            if phase is Phase.SUCCESS:
                complete.append(task_id)
            elif phase is Phase.FAILURE:
                failed.append(task_id)
            elif phase is Phase.STALLED:
                stalled.append(task_id)
        outcome = None
        if len(complete) >= self.needed:
            outcome = "success"
        elif len(self.task_ids) - len(failed) < self.needed:
            outcome = "failure"
        seen = {task_id: statuses[task_id] for task_id in self.task_ids if task_id in statuses}
        return WaitVerdict(outcome, complete, failed, stalled, seen, self.needed)


def _is_status(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 10


def _needed(require: object, count: int) -> int:
    """How many of `count` tasks must succeed under `require`."""
    if require == "all":
        return count
    if require == "any":
        return 1
    if isinstance(require, (int, float)) and not isinstance(require, bool) and 0 < require <= 1:
        return max(1, math.ceil(require * count - 1e-9))
    raise ValueError(f'require: expected "all", "any" or a ratio above 0 and at most 1, got {require!r}')


#: Task ids named per kind of change in a progress line; more are counted, not listed.
PROGRESS_IDS = 5


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``1 chunk``, ``2 chunks``: a count with its noun in the right number."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def human_duration(seconds: float) -> str:
    """A duration as people say it: ``7 days``, ``2 h 30 min``, ``1 min 30 s``, ``45 s``, ``0.5 s``.

    Whole units only above a minute (the seconds of a days-long wait do not matter)."""
    seconds = float(seconds)
    if seconds < 60:
        return f"{seconds:g} s"
    total = round(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        text = f"{days} day{'s' if days != 1 else ''}"
        return text + (f" {hours} h" if hours else "")
    if hours:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    return f"{minutes} min" + (f" {secs} s" if secs else "")


def _named(ids: list[str]) -> str:
    shown = ", ".join(ids[:PROGRESS_IDS])
    return shown + (f" and {len(ids) - PROGRESS_IDS} more" if len(ids) > PROGRESS_IDS else "")


@dataclass
class WaitProgress:
    """One progress line per poll of a wait, saying what changed since the previous poll, so a log
    of a days-long wait shows how far labeling has got. The sensor's poke and the trigger both use it."""

    previous: WaitVerdict | None = None

    def line(self, verdict: WaitVerdict) -> str:
        """``3 of 10 tasks complete, 1 failed, 6 still working (needed 10); since the last poll: ...``"""
        working = len(verdict.statuses) - len(verdict.complete) - len(verdict.failed)
        complete, failed = len(verdict.complete), len(verdict.failed)
        text = (
            f"{complete} of {len(verdict.statuses)} tasks complete, {failed} failed, {working} still working"
        )
        if verdict.stalled:
            text += f" ({len(verdict.stalled)} stalled: {_named(sorted(verdict.stalled))})"
        text += f" (needed {verdict.needed})"
        before = self.previous
        self.previous = verdict
        if before is None:
            return text
        changes = []
        for word, now, then in (
            ("complete", verdict.complete, before.complete),
            ("failed", verdict.failed, before.failed),
            ("stalled", verdict.stalled, before.stalled),
        ):
            seen = set(then)
            new = [task_id for task_id in now if task_id not in seen]
            if new:
                changes.append(f"{len(new)} newly {word} ({_named(new)})")
        return text + "; since the last poll: " + ("; ".join(changes) if changes else "no change")
