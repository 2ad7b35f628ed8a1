"""Helpers shared by the waiting tests: a project with tasks in the emulator, an async connection."""

from __future__ import annotations

import asyncio
import contextlib
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
