"""Task errors give the connection test's advice (`advice.advice_for`): a wrong secret names the
Access Key ID it does not belong to, a wrong base path says to check the base URL's path."""

from __future__ import annotations

import asyncio
import time

import pytest

from airflow_provider_annotation.operators.annotation import CreateWorkflowOperator
from airflow_provider_annotation.testing import Emulator
from airflow_provider_annotation.triggers.annotation import AnnotationTaskTrigger
from tests.helpers import AK, collect, connection_json

WRONG_SECRET = f"the Secret Key (Password) does not belong to Access Key ID {AK!r}"
WRONG_PATH = "check the base URL in Host, including its path (e.g. https://host/openapi)"


@pytest.mark.parametrize(
    ("extra", "suffix", "advice"),
    [({"password": "wrong-secret"}, "", WRONG_SECRET), ({}, "/wrong-prefix", WRONG_PATH)],
    ids=["wrong-secret", "wrong-base-path"],
)
def test_a_task_error_gives_the_connection_tests_advice(
    emulator: Emulator, make_hook, monkeypatch, extra, suffix, advice
) -> None:
    from airflow_provider_annotation.exceptions import AnnotationApiError

    monkeypatch.setenv(
        "AIRFLOW_CONN_ADVICE", connection_json(emulator.url + suffix, **extra, retry_base_delay=0)
    )
    task = CreateWorkflowOperator(task_id="w", project_id=31, annotation_conn_id="advice")
    with pytest.raises(AnnotationApiError) as raised:
        task.execute({})
    assert advice in str(raised.value)
    ok, message = make_hook(host=emulator.url + suffix, **extra).test_connection()
    assert not ok and advice in message and message.count(advice) == 1


def test_the_trigger_gives_the_same_advice(emulator: Emulator, monkeypatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_ADVICE_ASYNC", connection_json(emulator.url, password="wrong", retry_base_delay=0)
    )
    trig = AnnotationTaskTrigger(
        project_id=1, task_ids=["1"], end_time=time.time() + 10, annotation_conn_id="advice_async"
    )
    (event,) = [e.payload for e in asyncio.run(collect(trig.run(), 10))]
    assert event["status"] == "error" and WRONG_SECRET in event["message"]
