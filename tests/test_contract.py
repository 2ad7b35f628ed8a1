"""The contract as the platform's public docs state it, checked from both ends.

Known answers that need no emulator (the signature, every endpoint's method and path), then the
emulator's answers against the docs' samples field by field (`tests/docs_samples.py`), then every
request body the provider sends against the fields the docs require for its API version. The tables
here are literal copies of the docs (stardustai/docs-api, ``src/en`` at adf3f38; the seed's Create
Workflow on PR #4's branch, bb869aa): neither the provider's nor the emulator's constants.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest
import requests

from airflow_provider_annotation import endpoints, signing
from airflow_provider_annotation.exceptions import AnnotationApiError, AnnotationInputError
from airflow_provider_annotation.hooks.async_annotation import AnnotationAsyncHook
from airflow_provider_annotation.project import create_workflow_endpoint
from airflow_provider_annotation.testing import Emulator, Fault, openapi
from airflow_provider_annotation.testing.state import Settings
from tests.docs_samples import SAMPLES
from tests.helpers import AK, OPERATORS, SK, set_conn

# --- the signature: known answers --------------------------------------------------------------

#: (X-TS, AccessKey secret, AccessKey ID) -> X-SIGN. The first: the key pair of the code sample in
#: ``overview/authentication.md`` with the page's X-TS example; the second: the worked example of
#: the project's contract summary. Each expected value was computed outside Python, with coreutils:
#: ``printf '%s' '1715948940207&vgj5kz13hasie8c8irezz7u5fok3mzb6&6y2fw7zeqgde3796rtbuk8ag9iyxmam6' | md5sum``.
#: (The page's header sample, ``_sign: 58454e54341403d16d2f5f219d869d8a``, comes with no secret and
#: cannot be reproduced from any key pair the page shows, so it is no known answer.)
SIGNATURES = [
    (
        "1715948940207",
        "vgj5kz13hasie8c8irezz7u5fok3mzb6",
        "6y2fw7zeqgde3796rtbuk8ag9iyxmam6",
        "a3a4f9444fdfe19859975e8f8703dc43",
    ),
    ("1715948940207", "sk-demo", "ak-demo", "f9a62afc2a1d76857659614b1d814435"),
]


@pytest.mark.parametrize("ts, secret, key, sign", SIGNATURES, ids=["docs-code-sample", "contract-summary"])
def test_the_provider_signs_the_known_answers_under_the_docs_header_names(ts, secret, key, sign) -> None:
    assert signing.signature(ts, secret, key) == sign
    assert signing.signed_headers(key, secret, timestamp_ms=int(ts)) == {
        "X-STARDUST-KEY": key,
        "X-TS": ts,
        "X-SIGN": sign,
    }


@pytest.mark.parametrize("ts, secret, key, sign", SIGNATURES, ids=["docs-code-sample", "contract-summary"])
def test_the_emulator_checks_the_known_answers_on_its_own(ts, secret, key, sign) -> None:
    settings = Settings(access_key=key, secret_key=secret, signature_window_s=10**9)
    headers = {"X-STARDUST-KEY": key, "X-TS": ts, "X-SIGN": sign}
    assert openapi.auth_failure(settings, headers, int(ts)) is None
    assert openapi.auth_failure(settings, {**headers, "X-SIGN": sign[::-1]}, int(ts)) == 401
    assert openapi.auth_failure(settings, {**headers, "X-TS": str(int(ts) + 1)}, int(ts)) == 401
    renamed = {"X-ACCESS-KEY" if k == "X-STARDUST-KEY" else k: v for k, v in headers.items()}
    assert openapi.auth_failure(settings, renamed, int(ts)) == 402


# --- every endpoint's method and path, as the docs spell them ------------------------------------

#: The provider's endpoint constants -> (method, path) and the docs page saying so.
DOCS_ENDPOINTS: dict[str, tuple[str, str, str]] = {
    "CREATE_WORKFLOW": ("POST", "/annotation/workflow/create", "annotations/create-workflow.md @ bb869aa"),
    "CREATE_WORKFLOW_2024_08": ("POST", "/workflow/create", "annotations/create-workflow.md"),
    "PROJECT_CREATE": ("POST", "/project/create", "projects/create-project.md"),
    "FOLDER_CREATE": ("POST", "/folder/create", "projects/create-folder.md"),
    "PROJECT_GET": ("GET", "/project/get", "projects/get-project-info.md"),
    "PROJECT_LIST": ("POST", "/project/list", "projects/list-project.md"),
    "PROJECT_TASKS": ("POST", "/project/tasks", "projects/list-task.md"),
    "ANNOTATION_REQUEST": ("POST", "/annotation/request", "annotations/request-annotation.md"),
    "ANNOTATION_STAT": ("POST", "/annotation/stat", "annotations/run-stat.md"),
    "TASK_SEND": ("POST", "/task/send", "tasks/send-task.md"),
    "TASK_SEND_STATUS": ("POST", "/task/send/status", "tasks/check-send-status.md"),
    "TASK_GET": ("POST", "/task/get", "tasks/get-task.md"),
    "TASKS_EXPORT": ("POST", "/tasks/export", "export/export-tasks.md"),
}
#: Documented endpoints the provider may add later (datasets/*.md).
DOCS_DATASET_ENDPOINTS = {
    ("POST", "/dataset/import/async"),
    ("POST", "/dataset/upload/sync"),
    ("GET", "/dataset/status"),
}
#: The documented endpoint with an id in its path (tasks/callbacks/re-sending.md).
DOCS_ENDPOINTS["TASK_CALLBACK"] = ("POST", "/task/{taskId}/callback", "tasks/callbacks/re-sending.md")


@pytest.mark.parametrize("name", sorted(DOCS_ENDPOINTS))
def test_the_provider_catalogue_spells_each_endpoint_as_the_docs(name: str) -> None:
    method, path, _page = DOCS_ENDPOINTS[name]
    endpoint = getattr(endpoints, name)
    assert (endpoint.method, endpoint.path) == (method, path)


def test_the_catalogue_holds_only_documented_endpoints_and_versions_pick_theirs() -> None:
    documented = {(m, p) for m, p, _ in DOCS_ENDPOINTS.values()} | DOCS_DATASET_ENDPOINTS
    assert {(e.method, e.path) for e in endpoints.ALL_ENDPOINTS} <= documented
    assert create_workflow_endpoint("2024-07").path == "/annotation/workflow/create"
    assert create_workflow_endpoint("2024-08").path == "/workflow/create"


def test_the_emulator_routes_exactly_the_documented_paths() -> None:
    documented = {(m, p) for m, p, _ in DOCS_ENDPOINTS.values()} | DOCS_DATASET_ENDPOINTS
    served = {("POST", p) for p in openapi.OPERATIONS} | {("GET", p) for p in openapi.QUERY_OPERATIONS}
    assert {(m, p) for m, p, _ in DOCS_ENDPOINTS.values()} <= served <= documented


# --- the emulator's answers against the docs' samples ------------------------------------------

#: Sample fields the emulator does not produce, and why: it has no attachments, no pool statistics,
#: and its ``result`` is the task's export item rather than the labeling tool's slots.
NOT_EMULATED = {
    "/project/list": {"data[].projectInfoErrorStatisticsDTO", "data[].poolNodeTaskDtoList"},
    "/task/get": {
        "taskParams.record.attachmentType",
        "taskParams.record.attachment",
        "result",
        "previousResult",
    },
}
#: A time as the docs write it ("2024-05-16 17:33:53"), or a day ("2024-04-22").
TIME_TEXT = re.compile(r"\d{4}-\d\d-\d\d( \d\d:\d\d:\d\d)?")


def shape_problems(docs: Any, got: Any, where: str, skip: set[str]) -> list[str]:
    """How `got` differs from the docs' sample `docs`: a missing or extra field, another JSON type,
    a time not written as the docs write it. A null in the sample says nothing about the type."""
    if docs is None or where in skip:
        return []
    if isinstance(docs, dict):
        if not isinstance(got, dict):
            return [f"{where or 'data'}: {type(got).__name__}, the docs show an object"]
        inner = {key: f"{where}.{key}" if where else key for key in {*docs, *got}}
        problems = [f"{inner[k]}: missing" for k in docs if k not in got and inner[k] not in skip]
        problems += [f"{inner[k]}: not in the docs' sample" for k in got if k not in docs]
        for key in docs.keys() & got.keys():
            problems += shape_problems(docs[key], got[key], inner[key], skip)
        return problems
    if isinstance(docs, list):
        if not isinstance(got, list):
            return [f"{where}: {type(got).__name__}, the docs show a list"]
        return (
            [p for item in got[:3] for p in shape_problems(docs[0], item, f"{where}[]", skip)] if docs else []
        )
    if isinstance(docs, bool):
        return [] if isinstance(got, bool) else [f"{where}: {got!r}, the docs show a boolean"]
    if isinstance(docs, (int, float)):
        # A float (or the schema-like placeholder 0) is any number; any other integer, an integer.
        ok = isinstance(got, (int, float)) if isinstance(docs, float) or docs == 0 else isinstance(got, int)
        return [] if ok and not isinstance(got, bool) else [f"{where}: {got!r}, the docs show {docs!r}"]
    if not isinstance(got, str):
        return [f"{where}: {got!r}, the docs show a string"]
    if TIME_TEXT.fullmatch(docs) and not TIME_TEXT.fullmatch(got):
        return [f"{where}: {got!r}, the docs write times like {docs!r}"]
    return []


def test_the_shape_check_can_fail() -> None:
    docs = {"id": "1", "createdTime": "2024-05-16 17:33:53", "items": [{"n": 1}], "ok": True}
    assert shape_problems(docs, {**docs}, "", set()) == []
    bad = {"id": 1, "createdTime": 1715851233000, "items": [{"n": "1"}], "extra": 0}
    assert sorted(shape_problems(docs, bad, "", set())) == [
        "createdTime: 1715851233000, the docs show a string",
        "extra: not in the docs' sample",
        "id: 1, the docs show a string",
        "items[].n: '1', the docs show 1",
        "ok: missing",
    ]
    assert shape_problems(docs, {**docs, "createdTime": "1715851233000"}, "", set()) == [
        "createdTime: '1715851233000', the docs write times like '2024-05-16 17:33:53'"
    ]


def signed_post(emu: Emulator, path: str, body: Any) -> dict[str, Any]:
    response = requests.post(emu.url + path, json=body, headers=signing.signed_headers(AK, SK), timeout=5)
    return response.json()


def emulator_answers(emu: Emulator) -> dict[str, Any]:
    """One successful answer's ``data`` from every endpoint, made through its own documented body,
    with a completed task so lists and results are not empty."""
    got: dict[str, Any] = {}

    def call(path: str, body: Any) -> Any:
        answer = signed_post(emu, path, body)
        assert answer["success"] is True and answer["code"] == 200, (path, answer)
        got[path] = answer["data"]
        return answer["data"]

    folder = call("/folder/create", {"name": "contract"})["folderId"]
    project = call(
        "/project/create",
        {
            "name": "contract",
            "dataType": 2,
            "deadline": "2030-06-01",
            "operators": OPERATORS,
            "folderId": folder,
        },
    )
    project_id = project["projectId"]
    call(
        "/annotation/workflow/create",
        {"projectId": project_id, "workflow": {"pools": openapi.DEFAULT_WORKFLOW}},
    )
    made = call("/annotation/request", {"projectId": project_id, "dataIds": ["frame-1", "frame-2"]})
    task_id = made["successTaskList"][0]["taskId"]
    emu.set_task_status(task_id, 9)
    call("/annotation/stat", {"projectId": project_id, "workflowId": project["workflowId"]})
    call("/task/get", {"projectId": project_id, "taskId": task_id})
    call("/project/tasks", {"projectId": project_id, "status": 1, "startTime": 0, "endTime": 2**62})
    call("/project/list", {"status": 1, "dataType": 2})
    batch = call("/task/send", {"projectId": project_id, "resourceUrl": "https://example.com/records.jsonl"})
    call("/task/send/status", {"batchId": batch["batchId"]})
    call("/tasks/export", {"projectId": project_id, "taskIds": [int(task_id)]})
    query = {"projectId": project_id}
    answer = requests.get(
        emu.url + "/project/get", params=query, headers=signing.signed_headers(AK, SK), timeout=5
    )
    got["/project/get"] = answer.json()["data"]
    emu.api_version = "2024-08"
    try:
        call("/workflow/create", {"projectId": project_id, "workflow": {"vertex": openapi.DEFAULT_WORKFLOW}})
    finally:
        emu.api_version = "2024-07"
    return got


def test_every_emulator_answer_has_the_docs_sample_shape(emulator: Emulator) -> None:
    answers = emulator_answers(emulator)
    assert set(answers) == set(SAMPLES)  # every documented endpoint with a sample, once
    problems = {
        path: shape_problems(SAMPLES[path]["data"], answers[path], "", NOT_EMULATED.get(path, set()))
        for path in SAMPLES
    }
    assert {path: found for path, found in problems.items() if found} == {}


def test_the_emulator_answers_the_docs_values(emulator: Emulator) -> None:
    """Values the docs show, beyond the shape: a created project is started (1), the envelope's
    date is time text, and the sample's pool and task fields hold the task's own values."""
    answers = emulator_answers(emulator)
    assert answers["/project/create"]["status"] == 1
    (item,) = [t for t in answers["/project/tasks"]["data"] if t["status"] == 9]
    assert item["metaData"] == {"uniqueIdentifier": "frame-1"} and isinstance(item["id"], str)
    assert answers["/task/get"]["status"] == 9 and answers["/task/get"]["taskId"] == item["id"]
    (project,) = answers["/project/list"]["data"]
    assert (project["status"], project["dataType"], project["name"]) == (1, 2, "contract")
    assert project["deadline"] == "2030-06-01 23:59:59"
    assert answers["/task/send/status"]["jsonlName"] == "records.jsonl"
    (result,) = answers["/tasks/export"]["annotationResultList"]
    assert item["id"] not in json.dumps(result) and "frame-1" not in json.dumps(result)


# --- what requests send: the docs' required fields, per API version -----------------------------

#: Request fields each page renders required (its renderer marks a field required unless it says
#: ``"required": false``), copied from the pages; ``workflow`` is rendered required on Create
#: Workflow but described as optional ("If not set, the platform will give the project a default
#: config"), and ``/tasks/export`` renders both forms (dates, ``taskIds``) required: one of them.
DOCS_REQUIRED: dict[str, dict[str, set[str]]] = {
    "2024-07": {
        "/annotation/workflow/create": {"projectId"},
        "/annotation/request": {"projectId", "dataIds"},
    },
    "2024-08": {
        "/workflow/create": {"projectId"},
        "/annotation/request": {"projectId", "datasetId", "dataIds"},
    },
}
for _version in DOCS_REQUIRED.values():
    _version.update(
        {
            "/project/create": {"name", "dataType", "deadline", "operators"},
            "/folder/create": {"name"},
            "/project/get": {"projectId"},
            "/project/list": {"status", "dataType"},
            "/annotation/stat": {"projectId", "workflowId"},
            "/task/send": {"projectId", "resourceUrl"},
            "/task/send/status": {"batchId"},
            "/task/get": {"projectId", "taskId"},
            "/project/tasks": {"projectId", "status", "startTime", "endTime"},
            "/tasks/export": {"projectId"},
            "/dataset/import/async": {"resourceUrl", "fileTreeType", "dataType", "name"},
            "/dataset/status": {"datasetId"},
        }
    )
EXPORT_FORMS = ({"completeTimeAfter", "completeTimeBefore"}, {"taskIds"})


def sent_bodies(emu: Emulator) -> list[tuple[str, dict[str, Any]]]:
    """(endpoint, JSON body) of every recorded POST; the one GET (``/project/get``) carries its
    ``projectId`` in the query, which the request log does not keep: the emulator's own check of
    required fields answers it (every answer must be a success)."""
    return [(r["endpoint"], json.loads(r["body"])) for r in emu.requests if r["method"] == "POST"]


def drive_every_endpoint(emu: Emulator, make_hook, monkeypatch, version: str) -> None:
    """Every public JSON call of both hooks, as operators, the sensor and the triggers make them
    (the dataset upload is a multipart form: its fields are checked in tests/test_datasets.py)."""
    emu.api_version = version
    hook = make_hook(api_version=version)
    folder = hook.create_folder("f")
    project = hook.create_project(
        "p", data_type=2, deadline="2030-06-01", operators=OPERATORS, folder_id=folder
    )
    hook.create_workflow(project.project_id)
    made = hook.request_annotation(project.project_id, ["d1", "d2"], dataset_id=7)
    emu.set_task_status(made.task_ids[0], 9)
    hook.run_stat(project.project_id, project.workflow_id)
    hook.get_task(project.project_id, made.task_ids[0])
    list(hook.iter_project_tasks(project.project_id, page_size=1))
    list(hook.iter_projects(status=1, data_type=2))
    hook.find_project_by_name("p", data_type=2)
    assert hook.test_connection()[0] is True
    hook.get_project(project.project_id)
    batch = hook.send_tasks(project.project_id, "https://example.com/r.jsonl")
    hook.get_send_status(batch["batchId"])
    hook.export_tasks(project.project_id, task_ids=made.task_ids)
    hook.export_tasks(project.project_id, complete_after="2024-05-01", complete_before="2024-05-02")
    dataset_id = hook.import_dataset("gs://bucket/scenes/", name="d", data_type=2)
    hook.get_dataset_status(dataset_id)

    async def trigger_reads() -> None:
        async with AnnotationAsyncHook(set_conn(monkeypatch, f"contract_{version}", emu.url)) as async_hook:
            await async_hook.list_project_tasks(project.project_id, limit=1)
            await async_hook.get_task(project.project_id, made.task_ids[0])
            await async_hook.get_send_status(batch["batchId"])
            await async_hook.get_dataset_status(dataset_id)

    asyncio.run(trigger_reads())


@pytest.mark.parametrize("version", ["2024-07", "2024-08"])
def test_every_request_body_carries_the_docs_required_fields(
    emulator, make_hook, monkeypatch, version
) -> None:
    try:
        drive_every_endpoint(emulator, make_hook, monkeypatch, version)
    finally:
        emulator.api_version = "2024-07"
    sent = sent_bodies(emulator)
    required = DOCS_REQUIRED[version]
    # every POST of this version (the GETs carry their field in the query, checked by the emulator)
    assert {path for path, _ in sent} == set(required) - {"/project/get", "/dataset/status"}
    missing = [
        (path, sorted(required[path] - set(body))) for path, body in sent if required[path] - set(body)
    ]
    assert missing == []
    exports = [set(body) for path, body in sent if path == "/tasks/export"]
    assert all(any(form <= fields for form in EXPORT_FORMS) for fields in exports) and len(exports) == 2
    assert all(code == 200 for code in (r["code"] for r in emulator.requests))


def test_project_tasks_selects_every_task_the_wait_needs(emulator: Emulator, make_hook) -> None:
    """``startTime``/``endTime``/``status`` are required: sent so that no task is left out, a task
    made just now included, whatever its status."""
    hook = make_hook()
    project = hook.create_project("p", data_type=2, deadline="2030-06-01", operators=OPERATORS)
    ids = hook.request_annotation(project.project_id, ["a", "b", "c"]).task_ids
    for task_id, status in zip(ids, (9, 6, 3), strict=True):
        emulator.set_task_status(task_id, status)
    assert [t["id"] for t in hook.iter_project_tasks(project.project_id)] == ids
    (body,) = [b for p, b in sent_bodies(emulator) if p == "/project/tasks"]
    assert (body["status"], body["startTime"]) == (1, 0) and body["endTime"] > max(
        t["createdTime"] for t in emulator.tasks.values()
    )


def test_the_emulator_requires_what_the_docs_require() -> None:
    """The emulator's own statement of the required fields is the docs' (this file's table)."""
    stated = {
        version: {path: set(fields) for path, fields in table.items()}
        for version, table in openapi.REQUIRED_FIELDS.items()
    }
    assert stated == DOCS_REQUIRED


def test_the_emulator_refuses_a_body_without_a_required_field(emulator: Emulator, make_hook) -> None:
    project_id = (
        make_hook().create_project("p", data_type=2, deadline="2030-06-01", operators=OPERATORS).project_id
    )
    complete = {"projectId": project_id, "status": 1, "startTime": 0, "endTime": 2**62}
    assert signed_post(emulator, "/project/tasks", complete)["code"] == 200
    for field in ("status", "startTime", "endTime"):
        partial = {k: v for k, v in complete.items() if k != field}
        assert signed_post(emulator, "/project/tasks", partial)["code"] == 400, field
    emulator.api_version = "2024-08"
    try:
        request = {"projectId": project_id, "dataIds": ["a"]}
        assert signed_post(emulator, "/annotation/request", request)["code"] == 400
        assert signed_post(emulator, "/annotation/request", {**request, "datasetId": 7})["code"] == 200
    finally:
        emulator.api_version = "2024-07"


# --- API versions -------------------------------------------------------------------------------


def test_dataset_id_is_required_with_2024_08_before_any_request(emulator: Emulator, make_hook) -> None:
    emulator.api_version = "2024-08"
    try:
        hook = make_hook(api_version="2024-08")
        with pytest.raises(AnnotationInputError, match=r"dataset_id: required with api_version=2024-08"):
            hook.request_annotation(1, ["a"])
        assert emulator.requests == []
        hook.create_workflow(1)
        assert hook.request_annotation(1, ["a"], dataset_id=7).task_ids
    finally:
        emulator.api_version = "2024-07"
    assert make_hook().request_annotation(1, ["b"]).task_ids  # the seed's version has no datasetId
    assert "datasetId" not in json.loads(emulator.requests[-1]["body"])


def test_the_seeds_create_on_an_august_platform_names_the_other_version(
    emulator: Emulator, make_hook
) -> None:
    emulator.api_version = "2024-08"  # serves /workflow/create only: the seed's path is a 404
    try:
        with pytest.raises(AnnotationApiError, match="this platform may expect api_version=2024-08") as info:
            make_hook().create_workflow(1)
        assert info.value.http_status == 404
    finally:
        emulator.api_version = "2024-07"
    unknown_key = {
        "code": 400,
        "message": "Unknown field: pools",
        "data": None,
        "success": False,
        "requestId": "r",
    }
    emulator.inject(Fault(status=200, body=json.dumps(unknown_key), endpoint="/annotation/workflow/create"))
    with pytest.raises(AnnotationApiError, match="this platform may expect api_version=2024-08"):
        make_hook().create_workflow(1)
    emulator.inject(Fault.failure(5845, endpoint="/annotation/workflow/create"))  # not about the form
    with pytest.raises(AnnotationApiError) as other:
        make_hook().create_workflow(1)
    assert "api_version" not in str(other.value)


def test_the_submit_operator_fails_without_dataset_id_on_2024_08_before_sending(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from airflow_provider_annotation.operators.project_setup import SubmitAnnotationDataOperator
    from tests.helpers import connection_json

    conn = connection_json(emulator.url, retry_base_delay=0, api_version="2024-08")
    monkeypatch.setenv("AIRFLOW_CONN_ANNOTATION_DEFAULT", conn)
    op = SubmitAnnotationDataOperator(task_id="submit", project_id=4242, data_ids=["a"])
    with pytest.raises(AirflowFailException, match="dataset_id: required with api_version=2024-08"):
        op.execute({})
    assert emulator.requests == []
