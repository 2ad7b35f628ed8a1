"""The project-setup model (bodies, checks, ids) and the hook's setup methods against the emulator
over real HTTP: exact wire bodies in both API versions, paging, lookups by name, exact ids."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pendulum
import pytest

from airflow_provider_annotation.endpoints import (
    ANNOTATION_REQUEST,
    CREATE_WORKFLOW,
    CREATE_WORKFLOW_2024_08,
    FOLDER_CREATE,
    PROJECT_CREATE,
    PROJECT_LIST,
    TASK_GET,
)
from airflow_provider_annotation.exceptions import (
    AnnotationApiError,
    AnnotationConflictError,
    AnnotationConnectionConfigError,
    AnnotationInputError,
    AnnotationMayHaveTakenEffectError,
    AnnotationNotFoundError,
    AnnotationResponseError,
    AnnotationValidationError,
)
from airflow_provider_annotation.project import (
    SetupInputError,
    annotation_request_body,
    folder_body,
    project_body,
    to_data_ids,
    to_deadline,
    to_operators,
    workflow_for_api,
)
from airflow_provider_annotation.testing import Emulator, Fault
from airflow_provider_annotation.testing.state import FIRST_TASK_ID, decoy_projects
from tests.helpers import OPERATORS

POOLS = [
    {"name": "Distribution pool", "type": 0, "runMode": 0},
    {"name": "Labeling pool", "type": 1, "workers": ["alice"]},
    {"name": "Completion pool", "type": 5},
]


@pytest.fixture
def emu(emulator: Emulator) -> Iterator[Emulator]:
    emulator.api_version = "2024-07"
    yield emulator
    emulator.api_version = "2024-07"


def bodies(emu: Emulator, path: str) -> list[dict]:
    return [json.loads(r["body"]) for r in emu.requests if r["endpoint"] == path]


# --- the model, no HTTP -------------------------------------------------------------------------


def test_folder_body_limits_count_utf8_bytes() -> None:
    assert folder_body("Q3 cars") == {"name": "Q3 cars"}
    assert folder_body("Q3 cars", "ext-1") == {"name": "Q3 cars", "externalId": "ext-1"}
    assert folder_body("车" * 20) == {"name": "车" * 20}  # 60 bytes
    with pytest.raises(SetupInputError) as info:
        folder_body("车" * 21, "x" * 61)
    assert info.value.problems == [
        "name: 63 bytes in UTF-8, the platform allows at most 60",
        "external_id: 61 bytes in UTF-8, the platform allows at most 60",
    ]
    assert isinstance(info.value, AnnotationInputError) and isinstance(info.value, ValueError)


def test_project_body_has_documented_keys_in_order_and_optional_ones_only_when_given() -> None:
    assert project_body(name="P", data_type=2, deadline="2024-06-01", operators=OPERATORS) == {
        "name": "P",
        "dataType": 2,
        "deadline": "2024-06-01",
        "operators": OPERATORS,
    }
    body = project_body(
        name="P",
        data_type="3",
        deadline=dt.date(2024, 6, 1),
        operators=json.dumps(OPERATORS),
        description="d",
        folder_id="500",
        project_manager="pm",
        team_names=["t1"],
        pools=POOLS,
    )
    assert list(body) == [
        "name",
        "dataType",
        "description",
        "deadline",
        "operators",
        "folderId",
        "projectManager",
        "teamNames",
        "workflow",
    ]
    assert body["folderId"] == 500 and body["dataType"] == 3 and body["workflow"] == {"pools": POOLS}


def test_project_body_reports_every_problem_at_once() -> None:
    with pytest.raises(SetupInputError) as info:
        project_body(
            name="n" * 61,
            data_type=4,
            deadline="2024-02-30",
            operators=[],
            description="é" * 101,
            folder_id=2.0,
            pools=[{"name": "x", "type": 1}],
        )
    problems = info.value.problems
    assert problems[0] == "name: 61 bytes in UTF-8, the platform allows at most 60"
    assert problems[1] == "data_type: expected 2 (2D) or 3 (3D), got int 4"
    assert problems[2] == "description: 202 bytes in UTF-8, the platform allows at most 200"
    assert problems[3].startswith("deadline: '2024-02-30' is not a calendar date")
    assert problems[4] == "operators: expected a non-empty list of labeling-tool objects, got list []"
    assert problems[5] == "folder_id: expected a positive integer, got float 2.0"
    assert "pools[0].type: the first pool must be a distribution pool" in problems[6]
    assert str(info.value).startswith(f"invalid input ({len(problems)} problems):")


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2024-06-01", "2024-06-01"),
        (" 2024-06-01 ", "2024-06-01"),
        (dt.date(2024, 6, 1), "2024-06-01"),
        (dt.datetime(2024, 6, 1), "2024-06-01"),
        (pendulum.datetime(2024, 6, 1, tz="UTC"), "2024-06-01"),
        (pendulum.date(2024, 6, 1), "2024-06-01"),
    ],
)
def test_deadline_forms(value: object, expected: str) -> None:
    assert to_deadline(value) == expected


@pytest.mark.parametrize(
    "value, message",
    [
        (
            pendulum.datetime(2024, 6, 1, 13, 45, tz="UTC"),
            "a date is expected, got a datetime with time 13:45",
        ),
        ("2024-6-1", "expected a date as 'YYYY-MM-DD'"),
        ("2024-06-01T00:00:00", "expected a date as 'YYYY-MM-DD'"),
        (20240601, "expected a date as 'YYYY-MM-DD'"),
        (None, "expected a date as 'YYYY-MM-DD'"),
    ],
)
def test_deadline_refusals(value: object, message: str) -> None:
    with pytest.raises(SetupInputError, match=message):
        to_deadline(value)


def test_operators_from_list_json_and_python_repr() -> None:
    assert to_operators(OPERATORS) == OPERATORS
    assert to_operators(json.dumps(OPERATORS)) == OPERATORS
    assert to_operators(repr(OPERATORS)) == OPERATORS  # a list param rendered without native Jinja
    with pytest.raises(
        SetupInputError, match=r"operators\[1\]: expected a labeling-tool object, got str 'x'"
    ):
        to_operators([OPERATORS[0], "x"])
    with pytest.raises(SetupInputError, match="operators: neither valid JSON"):
        to_operators("{oops")


def test_data_ids_are_strings_and_never_floats_or_repeats() -> None:
    assert to_data_ids(["a", 7, " b "]) == ["a", "7", "b"]
    assert to_data_ids('["a", "b"]') == ["a", "b"]
    assert to_data_ids("['a', 'b']") == ["a", "b"]
    assert to_data_ids([358183635683250176]) == ["358183635683250176"]  # exact, not 3.5818e17
    with pytest.raises(SetupInputError) as info:
        to_data_ids(["a", 1.0, "", "a", True])
    assert info.value.problems == [
        "data_ids[1]: expected a string (or an integer), got float 1.0",
        "data_ids[2]: expected a non-empty string, got str ''",
        "data_ids[3]: 'a' repeats data_ids[0]",
        "data_ids[4]: expected a string (or an integer), got bool True",
    ]
    for bad in ([], "a, b", None):
        with pytest.raises(SetupInputError, match="data_ids: expected"):
            to_data_ids(bad)


def test_annotation_request_body_sends_optional_ids_only_when_given() -> None:
    assert annotation_request_body("4242", ["a"]) == {"projectId": 4242, "dataIds": ["a"]}
    assert annotation_request_body(4242, ["a"], workflow_id="18000", dataset_id=9) == {
        "projectId": 4242,
        "workflowId": 18000,
        "datasetId": 9,
        "dataIds": ["a"],
    }
    with pytest.raises(SetupInputError) as info:
        annotation_request_body(0, [], workflow_id="x", dataset_id=-1)
    assert [p.split(":")[0] for p in info.value.problems] == [
        "project_id",
        "workflow_id",
        "dataset_id",
        "data_ids",
    ]


def test_workflow_for_api_renames_only_the_pools_key_in_2024_08() -> None:
    body = {"projectId": 1, "workflow": {"pools": POOLS}}
    assert workflow_for_api(body, "2024-07") == body
    assert workflow_for_api(body, "2024-08") == {"projectId": 1, "workflow": {"vertex": POOLS}}
    assert workflow_for_api({"name": "P"}, "2024-08") == {"name": "P"}
    assert body == {"projectId": 1, "workflow": {"pools": POOLS}}  # not changed in place


# --- the hook against the emulator ----------------------------------------------------------------


def test_api_version_extra_is_checked(make_hook) -> None:
    assert make_hook().config.api_version == "2024-07"
    assert make_hook(api_version="2024-08").config.api_version == "2024-08"
    with pytest.raises(AnnotationConnectionConfigError, match="extra 'api_version': expected one of 2024-07"):
        make_hook(api_version="2024-09").config  # noqa: B018


def test_create_folder_wire_body_and_conflict(emu: Emulator, make_hook) -> None:
    hook = make_hook()
    folder_id = hook.create_folder("Q3 cars", external_id="ext-1")
    assert isinstance(folder_id, int) and emu.folders[folder_id]["name"] == "Q3 cars"
    with pytest.raises(AnnotationConflictError) as info:
        hook.create_folder("Q3 cars")
    assert info.value.code == 5836
    assert bodies(emu, FOLDER_CREATE.path) == [
        {"name": "Q3 cars", "externalId": "ext-1"},
        {"name": "Q3 cars"},
    ]
    with pytest.raises(SetupInputError):
        hook.create_folder("x" * 61)
    assert len(emu.requests) == 2  # nothing sent for bad input


@pytest.mark.parametrize("version, key", [("2024-07", "pools"), ("2024-08", "vertex")])
def test_create_project_wire_body_in_both_api_versions(emu: Emulator, make_hook, version, key) -> None:
    emu.api_version = version
    created = make_hook(api_version=version).create_project(
        "Cars", data_type=2, deadline="2024-06-01", operators=OPERATORS, folder_id=None, pools=POOLS
    )
    assert created.project_id in emu.projects and created.status == 1  # started, as the docs say
    assert isinstance(created.workflow_id, int) and created.workflow_id in emu.workflows
    (body,) = bodies(emu, PROJECT_CREATE.path)
    assert body == {
        "name": "Cars",
        "dataType": 2,
        "deadline": "2024-06-01",
        "operators": OPERATORS,
        "workflow": {key: POOLS},
    }


@pytest.mark.parametrize(
    "version, endpoint, key",
    [("2024-07", CREATE_WORKFLOW, "pools"), ("2024-08", CREATE_WORKFLOW_2024_08, "vertex")],
)
def test_create_workflow_follows_the_api_version(emu: Emulator, make_hook, version, endpoint, key) -> None:
    emu.api_version = version
    workflow_id = make_hook(api_version=version).create_workflow(4242, POOLS)
    assert emu.workflows[workflow_id]["projectId"] == 4242
    assert [(r["method"], r["endpoint"]) for r in emu.requests] == [("POST", endpoint.path)]
    assert json.loads(emu.requests[0]["body"]) == {"projectId": 4242, "workflow": {key: POOLS}}


def test_a_connection_on_the_wrong_api_version_is_refused_not_guessed(emu: Emulator, make_hook) -> None:
    emu.api_version = "2024-08"
    with pytest.raises(AnnotationApiError) as info:
        make_hook().create_workflow(4242, POOLS)  # the seed's path: a 404 on this server
    assert info.value.http_status == 404
    with pytest.raises(AnnotationValidationError) as info:  # the seed's key on Create Project: 400
        make_hook().create_project("P", data_type=2, deadline="2024-06-01", operators=OPERATORS, pools=POOLS)
    assert info.value.code == 400
    assert emu.workflows == {} and emu.projects == {}


def test_list_projects_pages_from_1_and_sends_both_required_filters(emu: Emulator, make_hook) -> None:
    emu.add_projects(decoy_projects(25))
    hook = make_hook()
    with pytest.raises(SetupInputError, match="status: required by /project/list") as refused:
        hook.list_projects(limit=10)
    assert "data_type: required" in str(refused.value) and emu.requests == []
    assert hook.list_projects(status=0, data_type=2, offset=2, limit=3)["count"] == 4
    assert bodies(emu, PROJECT_LIST.path) == [{"status": 0, "dataType": 2, "offset": 2, "limit": 3}]
    # Without filters, every (status, dataType) pair the docs name, each paged: all 25 projects.
    assert sorted(p["id"] for p in hook.iter_projects(page_size=3)) == list(range(1, 26))
    sent = bodies(emu, PROJECT_LIST.path)[1:]
    assert {(b["status"], b["dataType"]) for b in sent} == {(s, t) for s in range(4) for t in (2, 3)}


def test_find_project_by_name_among_250_decoys_over_pages_and_statuses(emu: Emulator, make_hook) -> None:
    emu.add_projects(decoy_projects(250))
    emu.add_projects([{"projectId": 9001, "name": "Cars", "status": 2, "dataType": 3}])
    emu.add_projects([{"projectId": 9002, "name": "Cars", "status": 1, "dataType": 2}])  # other data type
    emu.add_projects([{"projectId": 9003, "name": "cars", "status": 2, "dataType": 3}])  # other case
    emu.add_projects([{"projectId": 9004, "name": "Cars ", "status": 3, "dataType": 3}])  # other spaces
    hook = make_hook()
    found = hook.find_project_by_name("Cars", data_type=3, page_size=10)
    assert found is not None and found["id"] == 9001
    sent = bodies(emu, PROJECT_LIST.path)
    # 31-33 projects per status of data type 3: four pages of 10 for each of the four statuses
    assert sorted((b["status"], b["offset"]) for b in sent) == [(s, o) for s in range(4) for o in range(1, 5)]
    assert all(b["dataType"] == 3 and b["limit"] == 10 for b in sent)
    last = decoy_projects(250)[-1]
    again = hook.find_project_by_name(last["name"], data_type=last["dataType"])
    assert again is not None and (again["id"], again["name"]) == (last["projectId"], last["name"])
    assert hook.find_project_by_name("nowhere", data_type=2) is None


def test_find_project_by_name_pages_through_small_pages(emu: Emulator, make_hook) -> None:
    emu.add_projects(decoy_projects(250))
    hook = make_hook()
    pages = list(hook.iter_projects(status=3, data_type=3, page_size=5))
    assert len(pages) == 31 and all(p["status"] == 3 and p["dataType"] == 3 for p in pages)


def test_two_projects_with_one_name_is_an_error(emu: Emulator, make_hook) -> None:
    emu.add_projects(
        [
            {"projectId": 1, "name": "Twin", "status": 0, "dataType": 2},
            {"projectId": 2, "name": "Twin", "status": 3, "dataType": 2},
        ]
    )
    with pytest.raises(AnnotationApiError, match=r"2 projects are named 'Twin' \(ids 1, 2\)"):
        make_hook().find_project_by_name("Twin", data_type=2)


def test_request_annotation_keeps_task_ids_exact_strings(emu: Emulator, make_hook) -> None:
    hook = make_hook()
    workflow_id = hook.create_workflow(4242, POOLS)  # a bare project's default: its oldest workflow
    result = hook.request_annotation("4242", ["a", "b", "missing-c"])
    assert bodies(emu, ANNOTATION_REQUEST.path) == [{"projectId": 4242, "dataIds": ["a", "b", "missing-c"]}]
    assert result.rejected_data_ids == ["missing-c"]
    assert [t["dataId"] for t in result.tasks] == ["a", "b"]
    assert all(isinstance(t, str) and int(t) > 2**53 for t in result.task_ids)
    assert result.task_ids[0] == str(FIRST_TASK_ID)
    task = hook.get_task(4242, result.task_ids[0])
    assert json.loads(emu.requests[-1]["body"]) == {"projectId": 4242, "taskId": result.task_ids[0]}
    assert task["status"] == 1
    hook.request_annotation(4242, ["d"], workflow_id=workflow_id, dataset_id=77)
    assert json.loads(emu.requests[-1]["body"]) == {
        "projectId": 4242,
        "workflowId": workflow_id,
        "datasetId": 77,
        "dataIds": ["d"],
    }


def test_answer_ids_through_a_float_or_missing_are_typed_errors(emu: Emulator, make_hook) -> None:
    float_task = json.dumps(
        {
            "code": 200,
            "success": True,
            "message": "Succeed",
            "requestId": "r1",
            "data": {
                "successTaskList": [{"taskId": 3.5818363568325018e17, "dataId": "a"}],
                "errorDataIdList": [],
            },
        }
    )
    emu.inject(
        Fault(status=200, body=float_task, content_type="application/json", endpoint=ANNOTATION_REQUEST.path)
    )
    with pytest.raises(AnnotationMayHaveTakenEffectError, match="taskId is 3.58"):
        make_hook().request_annotation(4242, ["a"])
    not_an_object = json.dumps({"code": 200, "success": True, "message": "ok", "requestId": "r2", "data": []})
    emu.inject(Fault(status=200, body=not_an_object, content_type="application/json", endpoint=TASK_GET.path))
    with pytest.raises(AnnotationResponseError, match="data is not an object"):
        make_hook().get_task(4242, "1")


def test_project_tasks_stats_get_project_and_imports(emu: Emulator, make_hook) -> None:
    hook = make_hook()
    created = hook.create_project("Cars", data_type=2, deadline="2024-06-01", operators=OPERATORS)
    result = hook.request_annotation(created.project_id, [f"f{i}" for i in range(5)])
    emu.set_task_status(result.task_ids[0], 9)
    tasks = list(hook.iter_project_tasks(created.project_id, page_size=2))
    assert [t["id"] for t in tasks] == result.task_ids
    assert hook.list_project_tasks(created.project_id, start_time=0, limit=2)["count"] == 5
    stat = hook.run_stat(str(created.project_id), created.workflow_id)
    assert stat["efficiency"]["objectCount"] == 3 and stat["efforts"][0]["added"] == 3  # one task done
    assert set(hook.get_project(created.project_id)) == {"description", "created_at"}
    send = hook.send_tasks(created.project_id, "https://example.com/records.jsonl")
    assert isinstance(send["batchId"], str)
    status = hook.get_send_status(send["batchId"])
    assert status["status"] == 3
    assert json.loads(emu.requests[-1]["body"]) == {"batchId": send["batchId"]}
    with pytest.raises(SetupInputError, match="task_id: expected a string of digits"):
        hook.get_task(1, "12a")
    with pytest.raises(SetupInputError, match="resource_url"):
        hook.send_tasks(1, "")


def test_platform_refusals_are_typed(emu: Emulator, make_hook) -> None:
    from airflow_provider_annotation.exceptions import AnnotationNotFoundError

    hook = make_hook()
    created = hook.create_project("Cars", data_type=2, deadline="2030-12-31", operators=OPERATORS)
    with pytest.raises(AnnotationConflictError) as info:
        hook.create_project("Cars", data_type=3, deadline="2030-12-31", operators=OPERATORS)
    assert info.value.code == 5801
    with pytest.raises(AnnotationNotFoundError) as info:
        hook.request_annotation(created.project_id, ["a"], workflow_id=created.workflow_id + 99)
    assert info.value.code == 5845
    with pytest.raises(AnnotationNotFoundError) as info:
        hook.get_project(created.project_id + 1)
    assert info.value.code == 5802


def test_huge_bad_input_gives_a_bounded_report() -> None:
    with pytest.raises(SetupInputError) as info:
        to_data_ids([1.5] * 10_000)
    err = info.value
    assert len(err.problems) == 20 and err.more == 9_980
    assert str(err).startswith("invalid input (10000 problems, the first 20 shown):")
    assert str(err).endswith("... and 9980 more")
    with pytest.raises(SetupInputError) as info:
        project_body(name="P", data_type=2, deadline="2030-12-31", operators=OPERATORS, team_names=[""] * 50)
    assert info.value.more == 30


def test_operators_must_be_plain_json() -> None:
    with pytest.raises(SetupInputError) as info:
        to_operators([{"type": "box", "score": float("nan")}, {"labels": {"car", "bus"}}, {1: "x"}])
    assert [p.split(":")[0] for p in info.value.problems] == [
        "operators[0].score",
        "operators[1].labels",
        "operators[2]",
    ]
    tool = {**OPERATORS[0], "labels": ("car",)}
    assert to_operators([tool]) == [{**OPERATORS[0], "labels": ["car"]}]


# -- README promises found untested by a mutation audit ---------------------------------------


def page_answer(count: int, items: list[dict]) -> Fault:
    """A /project/list answer fixed in advance, whatever offset was asked for."""
    envelope = {"code": 200, "success": True, "data": {"count": count, "data": items}, "requestId": "r"}
    return Fault(status=200, body=json.dumps(envelope), endpoint=PROJECT_LIST.path)


def one_listing(count: int) -> list[dict]:
    """`count` decoy projects all in one (status, dataType) listing, the pair the docs require a
    listing to name, so paging faults meet one listing and not eight short ones."""
    return [{**project, "status": 1, "dataType": 2} for project in decoy_projects(count)]


def test_a_server_ignoring_offset_is_a_malformed_listing_after_two_pages(emu: Emulator, make_hook) -> None:
    """Page 1 whatever was asked, under a count 1000 times the true one: the repeat is an error at
    page 2, not 2,500 pages of the same items."""
    emu.add_projects(one_listing(25))
    emu.inject(Fault.paging("ignore-offset", endpoint=PROJECT_LIST.path, times=50))
    with pytest.raises(
        AnnotationResponseError, match=r"page 2 repeats 10 id\(s\) already listed \(1, 2, 3\)"
    ):
        list(make_hook().iter_projects(status=1, data_type=2, page_size=10))
    assert [b["offset"] for b in bodies(emu, PROJECT_LIST.path)] == [1, 2]


def test_a_count_growing_on_every_page_cannot_keep_the_read_going(emu: Emulator, make_hook) -> None:
    """The first answer's count holds: the short page ends the read, and the items never reached
    make it a truncated listing, an error, within the pages the listing really has."""
    emu.add_projects(one_listing(25))
    emu.inject(Fault.paging("growing-count", endpoint=PROJECT_LIST.path, times=50))
    with pytest.raises(AnnotationResponseError, match="after 25 of the 1025 items its first page counts"):
        list(make_hook().iter_projects(status=1, data_type=2, page_size=10))
    assert [b["offset"] for b in bodies(emu, PROJECT_LIST.path)] == [1, 2, 3]


def test_a_server_capping_pages_smaller_is_read_to_the_end(emu: Emulator, make_hook) -> None:
    """The docs name no maximum page size: a server holding 7 a page when 10 were asked is paged by
    its own size, not cut off after the 3 pages 10 a page would need."""
    emu.add_projects(one_listing(25))
    emu.inject(Fault.paging(cap=7, endpoint=PROJECT_LIST.path, times=50))
    projects = list(make_hook().iter_projects(status=1, data_type=2, page_size=10))
    assert [p["id"] for p in projects] == list(range(1, 26))
    assert [b["offset"] for b in bodies(emu, PROJECT_LIST.path)] == [1, 2, 3, 4]


def test_a_truncated_listing_never_reads_as_no_such_project(emu: Emulator, make_hook) -> None:
    """An empty page before the count is reached: adopt-by-name must not conclude "none"."""
    emu.add_projects(decoy_projects(250))
    emu.inject(Fault.paging(endpoint=PROJECT_LIST.path), Fault.paging("empty", endpoint=PROJECT_LIST.path))
    with pytest.raises(AnnotationResponseError, match="the listing ended at page 2 after 10 of the"):
        make_hook().find_project_by_name("nowhere", data_type=2, page_size=10)
    assert [b["offset"] for b in bodies(emu, PROJECT_LIST.path)] == [1, 2]


def test_ids_through_a_float_fail_typed_after_a_create_and_after_a_read(emu: Emulator, make_hook) -> None:
    """README: "Task ids, data ids and batch ids stay strings end to end. An id in an answer that
    arrives as a JSON float (digits already lost) is an error, never rounded:
    `AnnotationMayHaveTakenEffectError` after a create, `AnnotationResponseError` after a read."""
    from airflow_provider_annotation.endpoints import TASK_SEND

    hook = make_hook()
    emu.inject(Fault.half_claimed("id-float", act=True, endpoint=TASK_SEND.path))
    with pytest.raises(
        AnnotationMayHaveTakenEffectError, match=r"batchId is not a usable id: not a string \(float\)"
    ):
        hook.send_tasks(4242, "https://example.com/records.jsonl")
    assert len(emu.batches) == 1 and len(bodies(emu, TASK_SEND.path)) == 1  # acted once, not re-sent
    float_id = {"id": 3.5818363568325018e17, "status": 9}
    answer = {"code": 200, "success": True, "message": "ok", "requestId": "r3", "data": float_id}
    emu.inject(
        Fault(status=200, body=json.dumps(answer), content_type="application/json", endpoint=TASK_GET.path)
    )
    with pytest.raises(AnnotationResponseError, match="id is 3.58") as info:
        hook.get_task(4242, "358183635683250176")
    assert not isinstance(info.value, AnnotationMayHaveTakenEffectError)


# --- the labeling-tool config: the shape of the platform's docs ("Labeling tool config") ---------

#: The docs' "nesting instance structure" sample, and one tool of each other sample.
DOCS_TOOLS = [
    {
        "key": "box3d-[1cbd2]",
        "type": "slotChildren",
        "label": "Box3D",
        "slotSpecification": {"type": "box3d"},
        "children": [
            {
                "key": "box2d-[d14a6]",
                "type": "slot",
                "label": "Box2D",
                "slotSpecification": {
                    "type": "box2d",
                    "restrictInsideCanvasBoundary": True,
                    "topLeftMark": "1",
                },
            },
            {
                "key": "select-[c1283]",
                "label": "Class3D",
                "type": "input",
                "inputSpecification": {
                    "type": "select",
                    "items": [{"label": "Vehicle", "value": "Vehicle"}],
                    "renderConfig": {"selectionWidgetType": "Segment"},
                    "continuousFrameSync": False,
                },
            },
        ],
    },
    {"key": "polygon3d-[402e1]", "type": "slot", "label": "1", "slotSpecification": {"type": "polygon3d"}},
    {
        "label": "1",
        "metadata": {},
        "inputSpecification": {"type": "text"},
        "inputOption": {},
        "key": "t",
        "type": "input",
    },
]


def test_the_docs_labeling_tool_samples_are_accepted_as_they_are() -> None:
    assert to_operators(DOCS_TOOLS) == DOCS_TOOLS


def test_a_labeling_tool_off_the_docs_shape_is_refused_naming_its_path() -> None:
    bad = json.loads(json.dumps(DOCS_TOOLS))
    del bad[0]["children"][1]["key"]
    bad[0]["children"][0]["slotSpecification"] = "box2d"
    bad[1]["type"] = "box"
    with pytest.raises(SetupInputError) as info:
        to_operators(bad, "labeling_tools")
    assert [p.split(":")[0] for p in info.value.problems] == [
        "labeling_tools[0].children[0].slotSpecification",
        "labeling_tools[0].children[1].key",
        "labeling_tools[1].type",
    ]
    assert "a shape such as 'box2d' goes in slotSpecification.type" in str(info.value)
    with pytest.raises(
        SetupInputError, match=r"operators\[0\]\.children: a tool of type 'slotChildren' needs"
    ):
        to_operators([{**DOCS_TOOLS[0], "children": None}])


def test_the_emulator_accepts_the_docs_samples(emulator, make_hook) -> None:
    created = make_hook().create_project(
        "Docs tools", data_type=3, deadline="2030-12-31", operators=DOCS_TOOLS
    )
    assert emulator.projects[created.project_id]["operators"] == DOCS_TOOLS


# -- endpoints that describe themselves: one success rule for every path --------------------------


@pytest.mark.parametrize("how", ["call", "request", "send_create_folder"])
def test_every_path_to_a_create_checks_the_id_its_answer_must_carry(emu: Emulator, make_hook, how) -> None:
    """A create's answer without a usable id (here ``folderId`` as a string) is "may have taken
    effect" whichever method sent it: `call` and `request` skipped the check before."""
    emu.inject(Fault.half_claimed("id-string", endpoint=FOLDER_CREATE.path))
    hook = make_hook()
    body = folder_body(f"half-claimed by {how}", None)
    with pytest.raises(AnnotationMayHaveTakenEffectError, match="folderId is not a positive integer"):
        if how == "call":
            hook.call(FOLDER_CREATE, json=body)
        elif how == "request":
            hook.request("POST", FOLDER_CREATE.path, json=body)
        else:
            hook.send_create_folder(body)
    assert [r["endpoint"] for r in emu.requests].count(FOLDER_CREATE.path) == 1  # never re-sent


def test_annotation_statistics_under_their_name_and_the_old_one(emu: Emulator, make_hook) -> None:
    hook = make_hook()
    created = hook.create_project("Stats", data_type=2, deadline="2024-06-01", operators=OPERATORS)
    stats = hook.get_annotation_stats(created.project_id, created.workflow_id)
    assert stats == hook.run_stat(created.project_id, created.workflow_id)
    assert "efficiency" in stats


def test_resend_callback_sends_the_task_id_in_the_path(emu: Emulator, make_hook) -> None:
    """The endpoint added as issue 15's demonstration: its entry, one method, this test."""
    hook = make_hook()
    created = hook.create_project("Callbacks", data_type=2, deadline="2024-06-01", operators=OPERATORS)
    task_id = hook.request_annotation(created.project_id, ["f0"]).task_ids[0]
    assert hook.resend_callback(task_id) is None
    assert emu.requests[-1]["endpoint"] == f"/task/{task_id}/callback" and emu.requests[-1]["code"] == 200
    with pytest.raises(AnnotationNotFoundError):
        hook.resend_callback("999999999999999999")
    sent = len(emu.requests)
    with pytest.raises(AnnotationInputError, match="task_id: expected a string of digits"):
        hook.resend_callback("12/../get")
    assert len(emu.requests) == sent
