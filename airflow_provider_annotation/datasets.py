"""Datasets: the bodies of the three dataset endpoints, their checks, and the status answer read
with flat memory.

Pure: no Airflow, no HTTP library. The import and upload bodies are checked here before anything is
sent (every problem at once, each naming its argument); the status answer, whose ``mappingList``
holds one entry per scene (a million scenes make a ~50 MB answer), is read one mapping entry at a
time from a spooled file, checked (strings, no repeated scene id) and written as JSON Lines to
another spooled file, so neither the hook nor an operator ever holds the whole list.

What the docs (``datasets/*.md`` at ``adf3f38``) left open, and how it is settled here:
- ``datasetId`` is a string on these pages and a long in ``/annotation/request``: it is kept as the
  string the platform sent; `project.annotation_request_body` turns a string of digits into a long.
- ``fileTreeType`` is a string on the import page and an integer on the upload page (and in the
  ``metadata.json`` sample): it is sent as an integer (a multipart field is text either way).
- ``mappingList`` may be huge: see above. The documented sample repeats a ``dataId`` for two
  scenes, so repeated data ids are allowed; repeated scene ids are not.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import re
import secrets
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import IntEnum
from typing import IO, Any
from urllib.parse import urlsplit

from airflow_provider_annotation.endpoints import Endpoint
from airflow_provider_annotation.envelope import AnswerBudget, created_text_id, judge_answer
from airflow_provider_annotation.exceptions import AnnotationResponseError
from airflow_provider_annotation.project import DataType, SetupInputError, _to_data_type
from airflow_provider_annotation.redaction import scrub
from airflow_provider_annotation.workflow import Problems, describe_value

__all__ = [
    "CLOUD_SCHEMES",
    "FILE_TREE_TYPES",
    "MAX_DATASET_NAME_BYTES",
    "MAX_UPLOAD_BYTES",
    "DatasetMapping",
    "DatasetState",
    "DatasetStatus",
    "MappingError",
    "MultipartBody",
    "dataset_message",
    "import_body",
    "scan_status_answer",
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
#: The first offenders an error about the mapping names.
FIRST_OFFENDERS = 5
#: The most characters a value other than a mapping entry may have in the status answer.
_VALUE_CHARS = 1024 * 1024
#: The most characters one mapping entry may have.
_ENTRY_CHARS = 64 * 1024
#: What a spooled file keeps in memory before it moves to disk.
SPOOL_IN_MEMORY = 1024 * 1024


def _spooled() -> IO[bytes]:
    """A temporary file kept in memory up to `SPOOL_IN_MEMORY`, then on disk; its owner closes it."""
    return tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 - handed to the owner


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
    try:
        fields["dataType"] = _to_data_type(data_type)
    except SetupInputError as err:
        problems.add(err)
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
    if problems:
        raise SetupInputError(problems)
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
    if problems:
        raise SetupInputError(problems)
    return fields


def to_dataset_id(value: object, field: str = "dataset_id") -> str:
    """A dataset id as the string the dataset pages document (an int is accepted, never a float)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
        raise SetupInputError(
            f"{field}: expected a non-empty string (or an integer), got {describe_value(value)}"
        )
    text = str(value).strip()
    if len(text) > 100 or not text.isprintable():
        raise SetupInputError(f"{field}: not a dataset id: {describe_value(value)}")
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


class MappingError(ValueError):
    """The mapping list breaks the documented shape; the message names the first offenders."""


@dataclass
class DatasetMapping:
    """The scene → data mapping of a dataset, as JSON Lines ``{"sceneId", "dataId"}`` in a spooled
    file: iterate it (pairs), or copy it out with `copy_to`. Close it when done."""

    file: IO[bytes]
    count: int

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[tuple[str, str]]:
        """``(scene_id, data_id)`` pairs, in the platform's order."""
        self.file.seek(0)
        for line in self.file:
            item = json.loads(line)
            yield item["sceneId"], item["dataId"]

    def data_ids(self) -> Iterator[str]:
        return (data_id for _, data_id in self)

    def copy_to(self, out: IO[bytes], chunk: int = 1024 * 1024) -> None:
        """Write the JSON Lines to `out` a chunk at a time."""
        self.file.seek(0)
        while block := self.file.read(chunk):
            out.write(block)

    def close(self) -> None:
        self.file.close()

    def __enter__(self) -> DatasetMapping:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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


class DigestSet:
    """Which strings were seen, at 16 bytes a string (8-byte digests in an open-addressing table at
    most half full), not a Python set of the strings: enough to find repeats among millions of ids
    with flat memory. A digest seen twice may (rarely) be two different strings: `add` says
    "maybe seen", and the caller confirms if it must."""

    def __init__(self) -> None:
        self._table = bytearray(8 * 1024)
        self._used = 0

    @staticmethod
    def digest(text: str) -> bytes:
        digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
        return digest if digest != bytes(8) else b"\x00" * 7 + b"\x01"  # all zeros marks a free slot

    def add(self, text: str) -> bool:
        """Add `text`; False when its digest was there already (a repeat, or a rare collision)."""
        return self._insert(self.digest(text))

    def _insert(self, digest: bytes) -> bool:
        slots = len(self._table) // 8
        if (self._used + 1) * 2 > slots:
            self._grow()
            slots = len(self._table) // 8
        slot = int.from_bytes(digest, "little") % slots
        empty = bytes(8)
        while True:
            current = self._table[slot * 8 : slot * 8 + 8]
            if current == empty:
                self._table[slot * 8 : slot * 8 + 8] = digest
                self._used += 1
                return True
            if current == digest:
                return False
            slot = (slot + 1) % slots

    def _grow(self) -> None:
        old = self._table
        self._table = bytearray(len(old) * 2)
        self._used = 0
        empty = bytes(8)
        for i in range(0, len(old), 8):
            digest = bytes(old[i : i + 8])
            if digest != empty:
                self._insert(digest)


#: Where a failed dataset's reason may be: the docs name no field.
_REASON_KEYS = ("message", "errorMessage", "error", "reason")


class MappingWriter:
    """Checks mapping entries one at a time and writes them as JSON Lines to a spooled file.

    Repeated scene ids are found with a `DigestSet`; a digest seen twice is confirmed by re-reading
    the file, so no false alarm reaches the user.
    """

    def __init__(self) -> None:
        self.file: IO[bytes] = _spooled()
        self.count = 0
        self.bad: list[str] = []
        self.bad_count = 0
        self._seen = DigestSet()
        self._suspects: set[bytes] = set()

    def __call__(self, item: Any) -> None:
        index = self.count
        self.count += 1
        problem = _entry_problem(item, index)
        if problem is not None:
            self.bad_count += 1
            if len(self.bad) < FIRST_OFFENDERS:
                self.bad.append(problem)
            return
        scene_id, data_id = item["sceneId"], item["dataId"]
        if not self._seen.add(scene_id):
            self._suspects.add(DigestSet.digest(scene_id))
        self.file.write(json.dumps({"sceneId": scene_id, "dataId": data_id}).encode() + b"\n")

    def finish(self) -> DatasetMapping:
        """The checked mapping, or MappingError naming the first offenders."""
        self._seen = DigestSet()
        problems = list(self.bad)
        count = self.bad_count
        if self._suspects:
            repeated = self._repeated_scene_ids()
            count += len(repeated)
            problems += [
                f"sceneId {scrub(repr(s), limit=80)} appears {n} times" for s, n in repeated[:FIRST_OFFENDERS]
            ]
        if count:
            self.file.close()
            more = f" (and {count - len(problems)} more)" if count > len(problems) else ""
            raise MappingError(f"mappingList: {'; '.join(problems[: FIRST_OFFENDERS * 2])}{more}")
        self.file.seek(0)
        return DatasetMapping(self.file, self.count)

    def _repeated_scene_ids(self) -> list[tuple[str, int]]:
        counts: dict[str, int] = {}
        self.file.seek(0)
        for line in self.file:
            scene_id = json.loads(line)["sceneId"]
            if DigestSet.digest(scene_id) in self._suspects:
                counts[scene_id] = counts.get(scene_id, 0) + 1
        return [(s, n) for s, n in counts.items() if n > 1]


def _entry_problem(item: Any, index: int) -> str | None:
    where = f"mappingList[{index}]"
    if not isinstance(item, dict):
        return f"{where}: expected an object, got {scrub(describe_value(item), limit=80)}"
    for key in ("sceneId", "dataId"):
        if key not in item:
            return f"{where}: no {key}"
        value = item[key]
        if not isinstance(value, str) or not value.strip():
            return f"{where}: {key} is {scrub(describe_value(value), limit=80)}, not a non-empty string"
    return None


_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


class _JsonStream:
    """JSON values read one at a time from a binary file, keeping only a window of text in memory."""

    def __init__(self, file: IO[bytes], chunk: int = 64 * 1024) -> None:
        self._file = file
        self._chunk = chunk
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
        self._buf = ""
        self._pos = 0
        self._eof = False

    def _fill(self) -> bool:
        if self._eof:
            return False
        raw = self._file.read(self._chunk)
        if not raw:
            self._eof = True
        text = self._decoder.decode(raw, final=not raw)
        self._buf = self._buf[self._pos :] + text
        self._pos = 0
        return True

    def peek(self) -> str:
        """The next character that is not whitespace ('' at the end)."""
        while True:
            self._pos = _WHITESPACE.match(self._buf, self._pos).end()  # type: ignore[union-attr]
            if self._pos < len(self._buf):
                return self._buf[self._pos]
            if not self._fill():
                return ""

    def take(self, char: str) -> None:
        if self.peek() != char:
            raise ValueError(f"expected {char!r}")
        self._pos += 1

    def value(self, limit: int) -> Any:
        """The next whole JSON value, at most `limit` characters long."""
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self._buf, self._pos)
            except json.JSONDecodeError:
                if len(self._buf) - self._pos > limit or not self._fill():
                    raise ValueError("not JSON, or a value over the size limit") from None
                continue
            if end >= len(self._buf) and not self._eof:  # a number may go on in the next chunk
                self._fill()
                continue
            if end - self._pos > limit:
                raise ValueError("a value over the size limit")
            self._pos = end
            return value

    def members(self) -> Iterator[str]:
        """The keys of the object that starts here, each followed by its value (for the caller)."""
        self.take("{")
        if self.peek() == "}":
            self._pos += 1
            return
        while True:
            key = self.value(_VALUE_CHARS)
            if not isinstance(key, str):
                raise ValueError("an object key that is not a string")
            self.take(":")
            yield key
            if self.peek() == ",":
                self._pos += 1
                continue
            self.take("}")
            return

    def items(self, sink: Callable[[Any], None]) -> int:
        """Feed each element of the array that starts here to `sink`; the count."""
        self.take("[")
        count = 0
        if self.peek() == "]":
            self._pos += 1
            return 0
        while True:
            sink(self.value(_ENTRY_CHARS))
            count += 1
            if self.peek() == ",":
                self._pos += 1
                continue
            self.take("]")
            return count


def scan_status_answer(file: IO[bytes], sink: Callable[[Any], None] | None) -> bytes | None:
    """The status answer (spooled in `file`) as a small envelope, ``data.mappingList`` replaced by
    its count, each entry fed to `sink` (None: only counted); None when the body is not JSON
    (the caller then judges its first bytes as usual)."""
    file.seek(0)
    stream = _JsonStream(file)
    envelope: dict[str, Any] = {}
    try:
        if stream.peek() != "{":
            return None
        for key in stream.members():
            if key == "data" and stream.peek() == "{":
                data: dict[str, Any] = {}
                for data_key in stream.members():
                    if data_key == "mappingList" and stream.peek() == "[":
                        data[data_key] = stream.items(sink or (lambda item: None))
                    else:
                        data[data_key] = stream.value(_VALUE_CHARS)
                envelope[key] = data
            else:
                envelope[key] = stream.value(_VALUE_CHARS)
        if stream.peek() != "":
            return None
    except (ValueError, RecursionError, UnicodeDecodeError):
        return None
    return json.dumps(envelope).encode()


#: How much of a body that is not JSON an error shows is bounded by `judge_answer`; this is what it gets.
_HEAD_BYTES = 64 * 1024


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
        mapping = DatasetMapping(_spooled(), 0)
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
    dataset_id = scrub(raw, limit=100) if isinstance(raw, (str, int)) and not isinstance(raw, bool) else ""
    return DatasetState(int(status), dataset_id, mapping, dataset_message(data))


def created_dataset_id(endpoint: Endpoint, data: Any, request_id: str | None) -> str:
    """The ``datasetId`` a create answered: a string (as documented) or an int sent as one."""
    if (
        isinstance(data, dict)
        and isinstance(data.get("datasetId"), int)
        and not isinstance(data["datasetId"], bool)
    ):
        data = {**data, "datasetId": str(data["datasetId"])}
    return created_text_id(endpoint, data, "datasetId", request_id)


def is_mapping_uri(value: object) -> bool:
    """Whether `value` names a mapping file (a URI or an absolute path) rather than data ids."""
    if not isinstance(value, str):
        return False
    text = value.strip()
    return not text.startswith("[") and ("://" in text or text.startswith("/"))


def _lines(file: IO[bytes], block: int = 1024 * 1024) -> Iterator[bytes]:
    """The lines of a binary file read a block at a time (the file wrappers of Airflow 2.11 and 3.0
    object storage cannot be iterated)."""
    rest = b""
    while chunk := file.read(block):
        rest += chunk
        *lines, rest = rest.split(b"\n")
        yield from lines
    if rest:
        yield rest


class MappingChunks:
    """The bodies of Annotation Requests for the data ids of a mapping file (JSON Lines
    ``{"sceneId", "dataId"}``, as the dataset operators write it), `size` ids a body, read a chunk
    at a time each time it is iterated. A data id that repeats (the docs' sample maps one data id to
    two scenes) is sent once.

    Made by `read_mapping_chunks`, which reads the file once to check it, count the chunks and
    take their digest (what a kept answer is tied to).
    """

    def __init__(self, opener: Callable[[], IO[bytes]], base: dict[str, Any], size: int) -> None:
        self._opener = opener
        self._base = base
        self._size = size
        self.count = 0
        self.data_id_count = 0
        self.digest = ""

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[dict[str, Any]]:
        chunk: list[str] = []
        for data_id in self._data_ids():
            chunk.append(data_id)
            if len(chunk) == self._size:
                yield {**self._base, "dataIds": chunk}
                chunk = []
        if chunk:
            yield {**self._base, "dataIds": chunk}

    def _data_ids(self) -> Iterator[str]:
        seen = DigestSet()
        with self._opener() as file:
            for number, line in enumerate(_lines(file), start=1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                except ValueError:
                    raise SetupInputError(
                        f"data_ids: line {number} of the mapping file is not JSON"
                    ) from None
                data_id = item.get("dataId") if isinstance(item, dict) else None
                if not isinstance(data_id, str) or not data_id.strip():
                    raise SetupInputError(
                        f"data_ids: line {number} of the mapping file has no dataId string "
                        f"({scrub(line, limit=80)})"
                    )
                if seen.add(data_id):
                    yield data_id

    def check(self) -> MappingChunks:
        """Read the file once: count, digest, and every line checked (SetupInputError naming the
        first bad line)."""
        digest = hashlib.sha256(json.dumps(self._base, sort_keys=True).encode())
        count = ids = 0
        try:
            for body in self:
                count += 1
                ids += len(body["dataIds"])
                digest.update(json.dumps(body["dataIds"]).encode())
        except (OSError, ValueError) as err:
            if isinstance(err, SetupInputError):
                raise
            raise SetupInputError(
                f"data_ids: cannot read the mapping file ({type(err).__name__}: {scrub(str(err))})"
            ) from None
        if not ids:
            raise SetupInputError("data_ids: the mapping file holds no data id")
        self.count, self.data_id_count, self.digest = count, ids, digest.hexdigest()
        return self


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
    "DigestSet",
    "MappingWriter",
    "created_dataset_id",
    "judge_budget",
    "local_size_and_head",
    "read_dataset_state",
    "to_dataset_id",
]
