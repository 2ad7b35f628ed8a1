"""AnnotationTaskTrigger.run() on asyncio against the emulator over real HTTP."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from airflow_provider_annotation.testing import Emulator, Fault
from airflow_provider_annotation.triggers.annotation import (
    AnnotationBatchTrigger,
    AnnotationDatasetTrigger,
    AnnotationTaskTrigger,
)
from tests.helpers import AK, SK, RequestWatch, collect, events, make_tasks, set_conn, trigger


def test_terminal_statuses_give_exactly_one_success_event(emulator: Emulator, make_hook, monkeypatch) -> None:
    project_id, ids = make_tasks(make_hook(), 2)
    for task_id in ids:
        emulator.set_task_status(task_id, 9)
    got = events(trigger(set_conn(monkeypatch, "trig_a", emulator.url), project_id, ids))
    assert got == [
        {
            "status": "success",
            "message": "2 of 2 seen tasks complete (needed 2)",
            "project_id": project_id,
            "complete": ids,
            "failed": [],
            "statuses": {ids[0]: 9, ids[1]: 9},
        }
    ]


def test_a_failure_status_gives_one_failure_event_naming_the_task(
    emulator: Emulator, make_hook, monkeypatch
) -> None:
    project_id, ids = make_tasks(make_hook(), 2)
    emulator.set_task_status(ids[1], 10)
    (event,) = events(trigger(set_conn(monkeypatch, "trig_b", emulator.url), project_id, ids))
    assert event["status"] == "failure" and event["failed"] == [ids[1]]
    assert f"{ids[1]} (status 10)" in event["message"]


def test_waits_while_tasks_work_and_ends_when_they_finish(emulator: Emulator, make_hook, monkeypatch) -> None:
    project_id, ids = make_tasks(make_hook(), 1)
    trig = trigger(set_conn(monkeypatch, "trig_c", emulator.url), project_id, ids, poll_interval=0.01)
    watch = RequestWatch(emulator, monkeypatch)

    async def scenario() -> list:
        task = asyncio.ensure_future(collect(trig.run(), 20))
        # A poll is sent only after the previous one was judged: at the 5th read, 4 answers of
        # status 1 were judged and the trigger waits on.
        assert await watch.reached("/task/get", 5, limit=20) >= 5
        assert not task.done()
        emulator.set_task_status(ids[0], 5)  # paused: still waiting
        seen = watch.count("/task/get")
        # Every read sent after the change saw status 5; at the 3rd, at least 2 of them were judged.
        assert await watch.reached("/task/get", seen + 3, limit=20) >= seen + 3
        assert not task.done()
        emulator.set_task_status(ids[0], 9)
        return await task

    got = asyncio.run(scenario())
    assert [e.payload["status"] for e in got] == ["success"]
    assert len([r for r in emulator.requests if r["endpoint"] == "/task/get"]) >= 5


def test_a_burst_of_503s_gives_no_event(emulator: Emulator, make_hook, monkeypatch) -> None:
    project_id, ids = make_tasks(make_hook(), 1)
    emulator.set_task_status(ids[0], 9)
    # More 503s than one poll's retry budget: several polls fail before one gets through.
    emulator.inject(Fault.http(503, endpoint="/task/get", times=8))
    conn = set_conn(monkeypatch, "trig_d", emulator.url, max_attempts=2)
    got = events(trigger(conn, project_id, ids))
    assert [e["status"] for e in got] == ["success"]
    statuses = [r["status"] for r in emulator.requests if r["endpoint"] == "/task/get"]
    assert statuses == [503] * 8 + [200]


def test_503s_until_the_deadline_give_one_timeout_event(emulator: Emulator, make_hook, monkeypatch) -> None:
    project_id, ids = make_tasks(make_hook(), 1)
    emulator.inject(Fault.http(503, endpoint="/task/get", times=1000))
    trig = trigger(set_conn(monkeypatch, "trig_e", emulator.url), project_id, ids, end_time=time.time() + 1)
    started = time.monotonic()
    got = events(trig)
    assert [e["status"] for e in got] == ["timeout"]
    assert time.monotonic() - started < 10


def test_the_deadline_gives_a_timeout_event(emulator: Emulator, make_hook, monkeypatch) -> None:
    project_id, ids = make_tasks(make_hook(), 1)
    trig = trigger(set_conn(monkeypatch, "trig_f", emulator.url), project_id, ids, end_time=time.time() + 0.5)
    (event,) = events(trig)
    assert event == {"status": "timeout", "message": "the deadline passed", "project_id": project_id}


def test_an_error_no_retry_cures_gives_one_error_event(emulator: Emulator, make_hook, monkeypatch) -> None:
    project_id, ids = make_tasks(make_hook(), 1)
    conn = set_conn(monkeypatch, "trig_g", emulator.url, password="wrong-secret-key")
    (event,) = events(trigger(conn, project_id, ids))
    assert event["status"] == "error" and "AnnotationAuthError" in event["message"]
    assert "wrong-secret-key" not in json.dumps(event)
    (event,) = events(trigger(set_conn(monkeypatch, "trig_h", emulator.url), project_id, ["12345"]))
    assert event["status"] == "error" and "NotFound" in event["message"]


def test_many_tasks_are_read_by_paging_project_tasks(emulator: Emulator, make_hook, monkeypatch) -> None:
    project_id, ids = make_tasks(make_hook(), 5)
    for task_id in ids[:4]:
        emulator.set_task_status(task_id, 9)
    trig = trigger(set_conn(monkeypatch, "trig_i", emulator.url), project_id, ids[:4], page_threshold=2)
    (event,) = events(trig)
    assert event["status"] == "success" and event["complete"] == ids[:4]
    paths = [r["endpoint"] for r in emulator.requests]
    assert "/task/get" not in paths and paths.count("/project/tasks") == 1


def test_serialize_round_trip_is_plain_json_without_secrets(monkeypatch) -> None:
    trig = AnnotationTaskTrigger(
        project_id=7,
        task_ids=["358183635683250176"],
        end_time=1_900_000_000.5,
        poll_interval=30,
        success_statuses=(9, 4),
        failure_statuses=(10,),
        require=0.5,
        error_fails=False,
        page_threshold=5,
        annotation_conn_id="my_conn",
    )
    path, kwargs = trig.serialize()
    assert path == "airflow_provider_annotation.triggers.annotation.AnnotationTaskTrigger"
    text = json.dumps(kwargs)
    assert AK not in text and SK not in text
    again = AnnotationTaskTrigger(**json.loads(text))
    assert again.serialize() == (path, kwargs)
    assert kwargs["task_ids"] == ["358183635683250176"] and kwargs["end_time"] == 1_900_000_000.5


@pytest.mark.parametrize(
    ("make", "serialized"),
    [
        (
            lambda: AnnotationBatchTrigger(batch_id=5, end_time=2, final_statuses=(3, 4)),
            '["airflow_provider_annotation.triggers.annotation.AnnotationBatchTrigger", {"batch_id": "5", '
            '"end_time": 2.0, "poll_interval": 30.0, "final_statuses": [3, 4], "annotation_conn_id": '
            '"annotation_default"}]',
        ),
        (
            lambda: AnnotationDatasetTrigger(
                dataset_id=9, end_time=3, poll_interval=1, annotation_conn_id="c"
            ),
            '["airflow_provider_annotation.triggers.annotation.AnnotationDatasetTrigger", '
            '{"dataset_id": "9", "end_time": 3.0, "poll_interval": 1.0, "annotation_conn_id": "c"}]',
        ),
        (
            lambda: AnnotationTaskTrigger(project_id="7", task_ids=[2], end_time=1),
            '["airflow_provider_annotation.triggers.annotation.AnnotationTaskTrigger", {"project_id": 7, '
            '"task_ids": ["2"], "end_time": 1.0, "poll_interval": 60.0, "success_statuses": [9], '
            '"failure_statuses": [8, 10], "require": "all", "error_fails": true, "page_threshold": 20, '
            '"annotation_conn_id": "annotation_default"}]',
        ),
    ],
    ids=["batch", "dataset", "task"],
)
def test_serialized_triggers_keep_the_form_deferred_tasks_resume_from(make, serialized: str) -> None:
    """Byte for byte what earlier releases wrote: a deferred task in a user's database resumes
    after an upgrade only if its trigger's classpath and kwargs still mean the same."""
    trig = make()
    assert json.dumps(trig.serialize()) == serialized
    path, kwargs = trig.serialize()
    assert type(trig)(**json.loads(json.dumps(kwargs))).serialize() == (path, kwargs)


def test_provider_info_registers_the_sensor_and_the_trigger() -> None:
    import importlib

    from airflow_provider_annotation.get_provider_info import get_provider_info

    info = get_provider_info()
    sensors = [m for entry in info["sensors"] for m in entry["python-modules"]]
    triggers = [m for entry in info["triggers"] for m in entry["python-modules"]]
    assert sensors == ["airflow_provider_annotation.sensors.annotation"]
    assert triggers == ["airflow_provider_annotation.triggers.annotation"]
    assert hasattr(importlib.import_module(sensors[0]), "AnnotationTaskSensor")
    assert hasattr(importlib.import_module(triggers[0]), "AnnotationTaskTrigger")


def test_batch_trigger_waits_for_a_final_status_through_503s(
    emulator: Emulator, make_hook, monkeypatch
) -> None:
    hook = make_hook()
    project_id, _ = make_tasks(hook, 1)
    monkeypatch.setattr(emulator.state.settings, "batch_polls_until_final", 3)
    batch_id = hook.send_tasks(project_id, "https://files.example.com/a.jsonl")["batchId"]
    emulator.inject(Fault.http(503, endpoint="/task/send/status", times=3))
    trig = AnnotationBatchTrigger(
        batch_id=batch_id, end_time=time.time() + 30, poll_interval=0.05, annotation_conn_id="trig_j"
    )
    set_conn(monkeypatch, "trig_j", emulator.url, max_attempts=1)
    (event,) = events(trig)
    assert event["status"] == "final" and event["summary"]["status"] == 3
    answers = [r["status"] for r in emulator.requests if r["endpoint"] == "/task/send/status"]
    assert answers == [503, 503, 503, 200, 200, 200]
    path, kwargs = trig.serialize()
    assert AnnotationBatchTrigger(**json.loads(json.dumps(kwargs))).serialize() == (path, kwargs)


def test_batch_trigger_deadline_and_error(emulator: Emulator, make_hook, monkeypatch) -> None:
    hook = make_hook()
    project_id, _ = make_tasks(hook, 1)
    monkeypatch.setattr(emulator.state.settings, "batch_polls_until_final", 1000)
    batch_id = hook.send_tasks(project_id, "https://files.example.com/a.jsonl")["batchId"]
    conn = set_conn(monkeypatch, "trig_k", emulator.url)
    trig = AnnotationBatchTrigger(
        batch_id=batch_id, end_time=time.time() + 0.5, poll_interval=0.05, annotation_conn_id=conn
    )
    assert [e["status"] for e in events(trig)] == ["timeout"]
    trig = AnnotationBatchTrigger(batch_id="424242", end_time=time.time() + 30, annotation_conn_id=conn)
    (event,) = events(trig)
    assert event["status"] == "error" and "NotFound" in event["message"]


# --- README promises checked by deliberate breakage (audit) -------------------------------------


@pytest.mark.parametrize(("count", "per_task"), [(20, True), (21, False)])
def test_default_page_threshold_is_20_tasks_and_pages_hold_100(
    emulator: Emulator, make_hook, monkeypatch, count: int, per_task: bool
) -> None:
    project_id, ids = make_tasks(make_hook(), count)
    for task_id in ids:
        emulator.set_task_status(task_id, 9)
    seen = len(emulator.requests)
    (event,) = events(trigger(set_conn(monkeypatch, "trig_threshold", emulator.url), project_id, ids))
    assert event["status"] == "success" and event["complete"] == ids
    polls = emulator.requests[seen:]
    if per_task:
        assert [r["endpoint"] for r in polls] == ["/task/get"] * count
    else:
        assert [r["endpoint"] for r in polls] == ["/project/tasks"]
        assert json.loads(polls[0]["body"])["limit"] == 100


def test_a_stalled_task_is_warned_about_once(emulator: Emulator, make_hook, monkeypatch, logs) -> None:
    project_id, ids = make_tasks(make_hook(), 1)
    emulator.set_task_status(ids[0], 5)
    conn = set_conn(monkeypatch, "trig_stalled", emulator.url)
    (event,) = events(trigger(conn, project_id, ids, end_time=time.time() + 0.6))
    assert event["status"] == "timeout"
    assert len([r for r in emulator.requests if r["endpoint"] == "/task/get"]) >= 3
    assert logs.text.count(f"Task {ids[0]} is stalled (status 5)") == 1


def test_one_progress_line_per_poll_and_request_lines_at_debug_once_waiting(
    emulator: Emulator, make_hook, monkeypatch, logs
) -> None:
    project_id, ids = make_tasks(make_hook(), 1)
    monkeypatch.setattr(emulator.state.settings, "tasks_complete_after_reads", 3)  # done at the 3rd poll
    (event,) = events(trigger(set_conn(monkeypatch, "trig_progress", emulator.url), project_id, ids))
    assert event["status"] == "success"
    progress = [line for line in logs.text.splitlines() if "Progress: " in line]
    assert len(progress) == 3
    assert "0 of 1 tasks complete, 0 failed, 1 still working (needed 1)" in progress[0]
    assert "since the last poll: no change" in progress[1]
    assert "1 of 1 tasks complete, 0 failed, 0 still working (needed 1); since the last poll: " in progress[2]
    assert f"1 newly complete ({ids[0]})" in progress[2]
    requests = [line for line in logs.text.splitlines() if "POST /task/get -> HTTP 200" in line]
    assert [("[info" in line, "[debug" in line) for line in requests] == [(True, False)] + [(False, True)] * 2


def test_every_poll_reads_through_the_one_seam_read_statuses(emulator: Emulator, monkeypatch) -> None:
    """`read_statuses` is where a trigger reading on its own polls (with `share_polls`, the shared
    poll reads for it instead): what it returns is what the loop judges, and nothing else is sent."""
    seen: list[list[str]] = []

    class Answered(AnnotationTaskTrigger):
        async def read_statuses(self, hook) -> dict[str, int]:
            seen.append(list(self.task_ids))
            return {task_id: 9 if len(seen) > 1 else 3 for task_id in self.task_ids}

    trig = Answered(
        project_id=7,
        task_ids=["11", "12"],
        end_time=time.time() + 30,
        poll_interval=0,
        annotation_conn_id=set_conn(monkeypatch, "trig_seam", emulator.url),
        share_polls=False,
    )
    (event,) = events(trig)
    assert event["status"] == "success" and event["statuses"] == {"11": 9, "12": 9}
    assert seen == [["11", "12"]] * 2 and emulator.requests == []
    assert AnnotationTaskTrigger.poll is AnnotationTaskTrigger.read_statuses  # its earlier name
