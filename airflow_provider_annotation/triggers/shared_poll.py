"""Shared polls: the deferred waits on one (connection, project) in one triggerer read the platform
once per interval between them, instead of once each.

A triggerer runs every trigger on one asyncio loop. Each waiting `AnnotationTaskTrigger` registers
its task ids and poke interval with the one `SharedPoll` of its key (``("tasks", conn_id,
project_id)``; `AnnotationBatchTrigger`: ``("batch", conn_id, batch_id)``). The poller reads when a
waiter is due, for every waiter that would otherwise be late before the next poll, and hands each
its own statuses; each trigger still decides, logs its progress line and sends its own event
through `poll_until`, with its own deadline. Nothing here is serialized: the registry lives in the
triggerer's memory only, one per event loop.

- Reads: ``/task/get`` per id for a handful of ids, or pages of ``/project/tasks`` (`Pager`'s rule,
  driven as the hook's `iter_project_tasks` drives it) when that costs fewer requests (`plan_read`).
- Pace: each waiter is served at its own interval or earlier; polls come no closer than the
  shortest interval among the waiters, and no closer than `min_shared_interval` once two or more
  waits share a poll. A newcomer is read at once (an early poll of the newcomers' ids, after
  `NEWCOMER_SETTLE_S` so that triggers started together are read together), then joins the
  schedule.
- Errors: a read that fails for the whole poll (a listing, the platform down, any error polling
  again may cure) reaches every waiter of that poll once, each judging it with `is_transient` as
  without sharing; any other error about one task id (an unknown task) reaches only the waiters of
  that id. A waiter's bad input is refused before it registers.
- One `AnnotationAsyncHook` per poller, closed when its last waiter leaves; its call lines are the
  shared poll's requests, logged once, in the triggerer's own log (the poller runs outside any
  trigger's log context).

The triggers' one seam is `reads`. Off for everything with ``[annotation] share_polls = False``
(``AIRFLOW__ANNOTATION__SHARE_POLLS=False``), or per trigger with ``share_polls=False``.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_annotation.hooks.async_annotation import AnnotationAsyncHook

__all__ = [
    "BatchStatusSource",
    "SharedPoll",
    "TaskStatusSource",
    "min_shared_interval",
    "plan_read",
    "pollers",
    "reads",
    "shared_reads",
    "sharing_enabled",
]

#: How long a poller waits after a newcomer registers before reading for it: the triggerer starts
#: the triggers it picks up together, and they should be read together.
NEWCOMER_SETTLE_S = 0.05
#: Per-task reads of one poll in flight at once (the rest queue): a big poll must not open
#: hundreds of connections.
MAX_CONCURRENT_READS = 32
#: Waiters handed their statuses before the poller lets the loop run them: a thousand waiters
#: judging in one pass of the event loop would block it for a noticeable time.
DELIVERY_CHUNK = 50
#: ``[annotation] shared_poll_min_interval``'s default: no two polls of a shared poll closer.
DEFAULT_MIN_SHARED_INTERVAL_S = 1.0


def sharing_enabled() -> bool:
    """``[annotation] share_polls`` (default True): read when a trigger starts, so a changed
    setting applies to the triggers started after it."""
    from airflow.providers.common.compat.sdk import conf

    return conf.getboolean("annotation", "share_polls", fallback=True)


def min_shared_interval() -> float:
    """``[annotation] shared_poll_min_interval`` (seconds, default 1): the floor of a shared poll's
    pace. A poll serving one wait keeps that wait's own interval, as without sharing."""
    from airflow.providers.common.compat.sdk import conf

    return max(
        conf.getfloat("annotation", "shared_poll_min_interval", fallback=DEFAULT_MIN_SHARED_INTERVAL_S), 0.0
    )


def plan_read(count: int, page_threshold: int, pages: int | None, *, shared: bool = False) -> str:
    """``"per-task"`` or ``"listing"`` for `count` wanted ids. Once a listing told how many pages it
    takes (`pages`), whichever costs fewer requests. Before that (or on a tie): for one wait, its own
    rule (per task up to `page_threshold` ids, as without sharing); for several, a listing as soon
    as more than one id is wanted, or any with a threshold of 0 (it stops at `count` pages, so it
    never costs much more, and it learns `pages`)."""
    if pages is not None and pages != count:
        return "listing" if pages < count else "per-task"
    if shared:
        return "per-task" if count <= min(page_threshold, 1) else "listing"
    return "per-task" if count <= page_threshold else "listing"


# -- what a poller reads ----------------------------------------------------------------------------


class TaskStatusSource:
    """The statuses of a project's tasks; a result maps each id read to its status, or to the error
    reading that one id raised."""

    def __init__(self, project_id: int) -> None:
        self.project_id = project_id
        #: Pages the last listing took until it had every wanted id (None: never listed).
        self.pages: int | None = None

    def describe(self) -> str:
        return f"task statuses of project {self.project_id}"

    async def read(self, hook: AnnotationAsyncHook, waiters: list[Waiter]) -> dict[str, int | BaseException]:

        wanted = list(dict.fromkeys(t for w in waiters for t in w.wants))
        threshold = min(w.page_threshold for w in waiters)
        found: dict[str, int | BaseException] = {}
        left = wanted
        if plan_read(len(wanted), threshold, self.pages, shared=len(waiters) > 1) == "listing":
            left = await self._list(hook, wanted, found)
        if left:
            await self._per_task(hook, left, found)
        return found

    async def _list(self, hook: AnnotationAsyncHook, wanted: list[str], found: dict) -> list[str]:
        """Pages of ``/project/tasks`` under `Pager`'s rule (driven as the hook's `iter_project_tasks`
        drives it) until every wanted id was seen, or as many pages as ids were read: the ids left,
        read per task (and from then on, per task: `pages` says the listing costs more)."""
        from airflow_provider_annotation.endpoints import PROJECT_TASKS
        from airflow_provider_annotation.paging import Pager, task_key
        from airflow_provider_annotation.waiting import PAGE_SIZE, statuses_of

        pager, left, pages, total = Pager(PROJECT_TASKS, task_key), set(wanted), 0, 1
        while left and not pager.done and pages < len(wanted):
            page = await hook.list_project_tasks(self.project_id, offset=pager.offset, limit=PAGE_SIZE)
            pages += 1
            if pages == 1 and page["data"]:
                total = -(-page["count"] // len(page["data"]))  # pages the whole listing takes
            for task in pager.take(page):
                task_id = task_key(task)
                if task_id in left:
                    left.discard(task_id)
                    try:
                        found.update(statuses_of([task], PROJECT_TASKS))
                    except Exception as err:  # noqa: BLE001 - a malformed status of one wanted task
                        found[str(task_id)] = err
        self.pages = pages if pager.done or not left else max(total, pages + 1)
        return [t for t in wanted if t in left] if not pager.done else []

    async def _per_task(self, hook: AnnotationAsyncHook, ids: list[str], found: dict) -> None:
        """One ``/task/get`` per id, `MAX_CONCURRENT_READS` at a time. An error only polling again may
        cure (the platform unavailable, 5xx) fails the whole poll at once, cancelling the reads still
        running, as a trigger's own poll does; any other error is kept for its id alone (an unknown
        task is the business of the waits on it)."""
        from airflow_provider_annotation.endpoints import TASK_GET
        from airflow_provider_annotation.waiting import is_transient, statuses_of

        limit = asyncio.Semaphore(MAX_CONCURRENT_READS)
        transient: list[BaseException] = []

        async def one(task_id: str) -> None:
            async with limit:
                try:
                    found.update(statuses_of([await hook.get_task(self.project_id, task_id)], TASK_GET))
                except asyncio.CancelledError:
                    raise
                except Exception as err:  # noqa: BLE001 - it belongs to the waiters of this id
                    found[task_id] = err
                    if is_transient(err) and not transient:
                        transient.append(err)
                        for other in running:
                            other.cancel()

        running = [asyncio.ensure_future(one(t)) for t in ids]
        try:
            await asyncio.gather(*running, return_exceptions=True)
        finally:  # also when the poll itself is cancelled
            for other in running:
                other.cancel()
        if transient:
            raise transient[0]
        errors = [value for value in found.values() if isinstance(value, BaseException)]
        if errors:  # once for the poll; each waiter of those ids logs its own line
            hook.log.warning(
                "Shared poll of %s: %d of %d task read(s) failed (first: %s); handed to the waits "
                "on those tasks",
                self.describe(),
                len(errors),
                len(ids),
                errors[0],
            )

    def share_of(self, result: dict[str, int | BaseException], waiter: Waiter) -> Any:
        """The waiter's statuses, or the first error among its ids (in its own order)."""
        for task_id in waiter.wants:
            value = result.get(task_id)
            if isinstance(value, BaseException):
                return value
        return {t: result[t] for t in waiter.wants if t in result}


class BatchStatusSource:
    """One import batch's status answer, the same for every waiter."""

    def __init__(self, batch_id: str) -> None:
        self.batch_id = batch_id

    def describe(self) -> str:
        return f"import batch {self.batch_id}"

    async def read(self, hook: AnnotationAsyncHook, waiters: list[Waiter]) -> Any:
        return await hook.get_send_status(self.batch_id)

    def share_of(self, result: Any, waiter: Waiter) -> Any:
        return dict(result) if isinstance(result, dict) else result


# -- waiters and pollers ------------------------------------------------------------------------------


@dataclass(eq=False)
class Waiter:
    """One waiting trigger: what it wants, how often, and the slot its results arrive in."""

    wants: tuple[str, ...]
    interval: float
    page_threshold: int = 20
    #: Loop time by which the waiter needs its next result; until its first, it is new.
    due: float = 0.0
    new: bool = True
    _ready: asyncio.Event = field(default_factory=asyncio.Event)
    _value: Any = None

    def deliver(self, value: Any) -> None:
        self._value = value
        self._ready.set()

    async def read(self) -> Any:
        """The next result the poller hands this waiter; an error it hands is raised here."""
        await self._ready.wait()
        self._ready.clear()
        value, self._value = self._value, None
        if isinstance(value, BaseException):
            raise value.with_traceback(None)
        return value


class SharedPoll:
    """The one poller of a key on one event loop: a task that reads for its waiters, and their hook.

    Started by the first waiter, stopped (task cancelled, hook closed) when the last one leaves.
    """

    def __init__(self, key: Hashable, conn_id: str, source: Any) -> None:
        self.key = key
        self.conn_id = conn_id
        self.source = source
        self.waiters: list[Waiter] = []
        self.polls = 0
        #: True while the poller waits for the next due waiter (every delivery judged by then).
        self.idle = False
        from airflow_provider_annotation.hooks.async_annotation import AnnotationAsyncHook

        #: The poller's one hook (no I/O until its first read), closed when the poller stops.
        self.hook = AnnotationAsyncHook(conn_id)
        self._wake = asyncio.Event()
        self._last_start: float | None = None
        self._floor = min_shared_interval()
        # Outside any trigger's log context: the shared requests go to the triggerer's own log, not
        # to the log of whichever trigger happened to start the poller.
        self._task = contextvars.Context().run(asyncio.ensure_future, self._run())

    # -- waiters

    def add(self, waiter: Waiter) -> None:
        self.waiters.append(waiter)
        self._wake.set()

    def remove(self, waiter: Waiter) -> None:
        with contextlib.suppress(ValueError):
            self.waiters.remove(waiter)
        if not self.waiters:
            _forget(self)
            self._task.cancel()
        else:
            self._wake.set()

    def pace(self) -> float:
        """The shortest interval among the waiters; at least `min_shared_interval` when shared."""
        shortest = min(w.interval for w in self.waiters)
        return max(shortest, self._floor) if len(self.waiters) > 1 else shortest

    # -- the loop

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        hook = self.hook
        try:
            while self.waiters:
                if any(w.new for w in self.waiters):
                    await asyncio.sleep(NEWCOMER_SETTLE_S)  # the others started with it join it
                    newcomers = [w for w in self.waiters if w.new]
                    if newcomers:
                        await self._poll(hook, newcomers, loop.time())
                    continue
                pace = self.pace()
                start_at = min(w.due for w in self.waiters)
                if self._last_start is not None:
                    start_at = max(start_at, self._last_start + pace)
                delay = start_at - loop.time()
                if delay > 0:
                    self._wake.clear()
                    self.idle = True
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(delay):  # not wait_for: keeps a cancellation
                            await self._wake.wait()
                    self.idle = False
                    continue  # someone may have come or gone: look again
                start = loop.time()
                self._last_start = start
                # Everyone the next poll would serve late is served now.
                await self._poll(hook, [w for w in self.waiters if w.due < start + pace], start)
        except Exception as err:  # a bug here must not leave its waiters waiting in silence
            _forget(self)
            hook.log.exception("Shared poll of %s stopped; its waits get the error", self.source.describe())
            for waiter in self.waiters:
                waiter.deliver(err)
        finally:
            await hook.aclose()

    async def _poll(self, hook: AnnotationAsyncHook, waiters: list[Waiter], start: float) -> None:
        from airflow_provider_annotation.waiting import is_transient

        self.polls += 1
        try:
            result: Any = await self.source.read(hook, waiters)
            failure: BaseException | None = None
        except asyncio.CancelledError:
            raise
        except Exception as err:  # noqa: BLE001 - handed to every waiter of this poll, once each
            result, failure = None, err
            hook.log.warning(
                "Shared poll of %s failed for %d wait(s) (%s, %s)",
                self.source.describe(),
                len(waiters),
                err,
                "polling again" if is_transient(err) else "ends their waits",
            )
        else:
            hook.log_calls_at_debug()  # each waiter's progress line says it from now on
        for count, waiter in enumerate(waiters, 1):
            if waiter not in self.waiters:
                continue  # left while the poll ran
            waiter.due, waiter.new = start + waiter.interval, False
            waiter.deliver(failure if failure is not None else self.source.share_of(result, waiter))
            if count % DELIVERY_CHUNK == 0:  # the waiters judge in turns, not all in one loop pass
                await asyncio.sleep(0)
        # Let the waiters judge what they got (and the finished ones leave) before the next poll is
        # planned: no read goes out for a wait that has already sent its event.
        for _ in range(2):
            await asyncio.sleep(0)


# -- the registry: one poller per key and event loop ------------------------------------------------------

_registries: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Hashable, SharedPoll]] = (
    weakref.WeakKeyDictionary()
)


def _registry() -> dict[Hashable, SharedPoll]:
    return _registries.setdefault(asyncio.get_running_loop(), {})


def _forget(poller: SharedPoll) -> None:
    registry = _registry()
    if registry.get(poller.key) is poller:
        del registry[poller.key]


def pollers() -> dict[Hashable, SharedPoll]:
    """The running pollers of this event loop, by key (for tests and the benchmark)."""
    return dict(_registry())


@contextlib.asynccontextmanager
async def shared_reads(
    key: Hashable,
    conn_id: str,
    make_source: Callable[[], Any],
    *,
    wants: Iterable[str] = (),
    interval: float,
    page_threshold: int = 20,
    log: Any = None,
) -> AsyncIterator[tuple[Callable[[], Awaitable[Any]], AnnotationAsyncHook]]:
    """Register a waiter with the poller of `key` (started if none runs) for the time of the block;
    yields the waiter's `read`, which `poll_until` calls instead of reading itself (with a poll
    interval of 0: the poller keeps the pace), and the poller's hook. Leaving the block, by an
    event, an error or a cancellation, unregisters it."""
    registry = _registry()
    poller = registry.get(key)
    if poller is None:
        poller = registry[key] = SharedPoll(key, conn_id, make_source())
    waiter = Waiter(tuple(wants), float(interval), int(page_threshold))
    poller.add(waiter)
    if log is not None:
        log.info(
            "Reading through the triggerer's shared poll of %s (connection %s), with %d other wait(s)",
            poller.source.describe(),
            conn_id,
            len(poller.waiters) - 1,
        )
    try:
        yield waiter.read, poller.hook
    finally:
        poller.remove(waiter)


@contextlib.asynccontextmanager
async def _refused(err: BaseException) -> AsyncIterator[tuple[Callable[[], Awaitable[Any]], Any]]:
    """A read that raises `err`: a waiter whose input is wrong never registers, so it cannot fail
    the others; `poll_until` turns `err` into its ``error`` event, as a read would today."""

    async def read() -> Any:
        raise err

    yield read, _NO_HOOK


class _NoHook:
    """What a refused waiter's decider is handed instead of a hook: it is never read."""

    def log_calls_at_debug(self) -> None:
        pass


_NO_HOOK = _NoHook()


def _task_reads(
    trigger: Any,
) -> contextlib.AbstractAsyncContextManager[tuple[Callable[[], Awaitable[Any]], Any]]:
    """`shared_reads` for an `AnnotationTaskTrigger`: its ids checked first, then registered with
    the poller of ``("tasks", conn_id, project_id)``."""
    from airflow_provider_annotation.exceptions import AnnotationError
    from airflow_provider_annotation.project import to_task_id
    from airflow_provider_annotation.workflow import to_project_id

    try:
        project_id = to_project_id(trigger.project_id)
        wants = [to_task_id(t, f"task_ids[{i}]") for i, t in enumerate(trigger.task_ids)]
    except AnnotationError as err:
        return _refused(err)
    return shared_reads(
        ("tasks", trigger.annotation_conn_id, project_id),
        trigger.annotation_conn_id,
        lambda: TaskStatusSource(project_id),
        wants=wants,
        interval=trigger.poll_interval,
        page_threshold=trigger.page_threshold,
        log=trigger.log,
    )


def _batch_reads(
    trigger: Any,
) -> contextlib.AbstractAsyncContextManager[tuple[Callable[[], Awaitable[Any]], Any]]:
    """`shared_reads` for an `AnnotationBatchTrigger`: the waits on one batch read it once."""
    from airflow_provider_annotation.batch import to_batch_id
    from airflow_provider_annotation.exceptions import AnnotationError

    try:
        batch_id = to_batch_id(trigger.batch_id)
    except AnnotationError as err:
        return _refused(err)
    return shared_reads(
        ("batch", trigger.annotation_conn_id, batch_id),
        trigger.annotation_conn_id,
        lambda: BatchStatusSource(batch_id),
        interval=trigger.poll_interval,
        log=trigger.log,
    )


@contextlib.asynccontextmanager
async def reads(
    trigger: Any, own_read: Callable[[AnnotationAsyncHook], Awaitable[Any]]
) -> AsyncIterator[tuple[Callable[[], Awaitable[Any]], Any, float]]:
    """The one seam of a trigger's `run`: ``(read, hook, poll_interval)`` for `poll_until`.

    A task or batch trigger with `share_polls` (and ``[annotation] share_polls`` on) reads through
    the shared poll of its key: its waiter's read, the poller's hook, and an interval of 0 (the
    poller keeps the pace). Any other trigger, or one with sharing off, reads on its own as before:
    ``own_read(hook)`` on a hook opened for the wait, at its own `poll_interval`."""
    from airflow_provider_annotation.hooks.async_annotation import AnnotationAsyncHook

    shared = getattr(trigger, "share_polls", False) and sharing_enabled()
    joined = None
    if shared and hasattr(trigger, "task_ids"):  # a task wait: shared per (connection, project)
        joined = _task_reads(trigger)
    elif shared and hasattr(trigger, "batch_id"):  # an import-batch wait: per (connection, batch)
        joined = _batch_reads(trigger)
    if joined is not None:
        async with joined as (read, hook):
            yield read, hook, 0.0
        return
    async with AnnotationAsyncHook(trigger.annotation_conn_id) as hook:
        yield functools.partial(own_read, hook), hook, trigger.poll_interval
