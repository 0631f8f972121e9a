"""Random and mutated bundles never raise anything but documented errors, and never verify."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance.bundle import Bundle
from provenance.errors import BundleFormatError
from provenance.keys import generate_key
from provenance.verify.policy import AllOf
from provenance.verify.verifier import Verifier
from tests.factories import NOW, REVIEW, pinned_trust, sign

KEY = generate_key()
TRUST = pinned_trust(KEY)
GOOD = sign(KEY).to_bytes()
VERIFIER = Verifier(TRUST)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@SETTINGS
@given(st.binary(max_size=2048))
def test_random_bytes_never_verify_and_never_crash(data: bytes) -> None:
    result = VERIFIER.check(REVIEW, data, AllOf([]), at=NOW)
    assert not result.verified
    assert result.findings[-1].code.startswith(("bundle.", "envelope.", "statement."))


@SETTINGS
@given(st.integers(min_value=0, max_value=len(GOOD) - 1), st.integers(min_value=1, max_value=255))
def test_any_byte_flip_never_verifies(position: int, mask: int) -> None:
    mutated = bytearray(GOOD)
    mutated[position] ^= mask
    result = VERIFIER.check(REVIEW, bytes(mutated), AllOf([]), at=NOW)
    if result.verified:
        # Only flips JSON ignores (whitespace and formatting) may keep the same bundle.
        assert json.loads(bytes(mutated)) == json.loads(GOOD)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [prefix] + [p for k, v in value.items() for p in _paths(v, (*prefix, k))]
    if isinstance(value, list):
        return [prefix] + [p for i, v in enumerate(value) for p in _paths(v, (*prefix, i))]
    return [prefix]


DOCUMENT = json.loads(GOOD)
PATHS = [p for p in _paths(DOCUMENT) if p]


@SETTINGS
@given(st.sampled_from(PATHS), json_values)
def test_replacing_any_field_never_verifies(path: tuple[Any, ...], value: Any) -> None:
    document = json.loads(GOOD)
    target = document
    for part in path[:-1]:
        target = target[part]
    if target[path[-1]] == value:
        return
    target[path[-1]] = value
    result = VERIFIER.check(REVIEW, json.dumps(document).encode(), AllOf([]), at=NOW)
    # The DSSE keyid is an unauthenticated hint (bundle-v1 §5): emptying it changes nothing signed.
    hint_emptied = path[-1] == "keyid" and value == ""
    assert not result.verified or hint_emptied


@SETTINGS
@given(json_values)
def test_parser_raises_only_bundle_format_errors(value: Any) -> None:
    try:
        Bundle.from_bytes(json.dumps(value).encode())
    except BundleFormatError as exc:
        assert exc.code.startswith(("bundle.", "envelope."))
