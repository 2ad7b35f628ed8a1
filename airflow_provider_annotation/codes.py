"""The platform's envelope codes, named once, as its API documentation lists them.

Everything that decides on a code (error classes, retry policy, the emulator) reads this table,
so no code number appears as a bare literal elsewhere.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = [
    "AUTH_CODES",
    "CONFLICT_CODES",
    "DESCRIPTIONS",
    "NOT_FOUND_CODES",
    "VALIDATION_CODES",
    "PlatformCode",
    "describe",
]


class PlatformCode(IntEnum):
    """A `code` value of the platform's response envelope."""

    SUCCESS = 200
    INVALID_PARAMETER = 400
    WRONG_SIGNATURE = 401
    AUTHENTICATION_FAILED = 402
    SIGNATURE_EXPIRED = 403
    NOT_FOUND = 404
    INTERNAL_ERROR = 500
    DATASET_NOT_FOUND = 5308
    FIRST_POOL_NOT_DISTRIBUTION = 5509
    LAST_POOL_NOT_COMPLETION = 5523
    UPLOAD_FILE_EMPTY = 5707
    UPLOAD_FILE_TOO_LARGE = 5708
    UPLOAD_FILE_NOT_ZIP = 5709
    UPLOAD_FILE_WRONG_TREE = 5710
    PROJECT_NAME_EXISTS = 5801
    PROJECT_NOT_FOUND = 5802
    FOLDER_NAME_EXISTS = 5836
    NO_PROJECT_AUTHORITY = 5837
    WRONG_DATA_TYPE = 5838
    OPERATION_ITEM_STRUCTURE_ERROR = 5839
    PROJECT_MANAGER_NOT_FOUND = 5840
    WORKFLOW_STRUCTURE_ERROR = 5841
    ALGORITHM_NOT_AVAILABLE = 5843
    ALGORITHM_MAPPING_ERROR = 5844
    WORKFLOW_NOT_FOUND = 5845


#: What each code means, in the platform documentation's words.
DESCRIPTIONS: dict[PlatformCode, str] = {
    PlatformCode.SUCCESS: "success",
    PlatformCode.INVALID_PARAMETER: "illegal or invalid parameter",
    PlatformCode.WRONG_SIGNATURE: "wrong signature",
    PlatformCode.AUTHENTICATION_FAILED: "authentication failed",
    PlatformCode.SIGNATURE_EXPIRED: "signature expired",
    PlatformCode.NOT_FOUND: "resource missing",
    PlatformCode.INTERNAL_ERROR: "internal error, please try again later",
    PlatformCode.DATASET_NOT_FOUND: "dataset does not exist",
    PlatformCode.FIRST_POOL_NOT_DISTRIBUTION: "first pool must be a distribution pool",
    PlatformCode.LAST_POOL_NOT_COMPLETION: "last pool must be a completion pool",
    PlatformCode.UPLOAD_FILE_EMPTY: "upload file is empty",
    PlatformCode.UPLOAD_FILE_TOO_LARGE: "upload file is over 100 MB",
    PlatformCode.UPLOAD_FILE_NOT_ZIP: "upload file is not a ZIP",
    PlatformCode.UPLOAD_FILE_WRONG_TREE: "upload file has the wrong file tree",
    PlatformCode.PROJECT_NAME_EXISTS: "project name already exists",
    PlatformCode.PROJECT_NOT_FOUND: "project does not exist",
    PlatformCode.FOLDER_NAME_EXISTS: "folder name already exists",
    PlatformCode.NO_PROJECT_AUTHORITY: "no authority to access the project",
    PlatformCode.WRONG_DATA_TYPE: "wrong data type",
    PlatformCode.OPERATION_ITEM_STRUCTURE_ERROR: "operation item (labeling tool config) structure error",
    PlatformCode.PROJECT_MANAGER_NOT_FOUND: "project manager does not exist",
    PlatformCode.WORKFLOW_STRUCTURE_ERROR: "workflow structure error",
    PlatformCode.ALGORITHM_NOT_AVAILABLE: "algorithm not available",
    PlatformCode.ALGORITHM_MAPPING_ERROR: "algorithm mapping structure error",
    PlatformCode.WORKFLOW_NOT_FOUND: "workflow does not exist",
}

#: Codes meaning "the caller's credentials or clock are wrong".
AUTH_CODES = frozenset(
    {PlatformCode.WRONG_SIGNATURE, PlatformCode.AUTHENTICATION_FAILED, PlatformCode.SIGNATURE_EXPIRED}
)
#: Codes meaning "the request itself is malformed": fix the input, do not retry.
VALIDATION_CODES = frozenset(
    {
        PlatformCode.INVALID_PARAMETER,
        PlatformCode.FIRST_POOL_NOT_DISTRIBUTION,
        PlatformCode.LAST_POOL_NOT_COMPLETION,
        PlatformCode.UPLOAD_FILE_EMPTY,
        PlatformCode.UPLOAD_FILE_TOO_LARGE,
        PlatformCode.UPLOAD_FILE_NOT_ZIP,
        PlatformCode.UPLOAD_FILE_WRONG_TREE,
        PlatformCode.WRONG_DATA_TYPE,
        PlatformCode.OPERATION_ITEM_STRUCTURE_ERROR,
        PlatformCode.WORKFLOW_STRUCTURE_ERROR,
        PlatformCode.ALGORITHM_MAPPING_ERROR,
    }
)
#: Codes meaning "the name is taken".
CONFLICT_CODES = frozenset({PlatformCode.PROJECT_NAME_EXISTS, PlatformCode.FOLDER_NAME_EXISTS})
#: Codes meaning "something named in the request does not exist".
NOT_FOUND_CODES = frozenset(
    {
        PlatformCode.NOT_FOUND,
        PlatformCode.DATASET_NOT_FOUND,
        PlatformCode.PROJECT_NOT_FOUND,
        PlatformCode.PROJECT_MANAGER_NOT_FOUND,
        PlatformCode.WORKFLOW_NOT_FOUND,
    }
)


def describe(code: int | None) -> str:
    """The documented meaning of `code`, or a neutral phrase for codes the docs do not list."""
    try:
        return DESCRIPTIONS[PlatformCode(code)]  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return "undocumented code"
