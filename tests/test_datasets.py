"""Datasets: the three endpoints' exact bodies, the create protocol on both creates, the status
answer read with flat memory and checked, every bad input refused before a request, the wait
(ready, error, timeout, transient errors) on the triggerer and from the worker."""

from __future__ import annotations

import asyncio
import json
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, TaskDeferred

from airflow_provider_annotation.datasets import MAX_UPLOAD_BYTES, DatasetStatus, MultipartBody
from airflow_provider_annotation.exceptions import (
    AnnotationMayHaveTakenEffectError,
    AnnotationResponseError,
)
from airflow_provider_annotation.mapping import scan_status_answer
from airflow_provider_annotation.operators.datasets import ImportDatasetOperator, UploadDatasetOperator
from airflow_provider_annotation.project import SetupInputError
from airflow_provider_annotation.signing import signature
from airflow_provider_annotation.testing import Emulator, Fault
from airflow_provider_annotation.triggers.annotation import AnnotationDatasetTrigger
from tests.helpers import AK, OPERATORS, SK, StateStore, TryTi, collect, set_conn

GS = "gs://bucket/scenes/"


def _zip(tmp_path: Path, name: str = "dataset.zip", payload: bytes = b"frame") -> Path:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("top/lidar-l0/scene-1/0.pcd", payload)
    return path


def _sent(emulator: Emulator, endpoint: str) -> list[dict[str, Any]]:
    return [r for r in emulator.requests if r["endpoint"] == endpoint]


def _status_answer(data: Any) -> str:
    return json.dumps({"code": 200, "message": "Success", "data": data, "requestId": "r1", "success": True})


# --- the hook: exact bodies -----------------------------------------------------------------------


def test_import_sends_the_documented_json_and_returns_the_string_id(emulator: Emulator, make_hook) -> None:
    dataset_id = make_hook().import_dataset(f" {GS} ", name="Drive 7", data_type="3", file_tree_type=0)
    (sent,) = _sent(emulator, "/dataset/import/async")
    assert sent["method"] == "POST"
    assert sent["json"] == {"resourceUrl": GS, "fileTreeType": 0, "dataType": 3, "name": "Drive 7"}
    assert sent["headers"]["X-SIGN"] == signature(sent["headers"]["X-TS"], SK, AK)
    assert dataset_id == "4200" and emulator.datasets[dataset_id]["status"] == DatasetStatus.READY


def test_upload_sends_a_signed_multipart_form_with_the_file_streamed(
    emulator: Emulator, make_hook, tmp_path: Path
) -> None:
    path = _zip(tmp_path)
    dataset_id = make_hook().upload_dataset(path, name="Upload 1", data_type=2)
    (sent,) = _sent(emulator, "/dataset/upload/sync")
    headers = sent["headers"]
    assert headers["X-SIGN"] == signature(headers["X-TS"], SK, AK)
    content_type = headers["content-type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    boundary = content_type.split("boundary=", 1)[1].encode()
    assert int(headers["content-length"]) == len(sent["body"])  # a known length, not chunked
    parts = sent["body"].split(b"--" + boundary)
    assert parts[0] == b"" and parts[-1] == b"--\r\n"
    fields = {}
    for part in parts[1:-1]:
        head, _, content = part[2:-2].partition(b"\r\n\r\n")
        disposition = head.decode().split("\r\n")[0]
        fields[disposition] = content
    assert fields == {
        'Content-Disposition: form-data; name="fileTreeType"': b"0",
        'Content-Disposition: form-data; name="dataType"': b"2",
        'Content-Disposition: form-data; name="name"': b"Upload 1",
        'Content-Disposition: form-data; name="uploadFile"; filename="dataset.zip"': path.read_bytes(),
    }
    assert emulator.datasets[dataset_id]["uploadSize"] == path.stat().st_size


def test_the_multipart_body_reads_the_file_a_bounded_chunk_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "big.zip"
    path.write_bytes(b"PK\x03\x04" + bytes(3 * 1024 * 1024))
    reads: list[int] = []

    class Counting:
        def __init__(self) -> None:
            self.file = open(path, "rb")  # noqa: SIM115

        def read(self, n: int = -1) -> bytes:
            reads.append(n)
            return self.file.read(n)

        def __enter__(self) -> Counting:
            return self

        def __exit__(self, *exc: object) -> None:
            self.file.close()

    body = MultipartBody({"name": "x"}, "uploadFile", "big.zip", path.stat().st_size, Counting)
    total = sum(len(chunk) for chunk in body)
    assert total == len(body) and len(reads) > 10
    assert all(0 < n <= 256 * 1024 for n in reads)  # never read(-1): never the whole file


def test_status_counts_reads_until_ready_and_hands_the_mapping_over(
    emulator: Emulator, monkeypatch, make_hook
) -> None:
    monkeypatch.setattr(emulator.state.settings, "dataset_reads_until_ready", 2)
    monkeypatch.setattr(emulator.state.settings, "dataset_scenes", 4)
    hook = make_hook()
    dataset_id = hook.import_dataset(GS, name="ds", data_type=3)
    first = hook.get_dataset_status(dataset_id)
    assert (first.status, first.dataset_id, len(first.mapping)) == (1, dataset_id, 0)
    with hook.get_dataset_status(dataset_id).mapping as mapping:
        assert list(mapping) == [(f"scene-{i:07d}", str(700000000000 + i)) for i in range(1, 5)]
    sent = _sent(emulator, "/dataset/status")
    assert [r["method"] for r in sent] == ["GET", "GET"] and all(r["body"] == b"" for r in sent)


def test_status_sends_the_dataset_id_as_the_query(emulator: Emulator, make_hook) -> None:
    hook = make_hook()
    dataset_id = hook.import_dataset(GS, name="q", data_type=2)
    hook.get_dataset_status(dataset_id)
    # The emulator answers only for the dataset named in ?datasetId= (5308 otherwise).
    from airflow_provider_annotation.exceptions import AnnotationApiError

    with pytest.raises(AnnotationApiError) as err:
        hook.get_dataset_status("999999")
    assert err.value.code == 5308


def test_an_error_dataset_reports_the_platform_reason(emulator: Emulator, make_hook) -> None:
    hook = make_hook()
    state = hook.get_dataset_status(hook.import_dataset("gs://bucket/broken/", name="bad", data_type=3))
    assert state.status == DatasetStatus.ERROR and "File tree misalignment" in (state.message or "")


# --- the status answer: streamed, checked ---------------------------------------------------------


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [
        (
            [
                {"dataId": "1", "sceneId": "a"},
                {"dataId": "2", "sceneId": "b"},
                {"dataId": "3", "sceneId": "a"},
            ],
            "sceneId 'a' appears 2 times",
        ),
        ([{"dataId": "1"}], r"mappingList\[0\]: no sceneId"),
        (
            [{"dataId": "1", "sceneId": "a"}, {"dataId": 2, "sceneId": "b"}],
            r"mappingList\[1\]: dataId is int 2",
        ),
        (["x"], r"mappingList\[0\]: expected an object"),
    ],
)
def test_a_mapping_that_breaks_the_shape_names_its_first_offenders(
    emulator: Emulator, make_hook, mapping: list[Any], expected: str
) -> None:
    body = _status_answer({"status": 2, "datasetId": "7", "mappingList": mapping})
    emulator.inject(Fault(endpoint="/dataset/status", body=body))
    with pytest.raises(AnnotationResponseError, match=expected):
        make_hook(max_attempts=1).get_dataset_status("7")


def test_repeated_data_ids_are_allowed_as_in_the_documented_sample(emulator: Emulator, make_hook) -> None:
    sample = [{"dataId": "111", "sceneId": "111111"}, {"dataId": "111", "sceneId": "111112"}]
    emulator.inject(
        Fault(
            endpoint="/dataset/status",
            body=_status_answer({"status": 2, "datasetId": "1", "mappingList": sample}),
        )
    )
    with make_hook().get_dataset_status("1").mapping as mapping:
        assert list(mapping) == [("111111", "111"), ("111112", "111")]


@pytest.mark.parametrize("status", [0, 3, "2", None, True])
def test_a_status_the_docs_do_not_name_is_refused(emulator: Emulator, make_hook, status: Any) -> None:
    emulator.inject(
        Fault(endpoint="/dataset/status", body=_status_answer({"status": status, "datasetId": "1"}))
    )
    with pytest.raises(AnnotationResponseError, match="dataset status is"):
        make_hook(max_attempts=1).get_dataset_status("1")


def test_the_scanner_reads_values_split_across_chunks_exactly() -> None:
    import io

    mapping = [{"dataId": str(10**15 + i), "sceneId": f"s-{i}"} for i in range(3000)]
    raw = json.dumps(
        {"code": 200, "data": {"status": 2, "mappingList": mapping, "datasetId": "9"}, "success": True}
    )
    seen: list[Any] = []
    small = scan_status_answer(io.BytesIO(raw.encode()), seen.append)
    assert seen == mapping
    assert json.loads(small or b"") == {
        "code": 200,
        "data": {"status": 2, "mappingList": 3000, "datasetId": "9"},
        "success": True,
    }
    assert scan_status_answer(io.BytesIO(raw[:-1].encode()), None) is None  # cut short: not JSON
    assert scan_status_answer(io.BytesIO(b"<html>busy</html>"), None) is None


def test_a_body_that_is_not_the_envelope_is_judged_as_usual(emulator: Emulator, make_hook) -> None:
    emulator.inject(
        Fault(
            endpoint="/dataset/status", status=400, body="<html>Bad gateway</html>", content_type="text/html"
        )
    )
    from airflow_provider_annotation.exceptions import AnnotationResponseError as Refused

    with pytest.raises(Refused, match="not the platform's JSON envelope"):
        make_hook(max_attempts=1).get_dataset_status("1")


# --- the create protocol on both creates ------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["/dataset/import/async", "/dataset/upload/sync"])
def test_a_lost_answer_to_a_create_is_never_sent_again(
    emulator: Emulator, make_hook, tmp_path: Path, endpoint: str
) -> None:
    emulator.inject(Fault(endpoint=endpoint, drop=True, act=True))
    hook = make_hook(max_attempts=5)
    with pytest.raises(AnnotationMayHaveTakenEffectError):
        if endpoint.startswith("/dataset/import"):
            hook.import_dataset(GS, name="once", data_type=3)
        else:
            hook.upload_dataset(_zip(tmp_path), name="once", data_type=3)
    assert len(_sent(emulator, endpoint)) == 1 and len(emulator.datasets) == 1


@pytest.mark.parametrize("endpoint", ["/dataset/import/async", "/dataset/upload/sync"])
def test_a_busy_answer_re_sends_the_create_signed_afresh(
    emulator: Emulator, make_hook, tmp_path: Path, endpoint: str
) -> None:
    emulator.inject(Fault(endpoint=endpoint, status=429, code=500))
    hook = make_hook(max_attempts=3)
    if endpoint.startswith("/dataset/import"):
        hook.import_dataset(GS, name="twice", data_type=3)
    else:
        hook.upload_dataset(_zip(tmp_path), name="twice", data_type=3)
    first, second = _sent(emulator, endpoint)
    assert first["headers"]["X-SIGN"] != second["headers"]["X-SIGN"]
    assert first["json"] == second["json"] and len(first["body"]) == len(
        second["body"]
    )  # the whole file again
    assert len(emulator.datasets) == 1


def _operator(cls: type, conn: str, tmp_path: Path, **kwargs: Any) -> Any:
    args: dict[str, Any] = {
        "name": "Drive",
        "data_type": 3,
        "annotation_conn_id": conn,
        "poke_interval": 0.01,
        "timeout": 5,
    }
    if cls is ImportDatasetOperator:
        args["resource_url"] = GS
    else:
        args["path"] = str(_zip(tmp_path))
    return cls(task_id="dataset", **{**args, **kwargs})


def _try(op: Any, store: StateStore | None) -> tuple[Any, TryTi]:
    ti = TryTi()
    context: dict[str, Any] = {"ti": ti, "task_state_store": store}
    return op.execute(context), ti


@pytest.mark.parametrize("cls", [ImportDatasetOperator, UploadDatasetOperator])
def test_a_retry_keeps_the_dataset_id_and_creates_nothing(
    emulator: Emulator, monkeypatch, tmp_path: Path, cls: type
) -> None:
    conn = set_conn(monkeypatch, "ds_keep", emulator.url)
    store = StateStore()
    first, ti = _try(_operator(cls, conn, tmp_path), store)
    assert store.kept["annotation_dataset"]["datasetId"] == first
    assert ti.pushed["data_ids"] == ["700000000001", "700000000002", "700000000003"]
    again, _ = _try(_operator(cls, conn, tmp_path), store)
    assert again == first and len(emulator.datasets) == 1


@pytest.mark.parametrize("cls", [ImportDatasetOperator, UploadDatasetOperator])
def test_a_lost_answer_fails_the_task_without_retries(
    emulator: Emulator, monkeypatch, tmp_path: Path, cls: type
) -> None:
    conn = set_conn(monkeypatch, "ds_lost", emulator.url)
    endpoint = "/dataset/import/async" if cls is ImportDatasetOperator else "/dataset/upload/sync"
    emulator.inject(Fault(endpoint=endpoint, drop=True, act=True))
    store = StateStore()
    with pytest.raises(AirflowFailException, match="the dataset may exist already"):
        _try(_operator(cls, conn, tmp_path), store)
    assert store.kept == {} and len(_sent(emulator, endpoint)) == 1


# --- bad input: the field named, nothing sent -----------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"resource_url": "https://files.example.com/scenes/"}, "resource_url"),
        ({"resource_url": "/data/scenes"}, "resource_url"),
        ({"resource_url": "gs://"}, "resource_url"),
        ({"name": "n" * 61}, "name: 61 bytes"),
        ({"name": "数" * 21}, "name: 63 bytes"),
        ({"data_type": 4}, "data_type"),
        ({"data_type": "2D"}, "data_type"),
        ({"file_tree_type": 7}, "file_tree_type"),
    ],
)
def test_bad_import_input_names_the_field_before_any_request(
    emulator: Emulator, make_hook, kwargs: dict[str, Any], field: str
) -> None:
    args = {"resource_url": GS, "name": "ok", "data_type": 3, **kwargs}
    url = args.pop("resource_url")
    with pytest.raises(SetupInputError, match=field):
        make_hook().import_dataset(url, **args)
    assert emulator.requests == []


def test_bad_upload_input_names_the_field_before_any_request(
    emulator: Emulator, make_hook, tmp_path: Path
) -> None:
    hook = make_hook()
    over = tmp_path / "over.zip"
    with open(over, "wb") as file:  # sparse: 100 MB on paper, nothing on disk
        file.write(b"PK\x03\x04")
        file.truncate(MAX_UPLOAD_BYTES)
    empty = tmp_path / "empty.zip"
    empty.write_bytes(b"")
    text = tmp_path / "notes.zip"
    text.write_bytes(b"hello")
    cases = [
        (over, "path: 100000000 bytes"),
        (empty, "path: the file is empty"),
        (text, "path: not a zip file"),
        (tmp_path / "missing.zip", "path: no such file"),
    ]
    for path, message in cases:
        with pytest.raises(SetupInputError, match=message):
            hook.upload_dataset(path, name="ok", data_type=3)
    with pytest.raises(SetupInputError, match="name: 61 bytes") as both:
        hook.upload_dataset(text, name="x" * 61, data_type=9)
    assert "data_type" in str(both.value) and "path" in str(both.value)  # every problem at once
    assert emulator.requests == []


def test_the_operator_refuses_bad_input_without_retries(
    emulator: Emulator, monkeypatch, tmp_path: Path
) -> None:
    conn = set_conn(monkeypatch, "ds_bad", emulator.url)
    op = _operator(
        ImportDatasetOperator, conn, tmp_path, resource_url="http://x/y", timeout=0, scene_ids_to=""
    )
    with pytest.raises(AirflowFailException, match="resource_url") as err:
        _try(op, StateStore())
    assert "timeout" in str(err.value) and "scene_ids_to" in str(err.value)
    assert emulator.requests == []


# --- the wait -----------------------------------------------------------------------------------


def _events(trigger: AnnotationDatasetTrigger, limit: float = 20) -> list[dict[str, Any]]:
    return [event.payload for event in asyncio.run(collect(trigger.run(), limit))]


def _trigger(conn: str, dataset_id: str, **kwargs: Any) -> AnnotationDatasetTrigger:
    args = {"end_time": time.time() + 10, "poll_interval": 0.01, "annotation_conn_id": conn, **kwargs}
    return AnnotationDatasetTrigger(dataset_id=dataset_id, **args)


def test_the_trigger_waits_until_ready_through_transient_errors(
    emulator: Emulator, make_hook, monkeypatch
) -> None:
    monkeypatch.setattr(emulator.state.settings, "dataset_reads_until_ready", 3)
    dataset_id = make_hook().import_dataset(GS, name="wait", data_type=3)
    emulator.inject(Fault(endpoint="/dataset/status", status=503, times=2))
    conn = set_conn(monkeypatch, "ds_trig", emulator.url, max_attempts=1)
    (event,) = _events(_trigger(conn, dataset_id))
    assert event == {"dataset_id": dataset_id, "status": "ready", "message": "", "dataset_status": 2}
    assert len(_sent(emulator, "/dataset/status")) == 5  # 2 refused, 2 building, 1 ready


def test_the_trigger_reports_an_error_dataset_scrubbed_and_cut(emulator: Emulator, monkeypatch) -> None:
    reason = "bad tree: " + SK + " " + "x" * 500 + "\nforged line"
    emulator.inject(
        Fault(
            endpoint="/dataset/status",
            body=_status_answer({"status": -1, "datasetId": "5", "message": reason}),
        )
    )
    conn = set_conn(monkeypatch, "ds_err", emulator.url)
    (event,) = _events(_trigger(conn, "5"))
    assert event["status"] == "failure" and event["dataset_status"] == -1
    assert event["message"].startswith("bad tree: ***") and SK not in event["message"]
    assert len(event["message"]) <= 203 and "\n" not in event["message"]


def test_the_trigger_times_out_at_its_deadline_and_ends_on_a_refusal(
    emulator: Emulator, make_hook, monkeypatch
) -> None:
    monkeypatch.setattr(emulator.state.settings, "dataset_reads_until_ready", 10_000)
    dataset_id = make_hook().import_dataset(GS, name="slow", data_type=3)
    conn = set_conn(monkeypatch, "ds_slow", emulator.url)
    (event,) = _events(_trigger(conn, dataset_id, end_time=time.time() + 0.3))
    assert event["status"] == "timeout"
    (event,) = _events(_trigger(conn, "404404"))
    assert event["status"] == "error" and "5308" in event["message"]


def test_the_trigger_serializes_plain_json() -> None:
    trig = AnnotationDatasetTrigger(dataset_id="7", end_time=1.5, poll_interval=2, annotation_conn_id="c")
    path, kwargs = trig.serialize()
    assert path == "airflow_provider_annotation.triggers.annotation.AnnotationDatasetTrigger"
    assert json.loads(json.dumps(kwargs)) == {
        "dataset_id": "7",
        "end_time": 1.5,
        "poll_interval": 2.0,
        "annotation_conn_id": "c",
    }


def test_the_operator_waits_from_the_worker_and_fails_an_error_dataset_without_retries(
    emulator: Emulator, monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(emulator.state.settings, "dataset_reads_until_ready", 2)
    conn = set_conn(monkeypatch, "ds_wait", emulator.url)
    op = _operator(ImportDatasetOperator, conn, tmp_path, resource_url="gs://bucket/broken/")
    store = StateStore()
    with pytest.raises(AirflowFailException, match="failed to build .*File tree misalignment"):
        _try(op, store)
    with pytest.raises(AirflowFailException, match="failed to build"):  # a retry waits, never re-imports
        _try(_operator(ImportDatasetOperator, conn, tmp_path, resource_url="gs://bucket/broken/"), store)
    assert len(_sent(emulator, "/dataset/import/async")) == 1


def test_the_operator_times_out_and_a_retry_waits_on_the_same_dataset(
    emulator: Emulator, monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(emulator.state.settings, "dataset_reads_until_ready", 10_000)
    conn = set_conn(monkeypatch, "ds_to", emulator.url)
    store = StateStore()
    with pytest.raises(AirflowException, match="still building after 0.2 s.*A retry waits"):
        _try(_operator(ImportDatasetOperator, conn, tmp_path, timeout=0.2), store)
    with pytest.raises(AirflowFailException, match="without a task_state_store"):
        _try(_operator(ImportDatasetOperator, conn, tmp_path, timeout=0.2), None)


def test_the_deferrable_operator_hands_over_and_reads_the_mapping_on_resume(
    emulator: Emulator, monkeypatch, tmp_path: Path
) -> None:
    template = "https://app.example.com/datasets/{dataset_id}"
    conn = set_conn(monkeypatch, "ds_defer", emulator.url, ui_url_template=template)
    op = _operator(ImportDatasetOperator, conn, tmp_path, deferrable=True, timeout=60)
    store = StateStore()
    ti = TryTi()
    with pytest.raises(TaskDeferred) as deferred:
        op.execute({"ti": ti, "task_state_store": store})
    dataset_id = store.kept["annotation_dataset"]["datasetId"]
    assert ti.pushed == {"annotation_platform_url": f"https://app.example.com/datasets/{dataset_id}"}
    trigger = deferred.value.trigger
    assert isinstance(trigger, AnnotationDatasetTrigger) and trigger.dataset_id == dataset_id
    (event,) = _events(trigger)
    assert op.execute_complete({"ti": ti, "task_state_store": store}, event) == dataset_id
    assert ti.pushed["data_ids"] == ["700000000001", "700000000002", "700000000003"]
    for bad in (None, {"status": "done"}, "ready"):
        with pytest.raises(AirflowException, match="unexpected event"):
            op.execute_complete({"ti": ti}, bad)
    with pytest.raises(AirflowFailException, match="failed to build .*why"):
        op.execute_complete({"ti": ti}, {"status": "failure", "dataset_id": "1", "message": "why"})


def test_scene_ids_to_writes_json_lines_and_pushes_the_uri_and_count(
    emulator: Emulator, monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(emulator.state.settings, "dataset_scenes", 2500)
    conn = set_conn(monkeypatch, "ds_file", emulator.url)
    target = f"file://{tmp_path}/runs/1/mapping.jsonl"  # folders made as needed
    op = _operator(UploadDatasetOperator, conn, tmp_path, scene_ids_to=target)
    _, ti = _try(op, StateStore())
    assert ti.pushed["data_ids"] == target and ti.pushed["mapping_count"] == 2500
    lines = (tmp_path / "runs/1/mapping.jsonl").read_text().splitlines()
    assert len(lines) == 2500
    assert json.loads(lines[0]) == {"sceneId": "scene-0000001", "dataId": "700000000001"}


def test_the_async_hook_reads_the_status_and_only_counts_the_mapping(
    emulator: Emulator, make_hook, monkeypatch
) -> None:
    from airflow_provider_annotation.hooks.async_annotation import AnnotationAsyncHook

    dataset_id = make_hook().import_dataset(GS, name="async", data_type=2)
    conn = set_conn(monkeypatch, "ds_async", emulator.url)

    async def read() -> Any:
        async with AnnotationAsyncHook(conn) as hook:
            return await hook.get_dataset_status(dataset_id)

    state = asyncio.run(read())
    assert (state.status, state.dataset_id, len(state.mapping)) == (2, dataset_id, 0)


# --- SubmitAnnotationDataOperator reads a mapping file a chunk at a time ---------------------------


def _submitter(conn: str, data_ids: Any, **kwargs: Any) -> Any:
    from airflow_provider_annotation.operators.annotation import SubmitAnnotationDataOperator

    args = {"project_id": "1001", **kwargs}
    return SubmitAnnotationDataOperator(task_id="submit", data_ids=data_ids, annotation_conn_id=conn, **args)


def test_submit_reads_the_mapping_file_in_batches_and_keeps_each_answer(
    emulator: Emulator, make_hook, monkeypatch, tmp_path: Path
) -> None:
    project = make_hook().create_project("Scenes", data_type=3, deadline="2030-06-01", operators=OPERATORS)
    conn = set_conn(monkeypatch, "ds_submit", emulator.url)
    mapping = tmp_path / "mapping.jsonl"
    rows = [("s1", "d1"), ("s2", "d2"), ("s3", "d1"), ("s4", "d3"), ("s5", "d4"), ("s6", "d5")]
    mapping.write_text("".join(json.dumps({"sceneId": s, "dataId": d}) + "\n" for s, d in rows))
    store = StateStore()
    op = _submitter(conn, f"file://{mapping}", project_id=project.project_id, dataset_id="4200", batch_size=2)
    result, _ = _try(op, store)
    sent = [r["json"] for r in _sent(emulator, "/annotation/request")]
    base = {"projectId": project.project_id, "datasetId": 4200}
    assert sent == [
        {**base, "dataIds": ["d1", "d2"]},
        {**base, "dataIds": ["d3", "d4"]},
        {**base, "dataIds": ["d5"]},
    ]  # a data id mapped to two scenes (as in the docs' sample) is sent once
    assert len(result["task_ids"]) == 5 and store.kept["annotation_request"]["chunks"] == 3
    again, _ = _try(
        _submitter(conn, str(mapping), project_id=project.project_id, dataset_id="4200", batch_size=2), store
    )
    assert again == result and len(_sent(emulator, "/annotation/request")) == 3  # every chunk kept


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"sceneId": "s1", "dataId": "d1"}\nnot json\n', "line 2 of the mapping file is not JSON"),
        ('{"sceneId": "s1", "dataId": 7}\n', "line 1 of the mapping file has no dataId string"),
        ("", "holds no data id"),
        (None, "cannot read the mapping file"),
    ],
)
def test_submit_refuses_a_bad_mapping_file_before_any_request(
    emulator: Emulator, monkeypatch, tmp_path: Path, content: str | None, message: str
) -> None:
    conn = set_conn(monkeypatch, "ds_submit_bad", emulator.url)
    mapping = tmp_path / "mapping.jsonl"
    if content is not None:
        mapping.write_text(content)
    with pytest.raises(AirflowFailException, match=message):
        _try(_submitter(conn, str(mapping)), StateStore())
    assert emulator.requests == []


# --- the emulator's own reading of the upload page (raw requests, not the hook) ---------------------


def _raw_upload(emulator: Emulator, parts: list[tuple[str, Any]], secret: str = SK) -> dict[str, Any]:
    import requests

    from airflow_provider_annotation.signing import signed_headers

    files = [(name, value) if isinstance(value, tuple) else (name, (None, value)) for name, value in parts]
    answer = requests.post(
        emulator.url + "/dataset/upload/sync", files=files, headers=signed_headers(AK, secret), timeout=30
    )
    return answer.json()


def test_the_emulator_checks_the_upload_signature_size_and_kind(emulator: Emulator, monkeypatch) -> None:
    from airflow_provider_annotation.testing import datasets as emulated

    fields = [("fileTreeType", "0"), ("dataType", "3"), ("name", "raw")]
    zip_bytes = b"PK\x03\x04" + b"z" * 100
    ok = _raw_upload(emulator, [*fields, ("uploadFile", ("d.zip", zip_bytes))])
    assert ok["code"] == 200 and ok["data"]["status"] == 2 and len(ok["data"]["mappingList"]) == 3
    assert (
        _raw_upload(emulator, [*fields, ("uploadFile", ("d.zip", zip_bytes))], secret="wrong")["code"] == 401
    )
    assert _raw_upload(emulator, [*fields, ("uploadFile", ("d.zip", b""))])["code"] == 5707
    assert _raw_upload(emulator, [*fields, ("uploadFile", ("d.txt", b"hello"))])["code"] == 5709
    assert _raw_upload(emulator, [*fields[:2], ("uploadFile", ("d.zip", zip_bytes))])["code"] == 400
    monkeypatch.setattr(emulated, "UPLOAD_LIMIT", 100)
    assert _raw_upload(emulator, [*fields, ("uploadFile", ("d.zip", zip_bytes))])["code"] == 5708
    assert len(emulator.datasets) == 1


def test_upload_streams_from_an_object_storage_uri(emulator: Emulator, monkeypatch, tmp_path: Path) -> None:
    conn = set_conn(monkeypatch, "ds_uri", emulator.url)
    archive = _zip(tmp_path, "drive.zip", payload=b"p" * 70_000)
    op = _operator(UploadDatasetOperator, conn, tmp_path, path=f"file://{archive}")
    dataset_id, _ = _try(op, StateStore())
    (sent,) = _sent(emulator, "/dataset/upload/sync")
    assert archive.read_bytes() in sent["body"] and b'filename="drive.zip"' in sent["body"]
    assert emulator.datasets[dataset_id]["uploadSize"] == archive.stat().st_size
    with pytest.raises(AirflowFailException, match="path: no such file"):
        _try(
            _operator(UploadDatasetOperator, conn, tmp_path, path=f"file://{tmp_path}/none.zip"), StateStore()
        )
