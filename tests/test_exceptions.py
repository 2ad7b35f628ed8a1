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
