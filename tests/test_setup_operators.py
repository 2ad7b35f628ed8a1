"""The project-setup operators without a scheduler: construction, templating, bodies, every problem
at once, dry runs, import cost. Their runs through real Airflow are in test_setup_dags.py."""

from __future__ import annotations

import json

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_annotation.operators.annotation import (
    AnnotationStatsOperator,
    CreateFolderOperator,
    CreateProjectOperator,
    SubmitAnnotationDataOperator,
)
from airflow_provider_annotation.project import SetupInputError
from tests.helpers import OPERATORS, connection_json


def project(**kwargs) -> CreateProjectOperator:
    kwargs = {"name": "Cars", "data_type": 2, "deadline": "2030-12-31", "operators": OPERATORS, **kwargs}
    return CreateProjectOperator(task_id="create_project", **kwargs)


def submit(**kwargs) -> SubmitAnnotationDataOperator:
    return SubmitAnnotationDataOperator(task_id="submit", **{"project_id": 4242, **kwargs})


def test_operators_are_importable_from_the_operator_module_and_templated() -> None:
    assert CreateFolderOperator.template_fields == ("name", "external_id", "annotation_conn_id")
    assert set(CreateProjectOperator.template_fields) == {
        "name",
        "data_type",
        "deadline",
        "labeling_tools",
        "operators",
        "description",
        "folder_id",
        "project_manager",
        "team_names",
        "pools",
        "labelers",
        "inspectors",
        "spot_checkers",
        "algorithms",
        "annotation_conn_id",
    }
    assert CreateProjectOperator.template_ext == (".json",)
    assert set(SubmitAnnotationDataOperator.template_fields) == {
        "project_id",
        "data_ids",
        "workflow_id",
        "dataset_id",
        "batch_size",
        "annotation_conn_id",
    }
    assert AnnotationStatsOperator.template_fields == ("project_id", "workflow_id", "annotation_conn_id")


def test_init_only_stores_templated_arguments() -> None:
    task = project(name="{{ params.x }}", deadline="{{ ds }}", operators="ops.json", labelers="{{ x }}")
    assert (task.name, task.deadline, task.operators, task.labelers) == (
        "{{ params.x }}",
        "{{ ds }}",
        "ops.json",
        "{{ x }}",
    )
    assert submit(data_ids="{{ params.ids }}", batch_size="{{ params.n }}").batch_size == "{{ params.n }}"


def test_fixed_choices_are_checked_when_the_dag_is_parsed() -> None:
    with pytest.raises(ValueError, match="if_exists: expected 'fail' or 'adopt', got 'reuse'"):
        project(if_exists="reuse")
    with pytest.raises(ValueError, match="on_rejected: expected 'fail' or 'warn', got 'ignore'"):
        submit(data_ids=["a"], on_rejected="ignore")


def test_project_body_from_rendered_strings_and_shorthand() -> None:
    body = project(
        data_type="3",
        operators=json.dumps(OPERATORS),
        folder_id="500",
        team_names="red, blue",
        labelers="['alice']",
        inspectors="",
    ).build_body()
    assert body == {
        "name": "Cars",
        "dataType": 3,
        "deadline": "2030-12-31",
        "operators": OPERATORS,
        "folderId": 500,
        "teamNames": ["red", "blue"],
        "workflow": {
            "pools": [
                {"name": "Distribution pool", "type": 0, "runMode": 0},
                {"name": "Labeling pool", "type": 1, "workers": ["alice"]},
                {"name": "Completion pool", "type": 5},
            ]
        },
    }


def test_project_every_problem_at_once_fails_without_retry() -> None:
    task = project(
        name="",
        data_type=5,
        deadline="tomorrow",
        operators="[]",
        folder_id="None",
        team_names="[1]",
        pools=[{"name": "x", "type": 0}],
        labelers=["a"],
    )
    with pytest.raises(AirflowFailException) as info:
        task.execute({})
    cause = info.value.__cause__
    assert isinstance(cause, SetupInputError)
    assert [p.split(":")[0] for p in cause.problems] == [
        "name",
        "data_type",
        "deadline",
        "operators",
        "folder_id",
        "pools",
        "team_names[0]",
    ]
    assert "Nothing was sent; not retrying: fix the task's arguments." in str(info.value)


def test_submit_chunks_every_problem_at_once_and_dry_run(logs) -> None:
    task = submit(
        project_id="4242", data_ids=json.dumps([f"d{i}" for i in range(5)]), batch_size="2", dry_run=True
    )
    assert [c["dataIds"] for c in task.build_chunks()] == [["d0", "d1"], ["d2", "d3"], ["d4"]]
    assert task.execute({}) is None  # no connection needed, nothing sent
    assert "chunk 3 of 3 (nothing sent)" in logs.text and '"dataIds": ["d4"]' in logs.text
    with pytest.raises(AirflowFailException) as info:
        submit(project_id=0, data_ids=["a", "a"], batch_size=0, workflow_id=1.5).execute({})
    assert [p.split(":")[0] for p in info.value.__cause__.problems] == [
        "batch_size",
        "project_id",
        "workflow_id",
        "data_ids[1]",
    ]


def test_folder_and_project_dry_runs_log_the_exact_body(logs) -> None:
    assert CreateFolderOperator(task_id="f", name="Q3", external_id="e", dry_run=True).execute({}) is None
    assert (
        'would POST this Create Folder body (nothing sent):\n{"name": "Q3", "externalId": "e"}' in logs.text
    )
    assert project(dry_run=True).execute({}) is None
    assert (
        '"operators": [{"key": "box2d-car", "type": "slot", "label": "car", '
        '"slotSpecification": {"type": "box2d"}}]' in logs.text
    )


def test_folder_name_limit_fails_the_task() -> None:
    with pytest.raises(AirflowFailException, match="name: 61 bytes in UTF-8, the platform allows at most 60"):
        CreateFolderOperator(task_id="f", name="x" * 61).execute({})


def test_stats_input_checked_before_any_call() -> None:
    with pytest.raises(AirflowFailException) as info:
        AnnotationStatsOperator(task_id="s", project_id="x", workflow_id=None).execute({})
    assert [p.split(":")[0] for p in info.value.__cause__.problems] == ["project_id", "workflow_id"]


def test_arguments_rendered_to_none_are_refused_not_left_out() -> None:
    task = project(folder_id="{{ ti.xcom_pull('folder') }}", description="{{ params.d }}")
    task.folder_id = task.description = None  # what native rendering of a missing value leaves
    with pytest.raises(AirflowFailException) as info:
        task.execute({})
    assert [p.split(":")[0] for p in info.value.__cause__.problems] == ["description", "folder_id"]
    assert "rendered to None (a missing upstream value?)" in str(info.value)
    task = submit(data_ids=["a"], workflow_id="{{ x }}")
    task.workflow_id = None
    with pytest.raises(
        AirflowFailException, match="workflow_id: given as a template or XCom that rendered to None"
    ):
        task.execute({})


def test_bad_connection_fails_without_retry_and_sends_nothing(emulator, monkeypatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_ANNOTATION_BAD", connection_json(emulator.url, max_attempts=0))
    tasks = [
        CreateFolderOperator(task_id="f", name="Q3", annotation_conn_id="annotation_bad"),
        submit(data_ids=["a"], annotation_conn_id="annotation_bad"),
        AnnotationStatsOperator(
            task_id="s", project_id=1, workflow_id=2, annotation_conn_id="annotation_bad"
        ),
    ]
    for task in tasks:
        with pytest.raises(AirflowFailException, match="not retrying: fix the connection 'annotation_bad'"):
            task.execute({})
    assert emulator.requests == []


# -- README promises found untested by a mutation audit ---------------------------------------


def test_submit_batch_size_defaults_to_500() -> None:
    """README: "`batch_size` is 500 by default"."""
    chunks = submit(data_ids=[f"d{i}" for i in range(1001)], dry_run=True).build_chunks()
    assert [len(c["dataIds"]) for c in chunks] == [500, 500, 1]


@pytest.fixture
def default_conn(emulator, monkeypatch):
    """`annotation_default` (the operators' default) pointing at the emulator, retries instant."""
    monkeypatch.setenv("AIRFLOW_CONN_ANNOTATION_DEFAULT", connection_json(emulator.url, retry_base_delay=0))
    return emulator


def test_stats_platform_refusal_fails_without_retry_but_a_missing_project_may_retry(default_conn) -> None:
    """README, What a retry does: AnnotationStatsOperator, "platform refusal ... fails, no Airflow
    retry"; a missing project goes through Airflow's retries as usual."""
    from airflow_provider_annotation.endpoints import ANNOTATION_STAT
    from airflow_provider_annotation.exceptions import AnnotationNotFoundError, AnnotationValidationError
    from airflow_provider_annotation.testing import Fault

    default_conn.inject(Fault.failure(400, endpoint=ANNOTATION_STAT.path))  # malformed request
    stats = AnnotationStatsOperator(task_id="s", project_id=4242, workflow_id=7)
    with pytest.raises(AirflowFailException, match="The platform refused the request; not retrying.") as info:
        stats.execute({})
    assert isinstance(info.value.__cause__, AnnotationValidationError)
    with pytest.raises(AnnotationNotFoundError):  # not an AirflowFailException: Airflow may retry
        AnnotationStatsOperator(task_id="s", project_id=999_999, workflow_id=7).execute({})
    assert [r["endpoint"] for r in default_conn.requests] == [ANNOTATION_STAT.path] * 2


def test_submit_on_rejected_warn_logs_a_warning_and_returns_them(default_conn, logs) -> None:
    """README: `"warn"` logs the rejected data ids (a warning) and returns them in
    `rejected_data_ids`; the tasks that were made stay."""
    import re

    from airflow_provider_annotation.hooks.annotation import AnnotationHook

    with AnnotationHook() as hook:
        hook.create_workflow(4242)
    result = submit(data_ids=["a", "missing-b"], on_rejected="warn").execute({})
    assert result["rejected_data_ids"] == ["missing-b"]
    assert [t["dataId"] for t in result["tasks"]] == ["a"] and result["task_ids"] == [
        t["taskId"] for t in result["tasks"]
    ]
    (line,) = [ln for ln in logs.text.splitlines() if "The platform made no task for" in ln]
    assert re.search(r"\[warning\s*\]", line), line
    assert "1 data ids: missing-b (1 tasks were made)" in line


def test_submit_platform_refusal_fails_without_retry_but_a_missing_project_may_retry(default_conn) -> None:
    """README, What a retry does: SubmitAnnotationDataOperator, "platform refusal ... fails, no
    Airflow retry"; a missing project goes through Airflow's retries (which resume)."""
    from airflow_provider_annotation.endpoints import ANNOTATION_REQUEST
    from airflow_provider_annotation.exceptions import AnnotationNotFoundError, AnnotationValidationError
    from airflow_provider_annotation.testing import Fault

    default_conn.inject(Fault.failure(400, endpoint=ANNOTATION_REQUEST.path))  # malformed request
    with pytest.raises(AirflowFailException, match="The platform refused the request; not retrying.") as info:
        submit(data_ids=["a"]).execute({})
    assert isinstance(info.value.__cause__, AnnotationValidationError)
    with pytest.raises(AnnotationNotFoundError):  # not an AirflowFailException: Airflow may retry
        submit(project_id=999_999, data_ids=["a"]).execute({})
    assert [r["endpoint"] for r in default_conn.requests] == [ANNOTATION_REQUEST.path] * 2


def test_adopt_fails_closed_when_no_project_of_that_name_and_data_type_is_found(default_conn) -> None:
    """README, What a retry does: CreateProjectOperator with `"adopt"`, answer lost and "none found:
    fails closed"; a taken name (5801) with no project of that name and `data_type` visible fails too."""
    from airflow_provider_annotation.endpoints import PROJECT_CREATE, PROJECT_LIST
    from airflow_provider_annotation.testing import Fault

    default_conn.inject(Fault.disconnect(endpoint=PROJECT_CREATE.path))  # lost before the platform acted
    with pytest.raises(AirflowFailException, match="Not retrying this task: the project may exist already"):
        project(if_exists="adopt").execute({})
    lookups = [json.loads(r["body"]) for r in default_conn.requests if r["endpoint"] == PROJECT_LIST.path]
    assert [(b["status"], b["dataType"]) for b in lookups] == [(0, 2), (1, 2), (2, 2), (3, 2)]
    assert default_conn.projects == {}  # nothing adopted, nothing created again
    default_conn.add_projects([{"projectId": 9001, "name": "Cars", "status": 1, "dataType": 3}])
    with pytest.raises(
        AirflowFailException, match="no project of data type 2 with that exact name is visible"
    ):
        project(if_exists="adopt").execute({})
    creates = [r for r in default_conn.requests if r["endpoint"] == PROJECT_CREATE.path]
    assert len(creates) == 2  # one per task run: never re-sent


def test_labeling_tools_is_the_clearer_name_for_operators(emulator, monkeypatch, logs) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_ANNOTATION_DEFAULT", connection_json(emulator.url))
    task = CreateProjectOperator(
        task_id="p", name="Tools", data_type=2, deadline="2030-12-31", labeling_tools=json.dumps(OPERATORS)
    )
    assert "labeling_tools" in task.template_fields and "operators" in task.template_fields
    project_id = task.execute({})
    assert emulator.projects[project_id]["operators"] == OPERATORS
    bad = CreateProjectOperator(
        task_id="p", name="Tools", data_type=2, deadline="2030-12-31", labeling_tools=[{"type": "box"}]
    )
    with pytest.raises(AirflowFailException, match=r"labeling_tools\[0\]\.key: required"):
        bad.execute({})
    for given in ({}, {"labeling_tools": OPERATORS, "operators": OPERATORS}):
        with pytest.raises(ValueError, match="labeling_tools: give the labeling-tool configuration"):
            CreateProjectOperator(task_id="p", name="T", data_type=2, deadline="2030-12-31", **given)


# -- durable state across an upgrade (issue 15): the keys and values an earlier release kept ------


class _Store(dict):
    """Stands in for a task instance's task_state_store (get/set of JSON values)."""

    def set(self, key: str, value: object) -> None:
        self[key] = value


def _digest(body: object) -> str:
    """The digest formula of the kept records, written out: changing it strands tasks in flight."""
    import hashlib

    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def test_records_kept_by_the_previous_release_are_found_and_nothing_is_sent_again(emulator, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_ANNOTATION_DEFAULT", connection_json(emulator.url))
    folder = CreateFolderOperator(task_id="folder", name="Cars")
    request = submit(data_ids=["a", "b"], batch_size=1)
    chunks = [{"projectId": 4242, "dataIds": ["a"]}, {"projectId": 4242, "dataIds": ["b"]}]
    answers = [{"tasks": [{"taskId": "9", "dataId": d}], "rejected_data_ids": []} for d in ("a", "b")]
    store = _Store(
        annotation_folder={"folderId": 7, "body_sha256": _digest({"name": "Cars"})},
        annotation_request={"body_sha256": _digest(chunks), "chunks": 2},
        **{"annotation_request.0": answers[0], "annotation_request.1": answers[1]},
    )
    context = {"task_state_store": store}
    assert folder.execute(context) == 7
    assert request.execute(context)["tasks"] == [answers[0]["tasks"][0], answers[1]["tasks"][0]]
    assert emulator.requests == []
    # A different body under the same kept record is refused, not sent.
    with pytest.raises(AirflowFailException, match="different parameters"):
        CreateFolderOperator(task_id="folder", name="Trucks").execute(context)
    with pytest.raises(AirflowFailException, match="different parameters"):
        submit(data_ids=["a", "c"], batch_size=1).execute(context)
    assert emulator.requests == []


def test_a_record_is_kept_right_after_the_answer_under_the_same_keys(emulator, monkeypatch, make_hook):
    make_hook().create_workflow(4242)  # the project's default workflow, for the annotation request
    monkeypatch.setenv("AIRFLOW_CONN_ANNOTATION_DEFAULT", connection_json(emulator.url))
    store = _Store()
    folder_id = CreateFolderOperator(task_id="folder", name="Cars").execute({"task_state_store": store})
    submit(data_ids=["a"]).execute({"task_state_store": store})
    chunks = [{"projectId": 4242, "dataIds": ["a"]}]
    assert store["annotation_folder"] == {"folderId": folder_id, "body_sha256": _digest({"name": "Cars"})}
    assert store["annotation_request"] == {"body_sha256": _digest(chunks), "chunks": 1}
    assert set(store["annotation_request.0"]) == {"tasks", "rejected_data_ids"}


# -- one hook per task instance (issue 15) ---------------------------------------------------------


def _tasks_that_create_then_link() -> list:
    from airflow_provider_annotation.operators.datasets import ImportDatasetOperator

    return [
        lambda: project(),
        lambda: ImportDatasetOperator(
            task_id="dataset", resource_url="gs://bucket/scenes/", name="Scenes", data_type=2, wait=False
        ),
    ]


@pytest.mark.parametrize("make_task", _tasks_that_create_then_link(), ids=["project", "dataset"])
def test_one_hook_per_task_instance_closed_when_execute_ends(emulator, monkeypatch, make_task) -> None:
    """The create and the link after it share the task's hook (they used to open one each), and
    its connections are released when ``execute`` ends."""
    from airflow_provider_annotation.hooks.annotation import AnnotationHook

    made, closed = [], []
    real_init, real_close = AnnotationHook.__init__, AnnotationHook.close

    def counting_init(self, *args, **kwargs) -> None:
        real_init(self, *args, **kwargs)
        made.append(self)

    def counting_close(self) -> None:
        closed.append(self)
        real_close(self)

    monkeypatch.setattr(AnnotationHook, "__init__", counting_init)
    monkeypatch.setattr(AnnotationHook, "close", counting_close)
    monkeypatch.setenv("AIRFLOW_CONN_ANNOTATION_DEFAULT", connection_json(emulator.url))
    task = make_task()
    assert task.execute({}) is not None
    assert len(made) == 1 and closed == made
    assert "hook" not in vars(task)  # a later use (execute_complete) makes a fresh one
