"""A dataset's scene -> data mapping with flat memory: read one entry at a time from a spooled status
answer, checked, written as JSON Lines to a spooled file, and read back from a mapping file a chunk
at a time.

The status answer (``/dataset/status``) lists one ``{dataId, sceneId}`` per scene in one JSON
object, with no paging: a million scenes make a ~60 MB answer. Pure: no Airflow, no HTTP library.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from airflow_provider_annotation.exceptions import AnnotationInputProblemsError
from airflow_provider_annotation.redaction import scrub
from airflow_provider_annotation.validation import describe_value

__all__ = [
    "SPOOL_IN_MEMORY",
    "DatasetMapping",
    "DigestSet",
    "MappingChunks",
    "MappingError",
    "MappingWriter",
    "is_mapping_uri",
    "scan_status_answer",
    "spooled",
]

#: The first offenders an error about the mapping names.
FIRST_OFFENDERS = 5
#: The most characters a value other than a mapping entry may have in the status answer.
_VALUE_CHARS = 1024 * 1024
#: The most characters one mapping entry may have.
_ENTRY_CHARS = 64 * 1024
#: What a spooled file keeps in memory before it moves to disk.
SPOOL_IN_MEMORY = 1024 * 1024


def spooled() -> IO[bytes]:
    """A temporary file kept in memory up to `SPOOL_IN_MEMORY`, then on disk; its owner closes it."""
    return tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 - handed to the owner


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


class MappingWriter:
    """Checks mapping entries one at a time and writes them as JSON Lines to a spooled file.

    Repeated scene ids are found with a `DigestSet`; a digest seen twice is confirmed by re-reading
    the file, so no false alarm reaches the user.
    """

    def __init__(self) -> None:
        self.file: IO[bytes] = spooled()
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

    @property
    def project_id(self) -> Any:
        """The project every chunk's request goes to."""
        return self._base["projectId"]

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
                    raise AnnotationInputProblemsError(
                        f"data_ids: line {number} of the mapping file is not JSON"
                    ) from None
                data_id = item.get("dataId") if isinstance(item, dict) else None
                if not isinstance(data_id, str) or not data_id.strip():
                    raise AnnotationInputProblemsError(
                        f"data_ids: line {number} of the mapping file has no dataId string "
                        f"({scrub(line, limit=80)})"
                    )
                if seen.add(data_id):
                    yield data_id

    def check(self) -> MappingChunks:
        """Read the file once: count, digest, and every line checked (AnnotationInputProblemsError naming the
        first bad line)."""
        digest = hashlib.sha256(json.dumps(self._base, sort_keys=True).encode())
        count = ids = 0
        try:
            for body in self:
                count += 1
                ids += len(body["dataIds"])
                digest.update(json.dumps(body["dataIds"]).encode())
        except (OSError, ValueError) as err:
            if isinstance(err, AnnotationInputProblemsError):
                raise
            raise AnnotationInputProblemsError(
                f"data_ids: cannot read the mapping file ({type(err).__name__}: {scrub(str(err))})"
            ) from None
        if not ids:
            raise AnnotationInputProblemsError("data_ids: the mapping file holds no data id")
        self.count, self.data_id_count, self.digest = count, ids, digest.hexdigest()
        return self
