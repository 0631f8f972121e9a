"""SafeJSONResponse writes every value byte for byte as dumps_text does (its orjson way for plain
values included), and fails where dumps_text fails."""

from __future__ import annotations

import enum
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.encoding import dumps_text
from verifier_api.errors import SafeJSONResponse, plain_json

keys = st.text(max_size=6)  # any code point: lone surrogates, controls, U+2028 and beyond
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10)
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.lists(children, max_size=3).map(tuple)
        | st.dictionaries(keys, children, max_size=4)
    ),
    max_leaves=30,
)


plain_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=10),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=6).filter(str.isprintable), children, max_size=4)
    ),
    max_leaves=30,
)


def _render(value: Any) -> bytes:
    return SafeJSONResponse(None).render(value)


@settings(max_examples=1500, deadline=None)
@given(values)
def test_render_writes_what_dumps_text_writes(value: Any) -> None:
    assert _render(value) == dumps_text(value, compact=True).encode("utf-8")


@settings(max_examples=1000, deadline=None)
@given(plain_values)
def test_plain_values_are_written_by_orjson_as_dumps_text_writes(value: Any) -> None:
    assert plain_json(value)
    assert _render(value) == dumps_text(value, compact=True).encode("utf-8")


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.integers() | st.booleans() | st.none(), st.text(max_size=4), max_size=4))
def test_non_string_keys_go_the_dumps_text_way(value: dict[Any, str]) -> None:
    assert _render(value) == dumps_text(value, compact=True).encode("utf-8")


class _Kind(enum.StrEnum):
    A = "a\u2028"


class _Text(str):
    __slots__ = ()


@pytest.mark.parametrize(
    "value",
    [
        {"kind": _Kind.A},
        [_Text("x\ud800")],
        {"n": 2**64},
        {"n": -(2**63) - 1},
        {"f": 1e-05},
        {"lone": "\udc80 after"},
    ],
)
def test_values_orjson_may_write_otherwise_are_written_as_dumps_text_writes(value: Any) -> None:
    assert _render(value) == dumps_text(value, compact=True).encode("utf-8")


def test_orjson_deeper_than_it_nests_falls_back() -> None:
    value: Any = "x"
    for _ in range(300):
        value = [value]
    assert plain_json(value)
    assert _render(value) == dumps_text(value, compact=True).encode("utf-8")


@pytest.mark.parametrize("value", [{"nan": math.nan}, {"inf": math.inf}, {"x": object()}])
def test_what_dumps_text_refuses_is_refused(value: Any) -> None:
    with pytest.raises((ValueError, TypeError)):
        dumps_text(value, compact=True)
    with pytest.raises((ValueError, TypeError)):
        _render(value)
