"""CreateProjectsOperator against the emulator over real HTTP: every problem at once, the XCom
shape, per-item keeping across a crash, lost answers resolved by name, a shared slow-down after
429, on_item_error both ways, progress lines. The run through `airflow dags test` (a real
task_state_store) is in test_dags.py; the kill -9 on Celery in the deployment check."""

from __future__ import annotations

import json
import threading
from collections import Counter
from types import SimpleNamespace

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_provider_annotation.endpoints import PROJECT_CREATE, PROJECT_LIST
from airflow_provider_annotation.hooks.annotation import AnnotationHook
from airflow_provider_annotation.hooks.pacing import Pacer
from airflow_provider_annotation.operators._batch import STATE_KEY
from airflow_provider_annotation.operators.project_setup import CreateProjectsOperator
from airflow_provider_annotation.project import SetupInputError
from airflow_provider_annotation.testing import Fault
from tests.helpers import OPERATORS, connection_json


def spec(i: int, **kwargs) -> dict:
    return {
        "name": f"batch-{i:04d}",
        "data_type": 2,
        "deadline": "2030-12-31",
        "operators": OPERATORS,
        **kwargs,
    }


def batch(count: int = 20, **kwargs) -> CreateProjectsOperator:
    op = CreateProjectsOperator(
        task_id="setup", projects=[spec(i) for i in range(count)], **{"max_active_requests": 4, **kwargs}
    )
    op.progress_every_s = 3600.0  # only the final line, unless a test asks
    return op


class Store:
    """Stands in for task_state_store (get/set of JSON values, checked for the 64 KiB limit); the
    real one runs in test_dags.py and the deployment check. Records which thread wrote."""

    def __init__(self) -> None:
        self.kept: dict[str, object] = {}
        self.writers: set[str] = set()

    def get(self, key: str, default: object = None) -> object:
        return json.loads(json.dumps(self.kept[key])) if key in self.kept else default

    def set(self, key: str, value: object) -> None:
        text = json.dumps(value)
        assert len(text) < 64 * 1024, f"{key}: {len(text)} bytes"
        self.writers.add(threading.current_thread().name)
        self.kept[key] = json.loads(text)


class Crash(BaseException):
    """Ends the task where it stands, as a killed worker would (not an Exception: nothing catches it)."""


class CrashingStore(Store):
    def __init__(self, writes_before_crash: int) -> None:
        super().__init__()
        self.left = writes_before_crash

    def set(self, key: str, value: object) -> None:
        if self.left == 0:
            raise Crash
        self.left -= 1
        super().set(key, value)


@pytest.fixture
def emu(emulator, monkeypatch):
    """`annotation_default` on the emulator, retries instant, no real waits in the hook."""
    monkeypatch.setenv("AIRFLOW_CONN_ANNOTATION_DEFAULT", connection_json(emulator.url, retry_base_delay=0))
    monkeypatch.setattr(AnnotationHook, "_sleep", staticmethod(lambda seconds: None))
    make_pacer = CreateProjectsOperator.make_pacer

    def instant_pacer(self):  # paces are computed as usual, never slept
        pacer = make_pacer(self)
        pacer._sleep = lambda seconds: None
        return pacer

    monkeypatch.setattr(CreateProjectsOperator, "make_pacer", instant_pacer)
    return emulator


def creates(emu) -> Counter:
    """How many times each project name was sent to Create Project."""
    return Counter(
        json.loads(r["body"])["name"] for r in emu.requests if r["endpoint"] == PROJECT_CREATE.path
    )


def test_every_problem_of_every_spec_at_once_before_any_request(emu) -> None:
    specs = [
        spec(0),
        spec(1, deadline="tomorrow", data_type=5),
        "not a spec",
        {**spec(3), "nmae": "x"},
        spec(4, name="batch-0000"),
        spec(5, pools=[{"name": "x", "type": 0}], labelers=["a"]),
    ]
    op = CreateProjectsOperator(task_id="setup", projects=json.dumps(specs))
    with pytest.raises(AirflowFailException) as info:
        op.execute({"task_state_store": Store()})
    cause = info.value.__cause__
    assert isinstance(cause, SetupInputError)
    assert [p.split(":")[0] for p in cause.problems] == [
        "projects[1].data_type",
        "projects[1].deadline",
        "projects[2]",
        "projects[3].nmae",
        "projects[4].name",
        "projects[5].pools",
    ]
    assert "did you mean 'name'?" in str(info.value)
    assert "is also the name of projects[0]" in str(info.value)
    assert "Nothing was sent; not retrying" in str(info.value)
    assert emu.requests == []


def test_fixed_choices_are_checked_when_the_dag_is_parsed() -> None:
    with pytest.raises(ValueError, match="on_item_error: expected 'fail' or 'continue'"):
        CreateProjectsOperator(task_id="t", projects=[], on_item_error="ignore")
    with pytest.raises(ValueError, match="max_active_requests: expected an int from 1 to 64"):
        CreateProjectsOperator(task_id="t", projects=[], max_active_requests=0)
    with pytest.raises(ValueError, match="if_exists"):
        CreateProjectsOperator(task_id="t", projects=[], if_exists="reuse")
    assert CreateProjectsOperator.template_fields == ("projects", "annotation_conn_id")


def test_xcom_shape_one_entry_per_spec_in_order(emu) -> None:
    store = Store()
    result = batch(12).execute({"task_state_store": store})
    assert [r["name"] for r in result] == [f"batch-{i:04d}" for i in range(12)]
    assert all(list(r) == ["name", "project_id", "workflow_id", "outcome", "error"] for r in result)
    assert {r["outcome"] for r in result} == {"created"} and {r["error"] for r in result} == {None}
    by_name = {p["name"]: p for p in emu.projects.values()}
    assert all(by_name[r["name"]]["projectId"] == r["project_id"] for r in result)
    assert all(isinstance(r["workflow_id"], int) for r in result)
    assert creates(emu) == {f"batch-{i:04d}": 1 for i in range(12)}
    assert store.writers == {threading.current_thread().name}  # the store only from the task's thread


def test_a_retry_after_a_crash_creates_only_what_was_not_created_and_says_so(emu, logs, monkeypatch) -> None:
    from airflow_provider_annotation.operators import _batch

    monkeypatch.setattr(_batch, "FLUSH_S", 0.0)  # a kept group at every turn, however fast the emulator
    count = 300
    store = CrashingStore(writes_before_crash=4)  # sent_below, then kept groups, then the crash
    with pytest.raises(Crash):
        batch(count).execute({"task_state_store": store})
    first_try = creates(emu)
    assert 0 < len(emu.projects) < count
    kept_before = sum(len(v) for k, v in store.kept.items() if k != STATE_KEY)
    store.left = -1  # the retry's store works
    result = batch(count).execute({"task_state_store": store})
    outcomes = Counter(r["outcome"] for r in result)
    assert outcomes["kept"] == kept_before > 0
    assert outcomes["adopted"] == len(first_try) - kept_before > 0  # created, not kept, found by name
    assert outcomes["created"] == count - len(first_try)
    assert sum(creates(emu).values()) == count  # no create sent twice, across both tries
    assert sorted(p["name"] for p in emu.projects.values()) == [f"batch-{i:04d}" for i in range(count)]
    assert "was created by an earlier try of this task; kept, not sent again" in logs.text
    assert "an earlier try may have created it; adopting project" in logs.text
    lookups = [json.loads(r["body"]) for r in emu.requests if r["endpoint"] == PROJECT_LIST.path]
    assert {b["status"] for b in lookups} == {0, 1, 2, 3}  # one pass over the list, not one per name
    assert len(lookups) <= 4 * (count // 100 + 1)


def test_a_retry_with_changed_specs_fails_instead_of_creating_second_projects(emu) -> None:
    store = Store()
    batch(3).execute({"task_state_store": store})
    changed = CreateProjectsOperator(
        task_id="setup", projects=[spec(0), spec(1, deadline="2031-01-01"), spec(2)]
    )
    with pytest.raises(AirflowFailException, match=r"projects\[1\]: an earlier try created project"):
        changed.execute({"task_state_store": store})
    assert sum(creates(emu).values()) == 3


def test_a_lost_answer_is_resolved_by_name_found_adopted(emu, logs) -> None:
    emu.inject(Fault.disconnect(act=True, endpoint=PROJECT_CREATE.path))  # created, answer lost
    result = batch(6).execute({"task_state_store": Store()})
    (adopted,) = [r for r in result if r["outcome"] == "adopted"]
    assert adopted["project_id"] == next(
        p["projectId"] for p in emu.projects.values() if p["name"] == adopted["name"]
    )
    assert adopted["workflow_id"] is None
    assert sum(creates(emu).values()) == 6 and len(emu.projects) == 6
    assert "the answer to its create was lost; adopting project" in logs.text


def test_a_lost_answer_is_resolved_by_name_not_found_sent_again(emu) -> None:
    emu.inject(Fault.disconnect(act=False, endpoint=PROJECT_CREATE.path))  # lost before the platform acted
    result = batch(6).execute({"task_state_store": Store()})
    assert {r["outcome"] for r in result} == {"created"}
    counts = creates(emu)
    assert sorted(counts.values()) == [1, 1, 1, 1, 1, 2]  # the lost one, once more after the lookup
    assert len(emu.projects) == 6


def test_a_taken_name_fails_the_item_or_is_adopted(emu) -> None:
    emu.add_projects([{"projectId": 9001, "name": "batch-0001", "status": 1, "dataType": 2}])
    result = batch(3, on_item_error="continue").execute({"task_state_store": Store()})
    assert [r["outcome"] for r in result] == ["created", "failed", "created"]
    assert "A project named 'batch-0001' exists already" in result[1]["error"]
    result = batch(3, if_exists="adopt").execute({"task_state_store": Store()})
    assert [r["outcome"] for r in result] == ["adopted"] * 3 and result[1]["project_id"] == 9001


def test_on_item_error_fail_finishes_every_other_item_then_fails_with_a_summary(emu) -> None:
    emu.inject(Fault.failure(5838, endpoint=PROJECT_CREATE.path))  # wrong data type: a refusal
    with pytest.raises(AirflowFailException) as info:
        batch(8).execute({"task_state_store": Store()})
    assert "1 of 8 projects failed (7 created, 0 kept, 0 adopted, 1 failed)" in str(info.value)
    assert "The platform refused them; not retrying." in str(info.value)
    assert len(emu.projects) == 7


def test_on_item_error_fail_lets_airflow_retry_what_may_pass_next_time(emu) -> None:
    emu.inject(Fault.http(503, endpoint=PROJECT_CREATE.path, times=5))  # busy until the budget is spent
    with pytest.raises(AirflowException) as info:
        batch(4, max_active_requests=1).execute({"task_state_store": Store()})
    assert not isinstance(info.value, AirflowFailException)
    assert "A retry sends only the failed ones again." in str(info.value)


def test_on_item_error_continue_succeeds_and_reports_the_failed_items(emu, logs) -> None:
    emu.inject(Fault.failure(5838, endpoint=PROJECT_CREATE.path))
    result = batch(8, on_item_error="continue").execute({"task_state_store": Store()})
    (failed,) = [r for r in result if r["outcome"] == "failed"]
    assert failed["project_id"] is None and "5838" in failed["error"]
    assert "on_item_error='continue': the task succeeds." in logs.text


def test_progress_lines_say_done_total_rate_errors_and_time_left(emu, logs) -> None:
    import re

    op = batch(30)
    op.progress_every_s = 0.0  # a line at every turn of the loop
    op.execute({"task_state_store": Store()})
    lines = re.findall(r"Projects: (\d+)/30 done, [\d.]+/s, (\d+) errors so far, (.*?) \[", logs.text)
    assert len(lines) >= 2
    assert lines[-1][0] == "30" and lines[-1][2] == "done"
    assert any(re.fullmatch(r"about \d+ s left", eta) for done, _, eta in lines if done != "30")


def test_429_pauses_every_worker_then_slows_them(emu, monkeypatch, logs) -> None:
    waits: list[tuple[str, float]] = []
    pacers: list[Pacer] = []
    original = CreateProjectsOperator.make_pacer

    def recording_pacer(self):
        pacer = original(self)
        pacer._sleep = lambda seconds: waits.append((threading.current_thread().name, seconds))
        pacers.append(pacer)
        return pacer

    monkeypatch.setattr(CreateProjectsOperator, "make_pacer", recording_pacer)
    emu.inject(Fault.http(429, retry_after=30, endpoint=PROJECT_CREATE.path))
    result = batch(40).execute({"task_state_store": Store()})
    assert {r["outcome"] for r in result} == {"created"}
    (pacer,) = pacers
    assert pacer.slow_downs == 1
    paused = {thread for thread, seconds in waits if seconds > 25}
    assert len(paused) >= 2, waits  # not only the worker that got the 429
    assert pacer.rate() is not None  # a gentler pace after the pause
    assert "The platform asked to slow down: every worker pauses 30.0 s" in logs.text


def test_pacer_shared_pause_then_gentler_rate_that_recovers() -> None:
    now = [0.0]
    slept: list[float] = []
    pacer = Pacer(clock=lambda: now[0], sleep=slept.append)
    for _ in range(20):  # 20 starts within the last second: 10/s over the 2 s window
        pacer.before_attempt()
        now[0] += 0.05
    assert slept == []
    pacer.try_again_later(3.0)
    pacer.try_again_later(3.0)  # the other calls in flight get the same answer: one slow-down
    assert pacer.slow_downs == 1
    pacer.before_attempt()
    pacer.before_attempt()
    assert slept[0] == pytest.approx(3.0) and slept[1] == pytest.approx(3.0 + 1 / 5)
    assert pacer.rate(now[0] + 3.0) == pytest.approx(5.0)
    assert pacer.rate(now[0] + 13.0) == pytest.approx(10.0)  # +10% of the cut rate per quiet second


def test_without_task_state_store_a_retry_looks_every_name_up_first(emu, logs) -> None:
    first = batch(5).execute({})
    assert {r["outcome"] for r in first} == {"created"}
    retry = batch(5).execute({"ti": SimpleNamespace(try_number=2)})
    assert {r["outcome"] for r in retry} == {"adopted"}
    assert sum(creates(emu).values()) == 5
    assert "No task_state_store (Airflow < 3.3)" in logs.text


def test_dry_run_sends_nothing(emu, logs) -> None:
    assert batch(3, dry_run=True).execute({}) is None
    assert "Dry run: would set up 3 projects (nothing sent)" in logs.text
    assert emu.requests == []


def test_many_names_in_one_pass_and_a_hostile_name_matches_nothing(emu, make_hook) -> None:
    emu.add_projects(
        [
            {"projectId": 9001, "name": "a", "status": 0, "dataType": 2},
            {"projectId": 9002, "name": "b", "status": 3, "dataType": 2},
            {"projectId": 9003, "name": ["a"], "status": 1, "dataType": 2},  # not a string
        ]
    )
    found = make_hook().find_projects_by_name(["a", "b", "c"], data_type=2)
    assert {name: [p["id"] for p in projects] for name, projects in found.items()} == {
        "a": [9001],
        "b": [9002],
    }
    assert len([r for r in emu.requests if r["endpoint"] == PROJECT_LIST.path]) == 4  # one per status
