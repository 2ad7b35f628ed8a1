"""One input-check path: every bad argument of a task is reported at once, in one input error
(`AnnotationInputProblemsError`), before any request; the model's shared checks live once."""

from __future__ import annotations

import pickle

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_annotation import answers, envelope, project, validation, workflow
from airflow_provider_annotation.exceptions import AnnotationInputError, AnnotationInputProblemsError
from airflow_provider_annotation.export import export_body
from airflow_provider_annotation.operators.export import ExportTasksOperator
from airflow_provider_annotation.operators.send_tasks import SendTasksOperator
from airflow_provider_annotation.sensors.annotation import AnnotationTaskSensor, to_task_ids
from airflow_provider_annotation.testing import Emulator
from airflow_provider_annotation.validation import Problems, to_int_at_least, to_long_id
from tests.helpers import set_conn


def lines(err: BaseException) -> list[str]:
    """The problem lines of a message listing several."""
    return [line.strip() for line in str(err).splitlines()[1:] if line.startswith("  ")]


# --- the model: one place per rule, old names kept --------------------------------------------


def test_one_long_bound_and_one_error_class_under_every_old_name() -> None:
    assert envelope.MAX_ID == workflow.MAX_PROJECT_ID == validation.MAX_LONG == 2**63 - 1
    assert workflow.WorkflowValidationError is project.SetupInputError is AnnotationInputProblemsError
    assert issubclass(AnnotationInputProblemsError, AnnotationInputError)
    assert project.to_count is to_int_at_least
    for name in ("read_task", "read_page", "read_object", "id_text", "CreatedProject", "one_project_named"):
        assert getattr(project, name) is getattr(answers, name)


def test_problems_collect_every_refusal_and_raise_once() -> None:
    problems = Problems()
    assert problems.collect(lambda: to_long_id("7", "folder_id")) == 7
    assert problems.collect(lambda: to_long_id(0, "folder_id")) is None
    assert problems.collect(lambda: to_int_at_least(True, "limit")) is None
    with pytest.raises(AnnotationInputProblemsError) as info:
        problems.raise_all()
    assert str(info.value) == (
        "invalid input (2 problems):\n  folder_id: must be positive, got int 0\n"
        "  limit: expected an integer of at least 1, got bool True"
    )
    Problems().raise_all()  # nothing to say: no error


def test_long_ids_are_worded_by_what_they_are_and_project_id_as_in_0_1_0() -> None:
    with pytest.raises(AnnotationInputProblemsError, match=r"^invalid input: dataset_id: expected"):
        to_long_id(1.0, "dataset_id")
    with pytest.raises(AnnotationInputProblemsError, match=r"^invalid workflow input: project_id: expected"):
        workflow.to_project_id(1.0)


def test_the_subject_survives_pickling() -> None:
    err = pickle.loads(pickle.dumps(AnnotationInputProblemsError(["a: x"], 2, "workflow input")))
    assert (err.problems, err.more, err.subject) == (["a: x"], 2, "workflow input")
    assert str(err).startswith("invalid workflow input (3 problems, the first 1 shown):")


def test_export_body_reports_every_problem_at_once() -> None:
    with pytest.raises(AnnotationInputProblemsError) as info:
        export_body("x", complete_after="05/01/2024")
    assert lines(info.value) == [
        "project_id: expected a positive integer or a string of digits, got str 'x'",
        "complete_after: expected a day as 'YYYY-MM-DD', got str '05/01/2024'",
        "complete_before: required for a window of days (the docs require both dates)",
    ]
    with pytest.raises(AnnotationInputProblemsError) as info:
        export_body(1, task_ids=["1", 2.5, "x"])
    assert [line.split(":")[0] for line in lines(info.value)] == ["task_ids[1]", "task_ids[2]"]


def test_task_ids_name_every_bad_item() -> None:
    with pytest.raises(AnnotationInputProblemsError) as info:
        to_task_ids(["1", 2.5, "x", "3"])
    assert str(info.value).startswith("invalid input (2 problems):")
    assert [line.split(":")[0] for line in lines(info.value)] == ["task_ids[1]", "task_ids[2]"]


# --- the operators and the sensor raise it the same way ---------------------------------------


def test_sensor_lists_every_bad_argument_before_any_request(emulator: Emulator, monkeypatch) -> None:
    conn_id = set_conn(monkeypatch, "all_at_once", emulator.url)
    s = AnnotationTaskSensor(
        task_id="wait",
        project_id="x",
        task_ids=["1", "y"],
        error_fails="False",
        page_threshold=-1,
        annotation_conn_id=conn_id,
    )
    with pytest.raises(AirflowFailException) as info:
        s.poke({})
    says = str(info.value)
    assert says.startswith("invalid input (4 problems):\n  project_id: expected a positive integer")
    assert [line.split(":")[0] for line in lines(info.value)] == [
        "project_id",
        "task_ids[1]",
        "error_fails",
        "page_threshold",
    ]
    assert says.endswith("\nNothing was sent; not retrying.")
    assert isinstance(info.value.__cause__, AnnotationInputProblemsError)
    assert emulator.requests == []


def test_send_tasks_lists_every_bad_argument_before_any_request() -> None:
    op = SendTasksOperator(
        task_id="send", project_id=0, resource_url="file:///x", max_failed_records=-1, poll_interval=0
    )
    with pytest.raises(AirflowFailException) as info:
        op.execute({})
    assert str(info.value).startswith("invalid input (4 problems):\n  project_id: must be positive")
    assert [line.split(":")[0] for line in lines(info.value)] == [
        "project_id",
        "resource_url",
        "max_failed_records",
        "poll_interval",
    ]
    assert "Nothing was sent; not retrying: fix the task's arguments." in str(info.value)


def test_export_lists_every_bad_argument_before_any_request(emulator: Emulator, monkeypatch) -> None:
    op = ExportTasksOperator(
        task_id="export",
        annotation_conn_id=set_conn(monkeypatch, "export_all_at_once", emulator.url),
        project_id="x",
        destination="/not/a/uri.jsonl",
        complete_after="yesterday",
        chunk=5,
    )
    with pytest.raises(AirflowFailException) as info:
        op.execute({})
    assert [line.split(":")[0] for line in lines(info.value)] == [
        "project_id",
        "destination",
        "chunk",
        "complete_before",
        "complete_after",
    ]
    assert emulator.requests == []
