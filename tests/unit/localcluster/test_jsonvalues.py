"""JSON equality: numbers by value, booleans apart from numbers, containers deeply."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.localcluster.jsonvalues import Json, json_equal


@pytest.mark.parametrize(("left", "right", "equal"), [
    (1, 1.0, True),
    (True, 1, False),
    (False, 0, False),
    (0, False, False),
    (True, True, True),
    (None, None, True),
    (None, False, False),
    ("1", 1, False),
    ([1, 2], [1, 2], True),
    ([1, 2], [2, 1], False),
    ([1], [1, 1], False),
    ({"a": [True]}, {"a": [1]}, False),
    ({"a": 1}, {"a": 1, "b": None}, False),
    ({"a": {"b": 2.0}}, {"a": {"b": 2}}, True),
    ({}, [], False),
])
def test_json_equality(left: Json, right: Json, equal: bool) -> None:
    """Booleans never equal numbers; ints equal floats of the same value; order matters in lists."""
    assert json_equal(left, right) is equal
    assert json_equal(right, left) is equal


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                 max_size=3),
    max_leaves=10)


@given(json_values)
def test_every_value_equals_its_copy(value: Json) -> None:
    """Equality is reflexive over any JSON value."""
    assert json_equal(value, copy.deepcopy(value))
