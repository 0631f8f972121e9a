"""canonical_json's fast path must equal rfc8785 byte for byte on every value it takes."""

from __future__ import annotations

import json
from typing import Any

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.encoding import JSON_LIMITS, canonical_json, compact_json_size

ascii_text = st.text(alphabet=st.characters(max_codepoint=127), max_size=12)
plain = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-JSON_LIMITS.max_exact_integer, max_value=JSON_LIMITS.max_exact_integer)
    | ascii_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(ascii_text, children, max_size=4)
    ),
    max_leaves=25,
)
anything = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=15,
)


@settings(max_examples=500, deadline=None)
@given(plain)
def test_fast_path_equals_rfc8785_on_plain_values(value: Any) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)


@settings(max_examples=300, deadline=None)
@given(anything)
def test_canonical_json_equals_rfc8785_on_any_value_it_accepts(value: Any) -> None:
    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        return
    assert canonical_json(value) == expected


@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(),
        lambda children: st.lists(children) | st.dictionaries(st.text(), children),
        max_leaves=30,
    )
)
def test_compact_json_size_is_the_length_of_the_compact_text(value: object) -> None:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    assert compact_json_size(value) == len(text.encode("utf-8", "surrogatepass"))
