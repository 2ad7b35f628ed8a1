"""Every documented endpoint of the platform's 2024 API generation, each as one value, and the
API versions they come in.

An `Endpoint` says everything a caller needs: how to call it (method, path), what calling it does
(`Effect.READ` or `Effect.CREATE`), the most its answer may hold, and for a create the key of the id
its answer must carry. Retries follow the effect, not the HTTP method: almost every read on this
platform is a POST, and re-sending a read is harmless while re-sending a create may duplicate. The
hooks enforce the success rule from these values for every call (`envelope.check_created`).
"""

from __future__ import annotations

import dataclasses
import reprlib
from dataclasses import dataclass
from enum import Enum
from urllib.parse import quote

from airflow_provider_annotation.exceptions import AnnotationInputError

__all__ = [
    "ALL_ENDPOINTS",
    "API_VERSIONS",
    "API_VERSION_2024_07",
    "API_VERSION_2024_08",
    "DEFAULT_API_VERSION",
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
    "CreatedId",
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
    "TASK_CALLBACK",
    "TASK_SEND_STATUS",
    "WORKFLOW_POOLS_KEY",
    "WORKFLOW_VERTEX_KEY",
    "api_version_problem",
    "by_path",
    "check_api_version",
    "create_workflow_endpoint",
    "uncatalogued",
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


class CreatedId(str, Enum):
    """What the id a create answers with must be (`envelope.check_created`)."""

    #: A positive 64-bit integer (``workflowId``, ``projectId``, ``folderId``).
    LONG = "long"
    #: An opaque string id (``batchId``), sent back as it came.
    TEXT = "text"
    #: A string id that some platforms send as an integer (``datasetId``): taken as its digits.
    TEXT_OR_LONG = "text-or-long"


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
    #: A create's success must carry its new object's id under this key in `data`; without it the
    #: answer is "may have taken effect" (`envelope.check_created`), whoever made the call.
    created_key: str | None = None
    #: What that id must be.
    created_id: CreatedId = CreatedId.LONG

    @property
    def is_read(self) -> bool:
        return self.effect is Effect.READ

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    def at(self, **values: object) -> Endpoint:
        """This endpoint with the ``{name}`` parts of its path filled in (each value URL-quoted),
        for the endpoints that take an id in the path (`TASK_CALLBACK`)."""
        return dataclasses.replace(
            self, path=self.path.format(**{k: quote(str(v), safe="") for k, v in values.items()})
        )


#: Create Workflow as its July 2024 page documents it: ``{"projectId", "workflow": {"pools"}}``.
CREATE_WORKFLOW = Endpoint("POST", "/annotation/workflow/create", Effect.CREATE, created_key="workflowId")
#: Create Workflow as documented from August 2024: the same body with ``workflow.vertex``.
CREATE_WORKFLOW_2024_08 = Endpoint("POST", "/workflow/create", Effect.CREATE, created_key="workflowId")
PROJECT_CREATE = Endpoint("POST", "/project/create", Effect.CREATE, created_key="projectId")
FOLDER_CREATE = Endpoint("POST", "/folder/create", Effect.CREATE, created_key="folderId")
#: Makes one task per data id: its answer lists them (`project.read_annotation_result`), no one id.
ANNOTATION_REQUEST = Endpoint("POST", "/annotation/request", Effect.CREATE)
TASK_SEND = Endpoint("POST", "/task/send", Effect.CREATE, created_key="batchId", created_id=CreatedId.TEXT)
#: Import a dataset from cloud storage (asynchronous: poll `DATASET_STATUS`).
DATASET_IMPORT = Endpoint(
    "POST", "/dataset/import/async", Effect.CREATE, created_key="datasetId", created_id=CreatedId.TEXT_OR_LONG
)
#: Upload a zip as a multipart form; answers like `DATASET_STATUS`, mapping list included.
DATASET_UPLOAD = Endpoint(
    "POST",
    "/dataset/upload/sync",
    Effect.CREATE,
    max_answer_bytes=DATASET_STATUS_ANSWER_LIMIT,
    spooled=True,
    created_key="datasetId",
    created_id=CreatedId.TEXT_OR_LONG,
)

#: One project's info, by ``?projectId=``: the API's only GET endpoint.
PROJECT_GET = Endpoint("GET", "/project/get", Effect.READ)
#: Project list, paged: also the cheap call that tests a connection.
PROJECT_LIST = Endpoint("POST", "/project/list", Effect.READ)
ANNOTATION_STAT = Endpoint("POST", "/annotation/stat", Effect.READ)
TASK_SEND_STATUS = Endpoint("POST", "/task/send/status", Effect.READ)
TASK_GET = Endpoint("POST", "/task/get", Effect.READ)
#: Send a task's callback again (``tasks/callbacks/re-sending.md``), the task id in the path
#: (`Endpoint.at`). It changes nothing on the platform: an answer lost is sent again, and the
#: receiver gets the callback once more, which is what re-sending means.
TASK_CALLBACK = Endpoint("POST", "/task/{taskId}/callback", Effect.READ)
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
    TASK_CALLBACK,
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


#: Methods the HTTP spec calls safe: an uncatalogued call with one of them is treated as a read.
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def by_path(path: str, method: str | None = None) -> Endpoint | None:
    """The catalogued endpoint with this path (and `method`, when given), or None; a path without
    its leading slash and a method in any case are taken as meant."""
    path = path if path.startswith("/") else "/" + path
    method = method.upper() if method is not None else None
    for endpoint in ALL_ENDPOINTS:
        if endpoint.path == path and method in (None, endpoint.method):
            return endpoint
    return None


def uncatalogued(method: str, path: str) -> Endpoint:
    """An endpoint this module does not list: a create unless `method` is safe (GET, HEAD,
    OPTIONS), because re-sending an unknown create could duplicate."""
    method = method.upper()
    path = path if path.startswith("/") else "/" + path
    return Endpoint(method, path, Effect.READ if method in _SAFE_METHODS else Effect.CREATE)


# --- API versions ----------------------------------------------------------------------------

#: The seed page's generation (``/annotation/workflow/create``, ``workflow.pools``) ...
API_VERSION_2024_07 = "2024-07"
#: ... and the docs from August 2024 on (``/workflow/create``, ``workflow.vertex``).
API_VERSION_2024_08 = "2024-08"
API_VERSIONS = (API_VERSION_2024_07, API_VERSION_2024_08)
DEFAULT_API_VERSION = API_VERSION_2024_07

_short = reprlib.Repr()
_short.maxstring = 40
_short.maxother = 40


def api_version_problem(value: object) -> str | None:
    """Why `value` is not an API version, or None: the one rule for the connection extra, the
    operators' and the model's arguments."""
    if value in API_VERSIONS and isinstance(value, str):
        return None
    return f"expected one of {', '.join(API_VERSIONS)}, got {type(value).__name__} {_short.repr(value)}"


def check_api_version(value: object, where: str = "api_version") -> str:
    """`value` when it is one of `API_VERSIONS`, else an `AnnotationInputError` naming `where`."""
    problem = api_version_problem(value)
    if problem is not None:
        raise AnnotationInputError(f"{where}: {problem}")
    return str(value)


def create_workflow_endpoint(api_version: str) -> Endpoint:
    """Create Workflow's endpoint in `api_version`."""
    return (
        CREATE_WORKFLOW_2024_08 if check_api_version(api_version) == API_VERSION_2024_08 else CREATE_WORKFLOW
    )
