"""AnnotationTaskSensor: poke mode against the emulator, the event check of the deferrable path,
input errors, and both modes through real `airflow dags test` (which runs triggers inline)."""

from __future__ import annotations

import threading
import time

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, AirflowSensorTimeout

from airflow_provider_annotation.sensors.annotation import AnnotationTaskSensor, to_task_ids
from airflow_provider_annotation.testing import Emulator, Fault
from tests.helpers import TEST_DAGS, RequestWatch, make_tasks, run_dag, set_conn, task_states


def sensor(conn_id: str, project_id, ids, **kwargs) -> AnnotationTaskSensor:
    return AnnotationTaskSensor(
        task_id="wait", project_id=project_id, task_ids=ids, annotation_conn_id=conn_id, **kwargs
    )


def test_poke_mode_waits_then_returns_the_summary(emulator: Emulator, make_hook, monkeypatch) -> None:
    project_id, ids = make_tasks(make_hook(), 2)
    s = sensor(set_conn(monkeypatch, "poke_a", emulator.url), str(project_id), {"task_ids": ids})
    assert s.poke({}) is False
    emulator.set_task_status(ids[0], 9)
    emulator.set_task_status(ids[1], 9)
    done = s.poke({})
    assert done.is_done and done.xcom_value == {
        "complete": ids,
        "failed": [],
        "statuses": {ids[0]: 9, ids[1]: 9},
    }


def test_poke_mode_fails_naming_the_failed_task(emulator: Emulator, make_hook, monkeypatch) -> None:
    project_id, ids = make_tasks(make_hook(), 2)
    emulator.set_task_status(ids[0], 8)
    s = sensor(set_conn(monkeypatch, "poke_b", emulator.url), project_id, ids)
    with pytest.raises(AirflowFailException, match=f"failed: {ids[0]} \\(status 8\\)"):
        s.poke({})


def test_poke_mode_warns_once_about_stalled_tasks(emulator: Emulator, make_hook, monkeypatch, logs) -> None:
    project_id, ids = make_tasks(make_hook(), 1)
    emulator.set_task_status(ids[0], 7)
    s = sensor(set_conn(monkeypatch, "poke_c", emulator.url), project_id, ids)
    assert s.poke({}) is False and s.poke({}) is False
    assert logs.text.count(f"Task {ids[0]} is stalled (status 7)") == 1


def test_poke_mode_keeps_waiting_through_unavailability(emulator: Emulator, make_hook, monkeypatch) -> None:
    project_id, ids = make_tasks(make_hook(), 1)
    emulator.set_task_status(ids[0], 9)
    emulator.inject(Fault.http(503, endpoint="/task/get", times=2))
    s = sensor(set_conn(monkeypatch, "poke_d", emulator.url, max_attempts=2), project_id, ids)
    assert s.poke({}) is False
    assert s.poke({}).is_done


def test_poke_mode_pages_above_the_threshold(emulator: Emulator, make_hook, monkeypatch) -> None:
    project_id, ids = make_tasks(make_hook(), 3)
    for task_id in ids:
        emulator.set_task_status(task_id, 9)
    s = sensor(set_conn(monkeypatch, "poke_e", emulator.url), project_id, ids, page_threshold=1)
    assert s.poke({}).xcom_value["complete"] == ids
    assert [r["endpoint"] for r in emulator.requests].count("/task/get") == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"task_ids": []}, "task_ids: expected a non-empty list"),
        ({"task_ids": "None"}, "task_ids: got 'None'"),
        ({"task_ids": ["12", 3.0]}, r"task_ids\[1\]"),
        ({"task_ids": {"rejected": []}}, "task_ids: a dict without 'task_ids'"),
        ({"project_id": "abc"}, "project_id"),
        ({"require": "most"}, "require"),
        ({"failure_statuses": (9,)}, "success_statuses and failure_statuses"),
    ],
)
def test_bad_input_fails_before_sending(emulator: Emulator, monkeypatch, kwargs, message) -> None:
    args = {"project_id": 1, "task_ids": ["1"], **kwargs}
    s = AnnotationTaskSensor(
        task_id="wait", annotation_conn_id=set_conn(monkeypatch, "bad", emulator.url), **args
    )
    with pytest.raises(AirflowFailException, match=message):
        s.poke({})
    assert emulator.requests == []


def test_task_ids_forms() -> None:
    assert to_task_ids('["358183635683250176", "2"]') == ["358183635683250176", "2"]
    assert to_task_ids("['1', '1', 2]") == ["1", "2"]
    assert to_task_ids({"task_ids": ["5"], "rejected_data_ids": []}) == ["5"]


def test_execute_complete_checks_the_event() -> None:
    s = AnnotationTaskSensor(task_id="wait", project_id=1, task_ids=["1"], timeout=60)
    summary = {"complete": ["1"], "failed": [], "statuses": {"1": 9}}
    assert s.execute_complete({}, {"status": "success", "message": "", **summary}) == summary
    with pytest.raises(AirflowFailException, match="Annotation tasks failed: 1 failed"):
        s.execute_complete({}, {"status": "failure", "message": "1 failed", **summary})
    with pytest.raises(AirflowSensorTimeout, match="Timed out after 1 min"):
        s.execute_complete({}, {"status": "timeout", "message": "the deadline passed"})
    with pytest.raises(AirflowException, match="Waiting for the tasks failed: boom"):
        s.execute_complete({}, {"status": "error", "message": "boom"})
    for bad in (None, {}, {"status": "done"}, {"status": "success"}, "success"):
        with pytest.raises(AirflowException, match="unexpected event"):
            s.execute_complete({}, bad)


@pytest.mark.dags
def test_both_modes_through_airflow_dags_test(
    airflow_env, emulator: Emulator, make_hook, monkeypatch
) -> None:
    project_id, ids = make_tasks(make_hook(), 2)
    emulator.set_task_status(ids[0], 9)
    watch = RequestWatch(emulator, monkeypatch)

    def finish_later() -> None:
        # The sensor that runs first polls a few times first (each poll reads ids[1] once); the
        # limit only keeps a broken DAG from hanging the test.
        watch.wait_for("/task/get", 3, task_id=ids[1], limit=120)
        emulator.set_task_status(ids[1], 9)

    worker = threading.Thread(target=finish_later)
    worker.start()
    code, out = run_dag(
        airflow_env,
        emulator,
        TEST_DAGS,
        "annotation_wait",
        {"project_id": project_id, "task_ids": ids},
        ui_url_template="https://app.example.com/projects/{project_id}",
    )
    worker.join()
    assert code == 0, out[-3000:]
    assert watch.count("/task/get", task_id=ids[1]) >= 4  # 3 polls on status 1, and one seeing 9
    states = task_states(airflow_env, "annotation_wait")
    assert {t: s for t, (s, _) in states.items()} == {
        "wait_deferrable": "success",
        "wait_poke": "success",
        "report": "success",
    }
    summary = {"complete": ids, "failed": [], "statuses": {ids[0]: 9, ids[1]: 9}}
    assert f"RESULT deferrable={summary} poke={summary}" in out
    assert "Deferring: waiting for 2 task(s)" in out
    link = f"On the platform: https://app.example.com/projects/{project_id}"
    assert out.count(link) == 2 and out.index(link) < out.index("Deferring: waiting for 2 task(s)")

    # A failure status fails both modes, naming the task.
    project_id, ids = make_tasks(make_hook(), 1, name="Trucks")
    emulator.set_task_status(ids[0], 10)
    code, out = run_dag(
        airflow_env, emulator, TEST_DAGS, "annotation_wait", {"project_id": project_id, "task_ids": ids}
    )
    states = task_states(airflow_env, "annotation_wait")
    assert states["wait_deferrable"][0] == "failed" and states["wait_poke"][0] == "failed"
    assert (
        out.count(
            f"Annotation tasks failed: 0 of 1 seen tasks complete (needed 1); failed: {ids[0]} (status 10)"
        )
        >= 2
    )


# --- README promises checked by deliberate breakage (audit) -------------------------------------


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(4, "wait"), (5, "wait"), (7, "wait"), (6, "fail"), (8, "fail"), (10, "fail"), (9, "done")],
)
def test_default_statuses_follow_the_readme_table(
    emulator: Emulator, make_hook, monkeypatch, status: int, outcome: str
) -> None:
    project_id, ids = make_tasks(make_hook(), 1)
    emulator.set_task_status(ids[0], status)
    s = sensor(set_conn(monkeypatch, "poke_defaults", emulator.url), project_id, ids)  # all defaults
    if outcome == "fail":
        with pytest.raises(AirflowFailException, match=f"failed: {ids[0]} \\(status {status}\\)"):
            s.poke({})
    elif outcome == "done":
        assert s.poke({}).xcom_value == {"complete": ids, "failed": [], "statuses": {ids[0]: status}}
    else:
        assert s.poke({}) is False


def test_a_negative_page_threshold_fails_before_sending(emulator: Emulator, monkeypatch) -> None:
    s = sensor(set_conn(monkeypatch, "bad_threshold", emulator.url), 1, ["1"], page_threshold=-1)
    with pytest.raises(AirflowFailException, match="page_threshold: expected an int of at least 0"):
        s.poke({})
    assert emulator.requests == []


def test_poke_mode_fails_on_an_error_no_retry_cures(emulator: Emulator, make_hook, monkeypatch) -> None:
    from airflow_provider_annotation.exceptions import AnnotationAuthError, AnnotationNotFoundError

    project_id, ids = make_tasks(make_hook(), 1)
    wrong = sensor(
        set_conn(monkeypatch, "poke_wrong", emulator.url, password="wrong-secret"), project_id, ids
    )
    with pytest.raises(AnnotationAuthError):
        wrong.poke({})
    with pytest.raises(AnnotationNotFoundError):
        sensor(set_conn(monkeypatch, "poke_unknown", emulator.url), project_id, ["12345"]).poke({})


def test_poke_mode_fails_at_once_on_an_unusable_connection(emulator: Emulator, monkeypatch) -> None:
    conn = set_conn(monkeypatch, "poke_bad_conn", emulator.url, max_attempts="many")
    with pytest.raises(AirflowFailException, match="max_attempts.*\nNothing was sent; not retrying"):
        sensor(conn, 1, ["1"]).poke({})
    assert emulator.requests == []


def test_deferring_hands_the_trigger_an_absolute_deadline(emulator: Emulator, monkeypatch) -> None:
    from airflow.providers.common.compat.sdk import TaskDeferred

    s = sensor(
        set_conn(monkeypatch, "defer_a", emulator.url),
        "7",
        '["358183635683250176", 2]',
        deferrable=True,
        timeout=3600,
        poke_interval=45,
        page_threshold=3,
        require="any",
        error_fails=False,
        success_statuses=(9, 4),
        failure_statuses=(10,),
    )
    before = time.time()
    with pytest.raises(TaskDeferred) as deferred:
        s.execute({})
    trig = deferred.value.trigger
    assert before + 3600 <= trig.end_time <= time.time() + 3600  # epoch seconds, not a duration
    assert trig.serialize()[1] == {
        "project_id": 7,
        "task_ids": ["358183635683250176", "2"],
        "end_time": trig.end_time,
        "poll_interval": 45.0,
        "success_statuses": [9, 4],
        "failure_statuses": [10],
        "require": "any",
        "error_fails": False,
        "page_threshold": 3,
        "annotation_conn_id": "defer_a",
    }
    assert trig.share_polls is True  # the default: shared, and not written to the serialized form
    assert emulator.requests == []


def test_a_sensor_made_with_share_polls_false_defers_a_trigger_that_polls_alone(
    emulator: Emulator, monkeypatch
) -> None:
    from airflow.providers.common.compat.sdk import TaskDeferred

    from airflow_provider_annotation.triggers.annotation import AnnotationTaskTrigger

    s = sensor(
        set_conn(monkeypatch, "defer_alone", emulator.url), "7", '["1"]', deferrable=True, share_polls=False
    )
    with pytest.raises(TaskDeferred) as deferred:
        s.execute({})
    classpath, kwargs = deferred.value.trigger.serialize()
    assert kwargs["share_polls"] is False
    assert AnnotationTaskTrigger(**kwargs).share_polls is False  # as the triggerer rebuilds it


@pytest.mark.parametrize(("count", "per_task"), [(20, True), (21, False)])
def test_default_page_threshold_is_20_tasks_and_pages_hold_100(
    emulator: Emulator, make_hook, monkeypatch, count: int, per_task: bool
) -> None:
    import json

    project_id, ids = make_tasks(make_hook(), count)
    for task_id in ids:
        emulator.set_task_status(task_id, 9)
    conn = set_conn(monkeypatch, "poke_threshold", emulator.url)
    seen = len(emulator.requests)
    assert sensor(conn, project_id, ids).poke({}).xcom_value["complete"] == ids
    polls = emulator.requests[seen:]
    if per_task:
        assert [r["endpoint"] for r in polls] == ["/task/get"] * count
    else:
        assert {r["endpoint"] for r in polls} == {"/project/tasks"}
        assert {json.loads(r["body"])["limit"] for r in polls} == {100}


@pytest.mark.parametrize(
    ("field", "value"), [("error_fails", "False"), ("error_fails", 0), ("page_threshold", True)]
)
def test_a_value_of_the_wrong_kind_is_refused_not_guessed(
    emulator: Emulator, monkeypatch, field, value
) -> None:
    s = sensor(set_conn(monkeypatch, "bad_kind", emulator.url), 1, ["1"], **{field: value})
    with pytest.raises(AirflowFailException, match=f"invalid input: {field}: expected"):
        s.poke({})
    assert emulator.requests == []


def test_deferrable_defaults_to_the_operators_default_deferrable_setting() -> None:
    import os
    import subprocess
    import sys

    code = (
        "from airflow_provider_annotation.sensors.annotation import AnnotationTaskSensor as S; "
        "from airflow_provider_annotation.operators.annotation import SendTasksOperator as O; "
        "print(S(task_id='w', project_id=1, task_ids=['1']).deferrable, "
        "O(task_id='s', project_id=1, resource_url='https://x/y.jsonl').deferrable)"
    )
    for setting, expected in (("True", "True True"), ("False", "False False")):
        env = {**os.environ, "AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE": setting}
        run = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
        )
        assert run.stdout.strip().splitlines()[-1] == expected


# --- the first hour: progress, quiet request lines, a timeout that says what to change ----------


def test_poke_mode_logs_progress_and_request_lines_at_debug_once_waiting(
    emulator: Emulator, make_hook, monkeypatch, logs
) -> None:
    project_id, ids = make_tasks(make_hook(), 2)
    s = sensor(set_conn(monkeypatch, "poke_progress", emulator.url), project_id, ids)
    assert s.poke({}) is False
    emulator.set_task_status(ids[0], 9)
    assert s.poke({}) is False
    text = logs.text
    assert "Still waiting: 0 of 2 tasks complete, 0 failed, 2 still working (needed 2)" in text
    assert f"since the last poll: 1 newly complete ({ids[0]})" in text
    requests = [line for line in text.splitlines() if "POST /task/get -> HTTP 200" in line]
    assert len(requests) == 4
    assert all("[info" in line for line in requests[:2]) and all("[debug" in line for line in requests[2:])


def test_a_timeout_against_a_local_platform_says_how_to_make_the_emulator_complete_tasks(
    emulator: Emulator, monkeypatch
) -> None:
    s = sensor(set_conn(monkeypatch, "local", emulator.url), 1, ["1"], timeout=7 * 24 * 3600)
    with pytest.raises(AirflowSensorTimeout, match="Timed out after 7 days") as raised:
        s.execute_complete({}, {"status": "timeout", "message": "the deadline passed"})
    assert "tasks_complete_after_reads" in str(raised.value) and emulator.url in str(raised.value)
    remote = sensor(set_conn(monkeypatch, "remote", "https://open.example.com"), 1, ["1"], timeout=60)
    with pytest.raises(AirflowSensorTimeout) as raised:
        remote.execute_complete({}, {"status": "timeout", "message": "the deadline passed"})
    assert "emulator" not in str(raised.value)


def test_a_poke_mode_timeout_against_a_local_platform_gives_the_same_hint(
    emulator: Emulator, make_hook, monkeypatch
) -> None:
    monkeypatch.setattr(emulator.state.settings, "tasks_complete_after_reads", 0)
    project_id, ids = make_tasks(make_hook(), 1)
    s = sensor(set_conn(monkeypatch, "local_poke", emulator.url), project_id, ids, timeout=0, poke_interval=0)
    with pytest.raises(AirflowSensorTimeout, match="tasks_complete_after_reads"):
        s.execute({})


def test_the_sensor_module_loads_the_waiting_rules_not_the_trigger_module() -> None:
    """The sensor imports downward (`waiting`); the trigger module loads only when it defers."""
    import subprocess
    import sys

    probe = (
        "import sys, airflow_provider_annotation.sensors.annotation\n"
        "print('airflow_provider_annotation.triggers.annotation' in sys.modules, "
        "'airflow_provider_annotation.waiting' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split()[-2:] == ["False", "True"]


def test_the_sensor_makes_one_hook_per_try_and_releases_it(
    emulator: Emulator, make_hook, monkeypatch
) -> None:
    """`AnnotationHookMixin`'s cached `hook`: every poke of a try reads through one hook (one
    session), and `execute` closes it however it ends."""
    from airflow_provider_annotation.hooks.annotation import AnnotationHook

    project_id, ids = make_tasks(make_hook(), 1)
    made: list[AnnotationHook] = []
    original = AnnotationHook.__init__

    def counted(self: AnnotationHook, *args, **kwargs) -> None:
        made.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(AnnotationHook, "__init__", counted)
    s = sensor(set_conn(monkeypatch, "one_hook", emulator.url), project_id, ids, poke_interval=0, timeout=0)
    assert s.poke({}) is False and s.poke({}) is False
    assert len(made) == 1 and s.hook is made[0]
    with pytest.raises(AirflowSensorTimeout):
        s.execute({})
    assert "hook" not in vars(s)  # closed and dropped: a deferred or retried try starts afresh
    assert len(made) == 1  # execute reused the pokes' hook
