"""The waiting path against a hostile server, over real HTTP: paged polls end, a poll keeps the
wait's deadline, a failed read cancels its poll's others, a wrong task answer is an error, and
server text reaches events and errors only scrubbed, escaped and cut."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from airflow_provider_annotation.endpoints import PROJECT_TASKS, TASK_GET
from airflow_provider_annotation.exceptions import AnnotationResponseError, AnnotationUnavailableError
from airflow_provider_annotation.hooks.async_annotation import AnnotationAsyncHook
from airflow_provider_annotation.redaction import MESSAGE_CHARS
from airflow_provider_annotation.sensors.annotation import AnnotationTaskSensor
from airflow_provider_annotation.signing import SIGNATURE_HEADER
from airflow_provider_annotation.testing import Emulator, Fault
from tests.helpers import SK, events, make_tasks, set_conn, trigger


def paged(emulator: Emulator) -> list[int]:
    return [json.loads(r["body"])["offset"] for r in emulator.requests if r["endpoint"] == PROJECT_TASKS.path]


def signatures(emulator: Emulator) -> list[str]:
    return [r["headers"].get(SIGNATURE_HEADER.lower()) or "" for r in emulator.requests if "headers" in r]


def assert_clean(text: str, emulator: Emulator) -> None:
    """No secret, no signature the emulator saw, no forged log line, and a few KiB at most."""
    assert SK not in text
    assert not any(sig and sig in text for sig in signatures(emulator))
    assert "\n" not in text and "\r" not in text  # escaped: no forged log line can start
    assert len(text) <= MESSAGE_CHARS + 200


# -- paged reads end, always ----------------------------------------------------------------------


@pytest.fixture
def many_tasks(emulator: Emulator, make_hook) -> tuple[int, list[str]]:
    """150 tasks: the last ones are on page 2 of 100, so a wait for them pages."""
    return make_tasks(make_hook(), 150)


def test_trigger_stops_paging_a_server_that_ignores_offset(emulator, many_tasks, monkeypatch) -> None:
    project_id, ids = many_tasks
    emulator.inject(Fault.paging("ignore-offset", endpoint=PROJECT_TASKS.path, times=10_000))
    trig = trigger(set_conn(monkeypatch, "bound_a", emulator.url), project_id, ids[140:145], page_threshold=2)
    (event,) = events(trig)
    assert event["status"] == "error" and "page 2 repeats 100 id(s)" in event["message"]
    assert paged(emulator) == [1, 2]


def test_trigger_pages_a_server_capping_pages_to_the_end(emulator, many_tasks, monkeypatch) -> None:
    project_id, ids = many_tasks
    for task_id in ids[140:145]:
        emulator.set_task_status(task_id, 9)
    emulator.inject(Fault.paging(cap=30, endpoint=PROJECT_TASKS.path, times=100))
    trig = trigger(set_conn(monkeypatch, "bound_b", emulator.url), project_id, ids[140:145], page_threshold=2)
    (event,) = events(trig)
    assert event["status"] == "success" and event["complete"] == ids[140:145]
    assert paged(emulator) == [1, 2, 3, 4, 5]


def test_poke_mode_refuses_a_repeating_listing(emulator, many_tasks, monkeypatch) -> None:
    project_id, ids = many_tasks
    emulator.inject(Fault.paging("ignore-offset", endpoint=PROJECT_TASKS.path, times=10_000))
    conn = set_conn(monkeypatch, "bound_c", emulator.url)
    s = AnnotationTaskSensor(
        task_id="wait",
        project_id=project_id,
        task_ids=ids[140:145],
        annotation_conn_id=conn,
        page_threshold=2,
    )
    with pytest.raises(AnnotationResponseError, match="repeats 100 id"):
        s.poke({})
    assert paged(emulator) == [1, 2]


# -- waiting keeps its deadline ------------------------------------------------------------------


def test_a_poll_never_outlives_the_deadline(emulator: Emulator, make_hook, monkeypatch) -> None:
    """A read slower than the time left is cut at the deadline: the documented timeout event comes,
    not Airflow's own deferral timeout some minutes later."""
    project_id, ids = make_tasks(make_hook(), 1)
    emulator.inject(Fault.slow(8, endpoint=TASK_GET.path))
    conn = set_conn(monkeypatch, "bound_d", emulator.url, timeout={"connect": 5, "read": 30, "total": 60})
    started = time.monotonic()
    (event,) = events(trigger(conn, project_id, ids, end_time=time.time() + 1))
    assert event["status"] == "timeout"
    assert time.monotonic() - started < 6  # the slow answer would come at 8 s


def test_a_failed_read_cancels_the_other_reads_of_its_poll(
    emulator: Emulator, make_hook, monkeypatch
) -> None:
    """Two reads: one fails (two 503s), the other waits out a 429's Retry-After. The failure ends the
    poll and the waiting read with it: nothing of that poll is left running to send again later."""
    project_id, ids = make_tasks(make_hook(), 2)
    emulator.inject(
        Fault.http(429, retry_after=30, endpoint=TASK_GET.path),
        Fault.http(503, endpoint=TASK_GET.path, times=2),
    )
    conn = set_conn(monkeypatch, "bound_e", emulator.url, max_attempts=2, max_retry_wait=60)
    trig = trigger(conn, project_id, ids)

    async def one_poll() -> list[asyncio.Task]:
        async with AnnotationAsyncHook(conn) as hook:
            before = asyncio.all_tasks()
            with pytest.raises(AnnotationUnavailableError):
                await asyncio.wait_for(trig.read_statuses(hook), 10)
            return [t for t in asyncio.all_tasks() - before if not t.done()]

    assert asyncio.run(one_poll()) == []
    assert [r["status"] for r in emulator.requests if r["endpoint"] == TASK_GET.path] == [429, 503, 503]


@pytest.mark.parametrize("how", ["no-id", "other-id"])
def test_a_task_answer_about_another_task_is_an_error(
    emulator: Emulator, make_hook, monkeypatch, how
) -> None:
    project_id, ids = make_tasks(make_hook(), 1)
    emulator.set_task_status(ids[0], 9)
    emulator.inject(Fault.spoiled_task(how, endpoint=TASK_GET.path, times=100))
    (event,) = events(trigger(set_conn(monkeypatch, "bound_f", emulator.url), project_id, ids), limit=10)
    wanted = "a task has no id" if how == "no-id" else f"not task {ids[0]}'s"
    assert event["status"] == "error" and wanted in event["message"]
    assert "AnnotationResponseError" in event["message"]


# -- server text reaches the event and errors only scrubbed, escaped and cut -----------------------

SPOILED = ["huge-status", "object-status", "huge-id", "object-id"]


@pytest.mark.parametrize("how", SPOILED)
@pytest.mark.parametrize(("endpoint", "count"), [(TASK_GET, 1), (PROJECT_TASKS, 3)], ids=["get", "page"])
def test_a_huge_task_field_never_reaches_an_event_or_error_whole(
    emulator: Emulator, make_hook, monkeypatch, how, endpoint, count
) -> None:
    """300 KB of status or id, carrying the request's X-SIGN, the secret and a forged log line, in a
    task answer or in every task of a page: the trigger's event and the poke's error stay clean."""
    project_id, ids = make_tasks(make_hook(), count)
    emulator.inject(Fault.spoiled_task(how, endpoint=endpoint.path, times=100))
    conn = set_conn(monkeypatch, "bound_g", emulator.url)
    threshold = 20 if endpoint is TASK_GET else 0
    (event,) = events(trigger(conn, project_id, ids, page_threshold=threshold), limit=10)
    assert event["status"] == "error" and "AnnotationResponseError" in event["message"]
    assert_clean(event["message"], emulator)
    assert_clean(json.dumps(event), emulator)
    s = AnnotationTaskSensor(
        task_id="wait", project_id=project_id, task_ids=ids, annotation_conn_id=conn, page_threshold=threshold
    )
    with pytest.raises(AnnotationResponseError) as caught:
        s.poke({})
    assert_clean(str(caught.value), emulator)


# -- the poke reads as the trigger reads ------------------------------------------------------------


def test_poke_and_trigger_page_alike_and_stop_once_every_wanted_task_was_seen(
    emulator, many_tasks, monkeypatch
) -> None:
    """Tasks on page 1 of 2: both modes read page 1 only, with the same page size."""
    project_id, ids = many_tasks
    for task_id in ids[:5]:
        emulator.set_task_status(task_id, 9)
    conn = set_conn(monkeypatch, "bound_alike", emulator.url)
    s = AnnotationTaskSensor(
        task_id="wait", project_id=project_id, task_ids=ids[:5], annotation_conn_id=conn, page_threshold=2
    )
    assert s.poke({}).xcom_value["complete"] == ids[:5]
    seen = len(emulator.requests)
    poked = [json.loads(r["body"]) for r in emulator.requests if r["endpoint"] == PROJECT_TASKS.path]
    (event,) = events(trigger(conn, project_id, ids[:5], page_threshold=2))
    assert event["status"] == "success" and event["complete"] == ids[:5]
    triggered = [
        json.loads(r["body"]) for r in emulator.requests[seen:] if r["endpoint"] == PROJECT_TASKS.path
    ]
    pages = [
        [(page["offset"], page["limit"], page["status"]) for page in read] for read in (poked, triggered)
    ]
    assert pages == [[(1, 100, 1)]] * 2


# -- a wait on a worker keeps the triggers' rules ----------------------------------------------------


def test_send_tasks_waiting_on_a_worker_outlives_503s_as_its_trigger_does(
    emulator: Emulator, make_hook, monkeypatch
) -> None:
    """More 503s than one read's retry budget: the in-worker wait (`waiting.wait_until`) logs them and
    reads again, as `AnnotationBatchTrigger` does, instead of failing the try."""
    from airflow_provider_annotation.operators.send_tasks import SendTasksOperator
    from tests.helpers import StateStore, one_try

    project_id, _ = make_tasks(make_hook(), 1)
    monkeypatch.setattr(emulator.state.settings, "batch_polls_until_final", 2)
    emulator.inject(Fault.http(503, endpoint="/task/send/status", times=3))
    op = SendTasksOperator(
        task_id="send",
        project_id=project_id,
        resource_url="https://files.example.com/a.jsonl",
        poll_interval=0.01,
        timeout=30,
        annotation_conn_id=set_conn(monkeypatch, "bound_send", emulator.url, max_attempts=1),
    )
    batch_id, ti = one_try(op, StateStore())
    assert ti.pushed["import_summary"]["status"] == 3
    answers = [r["status"] for r in emulator.requests if r["endpoint"] == "/task/send/status"]
    assert answers == [503, 503, 503, 200, 200]


def test_an_unexpected_event_is_quoted_escaped_and_cut_by_every_consumer(tmp_path) -> None:
    """The sensor and both deferring operators quote an event they cannot use by one rule
    (`waiting.unexpected_event`): one line, credentials in URLs blanked, cut to the message limit."""
    from airflow.providers.common.compat.sdk import AirflowException

    from airflow_provider_annotation.operators.datasets import ImportDatasetOperator
    from airflow_provider_annotation.operators.send_tasks import SendTasksOperator
    from airflow_provider_annotation.redaction import MESSAGE_CHARS
    from airflow_provider_annotation.sensors.annotation import AnnotationTaskSensor

    event = {
        "status": "done\nINFO forged line",
        "url": "https://user:hunter2@example.com/",
        "pad": "x" * 20_000,
    }
    consumers = [
        AnnotationTaskSensor(task_id="wait", project_id=1, task_ids=["1"], timeout=60),
        SendTasksOperator(task_id="send", project_id=1, resource_url="https://x/y.jsonl"),
        ImportDatasetOperator(task_id="ds", name="Drive", data_type=3, resource_url="https://x/d.zip"),
    ]
    for consumer in consumers:
        with pytest.raises(AirflowException, match="unexpected event") as refused:
            consumer.execute_complete({}, event)
        message = str(refused.value)
        assert "\n" not in message and "hunter2" not in message, type(consumer).__name__
        assert len(message) <= MESSAGE_CHARS + 3, type(consumer).__name__
