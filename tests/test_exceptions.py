"""The error hierarchy users catch: every code maps to one class, local and platform errors differ."""

from __future__ import annotations

import pickle

import pytest

from airflow_provider_annotation.codes import PlatformCode
from airflow_provider_annotation.exceptions import (
    AnnotationApiError,
    AnnotationAuthError,
    AnnotationConflictError,
    AnnotationConnectionConfigError,
    AnnotationError,
    AnnotationInputError,
    AnnotationInvalidRequestError,
    AnnotationNotFoundError,
    AnnotationUnavailableError,
    AnnotationValidationError,
    error_class_for_code,
)


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (PlatformCode.PROJECT_NAME_EXISTS, AnnotationConflictError),
        (PlatformCode.FOLDER_NAME_EXISTS, AnnotationConflictError),
        (PlatformCode.INVALID_PARAMETER, AnnotationValidationError),
        (PlatformCode.WORKFLOW_STRUCTURE_ERROR, AnnotationValidationError),
        (PlatformCode.WRONG_SIGNATURE, AnnotationAuthError),
        (PlatformCode.PROJECT_NOT_FOUND, AnnotationNotFoundError),
        (PlatformCode.INTERNAL_ERROR, AnnotationUnavailableError),
        (PlatformCode.NO_PROJECT_AUTHORITY, AnnotationApiError),
        (123456, AnnotationApiError),
        (None, AnnotationApiError),
    ],
)
def test_each_code_has_its_class(code, cls):
    assert error_class_for_code(code) is cls


def test_local_input_errors_and_platform_refusals_are_distinct_but_catchable_together():
    local = AnnotationInputError("pools[0].type: bad")
    refused = AnnotationValidationError("Invalid Parameter", code=400, request_id="r1", http_status=200)
    assert isinstance(local, AnnotationInvalidRequestError) and isinstance(
        refused, AnnotationInvalidRequestError
    )
    assert not isinstance(local, AnnotationApiError)  # no requestId or status: nothing was sent
    assert isinstance(refused, AnnotationApiError) and refused.request_id == "r1"
    assert isinstance(local, ValueError)
    for err in (local, refused, AnnotationConnectionConfigError("x"), AnnotationConflictError("taken")):
        assert isinstance(err, AnnotationError)
    assert not isinstance(AnnotationConflictError("taken"), AnnotationInvalidRequestError)


def test_api_errors_pickle_losslessly():
    err = AnnotationConflictError("Project name already exists", code=5801, request_id="abc", attempts=1)
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is AnnotationConflictError
    assert (copy.code, copy.request_id, str(copy)) == (5801, "abc", str(err))


# --- README promises checked by deliberate breakage (audit) -------------------------------------

README_TABLE = {
    AnnotationAuthError: (401, 402, 403),
    AnnotationValidationError: (400, 5509, 5523, 5841),
    AnnotationConflictError: (5801, 5836),
    AnnotationNotFoundError: (404, 5308, 5802, 5840, 5845),
    AnnotationUnavailableError: (500,),
    AnnotationApiError: (5837,),
}


@pytest.mark.parametrize(
    ("cls", "code"), [(cls, code) for cls, codes in README_TABLE.items() for code in codes]
)
def test_the_readme_error_table_by_code(cls, code):
    assert error_class_for_code(code) is cls


def test_a_call_error_shows_every_field(emulator, make_hook):
    from airflow_provider_annotation.testing import Fault

    emulator.inject(Fault.http(503, endpoint="/project/list", times=2))
    with pytest.raises(AnnotationUnavailableError) as info:
        make_hook(max_attempts=2).list_projects(status=1, data_type=2)
    err = info.value
    assert (err.method, err.endpoint, err.http_status, err.code, err.attempts) == (
        "POST",
        "/project/list",
        503,
        500,
        2,
    )
    assert err.request_id
    text = str(err)
    for shown in (
        "POST /project/list: ",
        err.message,
        "code=500",
        "http_status=503",
        f"requestId={err.request_id}",
        "after 2 attempts",
    ):
        assert shown in text


def test_an_unusable_connection_is_a_value_error_naming_the_field(monkeypatch):
    from airflow_provider_annotation.hooks.annotation import AnnotationHook
    from tests.helpers import connection_json

    monkeypatch.setenv(
        "AIRFLOW_CONN_AUDIT_BAD", connection_json("https://api.example.com", max_attempts="many")
    )
    with pytest.raises(ValueError, match="max_attempts") as info:
        _ = AnnotationHook("audit_bad").config
    assert isinstance(info.value, AnnotationConnectionConfigError)


def test_a_message_that_is_the_codes_meaning_is_not_said_twice() -> None:
    from airflow_provider_annotation.exceptions import AnnotationConflictError

    said = AnnotationConflictError("Folder name already exists", code=5836, endpoint="/folder/create")
    assert str(said).startswith("/folder/create: Folder name already exists; code=5836; ")
    other = AnnotationConflictError("Name taken", code=5836)
    assert "code=5836 (folder name already exists)" in str(other)


def test_a_refused_create_is_logged_as_a_warning(emulator, make_hook, logs) -> None:
    from airflow_provider_annotation.exceptions import AnnotationConflictError

    hook = make_hook()
    hook.create_folder("Taken")
    with pytest.raises(AnnotationConflictError):
        hook.create_folder("Taken")
    lines = [line for line in logs.text.splitlines() if "POST /folder/create -> HTTP" in line]
    assert ["[warning" in line for line in lines] == [False, True], lines


def test_api_errors_keep_their_advice_through_pickling() -> None:
    err = AnnotationAuthError("Wrong Signature", code=401)
    err.advice = "Check the Secret Key."
    back = pickle.loads(pickle.dumps(err))
    assert (
        back.advice == err.advice and str(back) == str(err) and str(err).endswith("\nCheck the Secret Key.")
    )
