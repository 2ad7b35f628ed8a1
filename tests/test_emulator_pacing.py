"""The emulator's stand-ins for a distant, busy platform: per-request latency and a rate limit
answering HTTP 429 with Retry-After, set by constructor, setter or CLI flag, seen over real HTTP."""

from __future__ import annotations

import json
import time

import pytest
import requests

from airflow_provider_annotation.endpoints import PROJECT_LIST
from airflow_provider_annotation.exceptions import AnnotationUnavailableError
from airflow_provider_annotation.signing import signed_headers
from airflow_provider_annotation.testing import Emulator
from airflow_provider_annotation.testing.emulator import parse_args
from tests.helpers import AK, SK


def list_once(url: str) -> requests.Response:
    headers = {**signed_headers(AK, SK), "Content-Type": "application/json"}
    body = json.dumps({"status": 1, "dataType": 2, "offset": 1, "limit": 1})
    return requests.post(url + PROJECT_LIST.path, data=body, headers=headers, timeout=10)


def test_past_the_rate_limit_the_answer_is_429_with_retry_after() -> None:
    with Emulator(access_key=AK, secret_key=SK, port=0, rate_limit=2) as emu:
        answers = [list_once(emu.url) for _ in range(3)]  # a bucket of one second: 2 go through
        assert [a.status_code for a in answers[:2]] == [200, 200]
        busy = answers[2]
        assert busy.status_code == 429 and busy.headers["Retry-After"] == "1"
        assert busy.json()["code"] == 500 and busy.json()["success"] is False
        assert [r["status"] for r in emu.requests] == [200, 200, 429]  # recorded like any answer
        emu.rate_limit = None
        assert list_once(emu.url).status_code == 200


def test_the_hook_reads_the_emulators_429_as_try_again_later(make_hook, emulator) -> None:
    emulator.rate_limit = 1
    try:
        hook = make_hook(max_attempts=1)
        hook.list_projects(status=1, data_type=2)
        with pytest.raises(AnnotationUnavailableError) as info:
            hook.list_projects(status=1, data_type=2)
        assert info.value.http_status == 429 and info.value.retry_after == 1.0
    finally:
        emulator.rate_limit = None


def test_latency_delays_every_answer_by_at_least_that_much() -> None:
    with Emulator(access_key=AK, secret_key=SK, port=0, latency=0.2) as emu:
        started = time.monotonic()
        assert list_once(emu.url).status_code == 200
        assert time.monotonic() - started >= 0.2
        emu.latency = 0.0
        assert emu.state.settings.latency_s == 0.0


def test_settings_are_checked_and_the_cli_takes_them() -> None:
    with pytest.raises(ValueError, match="latency must be >= 0"):
        Emulator(latency=-1)
    with pytest.raises(ValueError, match="rate_limit must be > 0"):
        Emulator(rate_limit=0)
    args = parse_args(["--latency", "0.1", "--rate-limit", "50"])
    assert (args.latency, args.rate_limit) == (0.1, 50.0)
    assert (parse_args([]).latency, parse_args([]).rate_limit) == (0.0, None)
