"""A foreign value in a caller-built ``DecodedBundle`` is ``bundle.malformed`` whatever
its size (``check_decoded``: "not made of the values loads_strict produces (checked first)";
``Bundle.from_decoded``: "``bundle.malformed`` also for a value not made only of what a strict
JSON parse produces ... checked first").

``_json_walk`` stopped at the level where the item count passed the byte cap and answered
``too_many`` before looking at the next level, so a tuple one level below a large list was
reported ``bundle.too_large`` (ninth attack). The types are now walked through as many items as
the size is counted (4 times the cap, at least 64 KiB): only a value larger than that, a cycle
among them, is too large whatever it holds.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from provenance.bundle import DEFAULT_LIMITS, Bundle, DecodedBundle
from provenance.codes import Code
from provenance.encoding import StrictDecodeError, TooLargeError, check_decoded
from provenance.errors import BundleFormatError
from provenance.keys import KeyType, generate_key
from provenance.verify.policy import UnsafeAcceptAnyIdentity
from provenance.verify.verifier import Verifier
from tests.factories import pinned_trust


def _value(padding: int) -> dict[str, object]:
    return {"a": [0] * padding, "b": [(1, 2)]}


def test_a_tuple_next_to_a_small_list_is_malformed() -> None:
    with pytest.raises(StrictDecodeError):
        check_decoded(_value(10), max_bytes=DEFAULT_LIMITS.max_bundle_bytes, max_depth=16)


def test_a_tuple_next_to_a_large_list_is_still_not_json_first() -> None:
    """Types are checked first: the tuple is refused as not JSON, not as too large."""
    try:
        check_decoded(
            _value(DEFAULT_LIMITS.max_bundle_bytes + 1),
            max_bytes=DEFAULT_LIMITS.max_bundle_bytes,
            max_depth=16,
        )
    except TooLargeError as exc:
        pytest.fail(f"a foreign value was judged on its size first: {exc}")
    except StrictDecodeError:
        pass


def test_from_decoded_names_a_foreign_value_malformed_whatever_its_siblings_size() -> None:
    big = _value(DEFAULT_LIMITS.max_bundle_bytes + 1)
    with pytest.raises(BundleFormatError) as caught:
        Bundle.from_decoded(big)
    assert caught.value.code == Code.BUNDLE_MALFORMED, caught.value.code


def test_verifier_check_reports_it_malformed() -> None:
    result = Verifier(pinned_trust(generate_key(KeyType.P256))).check(
        b"x", DecodedBundle(_value(300_000)), UnsafeAcceptAnyIdentity(), at=datetime.now(UTC)
    )
    assert not result.verified
    codes = [f.code for f in result.findings]
    assert Code.BUNDLE_MALFORMED in codes, codes
