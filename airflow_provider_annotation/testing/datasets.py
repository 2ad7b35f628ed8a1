"""The emulator's dataset endpoints, stated from the docs' ``datasets/*.md`` pages (adf3f38) on their
own: literal paths, the emulator's own checks, no client constants.

- ``POST /dataset/import/async`` (JSON): ``resourceUrl`` (``gs://``/``s3://``... with a bucket),
  ``fileTreeType`` (0, as an int or a string: the docs say both), ``dataType`` (2 or 3), ``name``
  (1-60 bytes) → ``{datasetId, status: 1}``.
- ``POST /dataset/upload/sync`` (multipart form): ``uploadFile`` (a zip under 100 MB: 5707 empty,
  5708 too large, 5709 not a zip), the same three fields → the status answer, READY at once.
- ``GET /dataset/status?datasetId=`` → ``{status, datasetId, mappingList: [{dataId, sceneId}]}``;
  5308 for an unknown dataset.

An imported dataset is BUILDING (1) until its `Settings.dataset_reads_until_ready`-th status read,
then READY (2), or ERROR (-1) when its ``resourceUrl`` contains ``broken`` (with a ``message``: the
docs name no error field, so this one is the emulator's guess). Its mapping has
`Settings.dataset_scenes` entries (``sceneId`` ``scene-0000001``..., ``dataId`` from 700000000001),
generated when read, so a million-scene dataset costs nothing until asked for.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

#: The paths as the docs print them.
IMPORT_PATH = "/dataset/import/async"
UPLOAD_PATH = "/dataset/upload/sync"
STATUS_PATH = "/dataset/status"
#: "less than 100MB": the emulator refuses 100,000,000 bytes and more.
UPLOAD_LIMIT = 100_000_000
FIRST_DATA_ID = 700_000_000_001
BUILDING, READY, ERROR = 1, 2, -1
#: The error an ERROR dataset reports (no field is documented: the emulator's choice).
ERROR_MESSAGE = "File tree misalignment, refer to API doc for correction"
CLOUD = ("gs://", "s3://", "oss://", "cos://", "obs://")

__all__ = [
    "IMPORT_PATH",
    "STATUS_PATH",
    "UPLOAD_PATH",
    "dataset_status",
    "form_fields",
    "import_dataset",
    "mapping_entries",
    "render",
    "status_body",
    "upload_dataset",
]


def _name_ok(value: Any) -> bool:
    return (
        isinstance(value, str)
        and 0 < len(value.encode("utf-8", "surrogatepass")) <= 60
        and bool(value.strip())
    )


def _int_field(value: Any) -> int | None:
    """An int from JSON or a form (the docs give fileTreeType as a string once, an integer once)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _fields_ok(payload: dict[str, Any]) -> bool:
    return (
        _int_field(payload.get("fileTreeType")) in (0, 1)
        and _int_field(payload.get("dataType")) in (2, 3)
        and _name_ok(payload.get("name"))
    )


def import_dataset(state: Any, payload: dict[str, Any], request_id: str) -> tuple[int, Any]:
    """``POST /dataset/import/async``: a BUILDING dataset (READY at once with 0 reads to wait)."""
    url = payload.get("resourceUrl")
    if not isinstance(url, str) or not url.startswith(CLOUD) or len(url.split("://", 1)[1].strip("/")) == 0:
        return 400, None
    if not _fields_ok(payload):
        return 400, None
    final = ERROR if "broken" in url else READY
    reads = state.settings.dataset_reads_until_ready
    record = {
        "resourceUrl": url,
        "name": payload["name"],
        "dataType": _int_field(payload["dataType"]),
        "fileTreeType": _int_field(payload["fileTreeType"]),
        "status": BUILDING if reads else final,
        "finalStatus": final,
        "readsLeft": reads,
        "scenes": state.settings.dataset_scenes,
        "requestId": request_id,
    }
    dataset_id = state.add_dataset(record)
    return 200, {"datasetId": dataset_id, "status": record["status"]}


def upload_dataset(state: Any, payload: dict[str, Any], request_id: str) -> tuple[int, Any]:
    """``POST /dataset/upload/sync``: a zip under 100 MB becomes a READY dataset."""
    upload = payload.get("uploadFile")
    if not isinstance(upload, bytes) or not _fields_ok(payload):
        return 400, None
    if not upload:
        return 5707, None
    if len(upload) >= UPLOAD_LIMIT:
        return 5708, None
    if not upload.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return 5709, None
    record = {
        "name": payload["name"],
        "dataType": _int_field(payload["dataType"]),
        "fileTreeType": _int_field(payload["fileTreeType"]),
        "uploadSize": len(upload),
        "status": READY,
        "finalStatus": READY,
        "readsLeft": 0,
        "scenes": state.settings.dataset_scenes,
        "requestId": request_id,
    }
    dataset_id = state.add_dataset(record)
    return 200, status_body(dataset_id, record)


def dataset_status(state: Any, query: dict[str, Any], request_id: str) -> tuple[int, Any]:
    """``GET /dataset/status``: the status, counting this read, and the mapping once READY."""
    dataset_id = query.get("datasetId")
    if not isinstance(dataset_id, str) or not dataset_id:
        return 400, None
    with state.locked():
        record = state.dataset(dataset_id)
        if record is None:
            return 5308, None
        if record["readsLeft"] > 0:
            record["readsLeft"] -= 1
            if record["readsLeft"] == 0:
                record["status"] = record["finalStatus"]
        return 200, status_body(dataset_id, dict(record))


def mapping_entries(count: int) -> Iterator[dict[str, str]]:
    """The mapping of a dataset of `count` scenes, generated."""
    for index in range(count):
        yield {"dataId": str(FIRST_DATA_ID + index), "sceneId": f"scene-{index + 1:07d}"}


def status_body(dataset_id: str, record: dict[str, Any]) -> dict[str, Any]:
    """The status answer's data; the mapping only once READY."""
    data: dict[str, Any] = {"status": record["status"], "datasetId": dataset_id}
    if record["status"] == ERROR:
        data["message"] = ERROR_MESSAGE
        data["mappingList"] = []
    elif record["status"] == READY:
        data["mappingList"] = LazyMapping(record["scenes"])
    else:
        data["mappingList"] = []
    return data


class LazyMapping:
    """A dataset's mapping list, generated when the answer is rendered (`render`)."""

    def __init__(self, count: int) -> None:
        self.count = count


def render(envelope: dict[str, Any]) -> bytes | None:
    """The JSON of an envelope whose data holds a `LazyMapping`, written a block of entries at a
    time (as compact as FastAPI's JSONResponse); None for any other envelope."""
    data = envelope.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("mappingList"), LazyMapping):
        return None
    count = data["mappingList"].count
    marker = "\x00mapping\x00"
    text = json.dumps(
        {**envelope, "data": {**data, "mappingList": marker}}, ensure_ascii=False, separators=(",", ":")
    )
    head, tail = text.split(json.dumps(marker), 1)
    out = io.BytesIO()
    out.write(head.encode() + b"[")
    block = 10_000
    for start in range(0, count, block):
        entries = (
            f'{{"dataId":"{FIRST_DATA_ID + i}","sceneId":"scene-{i + 1:07d}"}}'
            for i in range(start, min(count, start + block))
        )
        out.write((("," if start else "") + ",".join(entries)).encode())
    out.write(b"]" + tail.encode())
    return out.getvalue()


def form_fields(content_type: str | None, body: bytes) -> dict[str, Any] | None:
    """The fields of a ``multipart/form-data`` body: text fields as str, a file field as bytes;
    None when the body is not such a form."""
    if not content_type or not content_type.lower().startswith("multipart/form-data"):
        return None
    boundary = None
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "boundary":
            boundary = value.strip('"')
    if not boundary:
        return None
    delimiter = b"--" + boundary.encode("latin-1")
    fields: dict[str, Any] = {}
    pieces = body.split(delimiter)
    if len(pieces) < 3 or not pieces[-1].startswith(b"--"):
        return None
    for piece in pieces[1:-1]:
        if not piece.startswith(b"\r\n") or not piece.endswith(b"\r\n"):
            return None
        head, sep, content = piece[2:-2].partition(b"\r\n\r\n")
        if not sep:
            return None
        name, filename = None, None
        for line in head.decode("latin-1").split("\r\n"):
            if line.lower().startswith("content-disposition:"):
                for param in line.split(";")[1:]:
                    key, _, value = param.strip().partition("=")
                    if key == "name":
                        name = value.strip('"')
                    elif key == "filename":
                        filename = value.strip('"')
        if name is None:
            return None
        fields[name] = content if filename is not None else content.decode("utf-8", "replace")
    return fields
