"""SendTasksOperator: batch summaries, event checks, and the whole protocol through real
`airflow dags test` (a retry reconnects to its batch: exactly one batch per task)."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_annotation.codes import PlatformCode
from airflow_provider_annotation.operators.annotation import SendTasksOperator
from airflow_provider_annotation.status import Phase, batch_summary, classify_batch
from airflow_provider_annotation.testing import Emulator, Fault
from tests._waiting import OPERATORS
from tests.test_setup_dags import TEST_DAGS, run_dag, task_states

DUP = "Duplicate UniqueIdentifier ID：frame-{}"


class RecordingTi:
    """Stands in for the task instance's XCom push (the one thing execute_complete touches)."""

    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def test_duplicates_are_counted_apart_from_failures() -> None:
    answer = {
        "taskCount": 7,
        "importFailCount": 3,
        "status": 3,
        "errors": [DUP.format(1), "line 4: attachment is not a URL", DUP.format(2)],
    }
    summary = batch_summary("88", answer)
    assert summary == {
        "batch_id": "88",
        "status": 3,
        "task_count": 7,
        "import_fail_count": 3,
        "duplicates": 2,
        "failed": 1,
        "first_errors": ["line 4: attachment is not a URL"],
        "first_duplicates": [DUP.format(1), DUP.format(2)],
    }
    assert classify_batch(summary) is Phase.FAILURE
    assert classify_batch(summary, max_failed_records=1) is Phase.SUCCESS
    assert classify_batch({**summary, "status": 1}) is Phase.ACTIVE
    assert (
        classify_batch({**summary, "status": 2}, final_statuses=(2, 3), max_failed_records=5) is Phase.SUCCESS
    )


def _operator(**kwargs: Any) -> SendTasksOperator:
    return SendTasksOperator(task_id="send", project_id=1, resource_url="https://x/y.jsonl", **kwargs)


def test_execute_complete_reports_duplicates_and_fails_on_real_failures(logs) -> None:
    ti = RecordingTi()
    only_dups = batch_summary(
        "9", {"taskCount": 2, "importFailCount": 2, "status": 3, "errors": [DUP.format(1)] * 2}
    )
    event = {"status": "final", "batch_id": "9", "message": "", "summary": only_dups}
    assert _operator().execute_complete({"ti": ti}, event) == "9"
    assert ti.pushed["import_summary"]["duplicates"] == 2 and ti.pushed["import_summary"]["failed"] == 0
    assert "2 record(s) refused as duplicates" in logs.text
    bad = batch_summary("10", {"taskCount": 0, "importFailCount": 1, "status": 3, "errors": ["bad line"]})
    with pytest.raises(AirflowFailException, match=r"Import batch 10: 1 record\(s\) failed.*\['bad line'\]"):
        _operator().execute_complete({"ti": RecordingTi()}, {**event, "batch_id": "10", "summary": bad})


def test_execute_complete_fails_loudly_on_unexpected_events() -> None:
    for bad in (None, {}, {"status": "success"}, {"status": "final", "batch_id": "1", "summary": None}):
        with pytest.raises(AirflowException, match="unexpected event"):
            _operator().execute_complete({"ti": RecordingTi()}, bad)
    with pytest.raises(AirflowException, match="not final after 5 s.*a retry reconnects"):
        _operator(timeout=5).execute_complete({}, {"status": "timeout", "batch_id": "1"})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"resource_url": "file:///etc/passwd"}, "resource_url: expected an http"),
        ({"project_id": "x"}, "project_id"),
        ({"max_failed_records": -1}, "max_failed_records"),
        ({"final_statuses": []}, "final_statuses"),
        ({"poll_interval": 0}, "poll_interval"),
    ],
)
def test_bad_input_fails_before_sending(kwargs: dict, message: str) -> None:
    args = {"task_id": "send", "project_id": 1, "resource_url": "https://x/y.jsonl", **kwargs}
    with pytest.raises(AirflowFailException, match=message):
        SendTasksOperator(**args).execute({})


def test_on_kill_says_the_import_goes_on(logs) -> None:
    _operator().on_kill()
    assert "no cancel endpoint: the import batch keeps running" in logs.text


@pytest.mark.dags
def test_send_poll_reconnect_defer_through_airflow_dags_test(
    airflow_env, emulator: Emulator, make_hook, monkeypatch
) -> None:
    project = make_hook().create_project("Imports", data_type=2, deadline="2030-06-01", operators=OPERATORS)
    monkeypatch.setattr(emulator.state.settings, "batch_polls_until_final", 2)
    # The first status read of the first task is refused for good: that try fails after the batch
    # id was kept, and its retry must reconnect to the batch instead of sending the file again.
    emulator.inject(Fault.failure(PlatformCode.NOT_FOUND, endpoint="/task/send/status"))
    code, out = run_dag(
        airflow_env, emulator, TEST_DAGS, "annotation_send", {"project_id": project.project_id}
    )
    assert code == 0, out[-3000:]
    states = task_states(airflow_env, "annotation_send")
    assert states["send_resumed"] == ("success", 2)
    assert states["send_deferred"] == ("success", 1) and states["send_no_wait"] == ("success", 1)
    sends = [r for r in emulator.requests if r["endpoint"] == "/task/send"]
    assert len(sends) == 3 and len(emulator.batches) == 3  # one per task, none for the retry
    resumed_batch, deferred_batch, fire_batch = sorted(emulator.batches)
    assert "Reconnecting to existing job" in out
    final = {"status": 3, "task_count": 0, "import_fail_count": 0, "duplicates": 0, "failed": 0}
    for task_id, batch_id in (("send_resumed", resumed_batch), ("send_deferred", deferred_batch)):
        summary = {"batch_id": batch_id, **final, "first_errors": [], "first_duplicates": []}
        assert f"RESULT {task_id} batch={batch_id} summary={summary}" in out
    assert f"RESULT send_no_wait batch={fire_batch} summary=None" in out
    assert "Deferring: waiting for import batch" in out
