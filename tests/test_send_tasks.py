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
from airflow_provider_annotation.testing.emulator import import_error
from tests.helpers import OPERATORS, TEST_DAGS, RecordingTi, StateStore, TryTi, one_try, run_dag, task_states


def dup(n: int) -> dict[str, str]:
    """A record refused as a duplicate, as the docs' sample writes it."""
    return import_error(f"frame-{n}", f"Duplicate UniqueIdentifier ID：frame-{n}")


def shown(error: dict[str, str]) -> dict[str, str]:
    """An error entry as a summary keeps it: no jsonLine."""
    return {"uniqueIdentifier": error["uniqueIdentifier"], "error": error["error"]}


NOT_A_URL = import_error("frame-4", "line 4: attachment is not a URL")


def json_answer(data: Any) -> str:
    """A success envelope holding `data`, as raw JSON text for a fault's body."""
    import json

    return json.dumps({"code": 200, "success": True, "message": "Success", "requestId": "r1", "data": data})


def test_duplicates_are_counted_apart_from_failures() -> None:
    answer = {
        "taskCount": 7,
        "importFailCount": 3,
        "status": 3,
        "errors": [dup(1), NOT_A_URL, dup(2)],
    }
    summary = batch_summary("88", answer)
    assert summary == {
        "batch_id": "88",
        "status": 3,
        "task_count": 7,
        "import_fail_count": 3,
        "duplicates": 2,
        "failed": 1,
        "first_errors": [shown(NOT_A_URL)],
        "first_duplicates": [shown(dup(1)), shown(dup(2))],
        "inconsistencies": [],
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
        "9", {"taskCount": 2, "importFailCount": 2, "status": 3, "errors": [dup(1)] * 2}
    )
    event = {"status": "final", "batch_id": "9", "message": "", "summary": only_dups}
    assert _operator().execute_complete({"ti": ti}, event) == "9"
    assert ti.pushed["import_summary"]["duplicates"] == 2 and ti.pushed["import_summary"]["failed"] == 0
    assert "2 record(s) refused as duplicates" in logs.text
    bad_line = import_error("frame-9", "bad line")
    bad = batch_summary("10", {"taskCount": 1, "importFailCount": 1, "status": 3, "errors": [bad_line]})
    with pytest.raises(
        AirflowFailException, match=r"Import batch 10: 1 record\(s\) failed.*'frame-9': bad line"
    ):
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
        ({"final_statuses": ["3"]}, "final_statuses: expected a non-empty list of ints"),
        ({"final_statuses": [3, True]}, "final_statuses"),
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
        summary = {
            "batch_id": batch_id,
            **final,
            "first_errors": [],
            "first_duplicates": [],
            "inconsistencies": [],
        }
        assert f"RESULT {task_id} batch={batch_id} summary={summary}" in out
    assert f"RESULT send_no_wait batch={fire_batch} summary=None" in out
    assert "Deferring: waiting for import batch" in out


# --- README promises checked by deliberate breakage (audit): the operator's own protocol, fast ----
# These run `execute` in-process against the emulator; `StateStore` stands in for Airflow's
# task_state_store (get/set of JSON values), which the DAG run above exercises for real.


@pytest.fixture
def send_env(emulator: Emulator, make_hook, monkeypatch) -> tuple[int, str]:
    from tests.helpers import set_conn

    project = make_hook().create_project("Imports", data_type=2, deadline="2030-06-01", operators=OPERATORS)
    template = "https://app.example.com/p/{project_id}/imports/{batch_id}"
    return project.project_id, set_conn(monkeypatch, "send_fast", emulator.url, ui_url_template=template)


def _sender(send_env: tuple[int, str], **kwargs: Any) -> SendTasksOperator:
    project_id, conn = send_env
    args = {"poll_interval": 0.05, "timeout": 0.4, "annotation_conn_id": conn, **kwargs}
    return SendTasksOperator(
        task_id="send", project_id=str(project_id), resource_url="https://files.example.com/r.jsonl", **args
    )


def _sends(emulator: Emulator) -> int:
    return [r["endpoint"] for r in emulator.requests].count("/task/send")


def test_a_retry_reconnects_to_its_batch_and_a_finished_one_is_reported_without_a_send(
    emulator: Emulator, send_env, monkeypatch
) -> None:
    monkeypatch.setattr(emulator.state.settings, "batch_polls_until_final", 1000)
    store = StateStore()
    with pytest.raises(AirflowException, match="not final after 0.4 s") as first:
        one_try(_sender(send_env), store)
    (batch_id,) = emulator.batches
    assert store.kept == {"annotation_batch_id": batch_id}  # kept before the wait
    url = f"https://app.example.com/p/{send_env[0]}/imports/{batch_id}"
    assert first.value.ti.pushed == {"annotation_platform_url": url}  # the link, before the wait
    with pytest.raises(AirflowException, match="not final"):  # still importing: waited on again
        one_try(_sender(send_env), store)
    assert _sends(emulator) == 1
    emulator.set_batch(batch_id, status=3, taskCount=2, importFailCount=1, errors=[dup(1)])
    result, ti = one_try(_sender(send_env), store)
    assert result == batch_id and _sends(emulator) == 1 and len(emulator.batches) == 1
    assert ti.pushed["import_summary"] == {
        "batch_id": batch_id,
        "status": 3,
        "task_count": 2,
        "import_fail_count": 1,
        "duplicates": 1,
        "failed": 0,
        "first_errors": [],
        "first_duplicates": [shown(dup(1))],
        "inconsistencies": [],
    }


def test_only_a_batch_with_too_many_failures_is_sent_again(emulator: Emulator, send_env, monkeypatch) -> None:
    monkeypatch.setattr(emulator.state.settings, "batch_polls_until_final", 1000)
    store = StateStore()
    with pytest.raises(AirflowException, match="not final"):
        one_try(_sender(send_env), store)
    first = store.kept["annotation_batch_id"]
    emulator.set_batch(first, status=3, taskCount=1, importFailCount=1, errors=[NOT_A_URL])
    monkeypatch.setattr(emulator.state.settings, "batch_polls_until_final", 0)
    again, ti = one_try(_sender(send_env), store)  # the later try sends the file again
    assert again != first and store.kept["annotation_batch_id"] == again
    assert _sends(emulator) == 2 and ti.pushed["import_summary"]["failed"] == 0


def test_a_lost_answer_to_the_send_fails_without_a_retry(emulator: Emulator, send_env) -> None:
    emulator.inject(Fault(endpoint="/task/send", drop=True, act=True))
    store = StateStore()
    with pytest.raises(AirflowFailException, match="may have started an import batch already"):
        one_try(_sender(send_env), store)
    assert _sends(emulator) == 1 and store.kept == {}


def _kept(batch_id: str) -> StateStore:
    store = StateStore()
    store.set("annotation_batch_id", batch_id)
    return store


def test_final_statuses_default_to_3_only(emulator: Emulator, send_env, monkeypatch) -> None:
    monkeypatch.setattr(emulator.state.settings, "batch_polls_until_final", 1000)
    with pytest.raises(AirflowException, match="not final"):
        one_try(_sender(send_env), StateStore())
    (batch_id,) = emulator.batches
    for status in (1, 2, 4):  # not documented as final: still waiting
        emulator.set_batch(batch_id, status=status)
        with pytest.raises(AirflowException, match=rf"\(last status {status}; final statuses \[3\]\)"):
            one_try(_sender(send_env), _kept(batch_id))
    emulator.set_batch(batch_id, status=3)
    assert one_try(_sender(send_env), _kept(batch_id))[0] == batch_id
    assert _sends(emulator) == 1


def test_deferring_keeps_the_batch_and_the_link_first_and_hands_over_the_settings(
    emulator: Emulator, send_env, monkeypatch
) -> None:
    import time

    from airflow.providers.common.compat.sdk import TaskDeferred

    monkeypatch.setattr(emulator.state.settings, "batch_polls_until_final", 1000)
    store = StateStore()
    before = time.time()
    op = _sender(send_env, deferrable=True, timeout=3600, poll_interval=20, final_statuses=[3, 4])
    with pytest.raises(TaskDeferred) as deferred:
        one_try(op, store)
    (batch_id,) = emulator.batches
    assert store.kept == {"annotation_batch_id": batch_id}
    assert deferred.value.ti.pushed["annotation_platform_url"].endswith(f"/imports/{batch_id}")
    kwargs = deferred.value.trigger.serialize()[1]
    assert before + 3600 <= kwargs.pop("end_time") <= time.time() + 3600
    assert kwargs == {
        "batch_id": batch_id,
        "poll_interval": 20.0,
        "final_statuses": [3, 4],
        "annotation_conn_id": send_env[1],
    }


def test_a_finished_batch_is_reported_once_and_a_retry_that_finds_it_shows_the_link_too(
    emulator: Emulator, send_env, logs
) -> None:
    store = StateStore()
    batch_id, ti = one_try(_sender(send_env), store)  # final at the first status read
    emulator.set_batch(batch_id, status=3, taskCount=1, importFailCount=1, errors=[dup(1)])
    url = f"https://app.example.com/p/{send_env[0]}/imports/{batch_id}"
    assert ti.pushed["annotation_platform_url"] == url
    assert logs.text.count(f"Import batch {batch_id} final (status 3)") == 1
    logs.clear()
    again, ti = one_try(_sender(send_env), store)  # a retry finds the batch finished: no send
    assert again == batch_id and _sends(emulator) == 1
    assert ti.pushed["annotation_platform_url"] == url
    assert ti.pushed["import_summary"]["duplicates"] == 1
    assert logs.text.count(f"Import batch {batch_id}: 1 record(s) refused as duplicates") == 1
    assert logs.text.count(f"Import batch {batch_id} final (status 3)") == 1


def test_without_a_task_state_store_every_try_sends_again(emulator: Emulator, send_env) -> None:
    for _ in range(2):  # as on Airflow before 3.3: nothing kept between tries
        _sender(send_env).execute({"ti": TryTi()})
    assert _sends(emulator) == 2 and len(emulator.batches) == 2


@pytest.mark.parametrize("timeout", [0, -1, "6h", True])
def test_a_timeout_that_is_not_a_positive_number_fails_before_sending(timeout: Any) -> None:
    with pytest.raises(AirflowFailException, match="timeout: expected a number of seconds above 0"):
        _operator(timeout=timeout).execute({})


# --- Hostile world (issue 16): opaque batch ids, contradicting counts, errors as the docs show them --


def test_an_opaque_batch_id_is_waited_on_as_the_send_returned_it(
    emulator: Emulator, send_env, monkeypatch
) -> None:
    """The docs type batchId as a string: `b-7f3a9c2e` was accepted on send and refused on every
    status read, so Airflow retried the task forever."""
    monkeypatch.setattr(emulator.state.settings, "batch_id_format", "b-{n:x}")
    monkeypatch.setattr(emulator.state.settings, "batch_polls_until_final", 2)
    batch_id, ti = one_try(_sender(send_env), StateStore())
    assert batch_id.startswith("b-") and list(emulator.batches) == [batch_id]
    assert ti.pushed["import_summary"]["batch_id"] == batch_id and ti.pushed["import_summary"]["status"] == 3
    reads = [r["json"] for r in emulator.requests if r["endpoint"] == "/task/send/status"]
    assert reads == [{"batchId": batch_id}] * 2 and _sends(emulator) == 1


def test_the_batch_trigger_waits_on_an_opaque_batch_id(emulator: Emulator, send_env, monkeypatch) -> None:
    import asyncio
    import time

    from airflow_provider_annotation.triggers.annotation import AnnotationBatchTrigger
    from tests.helpers import collect

    monkeypatch.setattr(emulator.state.settings, "batch_id_format", "b-{n:x}")
    monkeypatch.setattr(emulator.state.settings, "batch_polls_until_final", 2)
    with _sender(send_env).hook as hook:
        batch_id = hook.send_tasks(send_env[0], "https://files.example.com/r.jsonl")["batchId"]
    assert batch_id.startswith("b-")
    trigger = AnnotationBatchTrigger(
        batch_id=batch_id, end_time=time.time() + 30, poll_interval=0.01, annotation_conn_id=send_env[1]
    )
    (event,) = asyncio.run(collect(trigger.run(), 30))
    assert event.payload["status"] == "final" and event.payload["summary"]["batch_id"] == batch_id


@pytest.mark.parametrize(
    ("batch_id", "reason"),
    [
        ("b" * 101, "longer than 100 characters"),
        ("b-1\n2026-01-01T00:00:00Z [info] forged", "character 4 (U+000A) is a control character"),
        ("b-1\u202e", "(U+202E) is a control character"),
        ("   ", "but blank"),
        (3.0, "but not a string (float)"),
    ],
)
def test_a_batch_id_that_cannot_be_shown_safely_is_refused_before_any_request(
    emulator: Emulator, make_hook, batch_id: Any, reason: str
) -> None:
    from airflow_provider_annotation.project import SetupInputError

    with pytest.raises(SetupInputError, match=r"^invalid input: batch_id: an opaque id") as caught:
        make_hook().get_send_status(batch_id)
    assert reason in str(caught.value) and "\n" not in str(caught.value)
    assert emulator.requests == []


def test_a_batch_id_with_a_newline_from_the_platform_forges_no_log_line(
    emulator: Emulator, send_env, logs
) -> None:

    forged = "2026-01-01T00:00:00.000000Z [info     ] FORGED: batch done"
    emulator.inject(
        Fault(
            status=200,
            body=json_answer({"importStatus": 1, "batchId": f"1\n{forged}"}),
            content_type="application/json",
            act=True,
            endpoint="/task/send",
        )
    )
    store = StateStore()
    with pytest.raises(AirflowFailException, match="may have started an import batch") as caught:
        one_try(_sender(send_env), store)
    assert "(U+000A) is a control character" in str(caught.value)
    assert store.kept == {} and _sends(emulator) == 1  # nothing kept to wait on, nothing sent again
    assert not any(line.startswith("2026-01-01") for line in logs.text.splitlines())
    assert not any(line.startswith("2026-01-01") for line in str(caught.value).splitlines())


@pytest.mark.parametrize(
    ("counts", "contradiction"),
    [
        ({"taskCount": 2, "importFailCount": -1, "errors": [NOT_A_URL]}, "importFailCount is negative (-1)"),
        ({"taskCount": 2, "importFailCount": -3, "errors": []}, "importFailCount is negative (-3)"),
        (
            {"taskCount": 2, "importFailCount": 0, "errors": [dup(1)]},
            "1 error(s) listed but importFailCount is 0",
        ),
        ({"taskCount": 1, "importFailCount": 2, "errors": [dup(1), dup(2)]}, "more than taskCount 1"),
        ({"taskCount": -5, "importFailCount": 0, "errors": []}, "taskCount is negative (-5)"),
    ],
)
def test_counts_that_contradict_each_other_are_not_a_clean_success(
    emulator: Emulator, send_env, counts: dict[str, Any], contradiction: str
) -> None:
    # A platform answer, not the emulator's state: its own importer never contradicts itself.
    answer = json_answer({"batchId": "1", "status": 3, **counts})
    emulator.inject(
        Fault(status=200, body=answer, content_type="application/json", endpoint="/task/send/status")
    )
    op = _sender(send_env, max_failed_records=10)  # not about the number of failures
    with pytest.raises(AirflowFailException, match="contradict each other") as caught:
        one_try(op, StateStore())
    assert contradiction in str(caught.value)
    assert contradiction in " ".join(caught.value.ti.pushed["import_summary"]["inconsistencies"])


def test_import_errors_stay_structured_bounded_scrubbed_and_without_json_lines(
    emulator: Emulator, send_env, logs
) -> None:
    """A server echoing the request into 1 MB of `errors`: the failure message was 1 MB with the
    X-SIGN inside, and so was the import_summary XCom."""
    import json

    from tests.helpers import SK

    emulator.inject(Fault.echoing("errors", endpoint="/task/send/status"))
    with pytest.raises(AirflowFailException, match=r"record\(s\) failed") as caught:
        one_try(_sender(send_env), StateStore())
    signatures = [r["headers"]["X-SIGN"] for r in emulator.requests]
    summary = caught.value.ti.pushed["import_summary"]
    message, xcom = str(caught.value), json.dumps(summary)
    assert len(message) < 4096 and len(xcom) < 8192
    assert summary["import_fail_count"] == summary["failed"] > 500  # counted whole, kept short
    assert len(summary["first_errors"]) == 5
    assert all(set(entry) == {"uniqueIdentifier", "error"} for entry in summary["first_errors"])
    assert summary["first_errors"][0]["uniqueIdentifier"].startswith("id-***\\necho: secret=*** sign=***")
    for text in (message, xcom, logs.text):
        assert SK not in text and not any(sign in text for sign in signatures)
        assert "X-Amz-Signature" not in text and "jsonLine" not in text  # never the user's record
        assert not any(line.startswith("2026-01-01") for line in text.splitlines())
    assert "and 2 more in the import_summary XCom" in message


def test_import_errors_reach_the_trigger_event_structured_bounded_and_scrubbed(
    emulator: Emulator, send_env
) -> None:
    import asyncio
    import json
    import time

    from airflow_provider_annotation.triggers.annotation import AnnotationBatchTrigger
    from tests.helpers import collect

    emulator.inject(Fault.echoing("errors", endpoint="/task/send/status"))
    trigger = AnnotationBatchTrigger(
        batch_id="1948529430730380288", end_time=time.time() + 30, annotation_conn_id=send_env[1]
    )
    (event,) = asyncio.run(collect(trigger.run(), 30))
    (sign,) = [r["headers"]["X-SIGN"] for r in emulator.requests if r["endpoint"] == "/task/send/status"]
    payload = json.dumps(event.payload)
    assert event.payload["status"] == "final" and len(payload) < 8192
    assert sign not in payload and "X-Amz-Signature" not in payload and "jsonLine" not in payload
    with pytest.raises(AirflowFailException, match=r"record\(s\) failed") as caught:
        _sender(send_env).execute_complete({"ti": RecordingTi()}, event.payload)
    assert len(str(caught.value)) < 4096 and sign not in str(caught.value)


@pytest.mark.parametrize(
    ("data", "what"),
    [
        ({"status": "3", "errors": []}, "status is not an integer (str)"),
        ({"status": "x" * 300_000, "errors": []}, "status is not an integer (str)"),
        ({"status": {"deep": ["x"] * 50_000}}, "status is not an integer (dict)"),
        ({"status": 3, "importFailCount": 1.0}, "importFailCount is not an integer (float)"),
        ({"status": 3, "taskCount": 10**30}, "taskCount is not an integer (int)"),
        ({"status": 3, "errors": {"uniqueIdentifier": "a"}}, "errors is not a list (dict)"),
    ],
)
def test_a_malformed_status_answer_is_a_typed_error_naming_the_field(
    emulator: Emulator, make_hook, data: dict[str, Any], what: str
) -> None:
    from airflow_provider_annotation.exceptions import AnnotationResponseError

    emulator.inject(
        Fault(
            status=200, body=json_answer(data), content_type="application/json", endpoint="/task/send/status"
        )
    )
    with pytest.raises(AnnotationResponseError, match="the platform reported success but") as caught:
        make_hook(max_attempts=1).get_send_status("b-7f3a9c2e")
    assert what in str(caught.value) and len(str(caught.value)) < 500


def test_final_statuses_are_a_parameter_any_int_included(emulator: Emulator, send_env, monkeypatch) -> None:
    """The docs leave the final statuses open: a platform that ends a batch with -1 (as datasets
    do) or 4 is waited on to its end by naming them."""
    monkeypatch.setattr(emulator.state.settings, "batch_polls_until_final", 1000)
    with pytest.raises(AirflowException, match="not final"):
        one_try(_sender(send_env), StateStore())
    (batch_id,) = emulator.batches
    emulator.set_batch(batch_id, status=-1)
    with pytest.raises(AirflowException, match=r"\(last status -1; final statuses \[3\]\)"):
        one_try(_sender(send_env), _kept(batch_id))
    result, ti = one_try(_sender(send_env, final_statuses=(3, -1)), _kept(batch_id))
    assert result == batch_id and ti.pushed["import_summary"]["status"] == -1 and _sends(emulator) == 1
