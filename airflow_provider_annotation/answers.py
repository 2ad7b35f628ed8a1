"""Readers of what the platform answers: each checks that the data of a success envelope has the
shape the docs promise, keeps ids exact, and raises a typed error naming the field when it does not.

The request side (bodies built from a user's input) is `project` and the other model modules; this
module only reads. Pure standard library, no Airflow import. Every value the server sent is shown
through `redaction.scrub` (secrets blanked, escaped, cut).

Ids: ``projectId``, ``workflowId`` and the like are longs and never pass through a float; task ids
and data ids are strings from end to end (task ids exceed 2**53).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from airflow_provider_annotation.codes import PlatformCode
from airflow_provider_annotation.endpoints import ANNOTATION_REQUEST, PROJECT_LIST, Endpoint
from airflow_provider_annotation.exceptions import (
    AnnotationApiError,
    AnnotationMayHaveTakenEffectError,
    AnnotationResponseError,
)
from airflow_provider_annotation.paging import project_key
from airflow_provider_annotation.redaction import scrub
from airflow_provider_annotation.validation import MAX_LONG, MIN_LONG, is_long

__all__ = [
    "MAX_TASK_ID_CHARS",
    "AnnotationRequestResult",
    "CreatedProject",
    "bad_answer",
    "id_text",
    "one_project_named",
    "optional_long",
    "read_annotation_result",
    "read_object",
    "read_page",
    "read_task",
    "read_tasks",
]

#: The most characters of a task id in an answer: ids are longs as digit strings, with room to spare.
MAX_TASK_ID_CHARS = 40


@dataclass(frozen=True)
class CreatedProject:
    """What Create Project answers: the new project, its status and its default workflow."""

    project_id: int
    status: int | None
    workflow_id: int | None


@dataclass(frozen=True)
class AnnotationRequestResult:
    """What one Annotation Request answers: the tasks made and the data ids that made none."""

    #: ``[{"taskId": "358183635683250176", "dataId": "frame-1"}, ...]``: ids as strings.
    tasks: list[dict[str, str]]
    rejected_data_ids: list[str]

    @property
    def task_ids(self) -> list[str]:
        return [task["taskId"] for task in self.tasks]

    def to_dict(self) -> dict[str, Any]:
        return {"tasks": self.tasks, "rejected_data_ids": self.rejected_data_ids}


def bad_answer(what: str, endpoint: Endpoint, request_id: str | None, *, created: bool) -> AnnotationApiError:
    """A success envelope whose data is not what the docs promise. For a create the object may
    exist, so the error says so; for a read nothing happened."""
    cls = AnnotationMayHaveTakenEffectError if created else AnnotationResponseError
    tail = "; it may have been created: check the platform before re-running" if created else ""
    return cls(
        f"the platform reported success but {what}{tail}",
        code=PlatformCode.SUCCESS,
        request_id=request_id,
        endpoint=endpoint.path,
        method=endpoint.method,
    )


def optional_long(data: dict[str, Any], key: str, endpoint: Endpoint, request_id: str | None) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if not is_long(value):
        raise bad_answer(
            f"{key} is not an integer ({scrub(repr(value))})", endpoint, request_id, created=True
        )
    return int(value)


def read_object(data: Any, endpoint: Endpoint, request_id: str | None) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise bad_answer(
            f"data is not an object ({type(data).__name__})",
            endpoint,
            request_id,
            created=not endpoint.is_read,
        )
    return data


def read_page(data: Any, endpoint: Endpoint, request_id: str | None) -> dict[str, Any]:
    page = read_object(data, endpoint, request_id)
    if not is_long(page.get("count")) or not isinstance(page.get("data"), list):
        raise bad_answer("the page has no integer count and data list", endpoint, request_id, created=False)
    return page


def id_text(value: object, key: str, endpoint: Endpoint, request_id: str | None, *, created: bool) -> str:
    """An id the platform documents as a string, kept exact: a string, or an int the JSON parser
    read exactly; a float has lost digits already and is refused."""
    if isinstance(value, str) and value.strip():
        return value
    if is_long(value):
        return str(value)
    raise bad_answer(f"{key} is {scrub(repr(value))}, not a string id", endpoint, request_id, created=created)


def read_task(
    task: Any, endpoint: Endpoint, request_id: str | None, task_id: str | None = None
) -> dict[str, Any]:
    """A task object: its id (``id`` or ``taskId``) a string of digits, its `status` an integer.
    With `task_id` (a ``/task/get`` answer), the task must be that one: a task without its id or
    with another task's would otherwise never complete, silently."""
    task = read_object(task, endpoint, request_id)
    for key in ("id", "taskId"):
        if key in task:
            task[key] = id_text(task[key], key, endpoint, request_id, created=False)
    found = task.get("id", task.get("taskId"))
    if found is None or not (found.isascii() and found.isdigit() and len(found) <= MAX_TASK_ID_CHARS):
        what = "no id" if found is None else f"the id {scrub(repr(found))}, not a task id"
        raise bad_answer(f"a task has {what}", endpoint, request_id, created=False)
    if task_id is not None and found != task_id:
        raise bad_answer(
            f"the answer is task {found}'s, not task {task_id}'s", endpoint, request_id, created=False
        )
    status = task.get("status")
    if not is_long(status):
        raise bad_answer(
            f"task {found}'s status is {scrub(repr(status))}, not an integer",
            endpoint,
            request_id,
            created=False,
        )
    return task


def read_tasks(items: list[Any], endpoint: Endpoint, request_id: str | None) -> list[dict[str, Any]]:
    """`read_task` for each task of a listing page, in order, with the same results and errors.

    A page holds a hundred tasks and a wait reads pages every interval, so a task already in the
    form `read_task` leaves it in (a dict whose only id is ``id``, a string of ASCII digits, and
    whose status is a long) is checked here in a few comparisons; any other goes through
    `read_task` itself, which converts it or raises the error naming what is wrong."""
    checked: list[dict[str, Any]] = []
    keep = checked.append
    for task in items:
        if type(task) is dict and "taskId" not in task:
            found, status = task.get("id"), task.get("status")
            if (
                type(found) is str
                and found.isascii()
                and found.isdigit()
                and len(found) <= MAX_TASK_ID_CHARS
                and type(status) is int
                and MIN_LONG <= status <= MAX_LONG
            ):
                keep(task)
                continue
        keep(read_task(task, endpoint, request_id))
    return checked


def read_annotation_result(data: Any, request_id: str | None) -> AnnotationRequestResult:
    answer = read_object(data, ANNOTATION_REQUEST, request_id)
    made, rejected = answer.get("successTaskList") or [], answer.get("errorDataIdList") or []
    if not isinstance(made, list) or not isinstance(rejected, list):
        raise bad_answer(
            f"successTaskList/errorDataIdList are not lists (data={scrub(repr(answer))})",
            ANNOTATION_REQUEST,
            request_id,
            created=True,
        )
    tasks = []
    for item in made:
        if not isinstance(item, dict):
            raise bad_answer(f"a task is {scrub(repr(item))}", ANNOTATION_REQUEST, request_id, created=True)
        tasks.append(
            {
                "taskId": id_text(item.get("taskId"), "taskId", ANNOTATION_REQUEST, request_id, created=True),
                "dataId": id_text(item.get("dataId"), "dataId", ANNOTATION_REQUEST, request_id, created=True),
            }
        )
    rejected_ids = [
        id_text(item, "errorDataIdList[]", ANNOTATION_REQUEST, request_id, created=True) for item in rejected
    ]
    return AnnotationRequestResult(tasks=tasks, rejected_data_ids=rejected_ids)


def one_project_named(name: str, matches: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The one project of `matches` (projects named `name`), None for none; more than one is an
    error, since the platform keeps names unique: a person must pick."""
    if len(matches) > 1:
        ids = ", ".join(str(project_key(p)) for p in matches)
        raise AnnotationApiError(
            f"{len(matches)} projects are named {name!r} (ids {ids}), although the platform keeps "
            "project names unique; pick one by its id",
            endpoint=PROJECT_LIST.path,
            method=PROJECT_LIST.method,
        )
    return matches[0] if matches else None
