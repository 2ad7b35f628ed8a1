"""Rendered template values → typed values: every accepted form, every refusal names the field."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_annotation.coercion import to_name_list, to_pools, to_project_id
from airflow_provider_annotation.exceptions import AnnotationInputError
from airflow_provider_annotation.workflow import (
    MAX_PROJECT_ID,
    PoolType,
    WorkflowValidationError,
    create_workflow_body,
    validate_pools,
)


def refusal(func: Any, value: Any, *args: Any) -> str:
    """The message `func` refuses `value` with; also checks the error type."""
    with pytest.raises(WorkflowValidationError) as info:
        func(value, *args)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, AnnotationInputError)
    return str(info.value)


# --- to_project_id -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [(4242, 4242), ("4242", 4242), (" 4242\n", 4242), ("007", 7), (1, 1), (MAX_PROJECT_ID, MAX_PROJECT_ID)],
    ids=repr,
)
def test_project_id_accepted(value: Any, expected: int) -> None:
    result = to_project_id(value)
    assert result == expected
    assert type(result) is int


def test_project_id_int_subclass_becomes_plain_int() -> None:
    assert type(to_project_id(PoolType.COMPLETION)) is int


@pytest.mark.parametrize(
    "value, says",
    [
        (True, "got bool True"),
        (False, "got bool False"),
        (3.0, "got float 3.0"),
        (4.2, "got float 4.2"),
        (0, "must be positive, got int 0"),
        (-5, "must be positive, got int -5"),
        ("0", "must be positive, got str '0'"),
        ("-5", "got str '-5'"),
        ("+5", "got str '+5'"),
        ("4.2", "got str '4.2'"),
        ("4_2", "got str '4_2'"),
        ("abc", "got str 'abc'"),
        ("", "got str ''"),
        ("  ", "got str '  '"),
        ("٤٢", "got str '٤٢'"),  # non-ASCII digits int() would take
        (None, "got NoneType None"),
        ([4242], "got list [4242]"),
        (b"4242", "got bytes b'4242'"),
        (MAX_PROJECT_ID + 1, "beyond the platform's range"),
        ("9" * 20, "beyond the platform's range"),
        ("1" * 5000, "beyond the platform's range"),
    ],
    ids=repr,
)
def test_project_id_refused(value: Any, says: str) -> None:
    message = refusal(to_project_id, value)
    assert "project_id: " in message
    assert says in message


def test_project_id_names_the_given_field() -> None:
    assert "invalid workflow input: source_project: " in refusal(to_project_id, "x", "source_project")


def test_project_id_leading_zeros_do_not_trigger_huge_conversion() -> None:
    assert to_project_id("0" * 5000 + "42") == 42


@given(st.integers(1, MAX_PROJECT_ID), st.sampled_from(["", " ", "\n", "\t "]))
def test_positive_ints_and_their_strings_round_trip(number: int, pad: str) -> None:
    assert to_project_id(number) == number
    assert to_project_id(str(number)) == number
    assert to_project_id(f"{pad}{number}{pad}") == number


@given(st.integers(max_value=0))
def test_non_positive_always_refused(number: int) -> None:
    refusal(to_project_id, number)
    refusal(to_project_id, str(number))


@given(st.booleans() | st.floats(allow_nan=True, allow_infinity=True))
def test_bools_and_floats_always_refused(value: Any) -> None:
    assert "project_id: expected a positive integer" in refusal(to_project_id, value)


# --- to_name_list ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, None),
        ([], []),
        (["alice", "bob"], ["alice", "bob"]),
        (("alice", "bob"), ["alice", "bob"]),
        ('["alice", "bob"]', ["alice", "bob"]),
        ("['alice', 'bob']", ["alice", "bob"]),
        ("('alice', 'bob')", ["alice", "bob"]),
        ("  ['alice']\n", ["alice"]),
        ("[]", []),
        ("alice, bob", ["alice", "bob"]),
        ("alice,bob ,  carol", ["alice", "bob", "carol"]),
        ("alice", ["alice"]),
        ("张三, 李四", ["张三", "李四"]),
        ("", []),
        ("  \n", []),
    ],
    ids=repr,
)
def test_name_list_accepted(value: Any, expected: list[str] | None) -> None:
    assert to_name_list(value, "labelers") == expected


def test_name_list_returns_a_new_list() -> None:
    names = ["alice"]
    result = to_name_list(names, "labelers")
    assert result == names and result is not names


@pytest.mark.parametrize(
    "value, says",
    [
        ("alice,,bob", "labelers: empty name at position 1 in comma-separated 'alice,,bob'"),
        ("alice,", "labelers: empty name at position 1"),
        (",alice", "labelers: empty name at position 0"),
        ("[alice, bob]", "labelers: neither valid JSON"),
        ("['alice'", "labelers: neither valid JSON"),
        ("(alice)", "labelers: neither valid JSON"),
        ("{'alice'}", "labelers: expected a list of names, got set"),
        ('{"alice": 1}', "labelers: expected a list of names, got dict"),
        ("None", "labelers: got the string 'None', which is how Jinja renders a missing value"),
        ("null", "labelers: got the string 'null'"),
        (3, "labelers: expected a list of names, a JSON list or comma-separated names, got int 3"),
        (True, "labelers: expected a list of names"),
        ({"alice": 1}, "labelers: expected a list of names"),
        ({"alice"}, "labelers: expected a list of names"),
        (b"alice", "labelers: expected a list of names"),
        (["alice", 3], "labelers[1]: expected a non-empty string, got int 3"),
        (["alice", ""], "labelers[1]: expected a non-empty string, got str ''"),
        ('["alice", null]', "labelers[1]: expected a non-empty string, got NoneType None"),
        ("['alice', ['bob']]", "labelers[1]: expected a non-empty string, got list ['bob']"),
    ],
    ids=repr,
)
def test_name_list_refused(value: Any, says: str) -> None:
    assert says in refusal(to_name_list, value, "labelers")


def test_python_code_is_never_executed() -> None:
    # Inside brackets the text is read as a literal only: a call is refused, not run.
    message = refusal(to_name_list, "[__import__('os').getcwd()]", "inspectors")
    assert "inspectors: neither valid JSON" in message


def test_name_list_reports_every_bad_item() -> None:
    with pytest.raises(WorkflowValidationError) as info:
        to_name_list([1, "ok", None], "inspectors")
    assert info.value.problems == [
        "inspectors[0]: expected a non-empty string, got int 1",
        "inspectors[2]: expected a non-empty string, got NoneType None",
    ]


names = st.text(min_size=1, max_size=12).filter(lambda s: s.strip() != "")
name_lists = st.lists(names, max_size=6)


@given(name_lists)
def test_names_round_trip_through_json(value: list[str]) -> None:
    assert to_name_list(json.dumps(value), "labelers") == value
    assert to_name_list(json.dumps(value, ensure_ascii=False), "labelers") == value


@given(name_lists)
def test_names_round_trip_through_python_repr(value: list[str]) -> None:
    assert to_name_list(repr(value), "labelers") == value
    assert to_name_list(repr(tuple(value)), "labelers") == value
    assert to_name_list(value, "labelers") == value


plain_names = names.filter(lambda s: "," not in s and s == s.strip() and s not in ("None", "null"))


@given(st.lists(plain_names, max_size=6).filter(lambda v: not v or v[0][0] not in "[({"))
def test_names_round_trip_through_comma_join(value: list[str]) -> None:
    assert to_name_list(", ".join(value), "labelers") == value
    assert to_name_list(",".join(value), "labelers") == value


@given(st.integers() | st.floats() | st.booleans() | st.dictionaries(st.text(), st.integers()))
def test_name_list_refuses_non_lists_naming_the_field(value: Any) -> None:
    assert "spot_checkers: " in refusal(to_name_list, value, "spot_checkers")


# --- to_pools ----------------------------------------------------------------------------------

POOLS = [
    {"name": "Distribution pool", "type": 0, "runMode": 0},
    {"name": "Labeling pool", "type": 1, "workers": ["alice"], "disableOperationItem": []},
    {"name": "Completion pool", "type": 5},
]


@pytest.mark.parametrize(
    "value",
    [POOLS, tuple(POOLS), json.dumps(POOLS), json.dumps(POOLS, indent=2) + "\n", repr(POOLS), f" {POOLS!r} "],
    ids=["list", "tuple", "json", "json-file", "repr", "repr-padded"],
)
def test_pools_accepted(value: Any) -> None:
    result = to_pools(value)
    assert result == POOLS
    assert validate_pools(result) == POOLS


def test_pools_items_are_left_for_validate_pools() -> None:
    assert to_pools('[1, "x"]') == [1, "x"]


def test_pools_list_is_passed_through() -> None:
    assert to_pools(POOLS) == POOLS


@pytest.mark.parametrize(
    "value, says",
    [
        (None, "pools: expected a list of pool objects or its JSON, got NoneType None"),
        (5, "pools: expected a list of pool objects or its JSON, got int 5"),
        (POOLS[0], "pools: expected a list of pool objects or its JSON, got dict"),
        ("", "pools: got an empty string; pass None to get the platform's default workflow"),
        ("null", "pools: got the string 'null'"),
        ("None", "pools: got the string 'None'"),
        ("[{", "pools: neither valid JSON"),
        ("pools.json", "pools: neither valid JSON"),
        ("3", "pools: expected a list of pool objects, got int 3"),
        ('"[]"', "pools: expected a list of pool objects, got str '[]'"),
        ('{"pools": []}', "pools: expected a list of pool objects, got an object with keys 'pools'"),
    ],
    ids=repr,
)
def test_pools_refused(value: Any, says: str) -> None:
    assert says in refusal(to_pools, value)


def test_pools_names_the_given_field() -> None:
    assert "workflow_pools: " in refusal(to_pools, 5, "workflow_pools")


pool_dicts = st.lists(
    st.dictionaries(
        st.text(max_size=8),
        st.integers() | st.text(max_size=8) | st.lists(st.text(max_size=5), max_size=3),
    ),
    max_size=4,
)


@given(pool_dicts)
def test_pools_round_trip_through_json_and_repr(value: list[dict[str, Any]]) -> None:
    assert to_pools(json.dumps(value)) == value
    assert to_pools(repr(value)) == value
    assert to_pools(value) == value


def test_create_workflow_body_reports_both_arguments_at_once():
    with pytest.raises(WorkflowValidationError) as info:
        create_workflow_body("0", [{"name": "Labeling pool", "type": 1}])
    fields = [problem.split(":")[0] for problem in info.value.problems]
    assert fields[0] == "project_id" and "pools[0].type" in fields


def test_create_workflow_body_shapes():
    assert create_workflow_body("42", None) == {"projectId": 42}
    pools = [{"name": "Distribution pool", "type": 0}, {"name": "Completion pool", "type": 5}]
    assert create_workflow_body(42, pools) == {"projectId": 42, "workflow": {"pools": pools}}


# --- deep and huge rendered strings --------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["[" * 100_000 + "]" * 100_000, "[" * 100_000, "(" * 100_000 + ")" * 100_000, "{'a': " * 50_000],
    ids=["deep JSON list", "deep unclosed", "deep tuple", "deep dict"],
)
@pytest.mark.parametrize("func", [to_pools, to_name_list])
def test_deeply_nested_strings_are_refused_naming_the_field_never_recursion(func: Any, text: str) -> None:
    says = refusal(func, text, "the_field")
    assert says.startswith("invalid workflow input: the_field: ")
    assert len(says) < 400


def test_huge_comma_separated_string_is_not_echoed() -> None:
    says = refusal(to_name_list, ",".join(["x"] * 10) + "," * 1_000_000, "labelers")
    assert "empty name at position 10, 11, 12, 13, 14, 15, 16, 17, 18, 19 and 999990 more in " in says
    assert len(says) < 300


def test_object_of_huge_keys_is_not_echoed() -> None:
    says = refusal(to_pools, json.dumps({"k" * 1_000_000: 1}), "pools")
    assert "expected a list of pool objects, got an object with keys 'kkk" in says and len(says) < 300


def test_deeply_nested_python_lists_are_refused_naming_the_item() -> None:
    deep: list[Any] = []
    for _ in range(100_000):
        deep = [deep]
    says = refusal(to_name_list, deep, "labelers")
    assert says == "invalid workflow input: labelers[0]: expected a non-empty string, got list [[[[...]]]]"
    assert to_pools(deep) == [deep[0]]  # items are checked by validate_pools (see test_workflow.py)


def test_nesting_is_limited_before_parsing_and_brackets_in_strings_do_not_count() -> None:
    """Refused before either parser runs, so neither gets near Python's recursion limit."""
    assert refusal(to_pools, "[" * 65 + "]" * 65, "pools").startswith(
        "invalid workflow input: pools: nested more than 64 levels deep (str '[[[["
    )
    assert json.dumps(to_pools("[" * 64 + "]" * 64)) == "[" * 64 + "]" * 64
    assert to_name_list('["a' + "[" * 100 + '", "b((("]', "labelers") == ["a" + "[" * 100, "b((("]
    assert to_name_list("['x" + "{" * 100 + "']", "labelers") == ["x" + "{" * 100]
