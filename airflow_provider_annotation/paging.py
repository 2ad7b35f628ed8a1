"""Paged reads that end, always: the one paging rule of every list the platform pages (projects, a
project's tasks), for the sync hook, the async hook, the sensor and the triggers alike.

The docs give ``offset`` (the page number, from 1), ``limit`` and a ``count`` of all matching
items, and name no maximum page size. So the server's own page size is what its first page holds,
never the client's ``limit``: a server that caps pages smaller still gets paged to the end.
`Pager` holds the rule, without I/O; each hook drives it with a two-line loop.

The rule:
- ask page 1, 2, ... until a page is empty or shorter than the first one, or until the items seen
  reach the first answer's ``count``;
- at most as many pages as the first answer needs (``count`` over the first page's length): a
  ``count`` that grows on every page cannot keep the read going;
- an item whose id was seen already (a server ignoring ``offset``) is a malformed answer;
- a listing that ends before the first answer's ``count`` is a truncated listing, an error: no
  caller may read it as complete (adopting a project by name must never conclude "none").

Pure standard library: no Airflow, no HTTP.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from airflow_provider_annotation.endpoints import Endpoint
from airflow_provider_annotation.exceptions import AnnotationResponseError
from airflow_provider_annotation.redaction import scrub

__all__ = ["Pager", "project_key", "task_key"]

#: Ids of repeated items an error names: enough to look them up.
_NAMED_IDS = 3


def task_key(item: Mapping[str, Any]) -> Any:
    """A task's id in a listing (``id``, or ``taskId``)."""
    return item.get("id", item.get("taskId"))


def project_key(item: Mapping[str, Any]) -> Any:
    """A project's id in a listing (``projectId``, or ``id``)."""
    return item.get("projectId", item.get("id"))


class Pager:
    """The state of one paged read: ask for page `offset` until `done`, handing each answer's
    ``{"count", "data"}`` to `take`, which returns the page's items or raises
    `AnnotationResponseError` for a malformed or truncated listing.

    :param endpoint: the paged endpoint, named in errors.
    :param key: an item's id (`task_key`, `project_key`).
    """

    __slots__ = ("_count", "_key", "_max_pages", "_page_len", "_seen", "done", "endpoint", "offset")

    def __init__(self, endpoint: Endpoint, key: Callable[[Mapping[str, Any]], Any]) -> None:
        self.endpoint = endpoint
        self._key = key
        self._seen: set[Hashable] = set()
        self._count = 0
        self._page_len = 0
        self._max_pages = 1
        #: The next page to ask for (from 1).
        self.offset = 1
        #: True once the listing is complete: ask for no more pages.
        self.done = False

    def take(self, page: Mapping[str, Any]) -> list[Any]:
        """The items of the page asked for at `offset`; moves `offset` on, or sets `done`."""
        items: list[Any] = list(page["data"])
        if self.offset == 1:
            self._count = page["count"]
            self._page_len = len(items)
            self._max_pages = math.ceil(self._count / len(items)) if items else 1
        self._check_new(items)
        seen = len(self._seen)
        if self.offset == 1 and seen > self._count:
            self._fail(f"its first page lists {seen} items but counts {self._count}")
        last = not items or len(items) < self._page_len or seen >= self._count
        if not last and self.offset >= self._max_pages:
            last = True  # the cap: as many pages as the first answer needs, and no more
        if last:
            if seen < self._count:
                self._fail(
                    f"the listing ended at page {self.offset} after {seen} of the {self._count} items its "
                    "first page counts (a truncated listing, or items removed while paging); not read as "
                    "complete"
                )
            self.done = True
        self.offset += 1
        return items

    def _check_new(self, items: list[Any]) -> None:
        """Record the page's ids; an item without an id, or one seen before, is malformed.

        A page of dicts with distinct new ids (every well-formed page) is settled with set
        operations, once for the page; any other goes item by item, to name what is wrong."""
        if all(type(item) is dict for item in items):
            ids = [self._key(item) for item in items]
            try:
                new = set(ids)
            except TypeError:  # an unhashable id: named below
                new = None
            if new is not None and None not in new and len(new) == len(ids) and self._seen.isdisjoint(new):
                self._seen |= new
                return
        repeated: list[Any] = []
        for item in items:
            item_id = self._key(item) if isinstance(item, Mapping) else None
            if item_id is None or not isinstance(item_id, Hashable):
                self._fail(f"an item of page {self.offset} has no id ({scrub(repr(item))})")
            if item_id in self._seen:
                repeated.append(item_id)
            self._seen.add(item_id)
        if repeated:
            named = ", ".join(scrub(repr(i), limit=40) for i in repeated[:_NAMED_IDS])
            self._fail(
                f"page {self.offset} repeats {len(repeated)} id(s) already listed ({named}): the server "
                "does not page by offset"
            )

    def _fail(self, what: str) -> None:
        raise AnnotationResponseError(
            f"a malformed listing: {what}", endpoint=self.endpoint.path, method=self.endpoint.method
        )
