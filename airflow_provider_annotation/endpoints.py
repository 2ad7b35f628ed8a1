"""Every documented endpoint of the platform's 2024 API generation, each as one value.

An `Endpoint` says how to call it (method, path) and what calling it does (`Effect.READ` or
`Effect.CREATE`). Retries follow the effect, not the HTTP method: almost every read on this
platform is a POST, and re-sending a read is harmless while re-sending a create may duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = [
    "ALL_ENDPOINTS",
    "ENVELOPE_ANSWER_LIMIT",
    "EXPORT_ANSWER_LIMIT",
    "ANNOTATION_REQUEST",
    "ANNOTATION_STAT",
    "CREATE_WORKFLOW",
    "CREATE_WORKFLOW_2024_08",
    "DATASET_IMPORT",
    "DATASET_STATUS",
    "DATASET_STATUS_ANSWER_LIMIT",
    "DATASET_UPLOAD",
    "Effect",
    "Endpoint",
    "FOLDER_CREATE",
    "PROJECT_CREATE",
    "PROJECT_GET",
    "PROJECT_LIST",
    "PROJECT_TASKS",
    "TASKS_EXPORT",
    "TASK_GET",
    "TASK_SEND",
    "TASK_SEND_STATUS",
    "WORKFLOW_POOLS_KEY",
    "WORKFLOW_VERTEX_KEY",
    "by_path",
]


#: The most bytes (after decompression) an answer may have: an envelope is small, so a few MiB is
#: generous, and a bigger answer is cut off instead of filling a worker's memory.
ENVELOPE_ANSWER_LIMIT = 4 * 1024 * 1024
#: The export endpoint returns annotation results in bulk: its own, larger limit.
EXPORT_ANSWER_LIMIT = 256 * 1024 * 1024
#: A dataset's status lists one mapping entry per scene (~50 bytes each): room for millions, spooled
#: to disk as it arrives (`Endpoint.spooled`), never held in memory.
DATASET_STATUS_ANSWER_LIMIT = 1024 * 1024 * 1024


class Effect(str, Enum):
    """What one call does on the platform."""

    #: Changes nothing: a lost answer may be re-sent.
    READ = "read"
    #: Makes something: a lost answer may hide a new object, so it is never re-sent by default.
    CREATE = "create"


@dataclass(frozen=True)
class Endpoint:
    """One endpoint: ``Endpoint("POST", "/project/list", Effect.READ)``."""

    method: str
    path: str
    effect: Effect
    #: Answers larger than this (decompressed) are refused with a typed error.
    max_answer_bytes: int = ENVELOPE_ANSWER_LIMIT
    #: The answer goes to a spooled file as it arrives and is read from there one value at a time
    #: (`datasets.judge_budget`): for answers that may be far larger than an envelope.
    spooled: bool = False

    @property
    def is_read(self) -> bool:
        return self.effect is Effect.READ

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


#: Create Workflow as its July 2024 page documents it: ``{"projectId", "workflow": {"pools"}}``.
CREATE_WORKFLOW = Endpoint("POST", "/annotation/workflow/create", Effect.CREATE)
#: Create Workflow as documented from August 2024: the same body with ``workflow.vertex``.
CREATE_WORKFLOW_2024_08 = Endpoint("POST", "/workflow/create", Effect.CREATE)
PROJECT_CREATE = Endpoint("POST", "/project/create", Effect.CREATE)
FOLDER_CREATE = Endpoint("POST", "/folder/create", Effect.CREATE)
ANNOTATION_REQUEST = Endpoint("POST", "/annotation/request", Effect.CREATE)
TASK_SEND = Endpoint("POST", "/task/send", Effect.CREATE)
#: Import a dataset from cloud storage (asynchronous: poll `DATASET_STATUS`).
DATASET_IMPORT = Endpoint("POST", "/dataset/import/async", Effect.CREATE)
#: Upload a zip as a multipart form; answers like `DATASET_STATUS`, mapping list included.
DATASET_UPLOAD = Endpoint(
    "POST", "/dataset/upload/sync", Effect.CREATE, max_answer_bytes=DATASET_STATUS_ANSWER_LIMIT, spooled=True
)

#: One project's info, by ``?projectId=``: the API's only GET endpoint.
PROJECT_GET = Endpoint("GET", "/project/get", Effect.READ)
#: Project list, paged: also the cheap call that tests a connection.
PROJECT_LIST = Endpoint("POST", "/project/list", Effect.READ)
ANNOTATION_STAT = Endpoint("POST", "/annotation/stat", Effect.READ)
TASK_SEND_STATUS = Endpoint("POST", "/task/send/status", Effect.READ)
TASK_GET = Endpoint("POST", "/task/get", Effect.READ)
PROJECT_TASKS = Endpoint("POST", "/project/tasks", Effect.READ)
TASKS_EXPORT = Endpoint("POST", "/tasks/export", Effect.READ, max_answer_bytes=EXPORT_ANSWER_LIMIT)
#: A dataset's status and scene → data mapping, by ``?datasetId=``.
DATASET_STATUS = Endpoint(
    "GET", "/dataset/status", Effect.READ, max_answer_bytes=DATASET_STATUS_ANSWER_LIMIT, spooled=True
)

ALL_ENDPOINTS: tuple[Endpoint, ...] = (
    CREATE_WORKFLOW,
    CREATE_WORKFLOW_2024_08,
    PROJECT_CREATE,
    FOLDER_CREATE,
    ANNOTATION_REQUEST,
    TASK_SEND,
    PROJECT_GET,
    PROJECT_LIST,
    ANNOTATION_STAT,
    TASK_SEND_STATUS,
    TASK_GET,
    PROJECT_TASKS,
    TASKS_EXPORT,
    DATASET_IMPORT,
    DATASET_UPLOAD,
    DATASET_STATUS,
)

#: The key under ``workflow`` holding the list of pools (July 2024) ...
WORKFLOW_POOLS_KEY = "pools"
#: ... and the same list under its August 2024 name.
WORKFLOW_VERTEX_KEY = "vertex"


def by_path(path: str) -> Endpoint | None:
    """The catalogued endpoint with this path, or None."""
    for endpoint in ALL_ENDPOINTS:
        if endpoint.path == path:
            return endpoint
    return None
