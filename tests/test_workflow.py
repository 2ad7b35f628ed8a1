"""The pure workflow model: every documented pool rule, all problems at once, the builder."""

from __future__ import annotations

import itertools
import json
import pickle
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_annotation.exceptions import (
    AnnotationApiError,
    AnnotationInputError,
    AnnotationInputProblemsError,
    AnnotationInvalidRequestError,
    AnnotationValidationError,
)
from airflow_provider_annotation.validation import WORKFLOW_INPUT
from airflow_provider_annotation.workflow import (
    DEFAULT_POOLS,
    MAX_DEPTH,
    MAX_NAME_BYTES,
    MAX_PROBLEMS,
    POOL_KEYS,
    PoolType,
    Problems,
    RunMode,
    WorkflowValidationError,
    build_pools,
    describe_value,
    validate_pools,
)

DIST = {"name": "Distribution pool", "type": 0, "runMode": 0}
LABEL = {"name": "Labeling pool", "type": 1, "workers": ["alice"]}
DONE = {"name": "Completion pool", "type": 5}
Names = list[str] | None


def problems_of(pools: Any) -> list[str]:
    with pytest.raises(WorkflowValidationError) as info:
        validate_pools(pools)
    return info.value.problems


def with_middle(**pool: Any) -> list[dict[str, Any]]:
    """DIST → `pool` → DONE: the pool under test sits at position 1."""
    return [DIST, pool, DONE]


# --- enums and the error type ------------------------------------------------------------------


def test_enum_values_are_the_documented_ones() -> None:
    assert [(t.name, t.value) for t in PoolType] == [
        ("DISTRIBUTION", 0),
        ("LABELING", 1),
        ("INSPECTION", 2),
        ("SPOT_CHECK", 3),
        ("ALGORITHM", 4),
        ("COMPLETION", 5),
    ]
    assert [(m.name, m.value) for m in RunMode] == [("MANUAL", 0), ("AUTOMATIC", 1)]


def test_enum_members_serialize_as_plain_ints() -> None:
    body = {"type": PoolType.SPOT_CHECK, "runMode": RunMode.AUTOMATIC}
    assert json.dumps(body) == '{"type": 3, "runMode": 1}'


def test_enum_members_are_accepted_and_normalized_to_plain_ints() -> None:
    pools = [
        {"name": "d", "type": PoolType.DISTRIBUTION, "runMode": RunMode.MANUAL},
        {"name": "a", "type": PoolType.ALGORITHM, "runMode": RunMode.AUTOMATIC, "algorithmList": ["A"]},
        {"name": "c", "type": PoolType.COMPLETION},
    ]
    out = validate_pools(pools)
    assert out == pools
    for pool in out:
        assert type(pool["type"]) is int
        assert "runMode" not in pool or type(pool["runMode"]) is int


def test_error_is_a_local_input_error_and_a_value_error_with_readable_text() -> None:
    err = WorkflowValidationError(["pools[1].type: bad", "pools[2].name: bad"], subject=WORKFLOW_INPUT)
    assert isinstance(err, AnnotationInputError)
    assert isinstance(err, AnnotationInvalidRequestError)  # caught with platform refusals
    assert not isinstance(err, AnnotationApiError)  # no requestId, status or code: nothing was sent
    assert not isinstance(err, AnnotationValidationError)
    assert isinstance(err, ValueError)
    assert str(err) == "invalid workflow input (2 problems):\n  pools[1].type: bad\n  pools[2].name: bad"
    assert "requestId" not in str(err)
    assert (
        str(WorkflowValidationError("pools: bad", subject=WORKFLOW_INPUT))
        == "invalid workflow input: pools: bad"
    )
    # One input-error class under its 0.1.0 name: without a subject it is the general wording.
    assert WorkflowValidationError is AnnotationInputProblemsError
    assert str(WorkflowValidationError("pools: bad")) == "invalid input: pools: bad"


def test_error_pickles_losslessly() -> None:
    err = pickle.loads(pickle.dumps(WorkflowValidationError(["a: x", "b: y"], subject=WORKFLOW_INPUT)))
    assert type(err) is WorkflowValidationError
    assert err.problems == ["a: x", "b: y"]
    assert str(err) == str(WorkflowValidationError(["a: x", "b: y"], subject=WORKFLOW_INPUT))
    assert str(err).startswith("invalid workflow input (2 problems)")


def test_modules_import_without_airflow() -> None:
    code = (
        "import sys, airflow_provider_annotation.workflow, airflow_provider_annotation.coercion; "
        "bad = [m for m in sys.modules if m == 'airflow' or m.startswith('airflow.')]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- the list itself ---------------------------------------------------------------------------


@pytest.mark.parametrize("pools", [None, "pools", 3, {"pools": [DIST, DONE]}, DIST], ids=repr)
def test_pools_must_be_a_list(pools: Any) -> None:
    [problem] = problems_of(pools)
    assert problem.startswith("pools: expected a non-empty list of pool objects, got ")


def test_pools_must_not_be_empty() -> None:
    assert problems_of([]) == ["pools: expected a non-empty list of pool objects, got an empty list"]


def test_field_name_is_used_in_messages() -> None:
    with pytest.raises(WorkflowValidationError) as info:
        validate_pools([DIST, {"name": "x", "type": 9}, DONE], field="workflow_pools")
    assert info.value.problems[0].startswith("workflow_pools[1].type: ")


def test_tuple_of_pools_is_accepted_as_a_list() -> None:
    assert validate_pools((DIST, DONE)) == [DIST, DONE]


@pytest.mark.parametrize("item", ["x", 3, None, ["type", 1]], ids=repr)
def test_each_pool_must_be_an_object(item: Any) -> None:
    [problem] = problems_of([DIST, item, DONE])
    assert problem.startswith("pools[1]: expected a pool object (dict), got ")


# --- first / last ------------------------------------------------------------------------------


def test_first_pool_must_be_distribution() -> None:
    assert problems_of([LABEL, DONE]) == [
        "pools[0].type: the first pool must be a distribution pool (type 0), got 1 (labeling)"
    ]


def test_last_pool_must_be_completion() -> None:
    assert problems_of([DIST, LABEL]) == [
        "pools[1].type: the last pool must be a completion pool (type 5), got 1 (labeling)"
    ]


def test_single_pool_cannot_be_both_first_and_last() -> None:
    assert problems_of([DIST]) == [
        "pools[0].type: the last pool must be a completion pool (type 5), got 0 (distribution)"
    ]
    assert problems_of([DONE]) == [
        "pools[0].type: the first pool must be a distribution pool (type 0), got 5 (completion)"
    ]


def test_minimal_workflow_is_valid() -> None:
    assert validate_pools([DIST, DONE]) == [DIST, DONE]


# --- type --------------------------------------------------------------------------------------


def test_type_is_required() -> None:
    [problem] = problems_of(with_middle(name="x"))
    assert problem.startswith("pools[1].type: required")


@pytest.mark.parametrize("value", [6, -1, "1", 1.0, True, False, None, [1]], ids=repr)
def test_type_must_be_an_int_0_to_5(value: Any) -> None:
    [problem] = problems_of(with_middle(name="x", type=value))
    assert problem.startswith("pools[1].type: expected an integer (0 distribution, 1 labeling")
    assert problem.endswith(f"got {type(value).__name__} {value!r}")


@pytest.mark.parametrize("value", list(PoolType), ids=str)
def test_every_type_is_accepted_in_the_middle(value: PoolType) -> None:
    assert validate_pools(with_middle(name="x", type=value))[1]["type"] == value.value


# --- runMode -----------------------------------------------------------------------------------


def test_run_mode_is_optional() -> None:
    assert "runMode" not in validate_pools(with_middle(name="x", type=1))[1]


@pytest.mark.parametrize("value", [0, 1, RunMode.AUTOMATIC])
def test_run_mode_accepts_0_and_1(value: int) -> None:
    assert validate_pools(with_middle(name="x", type=1, runMode=value))[1]["runMode"] == int(value)


@pytest.mark.parametrize("value", [2, -1, "0", 0.0, True, None], ids=repr)
def test_run_mode_must_be_0_or_1(value: Any) -> None:
    assert problems_of(with_middle(name="x", type=1, runMode=value)) == [
        f"pools[1].runMode: expected 0 (manual) or 1 (automatic), got {type(value).__name__} {value!r}"
    ]


# --- name --------------------------------------------------------------------------------------


def test_name_is_required() -> None:
    assert problems_of(with_middle(type=1)) == [
        "pools[1].name: required, a non-empty string of at most 60 bytes"
    ]


@pytest.mark.parametrize("value", ["", "   ", 5, None, ["x"]], ids=repr)
def test_name_must_be_a_non_empty_string(value: Any) -> None:
    [problem] = problems_of(with_middle(type=1, name=value))
    assert problem.startswith("pools[1].name: expected a non-empty string, got ")


def test_name_limit_is_60_bytes_of_utf8() -> None:
    assert MAX_NAME_BYTES == 60
    assert validate_pools(with_middle(type=1, name="x" * 60))[1]["name"] == "x" * 60
    assert validate_pools(with_middle(type=1, name="标" * 20))[1]["name"] == "标" * 20  # 3 bytes each
    assert problems_of(with_middle(type=1, name="x" * 61)) == [
        "pools[1].name: 61 bytes in UTF-8, the platform allows at most 60"
    ]
    assert problems_of(with_middle(type=1, name="标" * 21)) == [
        "pools[1].name: 63 bytes in UTF-8, the platform allows at most 60"
    ]
    assert problems_of(with_middle(type=1, name="😀" * 16)) == [  # 21 characters would pass a char count
        "pools[1].name: 64 bytes in UTF-8, the platform allows at most 60"
    ]


def test_name_with_lone_surrogate_is_reported() -> None:
    [problem] = problems_of(with_middle(type=1, name="a\ud800"))
    assert problem.startswith("pools[1].name: not encodable as UTF-8")


# --- workers, algorithmList, disableOperationItem ---------------------------------------------


def test_workers_must_be_a_list_of_strings() -> None:
    assert problems_of(with_middle(name="x", type=1, workers="alice")) == [
        "pools[1].workers: expected a list of strings, got str 'alice'"
    ]
    assert problems_of(with_middle(name="x", type=1, workers=["alice", 3, ""])) == [
        "pools[1].workers[1]: expected a non-empty string, got int 3",
        "pools[1].workers[2]: expected a non-empty string, got str ''",
    ]


def test_workers_may_be_empty_and_tuples_become_lists() -> None:
    assert validate_pools(with_middle(name="x", type=1, workers=[]))[1]["workers"] == []
    assert validate_pools(with_middle(name="x", type=1, workers=("a", "b")))[1]["workers"] == ["a", "b"]


def test_algorithm_list_on_an_algorithm_pool() -> None:
    pool = {"name": "Algorithm pool", "type": 4, "runMode": 1, "algorithmList": ["3D-MOT-V1"]}
    assert validate_pools(with_middle(**pool))[1] == pool


@pytest.mark.parametrize("pool_type", [t for t in PoolType if t is not PoolType.ALGORITHM], ids=str)
def test_algorithm_list_only_on_algorithm_pools(pool_type: PoolType) -> None:
    [problem] = problems_of(with_middle(name="x", type=pool_type, algorithmList=["A"]))
    assert problem == (
        f"pools[1].algorithmList: only allowed on an algorithm pool (type 4), "
        f"this pool is type {pool_type.value} ({pool_type.label})"
    )


def test_algorithm_list_must_be_a_list_of_strings() -> None:
    assert problems_of(with_middle(name="x", type=4, algorithmList="A")) == [
        "pools[1].algorithmList: expected a list of strings, got str 'A'"
    ]
    assert problems_of(with_middle(name="x", type=4, algorithmList=[None])) == [
        "pools[1].algorithmList[0]: expected a non-empty string, got NoneType None"
    ]


def test_disable_operation_item_is_a_known_list() -> None:
    pool = {"name": "Labeling pool", "type": 1, "workers": [], "disableOperationItem": []}
    assert validate_pools(with_middle(**pool))[1] == pool
    assert problems_of(with_middle(name="x", type=1, disableOperationItem="no")) == [
        "pools[1].disableOperationItem: expected a list, got str 'no'"
    ]


# --- unknown keys ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key, suggestion",
    [
        ("worker", "workers"),
        ("Workers", "workers"),
        ("runmode", "runMode"),
        ("run_mode", "runMode"),
        ("Type", "type"),
        ("algorithms", "algorithmList"),
        ("algorithm_list", "algorithmList"),
        ("nmae", "name"),
        ("disableOperationItems", "disableOperationItem"),
    ],
)
def test_unknown_key_suggests_the_nearest(key: str, suggestion: str) -> None:
    pool = {"name": "x", "type": 1, key: ["alice"]}
    assert problems_of(with_middle(**pool)) == [f"pools[1].{key}: unknown key; did you mean '{suggestion}'?"]


def test_unknown_key_without_a_near_match_lists_the_known_ones() -> None:
    assert problems_of(with_middle(name="x", type=1, deadline="2024-06-01")) == [
        "pools[1].deadline: unknown key; known keys are " + ", ".join(POOL_KEYS)
    ]


def test_non_string_key_is_reported() -> None:
    [problem] = problems_of([DIST, {"name": "x", "type": 1, 7: "x"}, DONE])
    assert problem == "pools[1]: keys must be strings, got key int 7"


def test_pool_keys_are_the_documented_ones() -> None:
    assert POOL_KEYS == ("name", "type", "runMode", "workers", "algorithmList", "disableOperationItem")


# --- all problems at once ----------------------------------------------------------------------


def test_all_problems_are_reported_at_once_in_position_order() -> None:
    pools = [
        {"name": "x" * 61, "type": 1, "worker": ["a"]},
        "x",
        {"type": True, "runMode": 2, "workers": "alice", "algorithmList": [1]},
        {"name": "c", "type": 4},
    ]
    with pytest.raises(WorkflowValidationError) as info:
        validate_pools(pools)
    assert info.value.problems == [
        "pools[0].worker: unknown key; did you mean 'workers'?",
        "pools[0].name: 61 bytes in UTF-8, the platform allows at most 60",
        "pools[0].type: the first pool must be a distribution pool (type 0), got 1 (labeling)",
        "pools[1]: expected a pool object (dict), got str 'x'",
        "pools[2].name: required, a non-empty string of at most 60 bytes",
        "pools[2].type: expected an integer (0 distribution, 1 labeling, 2 inspection, 3 spot check, "
        "4 algorithm, 5 completion), got bool True",
        "pools[2].runMode: expected 0 (manual) or 1 (automatic), got int 2",
        "pools[2].workers: expected a list of strings, got str 'alice'",
        "pools[2].algorithmList[0]: expected a non-empty string, got int 1",
        "pools[3].type: the last pool must be a completion pool (type 5), got 4 (algorithm)",
    ]
    text = str(info.value)
    assert text.startswith("invalid workflow input (10 problems):\n")
    assert all(f"\n  {p}" in text for p in info.value.problems)


# --- normalized copy ---------------------------------------------------------------------------


def test_result_is_a_copy_in_input_key_order() -> None:
    pools = [
        {"runMode": 0, "type": 0, "name": "d"},
        {"workers": ["a"], "disableOperationItem": [{"x": 1}], "type": 1, "name": "l"},
        {"type": 5, "name": "c"},
    ]
    out = validate_pools(pools)
    assert out == pools
    assert [list(p) for p in out] == [list(p) for p in pools]
    out[1]["workers"].append("b")
    out[1]["disableOperationItem"][0]["x"] = 2
    assert pools[1] == {"workers": ["a"], "disableOperationItem": [{"x": 1}], "type": 1, "name": "l"}


def test_validation_is_idempotent() -> None:
    out = validate_pools([DIST, LABEL, DONE])
    assert validate_pools(out) == out


def test_default_pools_document_the_platform_default() -> None:
    assert validate_pools(DEFAULT_POOLS) == [
        {"name": "Distribution pool", "type": 0, "runMode": 0},
        {"name": "Labeling pool", "type": 1},
        {"name": "Inspection pool", "type": 2},
        {"name": "Completion pool", "type": 5},
    ]
    with pytest.raises(TypeError):
        DEFAULT_POOLS[0]["type"] = 1  # type: ignore[index]


# --- builder -----------------------------------------------------------------------------------


def test_builder_default_shape() -> None:
    assert build_pools() == [
        {"name": "Distribution pool", "type": 0, "runMode": 0},
        {"name": "Labeling pool", "type": 1, "workers": []},
        {"name": "Completion pool", "type": 5},
    ]


def test_builder_full_shape_serializes_to_the_documented_json() -> None:
    pools = build_pools(
        labelers=["alice", "bob"], inspectors=["carol"], spot_checkers=["dave"], algorithms=["3D-MOT-V1"]
    )
    assert json.loads(json.dumps(pools)) == pools
    assert json.dumps(pools) == (
        '[{"name": "Distribution pool", "type": 0, "runMode": 0}, '
        '{"name": "Algorithm pool", "type": 4, "runMode": 1, "algorithmList": ["3D-MOT-V1"]}, '
        '{"name": "Labeling pool", "type": 1, "workers": ["alice", "bob"]}, '
        '{"name": "Inspection pool", "type": 2, "workers": ["carol"]}, '
        '{"name": "Spot check pool", "type": 3, "workers": ["dave"]}, '
        '{"name": "Completion pool", "type": 5}]'
    )


@pytest.mark.parametrize(
    "labelers, inspectors, spot_checkers, algorithms",
    list(
        itertools.product([None, [], ["l1", "l2"]], [None, [], ["i1"]], [None, [], ["s1"]], [None, [], ["A"]])
    ),
)
def test_builder_every_combination(
    labelers: Names, inspectors: Names, spot_checkers: Names, algorithms: Names
) -> None:
    pools = build_pools(
        labelers=labelers, inspectors=inspectors, spot_checkers=spot_checkers, algorithms=algorithms
    )
    expected_types = (
        [0] + [4] * bool(algorithms) + [1] + [2] * bool(inspectors) + [3] * bool(spot_checkers) + [5]
    )
    assert [p["type"] for p in pools] == expected_types
    assert validate_pools(pools) == pools
    assert json.loads(json.dumps(pools)) == pools
    by_type = {p["type"]: p for p in pools}
    assert by_type[0] == {"name": "Distribution pool", "type": 0, "runMode": 0}
    assert by_type[1] == {"name": "Labeling pool", "type": 1, "workers": list(labelers or [])}
    assert by_type[5] == {"name": "Completion pool", "type": 5}
    if algorithms:
        assert by_type[4] == {"name": "Algorithm pool", "type": 4, "runMode": 1, "algorithmList": algorithms}
    if inspectors:
        assert by_type[2] == {"name": "Inspection pool", "type": 2, "workers": inspectors}
    if spot_checkers:
        assert by_type[3] == {"name": "Spot check pool", "type": 3, "workers": spot_checkers}
    for pool in pools:
        assert ("runMode" in pool) == (pool["type"] in (0, 4))


def test_builder_copies_its_inputs() -> None:
    labelers = ["alice"]
    pools = build_pools(labelers=labelers)
    labelers.append("bob")
    assert pools[1]["workers"] == ["alice"]


def test_builder_names_the_parameter_and_item() -> None:
    with pytest.raises(WorkflowValidationError) as info:
        build_pools(labelers=["alice", ""], inspectors="carol", spot_checkers=[3], algorithms=[" "])
    assert info.value.problems == [
        "labelers[1]: expected a non-empty string, got str ''",
        "inspectors: expected a list of strings, got str 'carol'",
        "spot_checkers[0]: expected a non-empty string, got int 3",
        "algorithms[0]: expected a non-empty string, got str ' '",
    ]


# --- properties --------------------------------------------------------------------------------

pool_names = st.text(min_size=1, max_size=15).filter(lambda s: s.strip() != "")  # ≤ 60 bytes
account_names = st.text(min_size=1, max_size=8).filter(lambda s: s.strip() != "")
types = st.sampled_from(list(PoolType)) | st.integers(0, 5)
run_modes = st.sampled_from(list(RunMode)) | st.integers(0, 1)


@st.composite
def pool_of_type(draw: st.DrawFn, pool_type: st.SearchStrategy[int]) -> dict[str, Any]:
    kind = draw(pool_type)
    pool: dict[str, Any] = {"name": draw(pool_names), "type": kind}
    if draw(st.booleans()):
        pool["runMode"] = draw(run_modes)
    if draw(st.booleans()):
        pool["workers"] = draw(st.lists(account_names, max_size=3))
    if kind == PoolType.ALGORITHM and draw(st.booleans()):
        pool["algorithmList"] = draw(st.lists(account_names, max_size=2))
    if draw(st.booleans()):
        pool["disableOperationItem"] = draw(st.lists(st.text(max_size=5), max_size=2))
    keys = draw(st.permutations(list(pool)))
    return {key: pool[key] for key in keys}


valid_pools = st.builds(
    lambda first, middle, last: [first, *middle, last],
    pool_of_type(st.just(PoolType.DISTRIBUTION) | st.just(0)),
    st.lists(pool_of_type(types), max_size=4),
    pool_of_type(st.just(PoolType.COMPLETION) | st.just(5)),
)


def plain(value: Any) -> Any:
    """`value` as JSON would carry it."""
    return json.loads(json.dumps(value))


@given(valid_pools)
def test_valid_pools_validate_and_round_trip(pools: list[dict[str, Any]]) -> None:
    out = validate_pools(pools)
    assert out == plain(pools)
    assert plain(out) == out
    assert [list(p) for p in out] == [list(p) for p in pools]
    assert validate_pools(out) == out
    assert all(type(p["type"]) is int for p in out)


#: A single mutation: (field it breaks, how to apply it to a pool). `position` tells first/last.
def _set(key: str, value: Any):
    return lambda pool, position: {**pool, key: value}


def _drop(key: str):
    return lambda pool, position: {k: v for k, v in pool.items() if k != key}


def _swap_type(pool: dict[str, Any], position: str) -> dict[str, Any]:
    """A valid type that the first/last rule forbids there (a middle pool gets an invalid one)."""
    return {**pool, "type": {"first": 5, "last": 0}.get(position, 6)}


def _algorithm_list_elsewhere(pool: dict[str, Any], position: str) -> dict[str, Any]:
    kind = {"first": 0, "last": 5}.get(position, 1)
    return {**pool, "type": kind, "algorithmList": ["A"]}


MUTATIONS = st.sampled_from(
    [
        ("type", _set("type", "1")),
        ("type", _set("type", True)),
        ("type", _set("type", 7)),
        ("type", _set("type", 2.0)),
        ("type", _drop("type")),
        ("type", _swap_type),
        ("runMode", _set("runMode", 2)),
        ("runMode", _set("runMode", "0")),
        ("runMode", _set("runMode", False)),
        ("name", _drop("name")),
        ("name", _set("name", "")),
        ("name", _set("name", 42)),
        ("name", _set("name", "x" * 61)),
        ("name", _set("name", "名" * 21)),
        ("workers", _set("workers", "alice")),
        ("workers", _set("workers", ["alice", 1])),
        ("workers", _set("workers", [""])),
        ("algorithmList", _algorithm_list_elsewhere),
        ("disableOperationItem", _set("disableOperationItem", {})),
        ("worker", _set("worker", ["alice"])),
        ("runmode", _set("runmode", 0)),
        ("Name", _set("Name", "x")),
    ]
)


@given(valid_pools, st.data(), MUTATIONS)
def test_a_single_mutation_is_reported_at_its_position(
    pools: list[dict[str, Any]], data: st.DataObject, mutation: tuple[str, Any]
) -> None:
    field, mutate = mutation
    i = data.draw(st.integers(0, len(pools) - 1), label="position")
    position = "first" if i == 0 else "last" if i == len(pools) - 1 else "middle"
    mutated = [*pools]
    mutated[i] = mutate(pools[i], position)
    with pytest.raises(WorkflowValidationError) as info:
        validate_pools(mutated)
    problems = info.value.problems
    assert all(p.startswith(f"pools[{i}]") for p in problems), problems
    assert any(p.startswith((f"pools[{i}].{field}:", f"pools[{i}].{field}[")) for p in problems), problems


@given(st.text(min_size=1, max_size=20).filter(lambda k: k not in POOL_KEYS))
def test_any_unknown_key_is_rejected_never_dropped(key: str) -> None:
    pools = [DIST, {"name": "x", "type": 1, key: 1}, DONE]
    [problem] = problems_of(pools)
    assert problem.startswith(f"pools[1].{key}: unknown key; ")


# --- huge, deep and non-JSON input ---------------------------------------------------------------


def nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def test_huge_input_gives_the_first_problems_and_a_count() -> None:
    """6 MB of wrong workers: a readable message, not one echoing the input."""
    bad_workers = [7] * 300_000 + ["x" * 5_000_000]
    with pytest.raises(WorkflowValidationError) as info:
        validate_pools(with_middle(name="n" * 1_000_000, type=1, workers=bad_workers, **{"k" * 1_000_000: 1}))
    err = info.value
    assert len(err.problems) == MAX_PROBLEMS
    assert err.more == 300_002 - MAX_PROBLEMS  # unknown key + name + 300,000 workers, all counted
    assert err.problems[0].startswith("pools[1].kkkkk") and err.problems[0].endswith(
        "known keys are " + ", ".join(POOL_KEYS)
    )
    assert "pools[1].name: 1000000 bytes in UTF-8" in err.problems[1]
    assert str(err).startswith("invalid workflow input (300002 problems, the first 20 shown):\n")
    assert str(err).endswith(f"\n  ... and {300_002 - MAX_PROBLEMS} more")
    assert len(str(err)) < 4_000


def test_bounded_error_pickles_with_its_count() -> None:
    err = WorkflowValidationError([f"p{i}: x" for i in range(25)], more=5)
    assert (err.problems, err.more) == ([f"p{i}: x" for i in range(MAX_PROBLEMS)], 10)
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.problems, copy.more, str(copy)) == (err.problems, 10, str(err))
    assert "(30 problems, the first 20 shown)" in str(err)


@pytest.mark.parametrize(
    "value, shown",
    [
        ("x" * 10_000_000, "str 'xxxxxxxxxxxxxxxxxxxxxxxxxxx...xxxxxxxxxxxxxxxxxxxxxxxxxxxx'"),
        (10**5000, "int of 16610 bits"),
        (nested(100_000), "list [[[[...]]]]"),
        ({"a": {"b": {"c": {"d": 1}}}}, "dict {'a': {'b': {'c': {...}}}}"),
    ],
    ids=["10MB str", "huge int", "deep list", "deep dict"],
)
def test_describe_value_is_bounded_for_any_input(value: Any, shown: str) -> None:
    assert describe_value(value) == shown


def test_describe_value_survives_a_failing_repr() -> None:
    class Hostile:
        def __repr__(self) -> str:
            raise RuntimeError("no")

    assert describe_value(Hostile()).startswith("Hostile <Hostile instance at 0x")


def test_deeply_nested_pools_are_a_validation_error_not_recursion() -> None:
    assert problems_of(nested(100_000)) == ["pools[0]: expected a pool object (dict), got list [[[[...]]]]"]
    assert problems_of(with_middle(name="x", type=1, workers=nested(100_000))) == [
        "pools[1].workers[0]: expected a non-empty string, got list [[[[...]]]]"
    ]


@pytest.mark.parametrize(
    "item, says",
    [
        ({"a", "b"}, "not plain JSON (null, bool, number, string, list or object), got set"),
        (frozenset({1}), "a set has no JSON form and no order: pass a list"),
        (float("nan"), "nan is not a JSON number (NaN and infinities are not JSON)"),
        (float("inf"), "inf is not a JSON number"),
        (float("-inf"), "-inf is not a JSON number"),
        (b"bytes", "got bytes b'bytes'; pass text (str)"),
        (bytearray(b"x"), "got bytearray"),
        (object(), "not plain JSON (null, bool, number, string, list or object), got object"),
        (2**63, "int 9223372036854775808 is beyond the platform's 64-bit integer range"),
        (-(2**63) - 1, "beyond the platform's 64-bit integer range"),
        ("a\ud800", "not encodable as UTF-8 (lone surrogate?)"),
        (1 + 2j, "got complex"),
    ],
    ids=[
        "set",
        "frozenset",
        "nan",
        "inf",
        "-inf",
        "bytes",
        "bytearray",
        "object",
        "2**63",
        "-2**63-1",
        "lone surrogate",
        "complex",
    ],
)
def test_free_form_field_refuses_what_json_cannot_carry(item: Any, says: str) -> None:
    [problem] = problems_of(with_middle(name="x", type=1, disableOperationItem=["ok", item]))
    assert problem.startswith("pools[1].disableOperationItem[1]: ") and says in problem


def test_free_form_field_refuses_non_string_keys_and_deep_values_by_path() -> None:
    items = [{"ok": [{"a": 1, 2: "b"}]}, {"deep": nested(1000)}, {"nan": [0.5, float("nan")]}]
    assert problems_of(with_middle(name="x", type=1, disableOperationItem=items)) == [
        "pools[1].disableOperationItem[0].ok[0]: keys must be strings, got key int 2",
        "pools[1].disableOperationItem[1].deep"
        + "[0]" * (MAX_DEPTH - 2)
        + f": nested more than {MAX_DEPTH} levels deep",
        "pools[1].disableOperationItem[2].nan[1]: nan is not a JSON number (NaN and infinities are not JSON)",
    ]


def test_free_form_field_plain_json_is_copied_as_plain_json() -> None:
    items = ("a", PoolType.LABELING, {"k": (1.5, None, True)}, nested(MAX_DEPTH - 2))
    [_, pool, _] = validate_pools(with_middle(name="x", type=1, disableOperationItem=items))
    assert pool["disableOperationItem"] == ["a", 1, {"k": [1.5, None, True]}, nested(MAX_DEPTH - 2)]
    assert type(pool["disableOperationItem"][1]) is int
    assert pool["disableOperationItem"][2] is not items[2]


@pytest.mark.parametrize("field", ["workers", "algorithmList"])
def test_name_lists_refuse_sets_bytes_and_lone_surrogates(field: str) -> None:
    pool_type = 4 if field == "algorithmList" else 1
    [problem] = problems_of(with_middle(name="x", type=pool_type, **{field: {"alice"}}))
    assert problem == f"pools[1].{field}: expected a list of strings, got set {{'alice'}}"
    assert problems_of(with_middle(name="x", type=pool_type, **{field: [b"alice", "b\udc80"]})) == [
        f"pools[1].{field}[0]: expected a non-empty string, got bytes b'alice'",
        f"pools[1].{field}[1]: not encodable as UTF-8 (lone surrogate?): str 'b\\udc80'",
    ]


def test_problem_collector_keeps_the_first_and_counts_the_rest() -> None:
    """Checking a huge input holds at most MAX_PROBLEMS lines in memory, whatever its size."""
    problems = Problems()
    problems.extend(f"p{i}: bad" for i in range(MAX_PROBLEMS + 80))
    problems.append("one more: bad")
    assert list(problems) == [f"p{i}: bad" for i in range(MAX_PROBLEMS)] and problems.more == 81
    problems.add(WorkflowValidationError(["x: bad"], more=4))
    assert len(problems) == MAX_PROBLEMS and problems.more == 86
    assert WorkflowValidationError(problems).more == 86
