"""The listing's page-at-a-time checks (issue 21's CPU work): `answers.read_tasks` and `paging.Pager`'s
page-wide id check must give exactly what the item-by-item rules give, for well-formed pages and
for every malformed item, errors and their wording included."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from airflow_provider_annotation.answers import read_task, read_tasks
from airflow_provider_annotation.endpoints import PROJECT_LIST, PROJECT_TASKS
from airflow_provider_annotation.exceptions import AnnotationResponseError
from airflow_provider_annotation.paging import Pager, project_key, task_key

GOOD = {"id": "358183635683250176", "status": 1, "projectId": 1000}

#: Items the fast path must leave to `read_task`: each converted or refused exactly as it would be.
ODD_ITEMS: list[Any] = [
    {"id": 358183635683250177, "status": 9},  # an exact int id: kept as its string
    {"taskId": "358183635683250178", "status": 9},  # the other documented key
    {"id": "358183635683250179", "taskId": "358183635683250179", "status": 1},
    {"id": "358183635683250185", "taskId": 358183635683250185, "status": 1},  # taskId made a string
    {"id": "358183635683250186", "taskId": 1.5, "status": 1},  # a float taskId is refused
    {"id": "358183635683250180", "status": True},  # bool is not a status
    {"id": "358183635683250181", "status": 1.0},
    {"id": "358183635683250182", "status": 2**63},  # beyond a long
    {"id": "358183635683250183"},  # no status
    {"id": "", "status": 1},
    {"id": " 12", "status": 1},
    {"id": "١٢٣", "status": 1},  # digits, but not ASCII ones
    {"id": "1" * 41, "status": 1},  # longer than a task id
    {"id": "12x", "status": 1},
    {"id": 1.5, "status": 1},
    {"status": 1},  # no id at all
    ["id", "1"],  # not an object
    "358183635683250184",
]


def outcome(read: Any) -> Any:
    try:
        return read()
    except AnnotationResponseError as err:
        return type(err), str(err)


@pytest.mark.parametrize("odd", ODD_ITEMS, ids=repr)
def test_read_tasks_gives_what_read_task_gives_item_by_item(odd: Any) -> None:
    page = [dict(GOOD), copy.deepcopy(odd), {**GOOD, "id": "358183635683250199", "status": -1}]
    expected = outcome(lambda: [read_task(copy.deepcopy(i), PROJECT_TASKS, "r-1") for i in page])
    assert outcome(lambda: read_tasks(copy.deepcopy(page), PROJECT_TASKS, "r-1")) == expected


def test_read_tasks_keeps_a_well_formed_page_as_it_came() -> None:
    page = [{**GOOD, "id": str(358183635683250176 + n), "status": n % 10} for n in range(100)]
    assert read_tasks(copy.deepcopy(page), PROJECT_TASKS, None) == page


def pages_outcome(pages: list[list[Any]], key: Any = task_key, endpoint: Any = PROJECT_TASKS) -> Any:
    """What a pager makes of `pages` (each counted as the whole listing's size): its items, or its error."""
    count = sum(len(p) for p in pages)
    pager = Pager(endpoint, key)
    seen: list[Any] = []
    try:
        for items in pages:
            seen += pager.take({"count": count, "data": items})
    except AnnotationResponseError as err:
        return str(err)
    return seen


def slow_pages_outcome(pages: list[list[Any]], **kwargs: Any) -> Any:
    """The same, with every item read one by one (the rule the page-wide check must equal)."""
    from collections import UserDict

    return pages_outcome([[UserDict(i) if type(i) is dict else i for i in p] for p in pages], **kwargs)


def task(n: int) -> dict[str, Any]:
    return {"id": str(1000 + n), "status": 1}


@pytest.mark.parametrize(
    "pages",
    [
        [[task(0), task(1)], [task(2), task(3)]],  # well formed
        [[task(0), task(1)], [task(1), task(2)]],  # a server ignoring offset
        [[task(0), task(0)], [task(2), task(3)]],  # a repeat inside one page
        [[task(0), {"status": 1}], [task(2), task(3)]],  # an item without an id
        [[task(0), {"id": None, "status": 1}], [task(2), task(3)]],
        [[task(0), {"id": ["1"], "status": 1}], [task(2), task(3)]],  # an unhashable id
        [[task(0), "1001"], [task(2), task(3)]],  # not an object
    ],
)
def test_pager_page_wide_check_equals_the_item_by_item_rule(pages: list[list[Any]]) -> None:
    fast = pages_outcome(copy.deepcopy(pages))
    assert fast == slow_pages_outcome(copy.deepcopy(pages))
    if pages[1][0] == pages[0][1] or pages[0][0] == pages[0][1]:
        assert re.search(r"repeats 1 id\(s\) already listed \('100[01]'\)", fast)


def test_pager_page_wide_check_for_projects() -> None:
    pages = [[{"projectId": 1, "name": "a"}, {"id": 2, "name": "b"}], [{"projectId": 1, "name": "c"}]]
    fast = pages_outcome(pages, key=project_key, endpoint=PROJECT_LIST)
    assert fast == slow_pages_outcome(pages, key=project_key, endpoint=PROJECT_LIST)
    assert "repeats 1 id(s) already listed (1)" in fast
