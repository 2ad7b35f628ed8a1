"""ImportDatasetOperator and UploadDatasetOperator: data into the platform, its data ids out.

Both are creates and follow the create protocol (`operators._create`): checked input, dry run, the
``datasetId`` kept in ``task_state_store`` right after the answer, a lost answer never re-sent. Then
they wait until the dataset leaves BUILDING (on the triggerer with `deferrable`), and hand on its
data ids: as a list under XCom key ``data_ids``, or, with `scene_ids_to`, as the full scene → data
mapping written as JSON Lines to that `ObjectStoragePath` URI, whose URI goes under ``data_ids`` and
count under ``mapping_count`` (so a million scenes never go into XCom). Imports no HTTP library at
module level.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, conf

from airflow_provider_annotation.datasets import (
    DatasetState,
    import_body,
    local_size_and_head,
    upload_fields,
)
from airflow_provider_annotation.exceptions import AnnotationError
from airflow_provider_annotation.links import AnnotationPlatformLink, push_platform_url
from airflow_provider_annotation.operators._create import AnnotationCreateOperator
from airflow_provider_annotation.project import SetupInputError
from airflow_provider_annotation.workflow import describe_value

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_annotation.hooks.annotation import AnnotationHook

__all__ = [
    "DATA_IDS_KEY",
    "MAPPING_COUNT_KEY",
    "MAX_XCOM_DATA_IDS",
    "ImportDatasetOperator",
    "UploadDatasetOperator",
    "storage_path",
]

#: XCom key of the data ids (a list), or of the mapping file's URI with `scene_ids_to`.
DATA_IDS_KEY = "data_ids"
#: XCom key of the number of mapping entries written with `scene_ids_to`.
MAPPING_COUNT_KEY = "mapping_count"
#: More data ids than this do not go into XCom: give `scene_ids_to`.
MAX_XCOM_DATA_IDS = 100_000


def storage_path(uri: str) -> Any:
    """An `ObjectStoragePath` for a URI (``s3://``, ``gs://``, ``file://``...) or an absolute local
    path, on every Airflow version."""
    try:
        from airflow.sdk import ObjectStoragePath
    except ImportError:  # Airflow 2
        from airflow.io.path import ObjectStoragePath  # type: ignore[no-redef]
    if "://" not in uri:
        uri = "file://" + os.path.abspath(uri)
    return ObjectStoragePath(uri)


def _is_seconds(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


class _DatasetOperator(AnnotationCreateOperator):
    """What both dataset operators share: the wait, the mapping hand-off, the link."""

    object_name = "dataset"
    id_key = "datasetId"
    id_types = (str,)
    operator_extra_links = (AnnotationPlatformLink(),)
    ui_color = "#e8f4ea"

    def __init__(
        self,
        *,
        name: str,
        data_type: int | str,
        file_tree_type: int | str = 0,
        wait: bool = True,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poke_interval: float = 30.0,
        timeout: float = 24 * 3600.0,
        scene_ids_to: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.name = name
        self.data_type = data_type
        self.file_tree_type = file_tree_type
        self.wait = wait
        self.deferrable = deferrable
        self.poke_interval = poke_interval
        self.timeout = timeout
        self.scene_ids_to = scene_ids_to

    def wait_problems(self) -> list[str]:
        """Problems of the arguments that are not part of the body."""
        problems = [
            f"{name}: expected a number of seconds above 0, got {getattr(self, name)!r}"
            for name in ("poke_interval", "timeout")
            if not _is_seconds(getattr(self, name))
        ]
        target = self.scene_ids_to
        if target is not None and (not isinstance(target, str) or not target.strip()):
            problems.append(f"scene_ids_to: expected an ObjectStoragePath URI, got {describe_value(target)}")
        return problems

    def with_wait_problems(self, build: Any) -> dict[str, Any]:
        """`build()`'s body, or one SetupInputError with its problems and the wait's."""
        problems = self.wait_problems()
        try:
            body = build()
        except SetupInputError as err:
            raise SetupInputError([*err.problems, *problems], err.more) from None
        if problems:
            raise SetupInputError(problems)
        return body

    def lost_advice(self, body: dict[str, Any]) -> str:
        return (
            f"Look for a dataset named {body['name']!r} on the platform (quote the requestId to support, if "
            "any); there is no dataset lookup by name, so clear the task only if it does not exist."
        )

    def describe_created(self, record: Mapping[str, Any], body: dict[str, Any]) -> str:
        return f"Dataset {record['datasetId']} ({body['name']!r}) created"

    # -- after the create: the wait and the mapping --------------------------------------------

    def result(self, record: Mapping[str, Any], context: Context) -> Any:
        dataset_id = str(record["datasetId"])
        hook = self.hook  # closed when execute ends
        # The link goes out before any wait, so it works while the task is deferred.
        push_platform_url(context, hook.config, self.log, dataset_id=dataset_id)
        if not self.wait:
            return dataset_id
        if self.deferrable:
            self._defer(dataset_id)
        state = self._wait_here(hook, dataset_id, context)
        return self._finish(context, dataset_id, state)

    def _defer(self, dataset_id: str) -> None:
        from airflow_provider_annotation.triggers.annotation import AnnotationDatasetTrigger
        from airflow_provider_annotation.waiting import DEFER_GRACE_SECONDS

        self.log.info("Deferring: waiting for dataset %s on the triggerer", dataset_id)
        self.defer(
            trigger=AnnotationDatasetTrigger(
                dataset_id=dataset_id,
                end_time=time.time() + float(self.timeout),
                poll_interval=float(self.poke_interval),
                annotation_conn_id=self.annotation_conn_id,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=float(self.timeout) + DEFER_GRACE_SECONDS),
        )

    def _wait_here(self, hook: AnnotationHook, dataset_id: str, context: Context) -> DatasetState:
        """Poll from the worker with the trigger's rules (`waiting.wait_until`): transient errors
        are read again, the same `dataset_outcome` decides, the same deadline ends the wait."""
        from airflow_provider_annotation.waiting import dataset_outcome, wait_until

        def built(state: DatasetState) -> DatasetState | None:
            if dataset_outcome(state) is not None:
                return state
            state.mapping.close()
            self.log.info("Dataset %s is building, waiting", dataset_id)
            return None

        try:
            state = wait_until(
                lambda: hook.get_dataset_status(dataset_id),
                built,
                timeout=float(self.timeout),
                poll_interval=float(self.poke_interval),
                log=self.log,
                what=f"Polling dataset {dataset_id}",
            )
        except AnnotationError as err:
            raise AirflowException(f"Waiting for dataset {dataset_id} failed: {err}") from err
        if state is None:
            raise self._timeout(dataset_id, context)
        return state

    def execute_complete(self, context: Context, event: Any = None) -> str:
        """Turn the dataset trigger's one event into the task's result; anything unexpected fails."""
        try:
            return self._complete(context, event)
        finally:
            self.close_hook()

    def _complete(self, context: Context, event: Any) -> str:
        from airflow_provider_annotation.waiting import DATASET_EVENT_STATUSES, unexpected_event

        if refused := unexpected_event(event, DATASET_EVENT_STATUSES, "AnnotationDatasetTrigger"):
            raise AirflowException(refused)
        dataset_id = str(event.get("dataset_id"))
        if event["status"] == "timeout":
            raise self._timeout(dataset_id, context)
        if event["status"] == "error":
            raise AirflowException(f"Waiting for dataset {dataset_id} failed: {event.get('message')}")
        if event["status"] == "failure":
            raise self._failed(dataset_id, str(event.get("message")))
        state = self.hook.get_dataset_status(dataset_id)  # the mapping, read here and not on the triggerer
        return self._finish(context, dataset_id, state)

    def _finish(self, context: Context, dataset_id: str, state: DatasetState) -> str:
        """Hand on the mapping of a READY dataset; a dataset in ERROR fails the task."""
        with state.mapping as mapping:
            if state.status != 2:
                if state.status == -1:
                    raise self._failed(dataset_id, state.message or "the platform gives no reason")
                raise AirflowException(f"Dataset {dataset_id} is not ready (status {state.status})")
            ti = context["ti"]
            if self.scene_ids_to:
                target = storage_path(self.scene_ids_to)
                target.parent.mkdir(parents=True, exist_ok=True)  # a local folder must exist first
                with target.open("wb") as out:
                    mapping.copy_to(out)
                ti.xcom_push(key=DATA_IDS_KEY, value=str(target))
                ti.xcom_push(key=MAPPING_COUNT_KEY, value=len(mapping))
                self.log.info(
                    "Dataset %s ready: %d scene(s), mapping written to %s", dataset_id, len(mapping), target
                )
                return dataset_id
            if len(mapping) > MAX_XCOM_DATA_IDS:
                raise AirflowFailException(
                    f"Dataset {dataset_id} is ready with {len(mapping)} scenes, too many data ids for XCom "
                    f"(at most {MAX_XCOM_DATA_IDS}); set scene_ids_to to a file URI and clear the task: it "
                    "reuses the dataset."
                )
            data_ids = list(dict.fromkeys(mapping.data_ids()))
            ti.xcom_push(key=DATA_IDS_KEY, value=data_ids)
            self.log.info(
                "Dataset %s ready: %d scene(s), %d data id(s)", dataset_id, len(mapping), len(data_ids)
            )
        return dataset_id

    def _failed(self, dataset_id: str, message: str) -> AirflowFailException:
        return AirflowFailException(
            f"Dataset {dataset_id} failed to build (status -1): {message}\nNot retrying: a retry would wait "
            "on the same failed dataset. Fix the data, then clear the task after deleting its task state "
            f"key {self.state_key!r} to create a new dataset."
        )

    def _timeout(self, dataset_id: str, context: Context) -> AirflowException:
        message = (
            f"Dataset {dataset_id} still building after {float(self.timeout):g} s; it goes on building "
            "on the platform."
        )
        if context.get("task_state_store") is None:
            return AirflowFailException(
                f"{message} Not retrying: without a task_state_store (Airflow < 3.3) a retry would create "
                "a second dataset."
            )
        return AirflowException(f"{message} A retry waits on the same dataset (its id is kept).")


class ImportDatasetOperator(_DatasetOperator):
    """Import a dataset from cloud storage (``POST /dataset/import/async``), wait until it is built,
    and hand on its data ids. Returns the ``datasetId`` (a string).

    :param resource_url: the data's cloud-storage URL, e.g. ``gs://bucket/prefix/``.
    :param name: the dataset's name, at most 60 bytes of UTF-8.
    :param data_type: 2 (2D) or 3 (3D).
    :param file_tree_type: the file tree: 0 (sensor oriented, documented) or 1 (scene oriented).
    :param wait: wait until the dataset leaves BUILDING and push its data ids; False returns at once.
    :param deferrable: wait on the triggerer instead of a worker slot.
    :param poke_interval: seconds between status reads.
    :param timeout: seconds to wait before failing (the build goes on; a retry waits again).
    :param scene_ids_to: an ObjectStoragePath URI: write the scene → data mapping there as JSON
        Lines and push its URI (XCom ``data_ids``) and count (``mapping_count``) instead of the list.
    :param annotation_conn_id: the Airflow connection holding the access-key pair.
    :param dry_run: validate and log the exact body, send nothing, return None.
    """

    template_fields: Sequence[str] = (
        "resource_url",
        "name",
        "data_type",
        "file_tree_type",
        "scene_ids_to",
        "annotation_conn_id",
    )
    endpoint_name = "Import Dataset"
    #: task_state_store key of the created dataset. Renaming it breaks in-flight retries.
    state_key = "annotation_dataset"

    def __init__(self, *, resource_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.resource_url = resource_url
        self.note_given()

    def build_body(self) -> dict[str, Any]:
        return self.with_wait_problems(
            lambda: import_body(
                self.resource_url,
                name=self.name,
                data_type=self.data_type,
                file_tree_type=self.file_tree_type,
            )
        )

    def send(self, hook: AnnotationHook, body: dict[str, Any]) -> dict[str, Any]:
        return {"datasetId": hook.send_import_dataset(body)}


class UploadDatasetOperator(_DatasetOperator):
    """Upload a zip (under 100 MB) as a dataset (``POST /dataset/upload/sync``), streamed from a
    local path or an ObjectStoragePath URI; then as `ImportDatasetOperator`. Returns the ``datasetId``.

    :param path: the zip: a local path or an ObjectStoragePath URI (``s3://...``, ``file://...``).
    :param name: the dataset's name, at most 60 bytes of UTF-8.
    :param data_type: 2 (2D) or 3 (3D).
    :param file_tree_type: the file tree inside the zip: 0 (sensor oriented) or 1.
    :param wait: wait until the dataset leaves BUILDING and push its data ids.
    :param deferrable: wait on the triggerer instead of a worker slot.
    :param poke_interval: seconds between status reads.
    :param timeout: seconds to wait before failing.
    :param scene_ids_to: as for `ImportDatasetOperator`.
    :param annotation_conn_id: the Airflow connection holding the access-key pair.
    :param dry_run: validate and log the form fields, send nothing, return None.
    """

    template_fields: Sequence[str] = (
        "path",
        "name",
        "data_type",
        "file_tree_type",
        "scene_ids_to",
        "annotation_conn_id",
    )
    endpoint_name = "Upload Dataset"
    #: task_state_store key of the created dataset. Renaming it breaks in-flight retries.
    state_key = "annotation_dataset"

    def __init__(self, *, path: str | os.PathLike[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.path = path
        self.note_given()
        self._source: Any = None

    def build_body(self) -> dict[str, Any]:
        """The form fields, with the file's name and size (what a kept id is tied to)."""

        def build() -> dict[str, Any]:
            source, size, head = self._open_source()
            self._source = source
            fields = upload_fields(
                size,
                head,
                str(self.path),
                name=self.name,
                data_type=self.data_type,
                file_tree_type=self.file_tree_type,
            )
            return {**fields, "uploadFile": str(self.path), "size": size}

        return self.with_wait_problems(build)

    def _open_source(self) -> tuple[Any, int | None, bytes | None]:
        path = self.path
        if not isinstance(path, (str, os.PathLike)) or not str(path).strip():
            return None, None, None
        text = os.fspath(path)
        if "://" not in text:
            size, head = local_size_and_head(text)
            return text, size, head
        try:
            source = storage_path(text)
            size = int(source.stat().st_size)
            with source.open("rb") as file:
                head = file.read(4)
        except Exception:  # any filesystem's "cannot read": reported as the path's problem
            return None, None, None
        return source, size, head

    def send(self, hook: AnnotationHook, body: dict[str, Any]) -> dict[str, Any]:
        fields = {key: body[key] for key in ("fileTreeType", "dataType", "name")}
        source = self._source
        if isinstance(source, str):
            name = os.path.basename(source)

            def opener() -> Any:
                return open(source, "rb")
        else:
            name = str(getattr(source, "name", "") or "dataset.zip")

            def opener() -> Any:
                return source.open("rb")

        return {"datasetId": hook.send_upload_dataset(fields, opener, name, int(body["size"]))}
