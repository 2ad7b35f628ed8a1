"""Helpers shared by the waiting tests: a project with tasks in the emulator, an async connection."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import connection_json

OPERATORS = [{"key": "box2d-car", "type": "slot", "label": "car", "slotSpecification": {"type": "box2d"}}]


def make_tasks(hook: Any, count: int, name: str = "Cars") -> tuple[int, list[str]]:
    """A project holding `count` new tasks (status 1), made through the sync hook as a DAG would."""
    project = hook.create_project(name, data_type=2, deadline="2030-06-01", operators=OPERATORS)
    result = hook.request_annotation(project.project_id, [f"{name}-frame-{i}" for i in range(count)])
    return project.project_id, result.task_ids


def set_conn(monkeypatch: pytest.MonkeyPatch, conn_id: str, url: str, **extra: object) -> str:
    extra.setdefault("retry_base_delay", 0)
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", connection_json(url, **extra))
    return conn_id


async def collect(events: AsyncIterator[Any], limit: float) -> list[Any]:
    """Every event a trigger's run() yields until it returns, or until `limit` seconds pass."""
    got: list[Any] = []

    async def drain() -> None:
        async for event in events:
            got.append(event)

    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(drain(), limit)
    return got


class RequestWatch:
    """Wakes a test when the emulator has logged requests it waits for, instead of sleeping: wraps
    the emulator's request log (`open_record`, called as each request arrives) with a condition."""

    def __init__(self, emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.emulator = emulator
        self.arrived = threading.Condition()
        original = emulator.state.open_record

        def open_record(*args: Any, **kwargs: Any) -> Any:
            record = original(*args, **kwargs)
            with self.arrived:
                self.arrived.notify_all()
            return record

        monkeypatch.setattr(emulator.state, "open_record", open_record)

    def count(self, endpoint: str, task_id: str | None = None) -> int:
        """Requests to `endpoint` so far (about `task_id` only, if given)."""
        return sum(
            1
            for r in self.emulator.requests
            if r["endpoint"] == endpoint and (task_id is None or (r["json"] or {}).get("taskId") == task_id)
        )

    def wait_for(self, endpoint: str, count: int, task_id: str | None = None, limit: float = 60) -> int:
        """Block until `count` requests to `endpoint` arrived (or `limit` seconds, a safety net
        against a hang); the number that arrived."""
        with self.arrived:
            self.arrived.wait_for(lambda: self.count(endpoint, task_id) >= count, timeout=limit)
        return self.count(endpoint, task_id)

    async def reached(self, endpoint: str, count: int, task_id: str | None = None, limit: float = 60) -> int:
        """`wait_for` from a coroutine, without blocking the event loop the trigger runs on."""
        return await asyncio.to_thread(self.wait_for, endpoint, count, task_id, limit)
