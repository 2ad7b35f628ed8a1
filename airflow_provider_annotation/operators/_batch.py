"""Many project setups in one task: sent side by side on one hook, each one kept as soon as it exists.

`CreateProjectsOperator` checks every spec, then hands the work here. What is durable, in the task
instance's ``task_state_store`` (written only from the task's own thread, never from a worker):

- ``annotation_projects``: ``{"sent_below": k}``, written before any spec with index >= the old k
  is sent: every spec below k may have reached the platform;
- ``annotation_projects.<j>``: the j-th group of kept items, ``[[index, projectId, workflowId,
  how, digest], ...]``, written at least every `FLUSH_S` seconds and at most `GROUP_ITEMS` items
  at a time (a few KiB, far below the store's 64 KiB per value).

A retry returns kept items as they are ("kept"), looks every spec below ``sent_below`` that was
not kept up by name in one pass over the project list (found: "adopted"; not found: created), and
creates the rest. A lost answer is resolved the same way after each round: found means adopted,
not found means it may be sent again.

Imports no HTTP library at module level (the operator module imports this one).
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_annotation.exceptions import (
    AnnotationApiError,
    AnnotationConflictError,
    AnnotationInvalidRequestError,
    AnnotationMayHaveTakenEffectError,
)
from airflow_provider_annotation.redaction import scrub

if TYPE_CHECKING:
    from airflow_provider_annotation.hooks.annotation import AnnotationHook
    from airflow_provider_annotation.hooks.pacing import Pacer
    from airflow_provider_annotation.operators._state import TaskState

#: task_state_store key of the batch; ``<STATE_KEY>.<j>`` hold the kept groups. Renaming them
#: breaks in-flight retries.
STATE_KEY = "annotation_projects"
#: Kept items are written at least this often (seconds).
FLUSH_S = 1.0
#: At most this many items per kept group: ~60 bytes each, so a group stays far below 64 KiB.
GROUP_ITEMS = 400
#: Rounds of "send, then look lost answers up by name" before an item is given up as failed.
MAX_ROUNDS = 3
#: Characters of an item's error kept in its result entry.
ERROR_CHARS = 500

HOW = {"c": "created", "a": "adopted"}


def error_text(err: BaseException) -> str:
    """An item's error for XCom and the log: one bounded, printable line (our errors are already
    scrubbed of secrets; anything else is cut the same way)."""
    text = str(err) if isinstance(err, AnnotationApiError) else f"{type(err).__name__}: {err}"
    return scrub(text, limit=ERROR_CHARS)


def entry(name: str, outcome: str, record: Mapping[str, Any] | None = None, error: str | None = None) -> dict:
    """One item of the task's return value."""
    record = record or {}
    return {
        "name": name,
        "project_id": record.get("projectId"),
        "workflow_id": record.get("workflowId"),
        "outcome": outcome,
        "error": error,
    }


class Ledger:
    """The batch's durable state (see the module docstring); a no-op without a store."""

    def __init__(self, state: TaskState, clock: Callable[[], float] = time.monotonic) -> None:
        self.state = state
        self.sent_below = 0
        self._groups = 0
        self._pending: list[list[Any]] = []
        self._clock = clock
        self._flushed_at = clock()
        #: Store writes so far (a round trip to Airflow's database each).
        self.writes = 0

    def load(self) -> dict[int, list[Any]]:
        """Kept items by spec index, from every group an earlier try wrote."""
        if not self.state.durable:
            return {}
        header = self.state.read(STATE_KEY)
        if isinstance(header, dict) and type(header.get("sent_below")) is int:
            self.sent_below = header["sent_below"]
        kept: dict[int, list[Any]] = {}
        while isinstance(group := self.state.read(f"{STATE_KEY}.{self._groups}"), list):
            for item in group:
                if _is_kept_item(item):
                    kept[item[0]] = item
            self._groups += 1
        return kept

    def allow(self, upto: int) -> None:
        """Note, before it happens, that specs below `upto` may be sent."""
        if upto <= self.sent_below:
            return
        self.sent_below = upto
        if self.state.durable:
            self.state.keep(STATE_KEY, {"sent_below": upto})
            self.writes += 1

    def keep(self, index: int, record: Mapping[str, Any], how: str, digest: str) -> None:
        self._pending.append([index, record["projectId"], record.get("workflowId"), how, digest])
        if len(self._pending) >= GROUP_ITEMS:
            self.flush()

    def flush_if_due(self) -> None:
        if self._pending and self._clock() - self._flushed_at >= FLUSH_S:
            self.flush()

    def flush(self) -> None:
        if self._pending and self.state.durable:
            self.state.keep(f"{STATE_KEY}.{self._groups}", self._pending)
            self._groups += 1
            self.writes += 1
        self._pending = []
        self._flushed_at = self._clock()


def _is_kept_item(item: Any) -> bool:
    return (
        isinstance(item, list)
        and len(item) == 5
        and type(item[0]) is int
        and type(item[1]) is int
        and (item[2] is None or type(item[2]) is int)
        and item[3] in HOW
        and isinstance(item[4], str)
    )


class Progress:
    """A log line every `every_s` seconds: done / total, rate, errors so far, time left."""

    def __init__(self, total: int, done: int, log: Any, every_s: float, clock: Callable[[], float]) -> None:
        self.total, self.done, self.errors = total, done, 0
        self._start_done = done
        self._log, self._every, self._clock = log, every_s, clock
        self._started = self._last = clock()

    def tick(self, *, force: bool = False) -> None:
        now = self._clock()
        if not force and now - self._last < self._every:
            return
        self._last = now
        elapsed = max(now - self._started, 1e-9)
        rate = (self.done - self._start_done) / elapsed
        left = self.total - self.done
        eta = (
            f"about {left / rate:.0f} s left"
            if rate > 0 and left
            else ("done" if not left else "time left unknown")
        )
        self._log.info(
            "Projects: %d/%d done, %.1f/s, %d errors so far, %s",
            self.done,
            self.total,
            rate,
            self.errors,
            eta,
        )


@dataclass
class _Answer:
    """What a worker hands back for one spec: a record, or the error of its create."""

    index: int
    record: dict[str, Any] | None = None
    error: BaseException | None = None


class _Workers:
    """`count` threads sending creates from a queue; results come back on another queue. They
    never touch the task state store."""

    def __init__(self, count: int, work: Callable[[int], dict[str, Any]]) -> None:
        self.todo: queue.Queue[int | None] = queue.Queue()
        self.done: queue.Queue[_Answer] = queue.Queue()
        self._work = work
        self._threads = [
            threading.Thread(target=self._run, name=f"annotation-create-{n}", daemon=True)
            for n in range(count)
        ]
        for thread in self._threads:
            thread.start()

    def _run(self) -> None:
        while (index := self.todo.get()) is not None:
            try:
                self.done.put(_Answer(index, record=self._work(index)))
            except BaseException as err:  # noqa: BLE001 - every failure is this item's, reported
                self.done.put(_Answer(index, error=err))

    def close(self, *, cancel: bool = False) -> None:
        """Stop the threads once their current create is answered; with `cancel`, send nothing
        more of what is queued (the task is failing)."""
        while cancel:
            try:
                self.todo.get_nowait()
            except queue.Empty:
                break
        for _ in self._threads:
            self.todo.put(None)
        for thread in self._threads:
            thread.join()


@dataclass
class Batch:
    """One run of the batch: specs (checked), their body digests, where results go."""

    specs: Sequence[Mapping[str, Any]]
    digests: Sequence[str]
    build: Callable[[Mapping[str, Any]], dict[str, Any]]
    send: Callable[[AnnotationHook, dict[str, Any]], dict[str, Any]]
    adopted: Callable[[Mapping[str, Any]], dict[str, Any]]
    taken_name: Callable[[Mapping[str, Any]], str]
    invisible_taken_name: Callable[[Mapping[str, Any]], str]
    if_exists: str
    max_active: int
    ledger: Ledger
    log: Any
    progress_every_s: float = 5.0
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self.results: list[dict[str, Any] | None] = [None] * len(self.specs)
        #: Every refusal or error is "permanent" (the same input fails again) or not.
        self.transient_failures = 0

    # -- outcomes ------------------------------------------------------------------------------

    def _name(self, index: int) -> str:
        return str(self.specs[index].get("name"))

    def _done(self, index: int, outcome: str, record: Mapping[str, Any] | None = None) -> None:
        self.results[index] = entry(self._name(index), outcome, record)
        if outcome in ("created", "adopted") and record is not None:
            self.ledger.keep(index, record, outcome[0], self.digests[index])
        self.progress.done += 1

    def _failed(self, index: int, err: BaseException | str, *, transient: bool = False) -> None:
        text = err if isinstance(err, str) else error_text(err)
        self.results[index] = entry(self._name(index), "failed", error=text)
        self.transient_failures += transient
        self.progress.done += 1
        self.progress.errors += 1
        self.log.warning("projects[%d] %r failed: %s", index, self._name(index), text)

    # -- the run -------------------------------------------------------------------------------

    def take_kept(self, kept: Mapping[int, list[Any]]) -> list[str]:
        """Results of items an earlier try kept; problems for kept items whose spec changed since."""
        changed = []
        for index, item in sorted(kept.items()):
            if index >= len(self.specs):
                continue
            if item[4] != self.digests[index]:
                changed.append(
                    f"projects[{index}]: an earlier try {HOW[item[3]]} project {item[1]} for it with other "
                    "parameters"
                )
                continue
            record = {"projectId": item[1], "workflowId": item[2]}
            self.results[index] = entry(self._name(index), "kept", record)
            self.log.info(
                "projects[%d] %r: project %d was %s by an earlier try of this task; kept, not sent again",
                index,
                self._name(index),
                item[1],
                HOW[item[3]],
            )
        return changed

    def run(self, hook: AnnotationHook, in_doubt: Sequence[int]) -> list[dict[str, Any]]:
        """Create what is not kept yet; returns one entry per spec, in order."""
        total = len(self.specs)
        already = sum(r is not None for r in self.results)
        self.progress = Progress(total, already, self.log, self.progress_every_s, self.clock)
        doubt = set(in_doubt)
        todo = [i for i in range(total) if self.results[i] is None and i not in doubt]
        if in_doubt:
            self.log.info(
                "%d specs may have been sent by an earlier try without their answer being kept: looking "
                "them up by name",
                len(in_doubt),
            )
            todo = sorted(todo + self._resolve(hook, {i: "doubt" for i in in_doubt}))
        workers = _Workers(self.max_active, lambda index: self.send(hook, self.build(self.specs[index])))
        try:
            for round_number in range(1, MAX_ROUNDS + 1):
                lookups = self._round(workers, todo)
                last = round_number == MAX_ROUNDS
                todo = self._resolve(hook, lookups, last_round=last) if lookups else []
                if not todo:
                    break
        except BaseException:
            workers.close(cancel=True)  # what was answered meanwhile is found by name on a retry
            with contextlib.suppress(Exception):  # the store itself may be what failed
                self.ledger.flush()
            raise
        workers.close()
        self.ledger.flush()
        self.progress.tick(force=True)
        return [r for r in self.results if r is not None]

    def _round(self, workers: _Workers, todo: Sequence[int]) -> dict[int, str]:
        """Send every spec of `todo` (in order, `max_active` at a time); the ones to look up by name."""
        step = max(64, 16 * self.max_active)
        queued = finished = 0
        lookups: dict[int, str] = {}
        while finished < len(todo):
            while queued < len(todo) and queued - finished < 2 * self.max_active:
                index = todo[queued]
                if index >= self.ledger.sent_below:
                    self.ledger.allow(min(len(self.specs), index + step))
                workers.todo.put(index)
                queued += 1
            try:
                answer: _Answer | None = workers.done.get(timeout=0.2)
            except queue.Empty:
                answer = None
            while answer is not None:
                finished += 1
                self._settle(answer, lookups)
                try:
                    answer = workers.done.get_nowait()
                except queue.Empty:
                    answer = None
            self.ledger.flush_if_due()
            self.progress.tick()
        return lookups

    def _settle(self, answer: _Answer, lookups: dict[int, str]) -> None:
        index, err = answer.index, answer.error
        if err is None:
            self._done(index, "created", answer.record)
        elif isinstance(err, AnnotationMayHaveTakenEffectError):
            self.log.warning(
                "projects[%d] %r: the answer was lost (%s); it will be looked up by name",
                index,
                self._name(index),
                error_text(err),
            )
            lookups[index] = "lost"
        elif isinstance(err, AnnotationConflictError):
            if self.if_exists == "adopt":
                lookups[index] = "taken"
            else:
                self._failed(index, f"{error_text(err)}\n{self.taken_name(self.build(self.specs[index]))}")
        elif isinstance(err, AnnotationInvalidRequestError):
            self._failed(index, err)
        else:
            self._failed(index, err, transient=True)

    def _resolve(
        self, hook: AnnotationHook, lookups: Mapping[int, str], *, last_round: bool = False
    ) -> list[int]:
        """Look every spec of `lookups` up by name, one pass over the list per data type; adopt what
        is found. Returns the specs to send (again): lost or in doubt, and not found."""
        from airflow_provider_annotation.project import one_project_named

        by_type: dict[int, list[int]] = {}
        for index in lookups:
            by_type.setdefault(self.build(self.specs[index])["dataType"], []).append(index)
        again: list[int] = []
        for data_type, indexes in sorted(by_type.items()):
            names = {self._name(i) for i in indexes}
            try:
                found = hook.find_projects_by_name(names, data_type=data_type)
            except AnnotationApiError as err:
                for index in indexes:
                    self._failed(
                        index, f"looking the project up by name failed: {error_text(err)}", transient=True
                    )
                continue
            for index in indexes:
                name, why = self._name(index), lookups[index]
                try:
                    project = one_project_named(name, found.get(name, []))
                except AnnotationApiError as err:
                    self._failed(index, err)
                    continue
                if project is not None:
                    record = self.adopted(project)
                    self.log.warning(
                        "projects[%d] %r: %s; adopting project %s, found by name (workflow id unknown)",
                        index,
                        name,
                        {
                            "lost": "the answer to its create was lost",
                            "doubt": "an earlier try may have created it",
                            "taken": "the name exists already (if_exists='adopt')",
                        }[why],
                        record["projectId"],
                    )
                    self._done(index, "adopted", record)
                elif why == "taken":
                    body = self.build(self.specs[index])
                    self._failed(index, self.invisible_taken_name(body))
                elif why == "lost" and last_round:
                    self._failed(
                        index,
                        f"the answer to its create was lost {MAX_ROUNDS} times and no project named {name!r} "
                        "is visible; check the platform, then clear the task",
                        transient=True,
                    )
                else:
                    again.append(index)  # not on the platform: it may be sent (again)
        self.ledger.flush_if_due()
        return sorted(again)


def share_hook(hook: AnnotationHook, count: int, pacer: Pacer) -> None:
    """Ready `hook` for `count` threads before any starts: its connection checked and its session
    made here (so no two threads race to make them), a connection pool as wide as `count` (requests'
    default keeps 10 and drops the rest), and the `pacer` every attempt goes through. Beyond that,
    the threads share only what is safe to share: urllib3's pool and tenacity's per-thread state."""
    from requests.adapters import HTTPAdapter

    session = hook.get_conn()
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=count)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    hook.pacer = pacer
