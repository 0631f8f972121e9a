"""canonical_json's fast path must equal rfc8785 byte for byte on every value it takes."""

from __future__ import annotations

import json
from typing import Any

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance import encoding
from provenance.encoding import (
    JSON_LIMITS,
    StrictDecodeError,
    canonical_json,
    check_decoded,
    compact_json_size,
)

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


def _check_step_by_step(value: object, max_bytes: int, max_depth: int) -> tuple[str, str] | None:
    """check_decoded's outcome as it was computed before its one-pass form: size, depth, walk."""
    size = compact_json_size(value)
    if size > max_bytes:
        return ("TooLargeError", f"document of {size} bytes exceeds the cap of {max_bytes}")
    if encoding._nested_deeper(value, max_depth):
        return ("StrictDecodeError", f"JSON nested deeper than {max_depth} levels")
    where = encoding._lone_surrogate_path(value)
    if where is not None:
        return ("StrictDecodeError", f"lone surrogate in {where} (not I-JSON)")
    return None


def _check_decoded(value: object, max_bytes: int, max_depth: int) -> tuple[str, str] | None:
    try:
        check_decoded(value, max_bytes=max_bytes, max_depth=max_depth)
    except StrictDecodeError as exc:
        return (type(exc).__name__, str(exc))
    return None


_TRICKY = st.sampled_from(["\ud800", "\udfff", "\u2014", "😀", "{[", '"', "\\", "\x00", "\n", "é"])
decoded = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-JSON_LIMITS.max_exact_integer, max_value=JSON_LIMITS.max_exact_integer)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | _TRICKY,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=4) | _TRICKY, children, max_size=3)
    ),
    max_leaves=20,
)


@settings(max_examples=500, deadline=None)
@given(decoded, st.integers(min_value=0, max_value=300), st.integers(min_value=0, max_value=6))
def test_check_decoded_answers_as_the_step_by_step_checks(
    value: object, max_bytes: int, max_depth: int
) -> None:
    assert _check_decoded(value, max_bytes, max_depth) == _check_step_by_step(
        value, max_bytes, max_depth
    )


def test_check_decoded_of_deep_nesting_answers_as_the_step_by_step_checks() -> None:
    for depth in (1, 31, 32, 33, 2000):
        value: object = "\ud800"
        for level in range(depth):
            value = [value] if level % 2 else {"k": value}
        for cap in (16, 32, 64):
            assert _check_decoded(value, 1 << 20, cap) == _check_step_by_step(value, 1 << 20, cap)
