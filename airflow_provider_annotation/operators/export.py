"""ExportTasksOperator: finished annotations from the platform into object storage, as JSON Lines.

Imports no HTTP library and no storage library at module level (both are imported inside
`execute`), so DAG files using it parse at near-zero cost.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow.providers.common.compat.sdk import AirflowFailException, Asset, BaseOperator

from airflow_provider_annotation.exceptions import AnnotationInputError, AnnotationInputProblemsError
from airflow_provider_annotation.export import (
    Chunk,
    ExportRecordError,
    day_chunks,
    id_chunks,
    to_chunk_size,
    to_day,
    to_export_task_ids,
)
from airflow_provider_annotation.links import AnnotationPlatformLink, push_platform_url
from airflow_provider_annotation.operators._create import input_failure
from airflow_provider_annotation.operators.base import AnnotationHookMixin
from airflow_provider_annotation.status import counted
from airflow_provider_annotation.validation import Problems, describe_value, to_long_id
from airflow_provider_annotation.version_compat import AIRFLOW_V_3_3_PLUS

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context, ObjectStoragePath, XComArg

    from airflow_provider_annotation.hooks.annotation import AnnotationHook

__all__ = ["WATERMARK_KEY", "ExportTasksOperator"]

#: The asset_state_store key holding the next window's first day. Renaming it restarts exports.
WATERMARK_KEY = "annotation_export_watermark"
#: Bytes copied at a time from the parts into the final object.
_COPY_BYTES = 1024 * 1024


@dataclass
class _Plan:
    """What one run exports, all checked before the first request."""

    project_id: int
    destination: ObjectStoragePath
    chunks: list[Chunk]
    window: list[str] | None
    store: Any = None


class ExportTasksOperator(AnnotationHookMixin, BaseOperator):
    """Export the annotation results of completed tasks to a file or object (JSON Lines).

    Select the tasks by completion days, ``[complete_after, complete_before)`` (the second day is
    excluded, so consecutive windows never overlap), or by `task_ids`; never both. A window is
    fetched one day per call, ids `chunk` per call, so no answer has to hold a whole project. Each
    line is one annotation result with ``projectId`` and the ``chunk`` (day or ``task-ids-N``) it
    came from.

    Retries are safe: each chunk is written as a part next to the destination
    (``<destination>.parts/part-00001.jsonl``, ...), then the parts are copied into the
    destination, which is written last and whole, and the parts are removed. A retry rewrites the
    same parts and the same destination, so no line is ever in it twice. Memory holds one chunk.

    Returns ``{"uri", "count", "window", "chunks"}`` (``window`` is ``[first day, day after the
    last]`` or None for ids). Every ``Asset`` outlet gets the same values (but ``chunks``) in its
    event's ``extra``.

    :param project_id: the project's id: an int or a string of digits.
    :param destination: where the JSON Lines go, a URI for ``ObjectStoragePath``: ``file://``
        needs nothing more; ``s3://``, ``gs://`` and others need their Airflow provider. Templated.
    :param complete_after: the window's first day, ``"YYYY-MM-DD"`` (e.g. ``{{ data_interval_start | ds }}``).
    :param complete_before: the day after the window's last day (excluded).
    :param task_ids: task ids to export instead of a window; or ``AnnotationTaskSensor``'s XCom,
        whose ``complete`` ids are exported.
    :param chunk: ``"day"``; or, with `task_ids`, the number of ids per call (``"day"``: 1000).
    :param incremental: start the window at the watermark kept in the asset_state_store of the
        ``Asset`` outlet (Airflow 3.3+), `complete_after` being only the first run's start. The
        watermark moves to `complete_before` only after the destination is written.
    :param overwrite: replace an existing destination; False fails before anything is fetched.
    :param annotation_conn_id: the Airflow connection holding the access-key pair.
    """

    template_fields: Sequence[str] = (
        "project_id",
        "destination",
        "complete_after",
        "complete_before",
        "task_ids",
        "annotation_conn_id",
    )
    ui_color = "#e8f4ea"
    operator_extra_links = (AnnotationPlatformLink(),)
    #: Airflow saves the rendered fields again after the run, with `task_ids` as exported.
    overwrite_rtif_after_execution = True

    def __init__(
        self,
        *,
        project_id: int | str | XComArg,
        destination: str | XComArg,
        complete_after: Any = None,
        complete_before: Any = None,
        task_ids: list[str] | list[int] | str | XComArg | None = None,
        chunk: str | int = "day",
        incremental: bool = False,
        overwrite: bool = True,
        annotation_conn_id: str = "annotation_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.project_id = project_id
        self.destination = destination
        self.complete_after = complete_after
        self.complete_before = complete_before
        self.task_ids = task_ids
        self.chunk = chunk
        self.incremental = incremental
        self.overwrite = overwrite
        self.annotation_conn_id = annotation_conn_id
        self._lineage: tuple[str, int, str] | None = None

    # -- the run --------------------------------------------------------------------------------

    def execute(self, context: Context) -> dict[str, Any]:
        try:
            return self._export(context)
        finally:
            self.close_hook()

    def _export(self, context: Context) -> dict[str, Any]:
        try:
            plan = self._plan(context)
        except AnnotationInputError as err:
            raise input_failure(err) from err
        hook = self.hook
        push_platform_url(context, hook.config, self.log, project_id=plan.project_id)
        count = self._write(hook, plan)
        base_url = hook.config.base_url
        uri = str(plan.destination)
        if plan.store is not None and plan.window is not None and plan.chunks:
            # Only now: a crash before this line repeats the window, and the rewrite stays duplicate-free.
            plan.store.set(WATERMARK_KEY, plan.window[1])
            self.log.info("Watermark moved to %s", plan.window[1])
        self._lineage = (base_url, plan.project_id, uri)
        extra: dict[str, Any] = {"uri": uri, "count": count, "window": plan.window}
        outlet_events = context.get("outlet_events")
        for outlet in self.outlets:
            if isinstance(outlet, Asset) and outlet_events is not None:
                outlet_events[outlet].extra.update(extra)
        self.log.info(
            "Exported %s in %s to %s",
            counted(count, "annotation result"),
            counted(len(plan.chunks), "chunk"),
            uri,
        )
        return {**extra, "chunks": len(plan.chunks)}

    def _plan(self, context: Context) -> _Plan:
        # Every argument first, each problem collected (one error lists them all); then what needs
        # them checked: the destination's state and the watermark.
        problems = Problems()
        project_id = problems.collect(lambda: to_long_id(self.project_id, "project_id"))
        destination = problems.collect(lambda: _destination(self.destination))
        if not isinstance(self.overwrite, bool) or not isinstance(self.incremental, bool):
            problems.append("overwrite, incremental: expected True or False")
        by_ids = self.task_ids is not None
        if by_ids and (
            self.complete_after is not None or self.complete_before is not None or self.incremental
        ):
            problems.append(
                "task_ids: select by task ids or by a window of days (complete_after/complete_before, "
                "incremental), not both"
            )
        size = problems.collect(lambda: to_chunk_size(self.chunk, by_ids=by_ids))
        ids = problems.collect(lambda: to_export_task_ids(self.task_ids)) if by_ids else None
        before: Any = None  # a date once the arguments are checked (a window needs it)
        after: Any = None
        if not by_ids:
            if self.complete_before is None:
                problems.append(
                    "complete_before: required for a window (the day after its last day); or give task_ids"
                )
            else:
                before = problems.collect(lambda: to_day(self.complete_before, "complete_before"))
            if self.complete_after is not None:
                after = problems.collect(lambda: to_day(self.complete_after, "complete_after"))
        problems.raise_all()
        _staging(destination)
        if not self.overwrite and destination.exists():
            raise AnnotationInputProblemsError(
                f"destination: {destination} exists and overwrite=False; nothing was fetched"
            )
        if ids is not None:
            # The UI's rendered task_ids shows the ids exported, not the whole sensor result they
            # came from (re-saved after the run: `overwrite_rtif_after_execution`).
            self.task_ids = [str(task_id) for task_id in ids]
            return _Plan(project_id, destination, list(id_chunks(ids, size or 1)), None)
        store, start = self._watermark(context)
        if start is None:
            if after is None:
                raise AnnotationInputProblemsError(
                    "complete_after: required for a window (its first day); or give task_ids"
                )
            start = after
            if start >= before:
                raise AnnotationInputProblemsError(
                    f"complete_after: {start} is not before complete_before {before}; the window is empty"
                )
        if start >= before:
            self.log.info(
                "Nothing to export: the watermark %s is not before complete_before %s", start, before
            )
            return _Plan(project_id, destination, [], [start.isoformat(), start.isoformat()], store)
        window = [start.isoformat(), before.isoformat()]
        return _Plan(project_id, destination, list(day_chunks(start, before)), window, store)

    def _watermark(self, context: Context) -> tuple[Any, Any]:
        """``(store, first day)`` of an incremental run; ``(None, None)`` otherwise."""
        if not self.incremental:
            return None, None
        assets = [outlet for outlet in self.outlets if isinstance(outlet, Asset)]
        if len(assets) != 1:
            raise AnnotationInputProblemsError(
                "incremental: keeps its watermark in the export's asset; give exactly one "
                f"outlets=[Asset(...)] (found {len(assets)})"
            )
        if not AIRFLOW_V_3_3_PLUS:
            self.log.warning(
                "incremental=True needs Airflow 3.3's asset_state_store; exporting the given window "
                "without a watermark"
            )
            return None, None
        store = context["asset_state_store"][assets[0]]
        kept = store.get(WATERMARK_KEY)
        if kept is None:
            self.log.info("No watermark yet: the window starts at complete_after")
            return store, None
        start = to_day(kept, f"the watermark {WATERMARK_KEY!r} of {assets[0].name!r}")
        self.log.info("Watermark %s: the window starts there", start)
        return store, start

    def _write(self, hook: AnnotationHook, plan: _Plan) -> int:
        """Each chunk into its part, then the parts into the destination; the lines written."""
        parts = _parts_folder(plan.destination)
        count = 0
        written = []
        for number, (label, selection) in enumerate(plan.chunks, start=1):
            try:
                results = hook.stream_export({"projectId": plan.project_id, **selection})
            except ExportRecordError as err:
                # The same answer would come again: a retry would fetch everything to fail the same way.
                raise AirflowFailException(
                    f"Chunk {label}: {err}\nThe destination was not written. Not retrying: the platform "
                    "sent a record strict JSON cannot carry exactly."
                ) from err
            part = parts / f"part-{number:05d}.jsonl"
            with part.open("wb") as out:
                for line in results.lines(plan.project_id, label):
                    out.write(line)
            written.append(part)
            count += len(results)
            self.log.info("Chunk %s: %s into %s", label, counted(len(results), "result"), part)
            del results
        with plan.destination.open("wb") as final:
            for part in written:
                with part.open("rb") as source:
                    shutil.copyfileobj(source, final, _COPY_BYTES)
        for part in written:
            part.unlink()
        with contextlib.suppress(OSError, NotImplementedError, TypeError):  # object stores have no folders
            if _is_local(parts):
                os.rmdir(parts.path)  # only when empty: anything else in it is not this export's
            else:
                parts.rmdir(recursive=False)
        return count

    # -- lineage (used only when the OpenLineage provider is installed) ---------------------------

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """Lineage from the platform project to the destination; None without OpenLineage."""
        try:
            from airflow.providers.common.compat.openlineage.facet import Dataset
            from airflow.providers.openlineage.extractors import OperatorLineage
        except ImportError:
            return None
        if self._lineage is None:
            return OperatorLineage()
        base_url, project_id, uri = self._lineage
        where = urlsplit(uri)
        if where.scheme == "file":
            output = Dataset(namespace="file", name=where.path)
        else:
            output = Dataset(namespace=f"{where.scheme}://{where.netloc}", name=where.path.lstrip("/"))
        source = urlsplit(base_url)
        project = Dataset(namespace=f"annotation://{source.netloc}", name=f"project/{project_id}")
        return OperatorLineage(inputs=[project], outputs=[output])


#: The names of the part files this operator writes (and the only files it ever deletes).
_PART_NAME = re.compile(r"part-\d{5}\.jsonl")


def _parts_folder(destination: ObjectStoragePath) -> ObjectStoragePath:
    """``<destination>.parts``, emptied of a failed attempt's parts (none is reused).

    Only this operator's part files are removed, and never through a symbolic link: a
    ``.parts`` that is a link (to anywhere) is refused before anything is fetched or deleted."""
    parts = _staging(destination)
    if _is_local(parts):
        # os calls, not fsspec's: removing a link must remove the link, never what it points to.
        if os.path.isdir(parts.path):
            for name in os.listdir(parts.path):
                if _PART_NAME.fullmatch(name):
                    os.unlink(os.path.join(parts.path, name))  # a part that is a link: the link goes
    elif parts.exists():
        for stale in parts.iterdir():
            if _PART_NAME.fullmatch(stale.name):
                stale.unlink()
    parts.mkdir(parents=True, exist_ok=True)
    return parts


def _staging(destination: ObjectStoragePath) -> ObjectStoragePath:
    """``<destination>.parts``; refused when it is a symbolic link (checked before any request)."""
    parts = destination.parent / f"{destination.name}.parts"
    if _is_link(parts):
        raise AnnotationInputProblemsError(
            f"destination: {parts} is a symbolic link; the export stages its parts there and will not "
            "write or delete through a link. Remove the link (or choose another destination)."
        )
    return parts


def _is_local(path: ObjectStoragePath) -> bool:
    return getattr(path, "protocol", "file") in ("file", "local", "")


def _is_link(path: ObjectStoragePath) -> bool:
    """Whether `path` is a symbolic link on a local file system (object stores have none)."""
    return _is_local(path) and os.path.islink(path.path)


def _destination(value: object) -> ObjectStoragePath:
    """The rendered destination as an ``ObjectStoragePath``; a clear error for anything else."""
    from airflow.providers.common.compat.sdk import ObjectStoragePath

    if not isinstance(value, str) or "://" not in value:
        raise AnnotationInputProblemsError(
            f"destination: expected a URI such as 'file:///data/export.jsonl' or "
            f"'s3://bucket/export.jsonl', got {describe_value(value)}"
        )
    try:
        return ObjectStoragePath(value.strip())
    except (ValueError, ImportError) as err:
        raise AnnotationInputProblemsError(
            f"destination: {describe_value(value)} cannot be written ({err}); is the provider for "
            "its scheme installed?"
        ) from None
