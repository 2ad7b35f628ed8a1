"""Plain helpers shared by the test modules (fixtures live in conftest.py).

Test modules import shared names from here, never from one another: importing a ``test_*`` module
runs it a second time under another name. Importing this module needs neither the emulator's
``testing`` extra (FastAPI, uvicorn) nor Airflow: what needs them is imported where it is used.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pytest

    from airflow_provider_annotation.testing import Emulator
    from airflow_provider_annotation.triggers.annotation import AnnotationTaskTrigger

ROOT = Path(__file__).resolve().parents[1]
#: The example DAGs users read (dags/) and the DAGs only the tests run (tests/dags/).
EXAMPLES = ROOT / "dags"
TEST_DAGS = ROOT / "tests" / "dags"

#: The airflow CLI of the interpreter running the tests.
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
#: The key pair the session's emulator accepts; not a real credential.
AK = "test-ak"
SK = "test-sk-0123456789"

#: One labeling tool, for the projects tests create.
OPERATORS = [{"key": "box2d-car", "type": "slot", "label": "car", "slotSpecification": {"type": "box2d"}}]


def connection_json(host: str, login: str = AK, password: str = SK, **extra: object) -> str:
    """An `AIRFLOW_CONN_<ID>` value, as users write it."""
    return json.dumps(
        {"conn_type": "annotation", "host": host, "login": login, "password": password, "extra": extra}
    )


def set_conn(monkeypatch: pytest.MonkeyPatch, conn_id: str, url: str, **extra: object) -> str:
    """Connection `conn_id` on `url` for this test, retries instant unless `extra` says otherwise."""
    extra.setdefault("retry_base_delay", 0)
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", connection_json(url, **extra))
    return conn_id


def wait_until(probe: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
    """What `probe` returns once it is truthy, checked every 10 ms; a failure naming `what` after
    `timeout` seconds. For a test that waits on something another thread or process does: it goes
    on as soon as that happened, and the deadline only bounds a broken run."""
    deadline = time.monotonic() + timeout
    while not (value := probe()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.01)
    return value


# --- the waiting path: tasks to wait on, a trigger's events ---------------------------------------


def make_tasks(hook: Any, count: int, name: str = "Cars") -> tuple[int, list[str]]:
    """A project holding `count` new tasks (status 1), made through the sync hook as a DAG would."""
    project = hook.create_project(name, data_type=2, deadline="2030-06-01", operators=OPERATORS)
    result = hook.request_annotation(project.project_id, [f"{name}-frame-{i}" for i in range(count)])
    return project.project_id, result.task_ids


async def collect(events: AsyncIterator[Any], limit: float) -> list[Any]:
    """Every event a trigger's run() yields until it returns, or until `limit` seconds pass."""
    got: list[Any] = []

    async def drain() -> None:
        async for event in events:
            got.append(event)

    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(drain(), limit)
    return got


def trigger(conn_id: str, project_id: int, ids: list[str], **kwargs: Any) -> AnnotationTaskTrigger:
    """An AnnotationTaskTrigger polling fast, with a deadline 30 s away unless given."""
    from airflow_provider_annotation.triggers.annotation import AnnotationTaskTrigger

    kwargs.setdefault("end_time", time.time() + 30)
    kwargs.setdefault("poll_interval", 0.05)
    return AnnotationTaskTrigger(project_id=project_id, task_ids=ids, annotation_conn_id=conn_id, **kwargs)


def events(trig: AnnotationTaskTrigger, limit: float = 20) -> list:
    """The payloads of every event the trigger yields (see `collect`)."""
    return [e.payload for e in asyncio.run(collect(trig.run(), limit))]


# --- an operator's execute() in-process: what it pushes, what it keeps across tries ---------------


class RecordingTi:
    """Stands in for the task instance's XCom push (the one thing execute_complete touches)."""

    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


class StateStore:
    """The task_state_store of one task instance, kept across its tries."""

    def __init__(self) -> None:
        self.kept: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        return self.kept.get(key)

    def set(self, key: str, value: Any) -> None:
        self.kept[key] = value


class TryTi(RecordingTi):
    """A task instance for one try of execute(): XCom pushes and the stats tags Airflow reads."""

    stats_tags: dict[str, str] = {}


# --- whole DAGs through `airflow dags test` ------------------------------------------------------


def run_dag(
    airflow_env: dict[str, str],
    emulator: Emulator,
    dags_folder: Path,
    dag_id: str,
    conf: dict | None = None,
    **extra: object,
) -> tuple[int, str]:
    """`airflow dags test dag_id` (exit code, output); `extra` goes into the connection's extras."""
    env = {
        **airflow_env,
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW_CONN_ANNOTATION_DEFAULT": connection_json(emulator.url, **{"retry_base_delay": 0, **extra}),
    }
    cmd = [AIRFLOW, "dags", "test", dag_id]
    if conf is not None:
        cmd += ["--conf", json.dumps(conf)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout + proc.stderr


def task_states(airflow_env: dict[str, str], dag_id: str) -> dict[str, tuple[str, int]]:
    """task_id -> (state, try_number) of the DAG's latest run, read from its metadata database."""
    with sqlite3.connect(Path(airflow_env["AIRFLOW_HOME"]) / "airflow.db") as db:
        (run_id,) = db.execute(
            "SELECT run_id FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1", (dag_id,)
        ).fetchone()
        rows = db.execute(
            "SELECT task_id, state, try_number FROM task_instance WHERE dag_id = ? AND run_id = ?",
            (dag_id, run_id),
        ).fetchall()
    return {task_id: (state, tries) for task_id, state, tries in rows}


def one_try(op: Any, store: StateStore) -> tuple[Any, TryTi]:
    """One try of an operator with the task instance's state store; the try's TryTi rides on an error."""
    ti = TryTi()
    try:
        return op.execute({"ti": ti, "task_state_store": store}), ti
    except BaseException as err:  # TaskDeferred too
        err.ti = ti  # type: ignore[attr-defined]
        raise


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
