"""The emulator's hostile faults, observed with a plain HTTP client: drip, gzip bomb, oversized,
plain-text 5xx, echoing servers, half-claimed success, and the replayed-signature check."""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Iterator

import pytest
import requests

from airflow_provider_annotation.endpoints import CREATE_WORKFLOW, PROJECT_LIST
from airflow_provider_annotation.signing import signed_headers
from airflow_provider_annotation.testing import Emulator, Fault
from airflow_provider_annotation.testing.faults import HALF_SUCCESSES, KINDS, PROXY_RESET_TEXT

AK, SK = "ak-faults", "sk-faults-secret"
BODY = {"projectId": 7, "workflow": {"pools": [{"name": "D", "type": 0}, {"name": "C", "type": 5}]}}


@pytest.fixture(scope="module")
def server() -> Iterator[Emulator]:
    with Emulator(AK, SK) as emu:
        yield emu


@pytest.fixture
def emu(server: Emulator) -> Emulator:
    server.reset()
    return server


def create(emu: Emulator, **kwargs: object) -> requests.Response:
    return requests.post(
        emu.url + CREATE_WORKFLOW.path, json=BODY, headers=signed_headers(AK, SK), timeout=10, **kwargs
    )


def test_drip_sends_the_true_answer_a_byte_at_a_time(emu: Emulator) -> None:
    emu.inject(Fault.drip_feed(0.02))
    with create(emu, stream=True) as response:
        gaps, last = [], time.monotonic()
        body = b""
        for byte in response.iter_content(1):
            now = time.monotonic()
            gaps.append(now - last)
            last = now
            body += byte
    assert json.loads(body)["data"] == {"workflowId": 18000}
    assert len(gaps) == len(body) and sorted(gaps)[len(gaps) // 2] >= 0.01  # most bytes came apart


def test_gzip_bomb_inflates_far_beyond_its_wire_size(emu: Emulator) -> None:
    emu.inject(Fault.gzip(64 * 1024 * 1024))
    with create(emu, stream=True) as response:
        assert response.headers["Content-Encoding"] == "gzip"
        wire = b"".join(response.raw.stream(65536, decode_content=False))
    inflated = zlib.decompress(wire, 31)
    assert len(wire) < 200_000 and len(inflated) > 64 * 1024 * 1024
    assert json.loads(inflated)["data"] == {"workflowId": 18000}  # whitespace, then the envelope


def test_oversized_answer_is_padded_valid_json_without_a_length(emu: Emulator) -> None:
    emu.inject(Fault.oversized(5 * 1024 * 1024))
    response = create(emu)
    assert "Content-Length" not in response.headers
    assert len(response.content) == 5 * 1024 * 1024 and response.json()["success"] is True


@pytest.mark.parametrize("status", [500, 503])
def test_plain_text_5xx_after_acting(emu: Emulator, status: int) -> None:
    emu.inject(Fault.text(status, act=True))
    response = create(emu)
    assert (response.status_code, response.text) == (status, PROXY_RESET_TEXT)
    assert len(emu.workflows) == 1


@pytest.mark.parametrize("where", ["message", "requestId", "body", "errors"])
def test_echoing_server_sends_the_secret_and_signature_back(emu: Emulator, where: str) -> None:
    emu.inject(Fault.echoing(where))
    headers = signed_headers(AK, SK)
    response = requests.post(emu.url + CREATE_WORKFLOW.path, json=BODY, headers=headers, timeout=5)
    assert SK in response.text and headers["X-SIGN"] in response.text
    assert "FORGED" in response.text and emu.workflows == {}


def test_echoing_redirect_carries_credentials_in_location(emu: Emulator) -> None:
    emu.inject(Fault.echoing("location"))
    headers = signed_headers(AK, SK)
    response = requests.post(
        emu.url + CREATE_WORKFLOW.path, json=BODY, headers=headers, timeout=5, allow_redirects=False
    )
    assert response.status_code == 302
    assert SK in response.headers["Location"] and headers["X-SIGN"] in response.headers["Location"]


@pytest.mark.parametrize("how", sorted(HALF_SUCCESSES))
def test_half_claimed_success_after_acting(emu: Emulator, how: str) -> None:
    emu.inject(Fault.half_claimed(how))
    answer = create(emu).json()
    proper = answer["code"] == 200 and type(answer["code"]) is int and answer["success"] is True
    workflow_id = answer["data"]["workflowId"]
    proper_id = type(workflow_id) is int and 0 < workflow_id < 2**63
    assert not (proper and proper_id), answer
    assert len(emu.workflows) == 1


def test_half_claimed_success_without_acting_creates_nothing(emu: Emulator) -> None:
    emu.inject(Fault.half_claimed("success-false", act=False))
    assert create(emu).json()["success"] is False and emu.workflows == {}


def test_new_kinds_over_the_control_plane(emu: Emulator) -> None:
    faults = [
        {"kind": "drip_feed", "every": 0.01},
        {"kind": "text", "status": 503},
        {"kind": "echoing", "where": "body"},
        {"kind": "half_claimed", "how": "code-string"},
        {"kind": "oversized", "size": 1024},
        {"kind": "gzip", "inflated_bytes": 1024},
    ]
    done = requests.post(emu.url + "/_emulator/faults", json=faults, timeout=5)
    assert done.json() == {"queued": 6, "pending": 6}
    assert {"drip_feed", "text", "echoing", "half_claimed", "oversized", "gzip"} <= KINDS
    statuses = [create(emu).status_code for _ in faults]
    assert statuses == [200, 503, 400, 200, 200, 200]


@pytest.mark.parametrize(
    "bad",
    [{"echo": "headers"}, {"half_success": "maybe"}, {"drip": -1}, {"gzip_bomb": -5}, {"pad_to": -1}],
    ids=repr,
)
def test_bad_new_fault_fields_are_refused(bad: dict) -> None:
    with pytest.raises(ValueError, match=next(iter(bad)).split("_")[0]):
        Fault(**bad)  # type: ignore[arg-type]


def test_a_replayed_signature_is_refused_as_expired(emu: Emulator) -> None:
    headers = signed_headers(AK, SK)
    url = emu.url + PROJECT_LIST.path
    body = {"status": 1, "dataType": 2}  # the filters the docs require
    first = requests.post(url, json=body, headers=headers, timeout=5).json()
    again = requests.post(url, json=body, headers=headers, timeout=5).json()
    fresh = requests.post(url, json=body, headers=signed_headers(AK, SK), timeout=5).json()
    assert (first["code"], again["code"], fresh["code"]) == (200, 403, 200)
    assert again["message"] == "Signature Expired"


def test_plain_text_fault_defaults_to_a_proxys_503_without_acting(emu: Emulator) -> None:
    emu.inject(Fault.text())
    response = create(emu)
    assert response.status_code == 503 and response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith("upstream connect error or disconnect/reset before headers")
    assert emu.workflows == {}  # by default the platform never saw it
