"""Pytest fixtures for testing your own DAGs against the platform emulator, with no platform account.

Enable with ``pytest -p airflow_provider_annotation.testing.pytest_plugin`` (or
``pytest_plugins = ["airflow_provider_annotation.testing.pytest_plugin"]`` in your top-level
``conftest.py``). Needs the ``testing`` extra: ``pip install "airflow-provider-annotation[testing]"``.

- ``annotation_emulator``: an emulator on a free loopback port, shared by the test session and
  cleared for each test; ``.workflows`` and ``.requests`` show what your DAG sent. Tasks complete
  promptly, as if labeled at once: a task nobody moved is complete at its first status read, so a
  whole-DAG test with a sensor finishes in seconds. To test a wait, set
  ``annotation_emulator.tasks_complete_after_reads = 0`` (tasks move only through
  ``set_task_status``) or a larger number of reads, or ``complete_after_s`` (seconds after
  creation); every test starts from these defaults again.
- ``annotation_connection``: the emulator, with ``AIRFLOW_CONN_ANNOTATION_DEFAULT`` pointing at it
  for the test (and for the ``airflow`` commands the test starts, which inherit the environment).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from airflow_provider_annotation.testing.emulator import Emulator

#: The key pair the emulator accepts and the connection carries; not a real credential.
ACCESS_KEY = "pytest-ak"
SECRET_KEY = "pytest-sk"
#: Status reads after which a task nobody moved is complete: at once, so sensors in a DAG test
#: finish at their first poll instead of timing out (0 would mean "never").
TASKS_COMPLETE_AFTER_READS = 1


def _plugin_defaults(emulator: Emulator) -> None:
    """How each test's emulator starts: tasks complete promptly, batches are final at once."""
    emulator.tasks_complete_after_reads = TASKS_COMPLETE_AFTER_READS
    emulator.complete_after_s = None
    emulator.state.settings.batch_polls_until_final = 0


@pytest.fixture(scope="session")
def _annotation_emulator_server() -> Iterator[Emulator]:
    from airflow_provider_annotation.testing.emulator import Emulator

    with Emulator(access_key=ACCESS_KEY, secret_key=SECRET_KEY, port=0) as emulator:
        yield emulator


@pytest.fixture
def annotation_emulator(_annotation_emulator_server: Emulator) -> Iterator[Emulator]:
    """The session's emulator with a clean slate (no workflows, requests or queued faults) and the
    plugin's defaults: tasks complete at their first status read."""
    _annotation_emulator_server.reset()
    _plugin_defaults(_annotation_emulator_server)
    yield _annotation_emulator_server
    _annotation_emulator_server.reset()


@pytest.fixture
def annotation_connection(annotation_emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """Points the ``annotation_default`` connection at the emulator for this test."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_ANNOTATION_DEFAULT",
        json.dumps(
            {
                "conn_type": "annotation",
                "host": annotation_emulator.url,
                "login": ACCESS_KEY,
                "password": SECRET_KEY,
                "extra": {"retry_base_delay": 0},
            }
        ),
    )
    return annotation_emulator
