"""The workflow model of Create Workflow: pool types, the documented pool rules, a builder.

Pure standard library, no Airflow import: DAG files reach this module at parse time, and the rules
are tested on their own. The request body is ``{"projectId": ..., "workflow": {"pools": [...]}}``
is built here too (`create_workflow_body`), so the hook needs nothing from the operator side.

Checks run before anything is sent so that a bad workflow fails at once with every problem and its
position, instead of one opaque platform code (5509 / 5523 / 5841) per attempt.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from enum import IntEnum
from types import MappingProxyType
from typing import Any

from airflow_provider_annotation.endpoints import WORKFLOW_POOLS_KEY
from airflow_provider_annotation.exceptions import AnnotationInputProblemsError
from airflow_provider_annotation.validation import (
    MAX_DEPTH,
    MAX_LONG,
    MAX_PROBLEMS,
    SHORT_CHARS,
    WORKFLOW_INPUT,
    Problems,
    check_plain_json,
    check_strings,
    describe_value,
    is_int,
    shorten,
    to_long_id,
)

__all__ = [
    "DEFAULT_POOLS",
    "MAX_DEPTH",
    "MAX_NAME_BYTES",
    "MAX_PROBLEMS",
    "MAX_PROJECT_ID",
    "POOL_KEYS",
    "PoolType",
    "Problems",
    "RunMode",
    "WorkflowValidationError",
    "build_pools",
    "check_plain_json",
    "check_strings",
    "create_workflow_body",
    "describe_value",
    "to_project_id",
    "validate_pools",
]


class PoolType(IntEnum):
    """A pool's ``type``. IntEnum so DAG code reads ``PoolType.LABELING`` and JSON gets ``1``."""

    DISTRIBUTION = 0
    LABELING = 1
    INSPECTION = 2
    SPOT_CHECK = 3
    ALGORITHM = 4
    COMPLETION = 5

    @property
    def label(self) -> str:
        """Human wording for error messages: ``spot check``."""
        return self.name.lower().replace("_", " ")


class RunMode(IntEnum):
    """A pool's ``runMode``: whether it is worked by hand or runs by itself."""

    MANUAL = 0
    AUTOMATIC = 1

    @property
    def label(self) -> str:
        """Human wording for error messages: ``manual``."""
        return self.name.lower()


#: Every key a pool may carry, in the order the platform's samples write them. The one place the
#: pool vocabulary is listed: anything else is reported as unknown, with the nearest key suggested,
#: so a typo (``worker``) is never silently dropped or silently sent.
#: ``disableOperationItem`` is not in the seed's schema but appears in the platform's samples on
#: labeling and inspection pools (labeling-tool items switched off in that pool).
POOL_KEYS: tuple[str, ...] = ("name", "type", "runMode", "workers", "algorithmList", "disableOperationItem")

#: The platform caps pool names at 60 bytes of UTF-8 (so 20 CJK characters, not 60).
MAX_NAME_BYTES = 60

#: The name this error has had since 0.1.0; the same class as every input error's
#: (`exceptions.AnnotationInputProblemsError`), so ``except WorkflowValidationError`` catches them all.
WorkflowValidationError = AnnotationInputProblemsError

_POOL_TYPES = frozenset(int(t) for t in PoolType)
_RUN_MODES = frozenset(int(m) for m in RunMode)
_TYPE_CHOICES = ", ".join(f"{t.value} {t.label}" for t in PoolType)
_RUN_MODE_CHOICES = " or ".join(f"{m.value} ({m.label})" for m in RunMode)


def _valid_type(value: object) -> int | None:
    """`value` as a plain int when it is a documented pool type, else None."""
    return int(value) if is_int(value) and value in _POOL_TYPES else None


def _pool_type_label(value: int) -> str:
    return f"{value} ({PoolType(value).label})"


def _unknown_key(key: object, where: str) -> str:
    if not isinstance(key, str):
        return f"{where}: keys must be strings, got key {describe_value(key)}"
    if len(key) > SHORT_CHARS:  # no fuzzy matching of a huge key, and no echoing it whole
        return f"{where}.{shorten(key)}: unknown key; known keys are {', '.join(POOL_KEYS)}"
    lowered = {k.lower(): k for k in POOL_KEYS}
    match = difflib.get_close_matches(key, POOL_KEYS, n=1, cutoff=0.6) or (
        [lowered[key.lower()]] if key.lower() in lowered else []
    )
    if match:
        return f"{where}.{key}: unknown key; did you mean '{match[0]}'?"
    return f"{where}.{key}: unknown key; known keys are {', '.join(POOL_KEYS)}"


def _check_pool(pool: Mapping[Any, Any], where: str, problems: list[str]) -> dict[str, Any]:
    """Check one pool; return its normalized copy (meaningful only if no problem was recorded)."""
    out: dict[str, Any] = {}
    for key, value in pool.items():
        if key not in POOL_KEYS:
            problems.append(_unknown_key(key, where))
        out[key] = value  # keep input order; a problem above already stops the request

    if "name" not in pool:
        problems.append(f"{where}.name: required, a non-empty string of at most {MAX_NAME_BYTES} bytes")
    else:
        name = pool["name"]
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{where}.name: expected a non-empty string, got {describe_value(name)}")
        else:
            try:
                size = len(name.encode("utf-8"))
            except UnicodeEncodeError:
                got = describe_value(name)
                problems.append(f"{where}.name: not encodable as UTF-8 (lone surrogate?): {got}")
            else:
                if size > MAX_NAME_BYTES:
                    problems.append(
                        f"{where}.name: {size} bytes in UTF-8, the platform allows at most {MAX_NAME_BYTES}"
                    )
                out["name"] = str(name)

    pool_type: int | None = None
    if "type" not in pool:
        problems.append(f"{where}.type: required, an integer ({_TYPE_CHOICES})")
    elif _valid_type(pool["type"]) is None:
        got = describe_value(pool["type"])
        problems.append(f"{where}.type: expected an integer ({_TYPE_CHOICES}), got {got}")
    else:
        pool_type = _valid_type(pool["type"])
        out["type"] = pool_type

    if "runMode" in pool:
        mode = pool["runMode"]
        if not is_int(mode) or mode not in _RUN_MODES:
            problems.append(f"{where}.runMode: expected {_RUN_MODE_CHOICES}, got {describe_value(mode)}")
        else:
            out["runMode"] = int(mode)

    if "workers" in pool:
        workers = check_strings(pool["workers"], f"{where}.workers", problems)
        if workers is not None:
            out["workers"] = workers

    if "algorithmList" in pool:
        if pool_type is not None and pool_type != PoolType.ALGORITHM:
            problems.append(
                f"{where}.algorithmList: only allowed on an algorithm pool (type {int(PoolType.ALGORITHM)}), "
                f"this pool is type {_pool_type_label(pool_type)}"
            )
        algorithms = check_strings(pool["algorithmList"], f"{where}.algorithmList", problems)
        if algorithms is not None:
            out["algorithmList"] = algorithms

    if "disableOperationItem" in pool:
        items = pool["disableOperationItem"]
        if not isinstance(items, (list, tuple)):
            problems.append(f"{where}.disableOperationItem: expected a list, got {describe_value(items)}")
        else:
            out["disableOperationItem"] = check_plain_json(items, f"{where}.disableOperationItem", problems)
    return out


def validate_pools(pools: object, *, field: str = "pools") -> list[dict[str, Any]]:
    """Check `pools` against every documented rule; return a normalized copy.

    Rules: a non-empty list of pool objects; the first pool is a distribution pool (type 0), the
    last a completion pool (type 5); each pool has a ``type`` 0-5 and a ``name`` (a non-empty
    string of at most 60 UTF-8 bytes); ``runMode`` is 0 or 1 when given; ``workers`` and
    ``algorithmList`` are lists of non-empty strings when given, ``algorithmList`` only on
    algorithm pools (type 4); ``disableOperationItem`` is a list; no other key.

    ``name`` is required although the seed does not say so: every platform sample names its pools,
    the web editor shows pools by name, and the platform only documents the 60-byte cap. Asking for
    it costs one field; a nameless pool would be a silent guess about undocumented behaviour.

    The copy has plain ints for IntEnum members, lists for tuples, keys in input order, and
    nothing dropped. `field` names the list in messages (the operator argument's name).

    :raises WorkflowValidationError: listing every problem, one per line, with its position.
    """
    expected = f"{field}: expected a non-empty list of pool objects, got"
    if not isinstance(pools, (list, tuple)):
        raise WorkflowValidationError(f"{expected} {describe_value(pools)}", subject=WORKFLOW_INPUT)
    if not pools:
        raise WorkflowValidationError(f"{expected} an empty list", subject=WORKFLOW_INPUT)

    problems = Problems()
    normalized: list[dict[str, Any]] = []
    ends = ((0, PoolType.DISTRIBUTION, "first"), (len(pools) - 1, PoolType.COMPLETION, "last"))
    for i, pool in enumerate(pools):
        where = f"{field}[{i}]"
        if not isinstance(pool, Mapping):
            problems.append(f"{where}: expected a pool object (dict), got {describe_value(pool)}")
            continue
        checked = _check_pool(pool, where, problems)
        normalized.append(checked)
        pool_type = _valid_type(pool.get("type"))  # an invalid type was reported by _check_pool
        for position, wanted, role in ends:
            if i == position and pool_type is not None and pool_type != wanted:
                problems.append(
                    f"{where}.type: the {role} pool must be a {wanted.label} pool (type {wanted.value}), "
                    f"got {_pool_type_label(pool_type)}"
                )
    problems.raise_all(WORKFLOW_INPUT)
    return normalized


def _builder_names(value: object, param: str, problems: list[str]) -> list[str]:
    """The names given for one builder parameter (None → []), recording problems under `param`."""
    if value is None:
        return []
    names = check_strings(value, param, problems)
    return names or []


def build_pools(
    *,
    labelers: Sequence[str] | None = None,
    inspectors: Sequence[str] | None = None,
    spot_checkers: Sequence[str] | None = None,
    algorithms: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """The common workflow shapes without writing pools by hand, in the platform samples' order.

    distribution (runMode 0) → algorithm (runMode 1, `algorithms`) if `algorithms` → labeling
    (workers = `labelers`, an empty list when None) → inspection if `inspectors` → spot check if
    `spot_checkers` → completion. An empty list counts as not given for the optional pools (an
    empty rendered template means "no such stage"). The samples show ``runMode`` only on the
    distribution and algorithm pools, so the other pools omit it rather than guess a value.

    :raises WorkflowValidationError: naming the parameter and item, e.g. ``labelers[1]: ...``.
    """
    problems = Problems()
    labeler_names = _builder_names(labelers, "labelers", problems)
    inspector_names = _builder_names(inspectors, "inspectors", problems)
    spot_checker_names = _builder_names(spot_checkers, "spot_checkers", problems)
    algorithm_names = _builder_names(algorithms, "algorithms", problems)
    problems.raise_all(WORKFLOW_INPUT)

    pools: list[dict[str, Any]] = [
        {"name": "Distribution pool", "type": int(PoolType.DISTRIBUTION), "runMode": int(RunMode.MANUAL)}
    ]
    if algorithm_names:
        pools.append(
            {
                "name": "Algorithm pool",
                "type": int(PoolType.ALGORITHM),
                "runMode": int(RunMode.AUTOMATIC),
                "algorithmList": algorithm_names,
            }
        )
    pools.append({"name": "Labeling pool", "type": int(PoolType.LABELING), "workers": labeler_names})
    if inspector_names:
        pools.append(
            {"name": "Inspection pool", "type": int(PoolType.INSPECTION), "workers": inspector_names}
        )
    if spot_checker_names:
        pools.append(
            {"name": "Spot check pool", "type": int(PoolType.SPOT_CHECK), "workers": spot_checker_names}
        )
    pools.append({"name": "Completion pool", "type": int(PoolType.COMPLETION)})
    return validate_pools(pools)


#: The workflow the platform gives a project when none is sent: distribution (runMode 0) →
#: labeling → inspection → completion. Read-only, for docs and comparisons; ``validate_pools(
#: DEFAULT_POOLS)`` gives a plain, JSON-ready copy to send or modify.
DEFAULT_POOLS: tuple[Mapping[str, Any], ...] = tuple(
    MappingProxyType(pool)
    for pool in (
        {"name": "Distribution pool", "type": int(PoolType.DISTRIBUTION), "runMode": int(RunMode.MANUAL)},
        {"name": "Labeling pool", "type": int(PoolType.LABELING)},
        {"name": "Inspection pool", "type": int(PoolType.INSPECTION)},
        {"name": "Completion pool", "type": int(PoolType.COMPLETION)},
    )
)


#: projectId is a Java ``long`` on the platform.
MAX_PROJECT_ID = MAX_LONG


def to_project_id(value: object, field: str = "project_id") -> int:
    """A project id: `validation.to_long_id`, its error worded as the workflow model's since 0.1.0
    (``invalid workflow input: project_id: ...``)."""
    problems = Problems()
    number = problems.collect(lambda: to_long_id(value, field))
    problems.raise_all(WORKFLOW_INPUT)
    return number


def create_workflow_body(project_id: object, pools: object | None) -> dict[str, Any]:
    """The exact Create Workflow body, every problem of both arguments reported at once.

    `project_id` as `to_project_id` reads it; `pools` checked by `validate_pools`. With `pools`
    None the body has no ``workflow`` key at all: the platform then applies its default workflow.
    """
    problems = Problems()
    body: dict[str, Any] = {"projectId": problems.collect(lambda: to_long_id(project_id, "project_id"))}
    if pools is not None:
        body["workflow"] = {WORKFLOW_POOLS_KEY: problems.collect(lambda: validate_pools(pools))}
    problems.raise_all(WORKFLOW_INPUT)
    return body
