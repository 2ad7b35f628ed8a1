"""The status model: what each task status means for a wait, and how a set of tasks is judged."""

from __future__ import annotations

import pytest

from airflow_provider_annotation.status import (
    Phase,
    ProjectStatus,
    TaskStatus,
    TaskWait,
    classify_task,
)


def test_task_statuses_are_the_documented_ten() -> None:
    assert [int(s) for s in TaskStatus] == list(range(1, 11))
    assert TaskStatus(9).name == "COMPLETE" and TaskStatus(6).name == "ERROR"
    assert [int(s) for s in ProjectStatus] == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("status", "phase"),
    [(1, Phase.ACTIVE), (2, Phase.ACTIVE), (3, Phase.ACTIVE), (4, Phase.ACTIVE), (5, Phase.STALLED),
     (6, Phase.FAILURE), (7, Phase.STALLED), (8, Phase.FAILURE), (9, Phase.SUCCESS), (10, Phase.FAILURE),
     (11, Phase.ACTIVE)],
)  # fmt: skip
def test_task_defaults(status: int, phase: Phase) -> None:
    assert classify_task(status) is phase


def test_error_status_is_changeable_and_lists_win() -> None:
    assert classify_task(6, error_fails=False) is Phase.STALLED
    assert classify_task(6, success_statuses=(6, 9)) is Phase.SUCCESS
    assert classify_task(8, failure_statuses=(10,)) is Phase.ACTIVE
    assert classify_task(4, success_statuses=(4, 9)) is Phase.SUCCESS


def test_all_waits_for_every_task_and_fails_on_the_first_failure() -> None:
    wait = TaskWait(("1", "2", "3"))
    assert wait.judge({"1": 9, "2": 9, "3": 3}).outcome is None
    done = wait.judge({"1": 9, "2": 9, "3": 9})
    assert done.outcome == "success"
    assert done.summary() == {"complete": ["1", "2", "3"], "failed": [], "statuses": {"1": 9, "2": 9, "3": 9}}
    failed = wait.judge({"1": 9, "2": 10, "3": 1})
    assert failed.outcome == "failure" and failed.failed == ["2"]


def test_any_and_ratio() -> None:
    assert TaskWait(("1", "2"), require="any").judge({"1": 1, "2": 9}).outcome == "success"
    assert TaskWait(("1", "2"), require="any").judge({"1": 8, "2": 1}).outcome is None
    assert TaskWait(("1", "2"), require="any").judge({"1": 8, "2": 10}).outcome == "failure"
    half = TaskWait(("1", "2", "3", "4"), require=0.5)
    assert half.needed == 2
    assert half.judge({"1": 9, "2": 8, "3": 1, "4": 1}).outcome is None
    assert half.judge({"1": 9, "2": 8, "3": 9, "4": 1}).outcome == "success"
    assert half.judge({"1": 8, "2": 8, "3": 10, "4": 1}).outcome == "failure"
    assert TaskWait(("1", "2", "3"), require=0.34).needed == 2
    assert TaskWait(("1", "2", "3"), require=1).needed == 3


def test_stalled_and_missing_tasks_keep_waiting() -> None:
    verdict = TaskWait(("1", "2")).judge({"1": 5})
    assert verdict.outcome is None and verdict.stalled == ["1"] and verdict.statuses == {"1": 5}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"task_ids": ()}, "task_ids"),
        ({"require": "most"}, "require"),
        ({"require": 0}, "require"),
        ({"require": 1.5}, "require"),
        ({"require": True}, "require"),
        ({"success_statuses": (11,)}, "success_statuses"),
        ({"success_statuses": ()}, "success_statuses"),
        ({"failure_statuses": ("8",)}, "failure_statuses"),
        ({"failure_statuses": (9,)}, "success_statuses and failure_statuses"),
    ],
)
def test_bad_settings_name_the_field(kwargs: dict, field: str) -> None:
    args = {"task_ids": ("1",), **kwargs}
    with pytest.raises(ValueError, match=f"^{field}"):
        TaskWait(**args)


def test_status_module_imports_no_airflow() -> None:
    import subprocess
    import sys

    code = (
        "import sys, airflow_provider_annotation.status; "
        "print([m for m in sys.modules if m.split('.')[0] in ('airflow', 'requests', 'httpx')])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- progress while waiting ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.5, "0.5 s"),
        (30, "30 s"),
        (60, "1 min"),
        (90, "1 min 30 s"),
        (3600, "1 h"),
        (9000, "2 h 30 min"),
        (86400, "1 day"),
        (7 * 24 * 3600, "7 days"),
        (7 * 24 * 3600 + 7200, "7 days 2 h"),
    ],
)
def test_durations_read_as_people_read_them(seconds, text) -> None:
    from airflow_provider_annotation.status import human_duration

    assert human_duration(seconds) == text


def test_one_progress_line_per_poll_says_what_changed_since_the_last() -> None:
    from airflow_provider_annotation.status import WaitProgress

    wait = TaskWait(("1", "2", "3", "4"))
    progress = WaitProgress()
    first = progress.line(wait.judge({"1": 9, "2": 3, "3": 3, "4": 1}))
    assert first == "1 of 4 tasks complete, 0 failed, 3 still working (needed 4)"
    second = progress.line(wait.judge({"1": 9, "2": 9, "3": 5, "4": 1}))
    assert second == (
        "2 of 4 tasks complete, 0 failed, 2 still working (1 stalled: 3) (needed 4); "
        "since the last poll: 1 newly complete (2); 1 newly stalled (3)"
    )
    assert progress.line(wait.judge({"1": 9, "2": 9, "3": 5, "4": 1})).endswith(
        "since the last poll: no change"
    )
    assert "1 newly failed (4)" in progress.line(wait.judge({"1": 9, "2": 9, "3": 5, "4": 8}))


def test_counts_read_in_the_right_number() -> None:
    from airflow_provider_annotation.status import counted

    assert [counted(n, "chunk") for n in (0, 1, 2)] == ["0 chunks", "1 chunk", "2 chunks"]
    assert counted(1, "data id") == "1 data id" and counted(3, "data id") == "3 data ids"


# -- the waiting rules every wait shares (`waiting`) ------------------------------------------------


def test_default_statuses_are_plain_ints_as_signatures_and_docs_show_them() -> None:
    import inspect

    from airflow_provider_annotation.sensors.annotation import AnnotationTaskSensor
    from airflow_provider_annotation.status import DEFAULT_FAILURE_STATUSES, DEFAULT_SUCCESS_STATUSES
    from airflow_provider_annotation.triggers.annotation import AnnotationTaskTrigger

    assert (DEFAULT_SUCCESS_STATUSES, DEFAULT_FAILURE_STATUSES) == ((9,), (8, 10))
    assert {type(s) for s in DEFAULT_SUCCESS_STATUSES + DEFAULT_FAILURE_STATUSES} == {int}
    for cls in (AnnotationTaskSensor, AnnotationTaskTrigger):
        params = inspect.signature(cls.__init__).parameters
        shown = (str(params["success_statuses"]), str(params["failure_statuses"]))
        assert shown[0].endswith("= (9,)") and shown[1].endswith("= (8, 10)"), shown


def test_a_paged_read_keeps_the_wanted_tasks_and_says_when_all_were_met() -> None:
    from airflow_provider_annotation.exceptions import AnnotationResponseError
    from airflow_provider_annotation.waiting import WantedTasks

    wanted = WantedTasks(["1", "3"])
    assert wanted.take({"id": "9", "status": "not read: not wanted"}) is False
    assert wanted.take({"id": "1", "status": 9}) is False
    assert wanted.take({"taskId": "3", "status": 4}) is True
    assert wanted.statuses == {"1": 9, "3": 4}
    with pytest.raises(AnnotationResponseError, match="task 1: status is '9', not an integer"):
        WantedTasks(["1"]).take({"id": "1", "status": "9"})


def test_a_deadline_rests_never_past_its_end() -> None:
    import time

    from airflow_provider_annotation.waiting import Deadline

    assert Deadline(time.time() + 3600, 30).pause() == 30
    assert 0 < (Deadline(time.time() + 5, 30).pause() or 0) <= 5
    assert Deadline(time.time() - 1, 30).pause() is None


def test_a_stalled_task_is_warned_about_once_across_polls() -> None:
    from airflow_provider_annotation.waiting import StallWarnings

    class Log:
        lines: list[str] = []

        def warning(self, msg: str, *args: object) -> None:
            self.lines.append(msg % args)

    wait, stalls, log = TaskWait(("1", "2")), StallWarnings(), Log()
    for statuses in ({"1": 5, "2": 3}, {"1": 5, "2": 7}, {"1": 5, "2": 7}):
        stalls.warn(wait.judge(statuses), log)
    assert [line.split(":")[0] for line in log.lines] == [
        "Task 1 is stalled (status 5)",
        "Task 2 is stalled (status 7)",
    ]
