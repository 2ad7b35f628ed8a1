"""The emulator's project-setup endpoints (folders, projects, annotation requests, tasks, stats,
import batches), both Create Workflow versions and the CLI's Ctrl-C, seen over real HTTP."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from airflow_provider_annotation.endpoints import (
    ANNOTATION_REQUEST,
    ANNOTATION_STAT,
    CREATE_WORKFLOW,
    CREATE_WORKFLOW_2024_08,
    FOLDER_CREATE,
    PROJECT_CREATE,
    PROJECT_GET,
    PROJECT_LIST,
    PROJECT_TASKS,
    TASK_GET,
    TASK_SEND,
    TASK_SEND_STATUS,
)
from airflow_provider_annotation.signing import signed_headers
from airflow_provider_annotation.testing import Emulator, Fault
from airflow_provider_annotation.testing.state import FIRST_TASK_ID, decoy_projects
from tests.helpers import OPERATORS

AK, SK = "ak-platform", "sk-platform"
POOLS = [{"name": "Distribution", "type": 0}, {"name": "Labeling", "type": 1}, {"name": "Done", "type": 5}]
DECOYS = decoy_projects(250)
#: The fields ``/project/tasks`` requires besides ``projectId``: every task ever created.
EVERY_TASK = {"status": 1, "startTime": 0, "endTime": 4102444800000}


@pytest.fixture(scope="module")
def server() -> Iterator[Emulator]:
    with Emulator(AK, SK) as emu:
        yield emu


@pytest.fixture
def emu(server: Emulator) -> Emulator:
    server.reset()
    server.api_version = "2024-07"
    return server


def post(emu: Emulator | str, path: str, body: Any, *, timeout: float = 5) -> requests.Response:
    """A signed POST, as the hook sends it, to an emulator or the URL of one (its CLI's)."""
    url = emu if isinstance(emu, str) else emu.url
    return requests.post(url + path, json=body, headers=signed_headers(AK, SK), timeout=timeout)


def answer(emu: Emulator | str, path: str, body: Any) -> tuple[int, Any]:
    """(code, data) of a signed POST; the platform answers failures under HTTP 200."""
    response = post(emu, path, body)
    assert response.status_code == 200, response.text
    envelope = response.json()
    assert envelope["success"] is (envelope["code"] == 200)
    return envelope["code"], envelope["data"]


def project_body(name: str = "Cars 2024", **fields: Any) -> dict[str, Any]:
    return {"name": name, "dataType": 2, "deadline": "2024-06-01", "operators": OPERATORS, **fields}


def new_project(emu: Emulator, name: str = "Cars 2024", **fields: Any) -> dict[str, Any]:
    code, data = answer(emu, PROJECT_CREATE.path, project_body(name, **fields))
    assert code == 200, code
    return data


def request_tasks(emu: Emulator, project_id: int, data_ids: list[str], **fields: Any) -> tuple[int, Any]:
    return answer(emu, ANNOTATION_REQUEST.path, {"projectId": project_id, "dataIds": data_ids, **fields})


# --- folders --------------------------------------------------------------------------------------


def test_folder_create_and_unique_names(emu: Emulator) -> None:
    assert answer(emu, FOLDER_CREATE.path, {"name": "Q3", "externalId": "ext-1"}) == (200, {"folderId": 500})
    assert answer(emu, FOLDER_CREATE.path, {"name": "Q4"}) == (200, {"folderId": 501})
    assert answer(emu, FOLDER_CREATE.path, {"name": "Q3"}) == (5836, None)
    assert {f["name"]: f["externalId"] for f in emu.folders.values()} == {"Q3": "ext-1", "Q4": None}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "  "},
        {"name": 5},
        {"name": "é" * 31},
        {"name": "f", "externalId": "x" * 61},
    ],
    ids=repr,
)
def test_folder_bad_input_is_400(emu: Emulator, body: dict) -> None:
    assert answer(emu, FOLDER_CREATE.path, body) == (400, None)
    assert emu.folders == {}


def test_folder_name_limit_counts_utf8_bytes(emu: Emulator) -> None:
    assert answer(emu, FOLDER_CREATE.path, {"name": "é" * 30})[0] == 200  # 60 bytes


# --- projects -------------------------------------------------------------------------------------


def test_project_create_makes_a_project_and_its_default_workflow(emu: Emulator) -> None:
    data = new_project(emu, description="d", projectManager="pm", teamNames=["t1"])
    assert data == {"projectId": 1000, "status": 1, "workflowId": 18000}  # created started
    project = emu.projects[1000]
    assert (
        project["name"] == "Cars 2024"
        and project["workflowId"] == 18000
        and project["operators"] == OPERATORS
    )
    assert (project["projectManager"], project["teamNames"], project["description"]) == ("pm", ["t1"], "d")
    workflow = emu.workflows[18000]
    assert workflow["projectId"] == 1000 and workflow["default"] is True
    assert [p["type"] for p in workflow["pools"]] == [0, 1, 2, 5]


def test_project_create_with_workflow_and_folder(emu: Emulator) -> None:
    folder_id = answer(emu, FOLDER_CREATE.path, {"name": "F"})[1]["folderId"]
    data = new_project(emu, folderId=folder_id, dataType=3, workflow={"pools": POOLS})
    assert emu.workflows[data["workflowId"]]["pools"] == POOLS
    assert emu.projects[data["projectId"]]["folderId"] == folder_id


def test_project_name_taken_is_5801(emu: Emulator) -> None:
    new_project(emu)
    assert answer(emu, PROJECT_CREATE.path, project_body(dataType=3)) == (5801, None)
    assert len(emu.projects) == 1 and len(emu.workflows) == 1


def test_seeded_project_name_is_taken_too() -> None:
    with Emulator(AK, SK, projects=DECOYS[:3]) as emu:
        assert answer(emu, PROJECT_CREATE.path, project_body(DECOYS[2]["name"]))[0] == 5801
        assert new_project(emu, "fresh")["projectId"] == 1000


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"name": None}, 400),
        ({"name": ""}, 400),
        ({"name": "名" * 21}, 400),  # 63 bytes
        ({"dataType": None}, 400),
        ({"dataType": "2"}, 400),
        ({"dataType": True}, 400),
        ({"dataType": 1}, 5838),
        ({"dataType": 4}, 5838),
        ({"deadline": None}, 400),
        ({"deadline": "2024-6-1"}, 400),
        ({"deadline": "2024-02-30"}, 400),
        ({"deadline": 20240601}, 400),
        ({"operators": None}, 400),
        ({"operators": {"type": "box"}}, 5839),
        ({"operators": ["box"]}, 5839),
        # The docs' shape ("Labeling tool config"): key, type, label and the type's specification.
        ({"operators": [{"type": "box", "label": "car"}]}, 5839),
        ({"operators": [{"key": "k", "type": "slot", "label": "car"}]}, 5839),
        (
            {
                "operators": [
                    {"key": "k", "type": "slotChildren", "label": "c", "slotSpecification": {"type": "box3d"}}
                ]
            },
            5839,
        ),
        ({"description": "d" * 201}, 400),
        ({"description": 3}, 400),
        ({"folderId": "1"}, 400),
        ({"folderId": 0}, 400),
        ({"folderId": 999}, 404),
        ({"projectManager": 7}, 400),
        ({"projectManager": "unknown-pm"}, 5840),
        ({"teamNames": "t"}, 400),
        ({"teamNames": [1]}, 400),
        ({"workflow": {"pools": []}}, 5841),
        ({"workflow": {"pools": POOLS[1:]}}, 5509),
        ({"workflow": {"pools": POOLS[:2]}}, 5523),
        ({"workflow": {"vertex": POOLS}}, 400),
    ],
    ids=repr,
)
def test_project_create_refusals(emu: Emulator, change: dict, code: int) -> None:
    body = project_body(**change)
    body = {k: v for k, v in body.items() if v is not None}
    assert answer(emu, PROJECT_CREATE.path, body) == (code, None)
    assert emu.projects == {} and emu.workflows == {}


def test_project_description_limit_is_200_bytes(emu: Emulator) -> None:
    assert new_project(emu, description="d" * 200)["projectId"] == 1000


def test_project_get_created_and_unknown(emu: Emulator) -> None:
    project_id = new_project(emu)["projectId"]
    response = requests.get(
        emu.url + PROJECT_GET.path,
        params={"projectId": project_id},
        headers=signed_headers(AK, SK),
        timeout=5,
    )
    data = response.json()["data"]
    assert data == {"description": "", "created_at": time.strftime("%Y-%m-%d", time.gmtime())}
    missing = requests.get(
        emu.url + PROJECT_GET.path, params={"projectId": 4242}, headers=signed_headers(AK, SK), timeout=5
    )
    assert missing.json()["code"] == 5802


# --- project list: paging over statuses and data types ---------------------------------------------


def test_decoys_spread_over_statuses_and_data_types() -> None:
    assert {(p["status"], p["dataType"]) for p in DECOYS} == {(s, t) for s in range(4) for t in (2, 3)}
    assert len({p["name"] for p in DECOYS}) == len({p["projectId"] for p in DECOYS}) == 250


def test_project_list_pages_250_decoys_by_status_and_data_type(emu: Emulator) -> None:
    emu.add_projects(DECOYS)
    target = new_project(emu, "the-one", dataType=3)["projectId"]
    found, seen = [], 0
    for status in range(4):
        for data_type in (2, 3):
            page = 1
            while True:
                query = {"status": status, "dataType": data_type, "offset": page, "limit": 20}
                code, data = answer(emu, PROJECT_LIST.path, query)
                assert code == 200
                assert all(p["status"] == status and p["dataType"] == data_type for p in data["data"])
                seen += len(data["data"])
                found += [p["id"] for p in data["data"] if p["name"] == "the-one"]
                if page * 20 >= data["count"]:
                    break
                page += 1
    assert found == [target] and seen == 251
    every = {"status": 0, "dataType": 2}
    assert answer(emu, PROJECT_LIST.path, {**every, "offset": 2, "limit": 10})[1]["count"] == 32
    assert len(answer(emu, PROJECT_LIST.path, {**every, "offset": 4, "limit": 10})[1]["data"]) == 2
    assert answer(emu, PROJECT_LIST.path, {**every, "offset": 9, "limit": 100})[1]["data"] == []
    assert answer(emu, PROJECT_LIST.path, {"offset": 1, "limit": 10}) == (400, None)  # both required


@pytest.mark.parametrize("query", [{"offset": 0}, {"limit": 0}, {"offset": "1"}, {"status": "1"}], ids=repr)
def test_project_list_bad_paging_is_400(emu: Emulator, query: dict) -> None:
    assert answer(emu, PROJECT_LIST.path, {"status": 1, "dataType": 2, **query}) == (400, None)


def test_added_projects_are_forgotten_on_reset_but_seeded_ones_stay() -> None:
    with Emulator(AK, SK, projects=DECOYS[:2]) as emu:
        emu.add_projects(DECOYS[2:5])
        new_project(emu, "created")
        assert len(emu.projects) == 6
        emu.reset()
        assert sorted(emu.projects) == [1, 2]


# --- annotation requests --------------------------------------------------------------------------


def test_annotation_request_makes_one_task_per_data_id(emu: Emulator) -> None:
    project = new_project(emu)
    code, data = request_tasks(emu, project["projectId"], ["a", "b"])
    assert code == 200 and data["errorDataIdList"] == []
    assert data["successTaskList"] == [
        {"taskId": str(FIRST_TASK_ID), "dataId": "a"},
        {"taskId": str(FIRST_TASK_ID + 1), "dataId": "b"},
    ]
    assert all(isinstance(t["taskId"], str) and int(t["taskId"]) > 2**53 for t in data["successTaskList"])
    raw = post(emu, ANNOTATION_REQUEST.path, {"projectId": project["projectId"], "dataIds": ["c"]}).text
    assert f'"taskId":"{FIRST_TASK_ID + 2}"' in raw.replace(" ", "")  # a JSON string, never a number
    task = emu.tasks[str(FIRST_TASK_ID)]
    assert (task["workflowId"], task["status"], task["dataId"]) == (project["workflowId"], 1, "a")


def test_annotation_request_partial_success(emu: Emulator) -> None:
    project_id = new_project(emu)["projectId"]
    request_tasks(emu, project_id, ["a"])
    code, data = request_tasks(emu, project_id, ["a", "missing-1", "b", "unknown-2", "b", ""])
    assert code == 200
    assert [t["dataId"] for t in data["successTaskList"]] == ["b"]
    assert data["errorDataIdList"] == ["a", "missing-1", "unknown-2", "b", ""]
    assert sorted(t["dataId"] for t in emu.tasks.values()) == ["a", "b"]


def test_same_data_id_in_two_projects_makes_two_tasks(emu: Emulator) -> None:
    first, second = new_project(emu, "p1")["projectId"], new_project(emu, "p2")["projectId"]
    assert request_tasks(emu, first, ["a"])[1]["errorDataIdList"] == []
    assert request_tasks(emu, second, ["a"])[1]["errorDataIdList"] == []
    assert len(emu.tasks) == 2


def test_data_ids_option_lists_the_data_that_exists() -> None:
    with Emulator(AK, SK, data_ids=["d1", "missing-ok"]) as emu:
        project_id = new_project(emu)["projectId"]
        data = request_tasks(emu, project_id, ["d1", "missing-ok", "d2"])[1]
        assert [t["dataId"] for t in data["successTaskList"]] == ["d1", "missing-ok"]
        assert data["errorDataIdList"] == ["d2"]


def test_annotation_request_workflow_choice_and_dataset(emu: Emulator) -> None:
    project = new_project(emu)
    other = answer(
        emu, CREATE_WORKFLOW.path, {"projectId": project["projectId"], "workflow": {"pools": POOLS}}
    )
    other_id = other[1]["workflowId"]
    for workflow_id, expected in [
        (None, project["workflowId"]),
        (0, project["workflowId"]),
        (other_id, other_id),
    ]:
        extra = {} if workflow_id is None else {"workflowId": workflow_id}
        data = request_tasks(emu, project["projectId"], [f"d{workflow_id}"], datasetId=77, **extra)[1]
        task = emu.tasks[data["successTaskList"][0]["taskId"]]
        assert (task["workflowId"], task["datasetId"]) == (expected, 77)


def test_default_workflow_of_a_project_without_create_project(emu: Emulator) -> None:
    assert request_tasks(emu, 7, ["a"]) == (5845, None)  # no workflow yet in project 7
    workflow_id = answer(emu, CREATE_WORKFLOW.path, {"projectId": 7})[1]["workflowId"]
    data = request_tasks(emu, 7, ["a"])[1]
    assert emu.tasks[data["successTaskList"][0]["taskId"]]["workflowId"] == workflow_id


def test_annotation_request_refusals(emu: Emulator) -> None:
    project_id = new_project(emu)["projectId"]
    other_project_workflow = new_project(emu, "other")["workflowId"]
    assert request_tasks(emu, project_id, ["a"], workflowId=424242) == (5845, None)
    assert request_tasks(emu, project_id, ["a"], workflowId=other_project_workflow) == (5845, None)
    for bad in [
        {"projectId": project_id, "dataIds": []},
        {"projectId": project_id, "dataIds": "a"},
        {"projectId": project_id, "dataIds": [1]},
        {"projectId": project_id},
        {"projectId": "1", "dataIds": ["a"]},
        {"projectId": project_id, "dataIds": ["a"], "workflowId": -1},
        {"projectId": project_id, "dataIds": ["a"], "datasetId": "5"},
    ]:
        assert answer(emu, ANNOTATION_REQUEST.path, bad) == (400, None), bad
    assert emu.tasks == {}


def test_unknown_project_is_5802_when_projects_are_known() -> None:
    with Emulator(AK, SK, known_projects={7}) as emu:
        for path, body in [
            (ANNOTATION_REQUEST.path, {"projectId": 8, "dataIds": ["a"]}),
            (ANNOTATION_STAT.path, {"projectId": 8, "workflowId": 0}),
            (TASK_GET.path, {"projectId": 8, "taskId": "1"}),
            (PROJECT_TASKS.path, {"projectId": 8, **EVERY_TASK, "offset": 1, "limit": 10}),
            (TASK_SEND.path, {"projectId": 8, "resourceUrl": "https://x/y.jsonl"}),
        ]:
            assert answer(emu, path, body) == (5802, None), path
        created = new_project(emu)["projectId"]  # a created project exists too
        assert request_tasks(emu, created, ["a"])[0] == 200


# --- tasks, stats, control plane ------------------------------------------------------------------


def test_task_get_and_status_control(emu: Emulator) -> None:
    project_id = new_project(emu)["projectId"]
    task_id = request_tasks(emu, project_id, ["a"])[1]["successTaskList"][0]["taskId"]
    code, task = answer(emu, TASK_GET.path, {"projectId": project_id, "taskId": task_id})
    assert code == 200 and task["taskId"] == task_id and task["status"] == 1
    assert task["taskParams"]["record"]["metadata"] == {"uniqueIdentifier": "a"}
    assert task["appendInfo"]["projectInfo"]["projectId"] == project_id
    emu.set_task_status(task_id, 3)
    assert answer(emu, TASK_GET.path, {"projectId": project_id, "taskId": task_id})[1]["status"] == 3
    control = requests.post(f"{emu.url}/_emulator/tasks/{task_id}/status", json={"status": 9}, timeout=5)
    assert control.json() == {"taskId": task_id, "status": 9}
    assert answer(emu, TASK_GET.path, {"projectId": project_id, "taskId": task_id})[1]["status"] == 9
    assert emu.tasks[task_id]["updatedTime"] >= emu.tasks[task_id]["createdTime"]
    for status in (0, 11, "9", True):
        with pytest.raises(ValueError):
            emu.set_task_status(task_id, status)  # type: ignore[arg-type]
        bad = requests.post(f"{emu.url}/_emulator/tasks/{task_id}/status", json={"status": status}, timeout=5)
        assert bad.status_code == 400
    with pytest.raises(KeyError):
        emu.set_task_status("1", 9)
    assert (
        requests.post(f"{emu.url}/_emulator/tasks/1/status", json={"status": 9}, timeout=5).status_code == 404
    )
    assert emu.requests[-1]["endpoint"] == TASK_GET.path  # control calls are not recorded


def test_task_get_refusals(emu: Emulator) -> None:
    project_id = new_project(emu)["projectId"]
    other_id = new_project(emu, "other")["projectId"]
    task_id = request_tasks(emu, project_id, ["a"])[1]["successTaskList"][0]["taskId"]
    assert answer(emu, TASK_GET.path, {"projectId": project_id, "taskId": int(task_id)}) == (400, None)
    assert answer(emu, TASK_GET.path, {"projectId": project_id, "taskId": "x1"}) == (400, None)
    assert answer(emu, TASK_GET.path, {"projectId": other_id, "taskId": task_id}) == (404, None)
    assert answer(emu, TASK_GET.path, {"projectId": project_id, "taskId": "12"}) == (404, None)


def test_project_tasks_pages_and_time_filter(emu: Emulator) -> None:
    project_id = new_project(emu)["projectId"]
    ids = [
        t["taskId"] for t in request_tasks(emu, project_id, [f"d{i}" for i in range(5)])[1]["successTaskList"]
    ]
    later = request_tasks(emu, project_id, ["late"])[1]["successTaskList"][0]["taskId"]
    pages = [
        answer(emu, PROJECT_TASKS.path, {"projectId": project_id, **EVERY_TASK, "offset": p, "limit": 4})[1]
        for p in (1, 2)
    ]
    assert [p["count"] for p in pages] == [6, 6]
    assert [t["id"] for p in pages for t in p["data"]] == [*ids, later]
    item = pages[0]["data"][0]
    assert item["metaData"] == {"uniqueIdentifier": "d0"} and item["projectId"] == project_id
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", item["createdTime"])  # the docs' time text
    created = emu.tasks[later]["createdTime"]
    body = {**EVERY_TASK, "projectId": project_id, "offset": 1, "limit": 10}
    body.update(startTime=created, endTime=created + 1)
    assert [t["id"] for t in answer(emu, PROJECT_TASKS.path, body)[1]["data"]] == [
        t for t in [*ids, later] if emu.tasks[t]["createdTime"] == created
    ]
    before = answer(emu, PROJECT_TASKS.path, {**body, "startTime": 0, "endTime": created})[1]
    assert [t["id"] for t in before["data"]] == [t for t in ids if emu.tasks[t]["createdTime"] < created]
    assert before["count"] == len(before["data"])
    assert answer(emu, PROJECT_TASKS.path, {**body, "startTime": "0"}) == (400, None)
    assert answer(emu, PROJECT_TASKS.path, {**body, "offset": 0}) == (400, None)
    for required in EVERY_TASK:  # startTime, endTime and status are required by the docs
        partial = {k: v for k, v in body.items() if k != required}
        assert answer(emu, PROJECT_TASKS.path, partial) == (400, None), required


def test_annotation_stat_counts_by_status(emu: Emulator) -> None:
    project = new_project(emu)
    tasks = request_tasks(emu, project["projectId"], ["a", "b", "c", "d"])[1]["successTaskList"]
    emu.set_task_status(tasks[0]["taskId"], 9)
    emu.set_task_status(tasks[1]["taskId"], 3)
    body = {"projectId": project["projectId"], "workflowId": project["workflowId"]}
    code, stat = answer(emu, ANNOTATION_STAT.path, body)
    assert code == 200
    effort = {"deleted": 0, "inspected": 3, "added": 3, "corrected": 0, "vendor": "emulator"}
    assert stat == {  # one completed task, its three generated objects
        "projectId": project["projectId"],
        "workflowId": project["workflowId"],
        "efficiency": {"workHours": 0.0, "objectCount": 3},
        "efforts": [effort],
        "autolabeling": [],
    }
    assert answer(emu, ANNOTATION_STAT.path, {**body, "workflowId": 0})[1] == stat
    assert answer(emu, ANNOTATION_STAT.path, {**body, "workflowId": 5}) == (5845, None)
    assert answer(emu, ANNOTATION_STAT.path, {"projectId": "1"}) == (400, None)
    other = answer(emu, CREATE_WORKFLOW.path, {"projectId": project["projectId"]})[1]["workflowId"]
    empty = answer(emu, ANNOTATION_STAT.path, {**body, "workflowId": other})[1]
    assert (empty["efficiency"]["objectCount"], empty["efforts"]) == (0, [])


def test_task_send_and_status(emu: Emulator) -> None:
    project_id = new_project(emu)["projectId"]
    code, sent = answer(emu, TASK_SEND.path, {"projectId": project_id, "resourceUrl": "https://h/r.jsonl"})
    assert code == 200 and sent["importStatus"] == 1 and isinstance(sent["batchId"], str)
    status = answer(emu, TASK_SEND_STATUS.path, {"batchId": sent["batchId"]})
    assert status == (
        200,
        {
            "batchId": sent["batchId"],
            "jsonlName": "r.jsonl",
            "taskCount": 0,
            "importFailCount": 0,
            "status": 3,
            "errors": [],
        },
    )
    assert emu.batches[sent["batchId"]]["resourceUrl"] == "https://h/r.jsonl"
    assert answer(emu, TASK_SEND_STATUS.path, {"batchId": "nope"}) == (404, None)
    assert answer(emu, TASK_SEND_STATUS.path, {"batchId": 1}) == (400, None)
    assert answer(emu, TASK_SEND.path, {"projectId": project_id, "resourceUrl": "ftp://x"}) == (400, None)
    assert answer(emu, TASK_SEND.path, {"projectId": project_id}) == (400, None)


def test_http_state_and_reset_cover_every_object(emu: Emulator) -> None:
    folder_id = answer(emu, FOLDER_CREATE.path, {"name": "F"})[1]["folderId"]
    project_id = new_project(emu, folderId=folder_id)["projectId"]
    task_id = request_tasks(emu, project_id, ["a"])[1]["successTaskList"][0]["taskId"]
    batch_id = answer(emu, TASK_SEND.path, {"projectId": project_id, "resourceUrl": "http://h/r"})[1][
        "batchId"
    ]
    state = requests.get(emu.url + "/_emulator/state", timeout=5).json()
    assert list(state["folders"]) == [str(folder_id)] and list(state["projects"]) == [str(project_id)]
    assert list(state["tasks"]) == [task_id] and list(state["batches"]) == [batch_id]
    assert list(state["workflows"]) == ["18000"]
    requests.post(emu.url + "/_emulator/reset", timeout=5)
    assert (emu.folders, emu.projects, emu.tasks, emu.batches, emu.workflows) == ({}, {}, {}, {}, {})
    assert new_project(emu)["projectId"] == 1000  # ids restart


def test_object_properties_are_copies(emu: Emulator) -> None:
    project_id = new_project(emu)["projectId"]
    request_tasks(emu, project_id, ["a"])
    emu.projects[project_id]["name"] = "changed"
    next(iter(emu.tasks.values()))["status"] = 9
    assert emu.projects[project_id]["name"] == "Cars 2024"
    assert next(iter(emu.tasks.values()))["status"] == 1


# --- API versions ---------------------------------------------------------------------------------


def test_2024_07_serves_pools_on_the_seed_path(emu: Emulator) -> None:
    assert answer(emu, CREATE_WORKFLOW.path, {"projectId": 7, "workflow": {"pools": POOLS}})[0] == 200
    assert answer(emu, CREATE_WORKFLOW.path, {"projectId": 7, "workflow": {"vertex": POOLS}}) == (400, None)
    response = post(emu, CREATE_WORKFLOW_2024_08.path, {"projectId": 7, "workflow": {"vertex": POOLS}})
    assert response.status_code == 404 and response.json()["code"] == 404
    assert list(emu.workflows) == [18000]


def test_2024_08_serves_vertex_on_the_new_path() -> None:
    with Emulator(AK, SK, api_version="2024-08") as emu:
        code, data = answer(
            emu, CREATE_WORKFLOW_2024_08.path, {"projectId": 7, "workflow": {"vertex": POOLS}}
        )
        assert code == 200 and emu.workflows[data["workflowId"]]["pools"] == POOLS
        body = {"projectId": 7, "workflow": {"pools": POOLS}}
        assert answer(emu, CREATE_WORKFLOW_2024_08.path, body) == (400, None)
        assert (
            answer(emu, CREATE_WORKFLOW_2024_08.path, {"projectId": 7, "workflow": {"vertex": []}})[0] == 5841
        )
        response = post(emu, CREATE_WORKFLOW.path, {"projectId": 7, "workflow": {"pools": POOLS}})
        assert response.status_code == 404 and response.json()["code"] == 404
        created = new_project(emu, workflow={"vertex": POOLS})
        assert emu.workflows[created["workflowId"]]["pools"] == POOLS
        assert answer(emu, PROJECT_CREATE.path, project_body("x", workflow={"pools": POOLS})) == (400, None)
        assert len(emu.workflows) == 2 and len(emu.projects) == 1


def test_api_version_is_checked_and_switchable(emu: Emulator) -> None:
    with pytest.raises(ValueError, match="2024-07, 2024-08"):
        Emulator(AK, SK, api_version="2025-01")
    with pytest.raises(ValueError):
        emu.api_version = "v2"
    emu.api_version = "2024-08"
    assert answer(emu, CREATE_WORKFLOW_2024_08.path, {"projectId": 7})[0] == 200
    assert post(emu, CREATE_WORKFLOW.path, {"projectId": 7}).status_code == 404


# --- commit, then drop the answer: every create ---------------------------------------------------

CREATES = [
    (FOLDER_CREATE.path, {"name": "F"}, "folders"),
    (PROJECT_CREATE.path, project_body(), "projects"),
    (CREATE_WORKFLOW.path, {"projectId": 7}, "workflows"),
    (ANNOTATION_REQUEST.path, {"projectId": 7, "dataIds": ["a"]}, "tasks"),
    (TASK_SEND.path, {"projectId": 7, "resourceUrl": "https://h/r.jsonl"}, "batches"),
]


@pytest.mark.parametrize(("path", "body", "kind"), CREATES, ids=[c[0] for c in CREATES])
def test_commit_then_drop_the_answer(emu: Emulator, path: str, body: dict, kind: str) -> None:
    if kind == "tasks":
        answer(emu, CREATE_WORKFLOW.path, {"projectId": 7})  # project 7's default workflow
    before = len(getattr(emu, kind))
    emu.inject(Fault.disconnect(act=True, endpoint=path))
    with pytest.raises(requests.ConnectionError):
        post(emu, path, body)
    assert len(getattr(emu, kind)) == before + 1  # the platform committed
    record = emu.requests[-1]
    assert record["endpoint"] == path and record["fault"]["drop"] and record["status"] is None


def test_commit_then_drop_on_the_2024_08_path() -> None:
    with Emulator(AK, SK, api_version="2024-08") as emu:
        emu.inject(Fault.disconnect(act=True, endpoint=CREATE_WORKFLOW_2024_08.path))
        with pytest.raises(requests.ConnectionError):
            post(emu, CREATE_WORKFLOW_2024_08.path, {"projectId": 7, "workflow": {"vertex": POOLS}})
        assert list(emu.workflows) == [18000]


# --- the CLI --------------------------------------------------------------------------------------


def _start_cli(*args: str) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "ANNOTATION_EMULATOR_SECRET_KEY": SK}
    cmd = [sys.executable, "-m", "airflow_provider_annotation.testing.emulator", "--port", "0"]
    cmd += ["--access-key", AK, *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline() if proc.stdout else ""
    match = re.fullmatch(r"Annotation emulator listening on (http://127\.0\.0\.1:\d+)\n", line)
    if not match:
        proc.kill()
        pytest.fail(f"no URL line from the CLI: {line!r} {proc.communicate(timeout=10)}")
    return proc, match.group(1)


def test_cli_answers_ctrl_c_without_a_traceback() -> None:
    proc, url = _start_cli()
    try:
        body = project_body()
        response = requests.post(
            url + PROJECT_CREATE.path, json=body, headers=signed_headers(AK, SK), timeout=5
        )
        assert response.json()["data"]["projectId"] == 1000
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert "Traceback" not in out + err and "KeyboardInterrupt" not in out + err
    assert SK not in out + err


def test_cli_api_version_flag() -> None:
    proc, url = _start_cli("--api-version", "2024-08")
    try:
        body = json.dumps({"projectId": 7, "workflow": {"vertex": POOLS}})

        def headers() -> dict[str, str]:  # signed afresh: the emulator refuses a replayed signature
            return {**signed_headers(AK, SK), "Content-Type": "application/json"}

        new = requests.post(url + CREATE_WORKFLOW_2024_08.path, data=body, headers=headers(), timeout=5)
        old = requests.post(url + CREATE_WORKFLOW.path, data=body, headers=headers(), timeout=5)
        assert new.json()["data"] == {"workflowId": 18000} and old.status_code == 404
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=15)


def test_a_task_completed_by_status_reads_is_exportable(emu: Emulator) -> None:
    """The CLI's default (complete after two status reads) must leave a task as a completed task
    is everywhere: with a completion time, so /tasks/export by ids finds it (the pipeline DAG waits
    that way, then exports)."""
    from airflow_provider_annotation.endpoints import TASKS_EXPORT

    emu.state.settings.tasks_complete_after_reads = 2
    try:
        project_id = new_project(emu)["projectId"]
        _, data = request_tasks(emu, project_id, ["read-1"])
        (task_id,) = [t["taskId"] for t in data["successTaskList"]]
        statuses = [answer(emu, TASK_GET.path, {"projectId": project_id, "taskId": task_id})[1]["status"]]
        statuses.append(answer(emu, TASK_GET.path, {"projectId": project_id, "taskId": task_id})[1]["status"])
        assert statuses == [1, 9]
        code, exported = answer(emu, TASKS_EXPORT.path, {"projectId": project_id, "taskIds": [int(task_id)]})
        assert code == 200 and len(exported["annotationResultList"]) == 1
    finally:
        emu.state.settings.tasks_complete_after_reads = 0


# --- README promises that no other test pinned (found by breaking each on purpose) ----------------


def test_ids_start_where_the_readme_says(emu: Emulator) -> None:
    folder_id = answer(emu, FOLDER_CREATE.path, {"name": "ids"})[1]["folderId"]
    project = new_project(emu, folderId=folder_id)
    _, data = request_tasks(emu, project["projectId"], ["a", "b"])
    task_ids = [t["taskId"] for t in data["successTaskList"]]
    assert (folder_id, project["projectId"], project["workflowId"]) == (500, 1000, 18000)
    # Literal, not FIRST_TASK_ID: the documented sample id, a numeric string above 2**53.
    assert task_ids == ["358183635683250176", "358183635683250177"] and int(task_ids[0]) > 2**53


def test_created_project_ids_follow_the_highest_seeded_one() -> None:
    seeded = {"projectId": 1500, "name": "seeded", "status": 1, "dataType": 2}
    with Emulator(AK, SK, projects=[seeded]) as emu:
        created = new_project(emu, "new one")["projectId"]
        assert created == 1501
        assert emu.projects[1500]["name"] == "seeded" and emu.projects[1501]["name"] == "new one"


def test_a_created_project_has_status_1(emu: Emulator) -> None:
    """Create Project: "creating a project ... and set the status to 1 which represents START"."""
    project = new_project(emu)
    assert project["status"] == 1 and emu.projects[project["projectId"]]["status"] == 1
    listed = answer(emu, PROJECT_LIST.path, {"status": 1, "dataType": 2})[1]
    assert [p["id"] for p in listed["data"]] == [project["projectId"]]
    assert answer(emu, PROJECT_LIST.path, {"status": 0, "dataType": 2})[1]["count"] == 0


def test_default_workflow_without_create_project_is_the_oldest(emu: Emulator) -> None:
    first = answer(emu, CREATE_WORKFLOW.path, {"projectId": 7})[1]["workflowId"]
    second = answer(emu, CREATE_WORKFLOW.path, {"projectId": 7})[1]["workflowId"]
    assert first < second
    for extra in ({}, {"workflowId": 0}):
        data = request_tasks(emu, 7, [f"oldest-{len(extra)}"], **extra)[1]
        assert emu.tasks[data["successTaskList"][0]["taskId"]]["workflowId"] == first


def test_stats_without_completed_tasks_have_no_efforts(emu: Emulator) -> None:
    project = new_project(emu)
    request_tasks(emu, project["projectId"], ["a"])
    stat = answer(emu, ANNOTATION_STAT.path, {"projectId": project["projectId"], "workflowId": 0})[1]
    assert stat == {
        "projectId": project["projectId"],
        "workflowId": project["workflowId"],
        "efficiency": {"workHours": 0.0, "objectCount": 0},
        "efforts": [],
        "autolabeling": [],
    }
    assert answer(emu, ANNOTATION_STAT.path, {"projectId": project["projectId"]}) == (400, None)


def test_export_results_carry_no_task_id_and_no_data_id(emu: Emulator) -> None:
    from airflow_provider_annotation.endpoints import TASKS_EXPORT

    project_id = new_project(emu)["projectId"]
    _, data = request_tasks(emu, project_id, ["img-1.jpg"])
    task_id = data["successTaskList"][0]["taskId"]
    emu.set_task_status(task_id, 9)
    body = {"projectId": project_id, "taskIds": [int(task_id)]}
    raw = [post(emu, TASKS_EXPORT.path, body).content for _ in range(2)]
    (result,) = json.loads(raw[0])["data"]["annotationResultList"]
    assert set(result) == {"annotations", "hints", "issues", "metadata", "notes"}
    assert result["metadata"] == {"imageRotateAngle": 0, "invalidFrame": [], "noNeedToAnnotate": False}
    assert "taskId" not in json.dumps(result) and task_id not in json.dumps(result)
    assert "img-1.jpg" not in json.dumps(result) and "uniqueIdentifier" not in json.dumps(result)
    size = len(json.dumps(result, separators=(",", ":")).encode())
    assert 500 < size < 1000, size  # "about 0.7 KB"
    first, again = (json.loads(r)["data"] for r in raw)  # the envelopes' requestId and date differ
    assert first == again  # the same result every time


def test_a_new_batch_is_final_at_once_by_default(emu: Emulator) -> None:
    project_id = new_project(emu)["projectId"]
    body = {"projectId": project_id, "resourceUrl": "https://h/r.jsonl"}
    batch_id = answer(emu, TASK_SEND.path, body)[1]["batchId"]
    assert emu.state.settings.batch_polls_until_final == 0
    assert emu.batches[batch_id]["status"] == 3  # final before any status read


def test_batch_polls_until_final_makes_the_nth_read_final(emu: Emulator) -> None:
    emu.state.settings.batch_polls_until_final = 3
    try:
        project_id = new_project(emu)["projectId"]
        body = {"projectId": project_id, "resourceUrl": "https://h/r.jsonl"}
        batch_id = answer(emu, TASK_SEND.path, body)[1]["batchId"]
        reads = [answer(emu, TASK_SEND_STATUS.path, {"batchId": batch_id})[1]["status"] for _ in range(4)]
        assert reads == [1, 1, 3, 3]
    finally:
        emu.state.settings.batch_polls_until_final = 0


def test_cli_completes_a_task_on_its_second_status_read_by_default() -> None:
    proc, url = _start_cli()
    try:
        project_id = answer(url, PROJECT_CREATE.path, project_body())[1]["projectId"]
        requested = answer(url, ANNOTATION_REQUEST.path, {"projectId": project_id, "dataIds": ["a"]})[1]
        (task,) = requested["successTaskList"]
        read = {"projectId": project_id, "taskId": task["taskId"]}
        assert [answer(url, TASK_GET.path, read)[1]["status"] for _ in range(2)] == [1, 9]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=15)


def test_emulator_class_leaves_tasks_alone_by_default(emu: Emulator) -> None:
    project_id = new_project(emu)["projectId"]
    task_id = request_tasks(emu, project_id, ["a"])[1]["successTaskList"][0]["taskId"]
    read = {"projectId": project_id, "taskId": task_id}
    assert [answer(emu, TASK_GET.path, read)[1]["status"] for _ in range(3)] == [1, 1, 1]


def _task_statuses(emu: Emulator, project_id: int) -> list[int]:
    listed = answer(emu, PROJECT_TASKS.path, {"projectId": project_id, **EVERY_TASK})[1]
    return [t["status"] for t in listed["data"]]


def test_complete_after_completes_tasks_on_their_own() -> None:
    # The emulator's clock is moved instead of sleeping; the signature window spans the move.
    with Emulator(AK, SK, complete_after=100.0, signature_window=3600) as emu:
        project_id = new_project(emu)["projectId"]
        task_id = request_tasks(emu, project_id, ["a"])[1]["successTaskList"][0]["taskId"]
        assert _task_statuses(emu, project_id) == [1]
        emu.clock_offset_ms = 101_000
        assert _task_statuses(emu, project_id) == [9]
        task = emu.tasks[task_id]
        assert task["completeTime"] == task["createdTime"] + 100_000  # 100 s after creation


def test_complete_after_can_be_switched_on_while_running() -> None:
    with Emulator(AK, SK, signature_window=3600) as emu:
        assert emu.complete_after_s is None
        project_id = new_project(emu)["projectId"]
        request_tasks(emu, project_id, ["a"])
        emu.clock_offset_ms = 101_000
        assert _task_statuses(emu, project_id) == [1]  # default: never on their own
        emu.complete_after_s = 100.0
        assert _task_statuses(emu, project_id) == [9]


def test_cli_complete_after_flag() -> None:
    proc, url = _start_cli("--complete-after", "0.05", "--tasks-complete-after-reads", "0")
    try:
        project_id = answer(url, PROJECT_CREATE.path, project_body())[1]["projectId"]
        requested = answer(url, ANNOTATION_REQUEST.path, {"projectId": project_id, "dataIds": ["a"]})[1]
        (task,) = requested["successTaskList"]
        # About the clock itself: the task completes 0.05 s after its creation by the clock of the
        # emulator's own process, which a test cannot move once started. The sleep only makes the
        # read later than that; a loaded machine makes it later still, never too early.
        time.sleep(0.2)
        read = {"projectId": project_id, "taskId": task["taskId"]}
        assert answer(url, TASK_GET.path, read)[1]["status"] == 9
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=15)


def test_cli_signature_window_and_clock_offset_flags() -> None:
    proc, url = _start_cli("--signature-window", "1", "--clock-offset-ms", "5000")
    try:
        response = requests.post(
            url + PROJECT_CREATE.path, json=project_body(), headers=signed_headers(AK, SK), timeout=5
        )
        assert response.json()["code"] == 403  # 5 s off with a 1 s window: expired
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=15)
