"""What one emulator remembers: its settings, the account's objects, the request log, queued faults.

Folders, projects, workflows, tasks and import batches live here behind one lock, because tests
read them from another thread while the server writes them. The rules that decide what gets
stored are in `openapi`; this module only keeps, copies and forgets.
"""

from __future__ import annotations

import copy
import json
import math
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_annotation.testing.faults import Fault

__all__ = [
    "SignatureLog",
    "API_VERSIONS",
    "DEFAULT_API_VERSION",
    "DEFAULT_SIGNATURE_WINDOW_S",
    "FIRST_FOLDER_ID",
    "FIRST_PROJECT_ID",
    "FIRST_TASK_ID",
    "FIRST_WORKFLOW_ID",
    "REDACTED",
    "SIGNATURE_HEADER",
    "EmulatorState",
    "HeaderDict",
    "Settings",
    "check_api_version",
    "decoy_projects",
    "json_or_none",
    "redact_headers",
]

FIRST_WORKFLOW_ID = 18000
FIRST_PROJECT_ID = 1000
FIRST_FOLDER_ID = 500
#: Task ids exceed 2**53 on the platform (documented sample ``"358183635683250176"``).
FIRST_TASK_ID = 358183635683250176
FIRST_BATCH_ID = 1790000000000000001
DEFAULT_SIGNATURE_WINDOW_S = 300.0
FIRST_DATASET_ID = 4200
#: The two documented forms of Create Workflow: July 2024 (the seed page) and August 2024.
API_VERSIONS = ("2024-07", "2024-08")
DEFAULT_API_VERSION = API_VERSIONS[0]
REDACTED = "<redacted>"
#: The signature header as ``overview/authentication.md`` names it (the emulator's own copy).
SIGNATURE_HEADER = "X-SIGN"


class HeaderDict(dict):
    """Recorded request headers: a plain dict (JSON-ready) whose lookups ignore case.

    ASGI lowercases header names; tests naturally write ``headers["X-SIGN"]``.
    """

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return super().__contains__(key.lower() if isinstance(key, str) else key)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key.lower(), default)


@dataclass
class Settings:
    """How this emulator instance behaves; fields may be changed while it runs."""

    access_key: str
    secret_key: str = field(repr=False)
    signature_window_s: float = DEFAULT_SIGNATURE_WINDOW_S
    clock_offset_ms: int = 0
    known_projects: frozenset[int] | None = None
    prefix: str = ""
    api_version: str = DEFAULT_API_VERSION
    #: Data ids that exist; None: every id except those starting with ``missing-``/``unknown-``.
    known_data_ids: frozenset[str] | None = None
    #: Tasks complete on their own this many seconds after creation (status 9, ``completeTime`` set
    #: to creation + this delay), as if workers finished them; None: only `set_task_status` does.
    complete_after_s: float | None = None
    #: The status read on which a new import batch turns final (3), in progress (1) before; 0: final at once.
    batch_polls_until_final: int = 0
    #: How new batch ids are written, ``{n}`` being a counter. The docs type `batchId` as a string
    #: (their sample is digits); ``"b-{n:x}"`` hands out ids no number parser would accept.
    batch_id_format: str = "{n}"
    #: Status reads of a task (``/task/get`` or in a ``/project/tasks`` page) after which a task that
    #: nobody moved (status 1) is complete (9), as if labeled; 0: tasks move only when told.
    tasks_complete_after_reads: int = 0
    #: Seconds every platform request takes before it is answered, as a distant platform would.
    latency_s: float = 0.0
    #: Platform requests per second beyond which the emulator answers HTTP 429 with `Retry-After`
    #: (a bucket of one second's worth); None: no limit.
    rate_limit: float | None = None
    #: Status reads after which an imported dataset is READY (or ERROR); 0: at once (`testing.datasets`).
    dataset_reads_until_ready: int = 0
    #: Mapping entries (scenes) of each new dataset.
    dataset_scenes: int = 3

    def __post_init__(self) -> None:
        check_api_version(self.api_version)
        check_pacing(self.latency_s, self.rate_limit)


def check_pacing(latency_s: float, rate_limit: float | None) -> None:
    """ValueError unless the latency is >= 0 and the rate limit None or > 0."""
    if not latency_s >= 0:
        raise ValueError(f"latency must be >= 0 seconds, not {latency_s!r}")
    if rate_limit is not None and not rate_limit > 0:
        raise ValueError(f"rate_limit must be > 0 requests per second (or None), not {rate_limit!r}")


def check_api_version(value: str) -> None:
    """ValueError unless `value` is one of `API_VERSIONS`."""
    if value not in API_VERSIONS:
        raise ValueError(f"api_version must be one of {', '.join(API_VERSIONS)}, not {value!r}")


def decoy_projects(count: int = 250, *, start_id: int = 1, name: str = "decoy-{index:03d}") -> list[dict]:
    """`count` project records spread over every status (0-3) and both data types (2, 3).

    For ``Emulator(projects=...)`` or `Emulator.add_projects`: finding a project by name among
    many pages and statuses is what a lookup must get right.
    """
    return [
        {
            "projectId": start_id + index,
            "name": name.format(index=index),
            "status": index % 4,
            "dataType": 2 + (index // 4) % 2,
        }
        for index in range(count)
    ]


class EmulatorState:
    """Everything one emulator remembers, behind one re-entrant lock (`locked`).

    Seeded projects (``projects=``) survive `reset`; everything created over the API does not.
    """

    def __init__(self, settings: Settings, projects: Iterable[Mapping[str, Any]] = ()) -> None:
        self.settings = settings
        self._lock = threading.RLock()
        self._seeded = [copy.deepcopy(dict(p)) for p in projects]
        self._requests: list[dict[str, Any]] = []
        self._faults: list[Fault] = []
        self._tokens = 0.0
        self._tokens_at = 0.0
        self._clear_objects()

    def _clear_objects(self) -> None:
        self._workflows: dict[int, dict[str, Any]] = {}
        self._projects: dict[int, dict[str, Any]] = {p["projectId"]: copy.deepcopy(p) for p in self._seeded}
        self._folders: dict[int, dict[str, Any]] = {}
        self._tasks: dict[str, dict[str, Any]] = {}
        self._batches: dict[str, dict[str, Any]] = {}
        self._next_workflow_id = FIRST_WORKFLOW_ID
        self._next_project_id = max([FIRST_PROJECT_ID - 1, *self._projects]) + 1
        self._next_folder_id = FIRST_FOLDER_ID
        self._next_task_id = FIRST_TASK_ID
        self._next_batch_id = FIRST_BATCH_ID
        self._datasets: dict[str, dict[str, Any]] = {}
        self._next_dataset_id = FIRST_DATASET_ID

    @contextmanager
    def locked(self) -> Iterator[EmulatorState]:
        """Hold the lock across a check-then-store (a unique name, one task per data id)."""
        with self._lock:
            yield self

    def now_ms(self) -> int:
        """The emulator's clock, off by `clock_offset_ms` to provoke clock-skew failures."""
        return time.time_ns() // 1_000_000 + self.settings.clock_offset_ms

    def project_exists(self, project_id: int) -> bool:
        """Whether the project is known: seeded or created, or any positive id unless
        `known_projects` is set (then only those)."""
        known = self.settings.known_projects
        with self._lock:
            return project_id in self._projects or known is None or project_id in known

    def data_id_exists(self, data_id: str) -> bool:
        """Whether a data id names existing data (see `Settings.known_data_ids`)."""
        known = self.settings.known_data_ids
        if known is not None:
            return data_id in known
        return bool(data_id) and not data_id.startswith(("missing-", "unknown-"))

    # -- storing (callers hold `locked` when they checked something first)

    def add_workflow(self, project_id: int, pools: list[Any], *, default: bool, request_id: str) -> int:
        """Store a created workflow; ids are sequential from 18000, like the documented sample."""
        with self._lock:
            workflow_id = self._next_workflow_id
            self._next_workflow_id += 1
            self._workflows[workflow_id] = {
                "projectId": project_id,
                "pools": copy.deepcopy(pools),
                "default": default,
                "requestId": request_id,
            }
        return workflow_id

    def add_project(self, project: Mapping[str, Any]) -> int:
        """Store a project; without a ``projectId`` it gets the next free one (from 1000)."""
        with self._lock:
            record = copy.deepcopy(dict(project))
            if "projectId" not in record:
                record["projectId"] = self._next_project_id
            self._projects[record["projectId"]] = record
            self._next_project_id = max(self._next_project_id, record["projectId"] + 1)
            return record["projectId"]

    def add_folder(self, folder: Mapping[str, Any]) -> int:
        """Store a folder under the next id (from 500)."""
        with self._lock:
            folder_id = self._next_folder_id
            self._next_folder_id += 1
            self._folders[folder_id] = {"folderId": folder_id, **copy.deepcopy(dict(folder))}
            return folder_id

    def add_task(self, task: Mapping[str, Any]) -> str:
        """Store a task under the next id: a numeric string above 2**53."""
        with self._lock:
            task_id = str(self._next_task_id)
            self._next_task_id += 1
            self._tasks[task_id] = {"taskId": task_id, **copy.deepcopy(dict(task))}
            return task_id

    def add_batch(self, batch: Mapping[str, Any]) -> str:
        """Store an import batch under the next id (`Settings.batch_id_format`: digits by default)."""
        with self._lock:
            batch_id = self.settings.batch_id_format.format(n=self._next_batch_id)
            self._next_batch_id += 1
            self._batches[batch_id] = {"batchId": batch_id, **copy.deepcopy(dict(batch))}
            return batch_id

    def add_dataset(self, dataset: Mapping[str, Any]) -> str:
        """Store a dataset under the next id (a numeric string, as the dataset pages show)."""
        with self._lock:
            dataset_id = str(self._next_dataset_id)
            self._next_dataset_id += 1
            self._datasets[dataset_id] = {"datasetId": dataset_id, **copy.deepcopy(dict(dataset))}
            return dataset_id

    def dataset(self, dataset_id: str) -> dict[str, Any] | None:
        return self._datasets.get(dataset_id)

    @property
    def datasets(self) -> dict[str, dict[str, Any]]:
        """A copy of the datasets by id (their mappings are generated when read, not stored)."""
        with self._lock:
            return copy.deepcopy(self._datasets)

    def set_task_status(
        self, task_id: str, status: Any, now_ms: int, *, complete_time_ms: int | None = None
    ) -> None:
        """Move a task to `status` (an int from 1 to 10, else ValueError); KeyError for an unknown task.
        Status 9 (complete) sets ``completeTime`` (`complete_time_ms`, else `now_ms`); others clear it."""
        if isinstance(status, bool) or not isinstance(status, int) or not 1 <= status <= 10:
            raise ValueError(f"a task status is an int from 1 to 10, not {status!r}")
        with self._lock:
            task = self._tasks[task_id]
            task["status"] = status
            task["updatedTime"] = now_ms
            completed = now_ms if complete_time_ms is None else complete_time_ms
            task["completeTime"] = completed if status == 9 else None

    def _settle(self) -> None:
        """Complete the tasks `Settings.complete_after_s` says are done by now. The caller holds the lock."""
        delay = self.settings.complete_after_s
        if delay is None:
            return
        now, delay_ms = self.now_ms(), int(delay * 1000)
        for task in self._tasks.values():
            due = task["createdTime"] + delay_ms
            if task["status"] < 9 and due <= now:
                task.update(status=9, updatedTime=due, completeTime=due)

    # -- reading (live objects: callers hold `locked`; properties below give copies)

    def project(self, project_id: int) -> dict[str, Any] | None:
        return self._projects.get(project_id)

    def task(self, task_id: str) -> dict[str, Any] | None:
        self._settle()
        return self._tasks.get(task_id)

    def batch(self, batch_id: str) -> dict[str, Any] | None:
        return self._batches.get(batch_id)

    def project_records(self) -> list[dict[str, Any]]:
        """Every project, seeded first, then in creation order (live objects)."""
        return list(self._projects.values())

    def project_named(self, name: str) -> dict[str, Any] | None:
        return next((p for p in self._projects.values() if p.get("name") == name), None)

    def folder_named(self, name: str) -> dict[str, Any] | None:
        return next((f for f in self._folders.values() if f.get("name") == name), None)

    def folder_exists(self, folder_id: int) -> bool:
        return folder_id in self._folders

    def workflow(self, workflow_id: int) -> dict[str, Any] | None:
        return self._workflows.get(workflow_id)

    def workflows_of(self, project_id: int) -> list[int]:
        """The project's workflow ids, oldest first."""
        return [wid for wid, wf in self._workflows.items() if wf["projectId"] == project_id]

    def tasks_of(self, project_id: int) -> list[dict[str, Any]]:
        """The project's tasks, oldest first (live objects)."""
        self._settle()
        return [t for t in self._tasks.values() if t["projectId"] == project_id]

    def over_rate(self, now: float) -> float | None:
        """Take one request's token from the rate limit's bucket at monotonic time `now`: None when
        the request may go on, else the whole seconds to ask the client to wait (`Retry-After`)."""
        rate = self.settings.rate_limit
        if rate is None:
            return None
        with self._lock:
            burst = max(1.0, rate)
            self._tokens = min(burst, self._tokens + (now - self._tokens_at) * rate)
            self._tokens_at = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return None
            return float(max(1, math.ceil((1.0 - self._tokens) / rate)))

    # -- faults and the request log

    def queue(self, faults: Iterable[Fault]) -> int:
        """Append faults to the FIFO queue; returns how many are pending."""
        with self._lock:
            self._faults.extend(copy.deepcopy(list(faults)))
            return len(self._faults)

    def clear_faults(self) -> int:
        """Drop every queued fault; returns how many were still queued."""
        with self._lock:
            left, self._faults = len(self._faults), []
            return left

    def take_fault(self, endpoint: str) -> Fault | None:
        """Consume one use of the first queued fault matching `endpoint`."""
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.matches(endpoint):
                    fault.times -= 1
                    if fault.times == 0:
                        del self._faults[index]
                    return _one_use(fault)
        return None

    def open_record(self, method: str, path: str, endpoint: str, headers: HeaderDict, body: bytes) -> dict:
        """Log a request on arrival, so even one never answered (dropped, slow) is visible."""
        record = {
            "method": method,
            "path": path,
            "endpoint": endpoint,
            "headers": headers,
            "body": body,
            "json": json_or_none(body),
            "fault": None,
            "requestId": None,
            "status": None,
            "code": None,
            "received_at": time.time(),
        }
        with self._lock:
            self._requests.append(record)
        return record

    def update_record(self, record: MutableMapping[str, Any], **values: Any) -> None:
        """Fill in a logged request's outcome (under the lock, as readers copy it concurrently)."""
        with self._lock:
            record.update(values)

    # -- copies for tests

    @property
    def workflows(self) -> dict[int, dict[str, Any]]:
        """A copy of the created workflows by id."""
        with self._lock:
            return copy.deepcopy(self._workflows)

    @property
    def projects(self) -> dict[int, dict[str, Any]]:
        """A copy of the projects (seeded and created) by id."""
        with self._lock:
            return copy.deepcopy(self._projects)

    @property
    def folders(self) -> dict[int, dict[str, Any]]:
        """A copy of the created folders by id."""
        with self._lock:
            return copy.deepcopy(self._folders)

    @property
    def tasks(self) -> dict[str, dict[str, Any]]:
        """A copy of the created tasks by id (numeric strings)."""
        with self._lock:
            return copy.deepcopy(self._tasks)

    @property
    def batches(self) -> dict[str, dict[str, Any]]:
        """A copy of the import batches by id."""
        with self._lock:
            return copy.deepcopy(self._batches)

    @property
    def requests(self) -> list[dict[str, Any]]:
        """A copy of the platform request log, oldest first."""
        with self._lock:
            return copy.deepcopy(self._requests)

    @property
    def pending_faults(self) -> list[Fault]:
        """A copy of the faults not yet used up."""
        with self._lock:
            return copy.deepcopy(self._faults)

    def reset(self) -> None:
        """Forget everything created, the requests and the faults; seeded projects come back and
        ids restart. Settings are kept."""
        with self._lock:
            self._requests.clear()
            self._faults.clear()
            self._clear_objects()

    def snapshot(self) -> dict[str, Any]:
        """Everything, JSON-ready, for ``GET /_emulator/state`` (bodies decoded as UTF-8 text).

        The control plane is unauthenticated, so a fresh X-SIGN (replayable within the signature
        window) is redacted here; in-process `requests` keeps it for tests that check signing.
        """
        with self._lock:
            requests = self.requests
            objects = {
                "workflows": {str(k): v for k, v in self.workflows.items()},
                "projects": {str(k): v for k, v in self.projects.items()},
                "folders": {str(k): v for k, v in self.folders.items()},
                "tasks": self.tasks,
                "batches": self.batches,
                "datasets": self.datasets,
            }
            faults = [f.to_dict() for f in self.pending_faults]
        for record in requests:
            record["body"] = record["body"].decode("utf-8", errors="replace")
            record["headers"] = redact_headers(record["headers"])
        return {**objects, "requests": requests, "faults": faults}


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of recorded headers with the signature replaced by `REDACTED`."""
    secret = SIGNATURE_HEADER.lower()
    return {name: REDACTED if name.lower() == secret else value for name, value in headers.items()}


def _one_use(fault: Fault) -> Fault:
    """A copy of `fault` describing the single use just taken (for the request log)."""
    taken = copy.deepcopy(fault)
    taken.times = 1
    return taken


def json_or_none(body: bytes) -> Any:
    """The parsed JSON body, or None when there is none or it is not JSON."""
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


class SignatureLog:
    """The signatures accepted within the signature window: the same X-SIGN again is a replay
    (someone resending captured headers), refused like an expired signature."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, int] = {}  # X-SIGN -> when it was first accepted (ms), oldest first

    def replayed(self, sign: str, now_ms: int, window_s: float) -> bool:
        """Whether `sign` was accepted before within the window; remembers it otherwise."""
        with self._lock:
            horizon = now_ms - window_s * 1000
            while self._seen:
                oldest = next(iter(self._seen))
                if self._seen[oldest] >= horizon:
                    break
                del self._seen[oldest]
            if sign in self._seen:
                return True
            self._seen[sign] = now_ms
            return False
