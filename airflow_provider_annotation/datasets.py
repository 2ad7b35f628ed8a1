"""Datasets: the bodies of the three dataset endpoints, their checks, and how their answers are judged.

Pure: no Airflow, no HTTP library. The import and upload bodies are checked here before anything is
sent (every problem at once, each naming its argument); the status answer, whose ``mappingList``
holds one entry per scene (a million scenes make a ~60 MB answer), is judged from a spooled file
and its mapping read one entry at a time (`mapping`), so neither the hook nor an operator ever
holds the whole list.

What the docs (``datasets/*.md`` at ``adf3f38``) left open, and how it is settled here:
- ``datasetId`` is a string on these pages and a long in ``/annotation/request``: it is kept as the
  string the platform sent; `project.annotation_request_body` turns a string of digits into a long.
- ``fileTreeType`` is a string on the import page and an integer on the upload page (and in the
  ``metadata.json`` sample): it is sent as an integer (a multipart field is text either way).
- ``mappingList`` may be huge: see above. The documented sample repeats a ``dataId`` for two
  scenes, so repeated data ids are allowed; repeated scene ids are not.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import IntEnum
from typing import IO, Any
from urllib.parse import urlsplit

from airflow_provider_annotation.endpoints import Endpoint
from airflow_provider_annotation.envelope import AnswerBudget, created_text_id, judge_answer
from airflow_provider_annotation.exceptions import AnnotationInputProblemsError, AnnotationResponseError
from airflow_provider_annotation.mapping import (
    DatasetMapping,
    MappingError,
    MappingWriter,
    scan_status_answer,
    spooled,
)
from airflow_provider_annotation.project import DataType, _to_data_type
from airflow_provider_annotation.redaction import scrub
from airflow_provider_annotation.validation import Problems, describe_value, is_int

__all__ = [
    "CLOUD_SCHEMES",
    "FILE_TREE_TYPES",
    "MAX_DATASET_NAME_BYTES",
    "MAX_UPLOAD_BYTES",
    "DatasetState",
    "DatasetStatus",
    "MultipartBody",
    "dataset_message",
    "import_body",
    "upload_fields",
]

MAX_DATASET_NAME_BYTES = 60
#: "the file size should be less than 100MB": the stricter reading (10**8 bytes, not 100 MiB), so a
#: file the platform might refuse (5708) is refused here, before 100 MB travel.
MAX_UPLOAD_BYTES = 100 * 1000 * 1000
#: Documented: 0 (sensor oriented). 1 (scene oriented) is in the docs' source, commented out.
FILE_TREE_TYPES = (0, 1)
#: URL schemes of cloud storage: the docs show ``gs://bucket-name/``, and mention S3-protocol storage.
CLOUD_SCHEMES = ("gs", "s3", "oss", "cos", "obs")
#: A zip file starts with a local file header (or is an empty archive).
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
#: Where a failed dataset's reason may be: the docs name no field.
_REASON_KEYS = ("message", "errorMessage", "error", "reason")
#: What `envelope.judge_answer` gets of a spooled body that is not JSON (it shows a bounded snippet).
_HEAD_BYTES = 64 * 1024


class DatasetStatus(IntEnum):
    """A dataset's ``status`` in ``/dataset/status``."""

    BUILDING = 1
    READY = 2
    ERROR = -1


# --- bodies --------------------------------------------------------------------------------


def _common(name: object, data_type: object, file_tree_type: object, problems: Problems) -> dict[str, Any]:
    """``fileTreeType``, ``dataType`` and ``name``, the fields both creates share."""
    fields: dict[str, Any] = {}
    tree = file_tree_type
    if isinstance(tree, str) and tree.strip().isdigit():
        tree = int(tree.strip())
    if isinstance(tree, bool) or tree not in FILE_TREE_TYPES:
        problems.append(
            "file_tree_type: expected 0 (sensor oriented) or 1 (scene oriented), "
            f"got {describe_value(file_tree_type)}"
        )
    fields["fileTreeType"] = tree
    fields["dataType"] = problems.collect(lambda: _to_data_type(data_type))
    if not isinstance(name, str) or not name.strip():
        problems.append(f"name: expected a non-empty string, got {describe_value(name)}")
    else:
        size = len(name.encode("utf-8", errors="surrogatepass"))
        if size > MAX_DATASET_NAME_BYTES:
            problems.append(
                f"name: {size} bytes of UTF-8, over the platform's {MAX_DATASET_NAME_BYTES}: "
                f"{describe_value(name)}"
            )
    fields["name"] = name
    return fields


def import_body(
    resource_url: object, *, name: object, data_type: object, file_tree_type: object = 0
) -> dict[str, Any]:
    """The Import Dataset body ``{"resourceUrl", "fileTreeType", "dataType", "name"}``, checked.

    `resource_url` must be a cloud-storage URL with a bucket (``gs://bucket/prefix/``): the platform
    reads it from its side, so a local path or an http URL cannot work.
    """
    problems = Problems()
    body: dict[str, Any] = {"resourceUrl": resource_url}
    if not isinstance(resource_url, str) or not resource_url.strip():
        problems.append(
            "resource_url: expected a cloud-storage URL like gs://bucket/prefix/, "
            f"got {describe_value(resource_url)}"
        )
    else:
        url = resource_url.strip()
        parts = urlsplit(url)
        if parts.scheme.lower() not in CLOUD_SCHEMES or not parts.netloc:
            problems.append(
                "resource_url: expected a cloud-storage URL "
                f"({', '.join(s + '://bucket/...' for s in CLOUD_SCHEMES)}), "
                f"got {describe_value(resource_url)}"
            )
        body["resourceUrl"] = url
    body.update(_common(name, data_type, file_tree_type, problems))
    problems.raise_all()
    return body


def upload_fields(
    size: int | None,
    head: bytes | None,
    where: str,
    *,
    name: object,
    data_type: object,
    file_tree_type: object = 0,
) -> dict[str, Any]:
    """The Upload Dataset form fields besides the file, checked with the file's `size` and first
    bytes `head` (None: the file is missing; `where` says which)."""
    problems = Problems()
    if size is None or head is None:
        problems.append(f"path: no such file: {describe_value(where)}")
    elif size == 0:
        problems.append(f"path: the file is empty: {describe_value(where)}")
    elif size >= MAX_UPLOAD_BYTES:
        problems.append(
            f"path: {size} bytes, the platform takes a zip of less than 100 MB ({MAX_UPLOAD_BYTES} bytes); "
            "import it from cloud storage instead (ImportDatasetOperator)"
        )
    elif not head.startswith(_ZIP_MAGIC):
        problems.append(f"path: not a zip file (it does not start with PK): {describe_value(where)}")
    fields = _common(name, data_type, file_tree_type, problems)
    problems.raise_all()
    return fields


def to_dataset_id(value: object, field: str = "dataset_id") -> str:
    """A dataset id as the string the dataset pages document (an int is accepted, never a float)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
        raise AnnotationInputProblemsError(
            f"{field}: expected a non-empty string (or an integer), got {describe_value(value)}"
        )
    text = str(value).strip()
    if len(text) > 100 or not text.isprintable():
        raise AnnotationInputProblemsError(f"{field}: not a dataset id: {describe_value(value)}")
    return text


class MultipartBody:
    """A ``multipart/form-data`` body read from the file as it is sent, never all in memory.

    Its length is known in advance (so it goes with a Content-Length, not chunked), and `opener`
    is called once per send, so a re-sent attempt starts again from the file's first byte.
    """

    _CHUNK = 256 * 1024

    def __init__(
        self,
        fields: dict[str, Any],
        file_field: str,
        filename: str,
        size: int,
        opener: Callable[[], IO[bytes]],
    ) -> None:
        self.boundary = "annotation-" + secrets.token_hex(16)
        self._size = size
        self._opener = opener
        head = b"".join(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
            for key, value in fields.items()
        )
        safe_name = filename.replace('"', "%22").replace("\r", "").replace("\n", "")
        head += (
            f"--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="{file_field}"; filename="{safe_name}"\r\n'
            "Content-Type: application/zip\r\n\r\n"
        ).encode()
        self._head = head
        self._tail = f"\r\n--{self.boundary}--\r\n".encode()

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return len(self._head) + self._size + len(self._tail)

    def __iter__(self) -> Iterator[bytes]:
        yield self._head
        sent = 0
        with self._opener() as file:
            while True:
                chunk = file.read(self._CHUNK)
                if not chunk:
                    break
                sent += len(chunk)
                if sent > self._size:
                    raise OSError(f"the file grew while it was being sent (over {self._size} bytes)")
                yield chunk
        if sent != self._size:
            raise OSError(f"the file changed while it was being sent ({sent} of {self._size} bytes)")
        yield self._tail


# --- the status answer ---------------------------------------------------------------------


@dataclass
class DatasetState:
    """What ``/dataset/status`` says: the status, the dataset id, the mapping (empty unless READY),
    and the platform's reason when it gives one (scrubbed, cut)."""

    status: int
    dataset_id: str
    mapping: DatasetMapping
    message: str | None = None

    @property
    def is_building(self) -> bool:
        return self.status == DatasetStatus.BUILDING


def dataset_message(data: Any) -> str | None:
    """The platform's reason for a failed dataset, scrubbed and cut; the docs name no field, so
    any of ``message``, ``errorMessage``, ``error``, ``reason`` that is text."""
    if not isinstance(data, dict):
        return None
    for key in _REASON_KEYS:
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return scrub(value)
    return None


def judge_budget(
    endpoint: Endpoint,
    status: int,
    headers: Any,
    budget: AnswerBudget,
    secrets: tuple[str, ...],
    *,
    keep_mapping: bool = False,
) -> tuple[Any, str | None]:
    """`envelope.judge_answer` for an answer in memory or spooled (`Endpoint.spooled`); both
    hooks call this. A spooled answer is judged on its envelope with ``mappingList`` replaced by its
    count; with `keep_mapping`, a success's ``mappingList`` becomes a checked `DatasetMapping`
    (a mapping that breaks the documented shape is `AnnotationResponseError`)."""
    if budget.file is None:
        return judge_answer(endpoint, status, headers, budget.body, secrets)
    file = budget.file
    try:
        small = scan_status_answer(file, None)
        if small is None:
            file.seek(0)
            small = file.read(_HEAD_BYTES)
        data, request_id = judge_answer(endpoint, status, headers, small, secrets)
        if isinstance(data, dict):  # the reason of an ERROR dataset is server text: scrubbed here,
            for key in _REASON_KEYS:  # where this attempt's secrets are known
                if isinstance(data.get(key), str):
                    data[key] = scrub(data[key], secrets)
        if keep_mapping and isinstance(data, dict) and isinstance(data.get("mappingList"), int):
            writer = MappingWriter()
            scan_status_answer(file, writer)
            try:
                data["mappingList"] = writer.finish()
            except MappingError as err:
                raise AnnotationResponseError(
                    str(err), endpoint=endpoint.path, method=endpoint.method, request_id=request_id
                ) from None
        return data, request_id
    finally:
        file.close()


def read_dataset_state(data: Any, endpoint: Endpoint, request_id: str | None) -> DatasetState:
    """A `DatasetState` from a status answer's data (the mapping kept by `judge_budget`); a status
    outside 1, 2, -1 is an answer the platform does not give."""
    where: dict[str, Any] = {"endpoint": endpoint.path, "method": endpoint.method, "request_id": request_id}
    mapping = data.get("mappingList") if isinstance(data, dict) else None
    if not isinstance(mapping, DatasetMapping):
        mapping = DatasetMapping(spooled(), 0)
    if not isinstance(data, dict):
        raise AnnotationResponseError(
            f"the dataset answer is {scrub(describe_value(data))}, not an object", **where
        )
    status = data.get("status")
    if isinstance(status, bool) or status not in tuple(DatasetStatus):
        mapping.close()
        raise AnnotationResponseError(
            f"dataset status is {scrub(repr(status), limit=40)}, not 1 (building), 2 (ready) or -1 (error)",
            **where,
        )
    raw = data.get("datasetId")
    dataset_id = scrub(raw, limit=100) if isinstance(raw, str) or is_int(raw) else ""
    return DatasetState(int(status), dataset_id, mapping, dataset_message(data))


def created_dataset_id(endpoint: Endpoint, data: Any, request_id: str | None) -> str:
    """The ``datasetId`` a create answered: a string (as documented) or an int sent as one."""
    if isinstance(data, dict) and is_int(data.get("datasetId")):
        data = {**data, "datasetId": str(data["datasetId"])}
    return created_text_id(endpoint, data, "datasetId", request_id)


def local_size_and_head(path: str | os.PathLike[str]) -> tuple[int | None, bytes | None]:
    """A local file's size and first 4 bytes, (None, None) when it is not a readable file."""
    try:
        with open(path, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            return size, file.read(4)
    except (OSError, ValueError):
        return None, None


__all__ += [
    "DataType",
    "created_dataset_id",
    "judge_budget",
    "local_size_and_head",
    "read_dataset_state",
    "to_dataset_id",
]
