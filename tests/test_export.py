"""Exports over real HTTP against the emulator: `/tasks/export` itself, the hook's `export_tasks`, and
`ExportTasksOperator` writing JSON Lines through ``file://`` (byte-exact files, id chunks, a lost
answer re-sent, a failed run retried, input refused before any request, lineage without OpenLineage).
Runs through real Airflow (asset events, the incremental watermark) are in test_export_dags.py."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_annotation.endpoints import TASKS_EXPORT
from airflow_provider_annotation.exceptions import AnnotationInputError, AnnotationValidationError
from airflow_provider_annotation.operators.annotation import ExportTasksOperator
from airflow_provider_annotation.testing import Emulator, Fault
from airflow_provider_annotation.testing.openapi import annotation_result
from tests.helpers import connection_json

PROJECT = 1000


def utc(day: int, hour: int = 12) -> datetime:
    return datetime(2024, 5, day, hour, tzinfo=timezone.utc)


@pytest.fixture
def tasks(emulator: Emulator, make_hook) -> dict[str, str]:
    """Five tasks of project 1000 by data id, completed on May 1 (2), May 2 (0), May 3 (2); one
    still open. The last second of May 1 and the first of May 3 sit right at the day edges."""
    hook = make_hook()
    hook.create_workflow(PROJECT)
    made = hook.request_annotation(PROJECT, ["a", "b", "c", "d", "e"])
    ids = {item["dataId"]: item["taskId"] for item in made.tasks}
    when = {
        "a": datetime(2024, 5, 1, 23, 59, 59, tzinfo=timezone.utc),
        "b": utc(1, 8),
        "c": datetime(2024, 5, 3, 0, 0, 0, tzinfo=timezone.utc),
        "d": utc(3, 9),
    }
    for data_id, moment in when.items():
        emulator.set_task_status(ids[data_id], 9, completed_at=moment)
    emulator.set_task_status(ids["e"], 3)
    return ids


@pytest.fixture
def conn(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AIRFLOW_CONN_ANNOTATION_DEFAULT", connection_json(emulator.url, retry_base_delay=0))
    return "annotation_default"


def data_ids_of(emulator: Emulator, results: list[dict]) -> list[str]:
    """The data id of each exported result: its items carry no task id and no data id (as the docs
    show), so each is matched to the task whose generated result it is."""
    by_result = {
        json.dumps(annotation_result(t), sort_keys=True): t["dataId"] for t in emulator.tasks.values()
    }
    return [by_result[json.dumps(r, sort_keys=True)] for r in results]


def export_bodies(emulator: Emulator) -> list[dict]:
    return [json.loads(r["body"]) for r in emulator.requests if r["endpoint"] == TASKS_EXPORT.path]


def raw_export_bodies(emulator: Emulator) -> list[str]:
    return [r["body"].decode() for r in emulator.requests if r["endpoint"] == TASKS_EXPORT.path]


def line(chunk: str, emulator: Emulator, task_id: str) -> bytes:
    """The expected line, built independently of the provider's serializer."""
    result = annotation_result(emulator.tasks[task_id])
    record = {"projectId": PROJECT, "chunk": chunk, **result}
    return (json.dumps(record, separators=(",", ":")) + "\n").encode()


# --- the emulator's endpoint through the hook -------------------------------------------------


def test_hook_exports_by_window_with_the_before_day_excluded(emulator, make_hook, tasks) -> None:
    hook = make_hook()
    may1 = hook.export_tasks(PROJECT, complete_after="2024-05-01", complete_before="2024-05-02")
    assert data_ids_of(emulator, may1) == ["b", "a"]  # completion order
    assert hook.export_tasks(PROJECT, complete_after="2024-05-02", complete_before="2024-05-03") == []
    may3 = hook.export_tasks(PROJECT, complete_after="2024-05-03", complete_before="2024-05-04")
    assert data_ids_of(emulator, may3) == ["c", "d"]
    assert set(may1[0]) == {"annotations", "hints", "issues", "metadata", "notes"}  # no task id
    assert export_bodies(emulator)[0] == {
        "projectId": PROJECT,
        "completeTimeAfter": "2024-05-01",
        "completeTimeBefore": "2024-05-02",
    }


def test_hook_sends_task_ids_as_exact_integers(emulator, make_hook, tasks) -> None:
    hook = make_hook()
    got = hook.export_tasks(PROJECT, task_ids=[tasks["d"], int(tasks["a"]), tasks["e"]])
    assert data_ids_of(emulator, got) == ["a", "d"]  # e is not complete
    raw = raw_export_bodies(emulator)[0]
    assert f"[{tasks['d']},{tasks['a']},{tasks['e']}]" in raw.replace(" ", "")  # long[], no quotes, no float
    assert int(tasks["a"]) > 2**53


def test_export_input_refused_before_sending(emulator, make_hook) -> None:
    hook = make_hook()
    with pytest.raises(AnnotationInputError, match="exactly one of the two"):
        hook.export_tasks(PROJECT, complete_after="2024-05-01", task_ids=["1"])
    with pytest.raises(AnnotationInputError, match="complete_after: expected a day as 'YYYY-MM-DD'"):
        hook.export_tasks(PROJECT, complete_after="05/01/2024", complete_before="2024-05-02")
    with pytest.raises(AnnotationInputError, match="complete_before: required for a window of days"):
        hook.export_tasks(PROJECT, complete_after="2024-05-01")  # the docs require both dates
    with pytest.raises(AnnotationInputError, match=r"task_ids\[1\]: expected a string"):
        hook.export_tasks(PROJECT, task_ids=["1", 3.58e17])
    assert emulator.requests == []


def test_emulator_refuses_string_ids_and_mixed_selections(emulator, make_hook, tasks) -> None:
    hook = make_hook()
    for body in (
        {"projectId": PROJECT, "taskIds": [tasks["a"]]},  # documented long[], not strings
        {"projectId": PROJECT, "taskIds": [1], "completeTimeAfter": "2024-05-01"},
        {"projectId": PROJECT},
    ):
        with pytest.raises(AnnotationValidationError):
            hook.send_export(body)


# --- the operator -----------------------------------------------------------------------------


def test_multi_day_window_is_byte_exact_jsonl(emulator, conn, tasks, tmp_path: Path) -> None:
    dest = tmp_path / "out" / "may.jsonl"
    op = ExportTasksOperator(
        task_id="export",
        project_id=str(PROJECT),
        destination=f"file://{dest}",
        complete_after="2024-05-01",
        complete_before="2024-05-04",
    )
    assert op.execute({}) == {
        "uri": f"file://{dest}",
        "count": 4,
        "window": ["2024-05-01", "2024-05-04"],
        "chunks": 3,
    }
    expected = b"".join(
        [
            line("2024-05-01", emulator, tasks["b"]),
            line("2024-05-01", emulator, tasks["a"]),
            line("2024-05-03", emulator, tasks["c"]),
            line("2024-05-03", emulator, tasks["d"]),
        ]
    )
    assert dest.read_bytes() == expected
    assert dest.read_bytes().startswith(b'{"projectId":1000,"chunk":"2024-05-01","annotations":[{"key":')
    assert tasks["b"].encode() not in dest.read_bytes()  # no task id in an exported result
    assert [b["completeTimeAfter"] for b in export_bodies(emulator)] == [
        "2024-05-01",
        "2024-05-02",
        "2024-05-03",
    ]
    assert [b["completeTimeBefore"] for b in export_bodies(emulator)] == [
        "2024-05-02",
        "2024-05-03",
        "2024-05-04",
    ]
    assert not (tmp_path / "out" / "may.jsonl.parts").exists()  # parts removed after the final write


def test_task_ids_are_exported_in_chunks(emulator, conn, tasks, tmp_path: Path) -> None:
    dest = tmp_path / "ids.jsonl"
    wanted = [tasks[k] for k in ("a", "b", "c", "d", "a")]  # a repeated id is exported once
    op = ExportTasksOperator(
        task_id="export", project_id=PROJECT, destination=f"file://{dest}", task_ids=wanted, chunk=2
    )
    assert op.execute({}) == {"uri": f"file://{dest}", "count": 4, "window": None, "chunks": 2}
    assert [b["taskIds"] for b in export_bodies(emulator)] == [
        [int(tasks["a"]), int(tasks["b"])],
        [int(tasks["c"]), int(tasks["d"])],
    ]
    lines = dest.read_bytes().splitlines(keepends=True)
    assert lines == [
        line("task-ids-1", emulator, tasks["b"]),
        line("task-ids-1", emulator, tasks["a"]),
        line("task-ids-2", emulator, tasks["c"]),
        line("task-ids-2", emulator, tasks["d"]),
    ]


def test_lost_answer_on_chunk_two_is_resent_without_duplicate_lines(emulator, conn, tasks, tmp_path) -> None:
    dest = tmp_path / "may.jsonl"
    # The first export call answers truly; the second loses its answer after the platform acted.
    emulator.inject(Fault(endpoint=TASKS_EXPORT.path), Fault(endpoint=TASKS_EXPORT.path, drop=True, act=True))
    op = ExportTasksOperator(
        task_id="export",
        project_id=PROJECT,
        destination=f"file://{dest}",
        complete_after="2024-05-01",
        complete_before="2024-05-04",
    )
    assert op.execute({})["count"] == 4
    days = [b["completeTimeAfter"] for b in export_bodies(emulator)]
    assert days == ["2024-05-01", "2024-05-02", "2024-05-02", "2024-05-03"]  # chunk 2 re-sent
    lines = dest.read_bytes().splitlines()
    assert len(lines) == len(set(lines)) == 4


def test_failed_run_retried_rewrites_the_same_object_without_duplicates(
    emulator, conn, tasks, tmp_path
) -> None:
    dest = tmp_path / "may.jsonl"
    dest.write_bytes(b"an older export\n")
    op = ExportTasksOperator(
        task_id="export",
        project_id=PROJECT,
        destination=f"file://{dest}",
        complete_after="2024-05-01",
        complete_before="2024-05-04",
    )
    # Chunk 3 is refused: the run fails after two parts were written, the final object untouched.
    emulator.inject(
        Fault(endpoint=TASKS_EXPORT.path),
        Fault(endpoint=TASKS_EXPORT.path),
        Fault(endpoint=TASKS_EXPORT.path, code=400),
    )
    with pytest.raises(AnnotationValidationError):
        op.execute({})
    assert dest.read_bytes() == b"an older export\n"
    assert sorted(p.name for p in (tmp_path / "may.jsonl.parts").iterdir()) == [
        "part-00001.jsonl",
        "part-00002.jsonl",
    ]
    assert op.execute({})["count"] == 4  # the retry
    lines = dest.read_bytes().splitlines()
    assert len(lines) == len(set(lines)) == 4
    assert not (tmp_path / "may.jsonl.parts").exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            {"complete_after": "2024-05-01", "complete_before": "2024-05-02", "task_ids": ["1"]},
            "task_ids: select by task ids or by a window",
        ),
        ({"complete_after": "2024-05-01"}, "complete_before: required for a window"),
        ({"complete_before": "2024-05-01"}, "complete_after: required for a window"),
        ({"complete_after": "2024-05-02", "complete_before": "2024-05-02"}, "the window is empty"),
        (
            {"complete_after": "2024-05-01", "complete_before": "2024-05-02", "chunk": 50},
            "chunk: a window is exported one day per call",
        ),
        ({"task_ids": ["1"], "chunk": 0}, "chunk: expected 1 to 10000 task ids per call, got 0"),
        ({"task_ids": ["1"], "chunk": "week"}, "chunk: expected 'day' or a number of task ids"),
        ({"task_ids": [1.5]}, r"task_ids\[0\]: expected a string"),
        ({"task_ids": []}, "task_ids: the list is empty"),
        ({"task_ids": ["1"], "destination": "/tmp/x.jsonl"}, "destination: expected a URI"),
        ({"complete_after": "2024-05-01T10:00:00", "complete_before": "2024-05-02"}, "complete_after"),
        (
            {"complete_after": datetime(2024, 5, 1, 10), "complete_before": "2024-05-02"},
            "not at midnight",
        ),
        ({"task_ids": ["1"], "incremental": True}, "task_ids: select by task ids or by a window"),
        (
            {"complete_after": "2024-05-01", "complete_before": "2024-05-02", "incremental": True},
            r"give exactly one outlets=\[Asset\(...\)\] \(found 0\)",
        ),
    ],
)
def test_bad_input_fails_without_retry_before_any_request(
    emulator, conn, tmp_path, arguments, message
) -> None:
    arguments = {"destination": f"file://{tmp_path}/x.jsonl", **arguments}
    op = ExportTasksOperator(task_id="export", project_id=PROJECT, **arguments)
    with pytest.raises(AirflowFailException, match=message):
        op.execute({})
    assert emulator.requests == []
    assert not (tmp_path / "x.jsonl").exists()


def test_overwrite_false_keeps_an_existing_object(emulator, conn, tmp_path) -> None:
    dest = tmp_path / "x.jsonl"
    dest.write_bytes(b"kept\n")
    op = ExportTasksOperator(
        task_id="export", project_id=PROJECT, destination=f"file://{dest}", task_ids=["1"], overwrite=False
    )
    with pytest.raises(AirflowFailException, match="exists and overwrite=False"):
        op.execute({})
    assert dest.read_bytes() == b"kept\n"
    assert emulator.requests == []


def test_lineage_is_skipped_cleanly_without_openlineage(emulator, conn, tasks, tmp_path) -> None:
    pytest.importorskip("airflow")
    with pytest.raises(ImportError):
        import airflow.providers.openlineage  # noqa: F401  - this environment has no OpenLineage
    op = ExportTasksOperator(
        task_id="export", project_id=PROJECT, destination=f"file://{tmp_path}/x.jsonl", task_ids=[tasks["a"]]
    )
    assert op.get_openlineage_facets_on_complete(None) is None
    assert op.execute({})["count"] == 1
    assert op.get_openlineage_facets_on_complete(None) is None


def test_incremental_before_airflow_3_3_warns_and_exports_the_given_window(
    emulator, conn, tasks, tmp_path, logs, monkeypatch
) -> None:
    from airflow.providers.common.compat.sdk import Asset

    from airflow_provider_annotation.operators import export

    monkeypatch.setattr(export, "AIRFLOW_V_3_3_PLUS", False)  # this machine runs 3.3: the flag stands in
    op = ExportTasksOperator(
        task_id="export",
        project_id=PROJECT,
        destination=f"file://{tmp_path}/x.jsonl",
        complete_after="2024-05-01",
        complete_before="2024-05-02",
        incremental=True,
        outlets=[Asset("annotation-export-old-airflow")],
    )
    assert op.execute({})["window"] == ["2024-05-01", "2024-05-02"]
    assert "incremental=True needs Airflow 3.3's asset_state_store" in logs.text


def test_task_ids_rendered_as_text_are_read_and_none_is_refused() -> None:
    from airflow_provider_annotation.export import to_export_task_ids

    big = "358183635683250177"
    assert to_export_task_ids(f"['{big}', '12']") == [int(big), 12]  # Jinja without native objects
    assert to_export_task_ids(f'["{big}"]') == [int(big)]  # | tojson
    assert to_export_task_ids({"complete": [big], "failed": ["12"], "statuses": {}}) == [int(big)]
    with pytest.raises(AnnotationInputError, match="how Jinja renders a missing value"):
        to_export_task_ids("None")
    with pytest.raises(AnnotationInputError, match="task_ids: expected a list of task ids"):
        to_export_task_ids("{'a': 1}")


# --- README promises checked by deliberate breakage (audit) -------------------------------------


def test_chunk_day_means_1000_ids_per_call_for_an_export_by_ids(emulator, conn, tmp_path) -> None:
    ids = [str(10_000 + n) for n in range(1001)]
    op = ExportTasksOperator(
        task_id="export", project_id=PROJECT, destination=f"file://{tmp_path}/ids.jsonl", task_ids=ids
    )
    assert op.execute({})["chunks"] == 2
    assert [len(b["taskIds"]) for b in export_bodies(emulator)] == [1000, 1]


def test_an_aware_datetime_counts_as_a_day_only_at_midnight_utc() -> None:
    from datetime import timedelta

    from airflow_provider_annotation.export import to_day

    plus2 = timezone(timedelta(hours=2))
    assert to_day(datetime(2024, 5, 2, 2, 0, tzinfo=plus2), "complete_after").isoformat() == "2024-05-02"
    with pytest.raises(AnnotationInputError, match="2024-05-01T22:00:00\\+00:00 \\(not at midnight UTC\\)"):
        to_day(datetime(2024, 5, 2, 0, 0, tzinfo=plus2), "complete_after")


def test_an_export_answer_may_exceed_the_envelope_limit(emulator, make_hook, tasks) -> None:
    from airflow_provider_annotation.endpoints import ENVELOPE_ANSWER_LIMIT, PROJECT_GET
    from airflow_provider_annotation.exceptions import AnnotationResponseError

    assert TASKS_EXPORT.max_answer_bytes == 256 * 1024 * 1024 and ENVELOPE_ANSWER_LIMIT == 4 * 1024 * 1024
    size = 5 * 1024 * 1024  # past an envelope endpoint's 4 MiB, far below the export's 256 MiB
    emulator.inject(
        Fault(endpoint=TASKS_EXPORT.path, pad_to=size), Fault(endpoint=PROJECT_GET.path, pad_to=size)
    )
    hook = make_hook()
    got = hook.export_tasks(PROJECT, complete_after="2024-05-01", complete_before="2024-05-02")
    assert len(got) == 2
    with pytest.raises(AnnotationResponseError, match="over this endpoint's limit"):
        hook.get_project(PROJECT)


class _AssetStateStore:
    """Stands in for one asset's asset_state_store (get/set of JSON values); the real one is run in
    test_export_dags.py."""

    def __init__(self, **kept: str) -> None:
        self.kept = dict(kept)

    def get(self, key: str) -> str | None:
        return self.kept.get(key)

    def set(self, key: str, value: str) -> None:
        self.kept[key] = value


def _incremental(tmp_path: Path, store: _AssetStateStore, before: str) -> tuple[ExportTasksOperator, dict]:
    from airflow.providers.common.compat.sdk import Asset

    asset = Asset("annotation-export-audit")
    op = ExportTasksOperator(
        task_id="export",
        project_id=PROJECT,
        destination=f"file://{tmp_path}/inc.jsonl",
        complete_after="2024-05-01",
        complete_before=before,
        incremental=True,
        outlets=[asset],
    )
    return op, {"asset_state_store": {asset: store}}


def test_the_watermark_moves_only_after_the_destination_is_written(emulator, conn, tasks, tmp_path) -> None:
    store = _AssetStateStore()
    op, context = _incremental(tmp_path, store, "2024-05-04")
    emulator.inject(
        Fault(endpoint=TASKS_EXPORT.path),
        Fault(endpoint=TASKS_EXPORT.path),
        Fault(endpoint=TASKS_EXPORT.path, code=400),
    )
    with pytest.raises(AnnotationValidationError):
        op.execute(context)
    assert store.kept == {} and not (tmp_path / "inc.jsonl").exists()
    assert op.execute(context)["window"] == ["2024-05-01", "2024-05-04"]
    assert store.kept == {"annotation_export_watermark": "2024-05-04"}
    assert len((tmp_path / "inc.jsonl").read_bytes().splitlines()) == 4


@pytest.mark.parametrize("watermark", ["2024-05-04", "2024-05-06"])
def test_a_watermark_at_or_past_complete_before_writes_an_empty_export(
    emulator, conn, tmp_path, watermark
) -> None:
    store = _AssetStateStore(annotation_export_watermark=watermark)
    op, context = _incremental(tmp_path, store, "2024-05-04")
    result = op.execute(context)
    assert result["count"] == 0 and result["chunks"] == 0
    assert (tmp_path / "inc.jsonl").read_bytes() == b""
    assert store.kept == {"annotation_export_watermark": watermark}
    assert emulator.requests == []


# --- Hostile world (issue 16): strict JSON lines with the platform's own values ---------------------


def export_answer(items_text: str) -> Fault:
    """A successful export answer whose annotationResultList is `items_text`, written by hand: what
    a JSON library in the emulator could not produce (``1e400``, ``NaN``, pretty-printing)."""
    body = (
        '{"code": 200, "success": true, "message": "Success", "requestId": "r-exp",\n'
        ' "date": "2024-05-16 19:03:34",\n'
        ' "data": {"annotationResultList": ' + items_text + "}}"
    )
    return Fault(status=200, body=body, content_type="application/json", endpoint=TASKS_EXPORT.path)


def export_one_day(conn: str, dest: Path) -> ExportTasksOperator:
    return ExportTasksOperator(
        task_id="export",
        project_id=PROJECT,
        destination=f"file://{dest}",
        complete_after="2024-05-01",
        complete_before="2024-05-02",
        annotation_conn_id=conn,
    )


def strict_loads(raw: bytes) -> object:
    """RFC 8259 only: UTF-8, no NaN/Infinity tokens."""

    def refuse(token: str) -> object:
        raise ValueError(f"not strict JSON: {token}")

    return json.loads(raw.decode("utf-8"), parse_constant=refuse)


def test_export_lines_keep_escaped_surrogates_and_number_text_as_strict_utf8_json(
    emulator, conn, tmp_path
) -> None:
    """A lone surrogate crashed the export with a raw UnicodeEncodeError; 1e400 became Infinity."""
    items = (
        '[\n  {"metadata": {"uniqueIdentifier": "half-emoji", "text": "\\ud83d"},\n'
        '   "annotations": [], "hints": [], "issues": [], "notes": []},\n'
        '  {"metadata": {"uniqueIdentifier": "huge", "score": 1e400, "small": -0.10E-2,\n'
        '                "big": 123456789012345678901234567890},'
        ' "annotations": [{"label": "caf\u00e9 \\u00e9 \\"q\\" \\n"}]},\n'
        "  {}\n]"
    )
    emulator.inject(export_answer(items))
    dest = tmp_path / "strict.jsonl"
    assert export_one_day(conn, dest).execute({})["count"] == 3
    lines = dest.read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) == 4
    first, second, third = lines[:3]
    assert b'"text":"\\ud83d"' in first  # still the escape, not a crash or a replacement character
    assert b'"score":1e400' in second and b'"small":-0.10E-2' in second
    assert b'"big":123456789012345678901234567890' in second
    assert '"label":"café \\u00e9 \\"q\\" \\n"'.encode() in second  # the platform's own text, in UTF-8
    assert third == b'{"projectId":1000,"chunk":"2024-05-01"}'
    for raw in lines[:3]:
        record = strict_loads(raw)
        assert record["projectId"] == PROJECT and record["chunk"] == "2024-05-01"
    assert strict_loads(first)["metadata"]["text"] == "\ud83d"


@pytest.mark.parametrize(
    ("items", "record", "what"),
    [
        ('[{"a": 1}, {"score": NaN}]', "annotationResultList[1]", "holds NaN"),
        ('[{"score": -Infinity}]', "annotationResultList[0]", "holds -Infinity"),
        ('[{"a": 1}, {"b": 2}, [1, 2]]', "annotationResultList[2]", "is not an object (list)"),
        ('[{"chunk": "mine"}]', "annotationResultList[0]", "holds its own 'chunk'"),
    ],
)
def test_a_record_that_cannot_be_kept_exactly_fails_naming_it_before_anything_is_published(
    emulator, conn, tmp_path, items: str, record: str, what: str
) -> None:
    emulator.inject(export_answer(items))
    dest = tmp_path / "never.jsonl"
    with pytest.raises(AirflowFailException, match="Chunk 2024-05-01: ") as caught:
        export_one_day(conn, dest).execute({})
    message = str(caught.value)
    assert record in message and what in message and "Not retrying" in message
    assert not dest.exists()  # nothing published
    assert len(export_bodies(emulator)) == 1  # the same answer would come again: not re-sent


def test_an_answer_that_is_not_utf8_is_a_typed_error(emulator, conn, tmp_path) -> None:
    body = b'{"code": 200, "success": true, "message": "ok", "data": {"annotationResultList": '
    body += b'[{"t": "\xed\xa0\xbd"}]}}'  # a surrogate encoded in (invalid) UTF-8
    emulator.inject(Fault(status=200, body=body, content_type="application/json", endpoint=TASKS_EXPORT.path))
    dest = tmp_path / "never.jsonl"
    with pytest.raises(AirflowFailException, match="not UTF-8"):
        export_one_day(conn, dest).execute({})
    assert not dest.exists()


def test_a_failure_envelope_is_still_the_typed_error_it_means(emulator, conn, tmp_path) -> None:
    from airflow_provider_annotation.codes import PlatformCode
    from airflow_provider_annotation.exceptions import AnnotationNotFoundError

    emulator.inject(Fault.failure(PlatformCode.PROJECT_NOT_FOUND, endpoint=TASKS_EXPORT.path))
    with pytest.raises(AnnotationNotFoundError):
        export_one_day(conn, tmp_path / "x.jsonl").execute({})
    assert not (tmp_path / "x.jsonl").exists()


def test_a_parts_folder_that_is_a_symlink_is_refused_and_what_it_points_to_is_untouched(
    emulator, conn, tasks, tmp_path
) -> None:
    """The export deleted the files of the folder `<dest>.parts` pointed to."""
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "part-00001.jsonl").write_text("keep me")
    (precious / "notes.txt").write_text("keep me too")
    dest = tmp_path / "out.jsonl"
    (tmp_path / "out.jsonl.parts").symlink_to(precious, target_is_directory=True)
    with pytest.raises(AirflowFailException, match="is a symbolic link"):
        export_one_day(conn, dest).execute({})
    assert sorted(p.name for p in precious.iterdir()) == ["notes.txt", "part-00001.jsonl"]
    assert (precious / "part-00001.jsonl").read_text() == "keep me"
    assert export_bodies(emulator) == [] and not dest.exists()  # refused before any request


def test_a_stale_part_that_is_a_symlink_is_replaced_never_written_through(
    emulator, conn, tasks, tmp_path
) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    parts = tmp_path / "out.jsonl.parts"
    parts.mkdir()
    (parts / "part-00001.jsonl").symlink_to(outside)
    (parts / "mine.txt").write_text("not a part: left alone")
    dest = tmp_path / "out.jsonl"
    assert export_one_day(conn, dest).execute({})["count"] == 2
    assert outside.read_text() == "keep me"
    assert (parts / "mine.txt").read_text() == "not a part: left alone"
    assert [strict_loads(raw)["chunk"] for raw in dest.read_bytes().splitlines()] == ["2024-05-01"] * 2


def test_reading_an_export_answer_costs_about_its_size_in_memory() -> None:
    """An 18 MB answer cost about 180 MB parsed whole; item by item it costs about its text."""
    import tracemalloc

    from airflow_provider_annotation.export import judge_export_answer

    record = json.dumps(
        annotation_result({"taskId": "358183635683250176", "dataId": "frame-1"}), separators=(",", ":")
    )
    count = 3_000  # about 2 MB: enough to tell 1x from the 10x of a whole parse
    body = (
        '{"code":200,"success":true,"message":"Success","requestId":"r","data":{"annotationResultList":['
        + ",".join([record] * count)
        + "]}}"
    ).encode()
    tracemalloc.start()
    try:
        data, _ = judge_export_answer(TASKS_EXPORT, 200, {}, body)
        written = sum(len(line) for line in data["annotationResultList"].lines(PROJECT, "2024-05-01"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(data["annotationResultList"]) == count and written > len(body)
    print(f"export answer {len(body) / 2**20:.1f} MiB: peak {peak / 2**20:.1f} MiB")
    assert peak < 1.5 * len(body), f"peak {peak / 2**20:.1f} MiB for a {len(body) / 2**20:.1f} MiB answer"
