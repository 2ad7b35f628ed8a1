"""Shared fixtures: one emulator over real HTTP, hooks configured the way users configure them."""

from __future__ import annotations

import fcntl
import io
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings

# Re-exported: older test modules import these names from here.
from tests.helpers import AIRFLOW, AK, SK, connection_json

if TYPE_CHECKING:
    # The emulator needs the `testing` extra (FastAPI, uvicorn): only the fixtures that start it
    # import it, so pure tests run without the extra.
    from airflow_provider_annotation.testing import Emulator

# Property tests check behaviour, not speed: no per-example deadline, so a loaded CI machine cannot
# turn a slow example into a failure. Examples stay at hypothesis' default count.
settings.register_profile("annotation", deadline=None)
settings.load_profile("annotation")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "emulator: uses the session's emulator (set on collection; needs the testing extra)"
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests on the session's emulator, so `-m "not emulator"` runs the rest where the
    emulator's extra (FastAPI, uvicorn) is not installed."""
    for item in items:
        if "emulator_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.emulator)


class LogSink(io.StringIO):
    """Where every log line of the test session goes (structlog and stdlib alike), at DEBUG, so
    tests can read exactly what a user's task log would hold."""

    @property
    def text(self) -> str:
        return self.getvalue()

    def clear(self) -> None:
        self.seek(0)
        self.truncate(0)


@pytest.fixture(scope="session")
def log_sink() -> LogSink:
    from airflow.sdk.log import configure_logging

    sink = LogSink()
    configure_logging(
        log_level="DEBUG", output=sink, cache_logger_on_first_use=False, colored_console_log=False
    )
    return sink


@pytest.fixture
def logs(log_sink: LogSink) -> LogSink:
    """This test's log lines only."""
    log_sink.clear()
    return log_sink


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[Emulator]:
    from airflow_provider_annotation.testing import Emulator

    with Emulator(access_key=AK, secret_key=SK, port=0) as emu:
        yield emu


@pytest.fixture
def emulator(emulator_server: Emulator) -> Iterator[Emulator]:
    """The session's emulator, with a clean slate for each test."""
    emulator_server.reset()
    emulator_server.clock_offset_ms = 0
    yield emulator_server
    emulator_server.reset()
    emulator_server.clock_offset_ms = 0


@pytest.fixture
def make_hook(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Callable[..., object]:
    """Build an AnnotationHook on a connection from the environment; retries instant by default."""
    from airflow_provider_annotation.hooks.annotation import AnnotationHook

    hooks: list[AnnotationHook] = []

    def make(host: str | None = None, login: str = AK, password: str = SK, **extra: object) -> AnnotationHook:
        extra.setdefault("retry_base_delay", 0)
        conn_id = f"annotation_test_{len(hooks)}"
        monkeypatch.setenv(
            f"AIRFLOW_CONN_{conn_id.upper()}", connection_json(host or emulator.url, login, password, **extra)
        )
        hook = AnnotationHook(annotation_conn_id=conn_id)
        hooks.append(hook)
        return hook

    yield make
    for hook in hooks:
        hook.close()


def _migrated_db(shared: Path, env: dict[str, str]) -> Path:
    """The metadata DB migrated once for the whole run, however many pytest-xdist workers ask:
    the first takes the lock and migrates, the others wait and reuse its result."""
    shared.mkdir(parents=True, exist_ok=True)
    db = shared / "airflow.db"
    with open(shared / "migrate.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (shared / "migrated").exists():
            subprocess.run(
                [AIRFLOW, "db", "migrate"],
                env={**env, "AIRFLOW_HOME": str(shared)},
                check=True,
                capture_output=True,
                timeout=300,
            )
            (shared / "migrated").touch()
    return db


@pytest.fixture(scope="session")
def airflow_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A scratch AIRFLOW_HOME per test process, holding a copy of one metadata DB migrated once for
    the whole run (pytest-xdist workers share the migration, not the DB: no sqlite lock contention)."""
    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "airflow_migrated"
    home = tmp_path_factory.mktemp("airflow_home")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "NO_COLOR": "1",
    }
    shutil.copyfile(_migrated_db(shared, env), home / "airflow.db")
    return env
