"""A certificate is valid only while notBefore <= t <= notAfter at the exact time (identity-v1 §4).

pyca's ``x509.verification`` reads the validation time to whole seconds, so on its own it accepts a
leaf half a second after its notAfter; and the validated-chain cache then kept that acceptance for
every later time up to the next validity boundary (found by attack, PoC
``pocs/test_chain_cache_subsecond_expiry.py``).
"""

from __future__ import annotations

from datetime import timedelta

from provenance.identity.chain import _REFUSED, _VALIDATED
from provenance.verify.policy import UnsafeAcceptAnyIdentity
from provenance.verify.verifier import Verifier
from tests.factories import REVIEW, authority_trust, certified_author, make_authority, sign

HALF_SECOND = timedelta(microseconds=500_000)


def _clear_chain_caches() -> None:
    with _VALIDATED._lock:
        _VALIDATED._entries.clear()
    with _REFUSED._lock:
        _REFUSED._entries.clear()


def _failed_codes(result: object) -> list[str]:
    return [f.code for f in result.findings if not f.ok]  # type: ignore[attr-defined]


def _expiring_bundle() -> tuple[Verifier, bytes, object]:
    authority = make_authority()
    author = certified_author(authority, days=90)
    bundle = sign(author.key, REVIEW, author.chain).to_bytes()
    return Verifier(authority_trust(authority)), bundle, author.chain[0]


def test_leaf_half_a_second_after_not_after_is_expired() -> None:
    verifier, bundle, leaf = _expiring_bundle()
    _clear_chain_caches()
    at = leaf.not_valid_after_utc + HALF_SECOND  # type: ignore[attr-defined]
    result = verifier.check(REVIEW, bundle, UnsafeAcceptAnyIdentity(), at=at)
    assert _failed_codes(result) == ["certificate.expired"]


def test_subsecond_check_after_expiry_does_not_validate_later_checks() -> None:
    verifier, bundle, leaf = _expiring_bundle()
    not_after = leaf.not_valid_after_utc  # type: ignore[attr-defined]
    _clear_chain_caches()
    verifier.check(REVIEW, bundle, UnsafeAcceptAnyIdentity(), at=not_after + HALF_SECOND)
    later = verifier.check(
        REVIEW, bundle, UnsafeAcceptAnyIdentity(), at=not_after + timedelta(days=365)
    )
    assert _failed_codes(later) == ["certificate.expired"]


def test_leaf_at_exactly_not_after_is_valid() -> None:
    verifier, bundle, leaf = _expiring_bundle()
    _clear_chain_caches()
    at = leaf.not_valid_after_utc  # type: ignore[attr-defined]
    assert verifier.check(REVIEW, bundle, UnsafeAcceptAnyIdentity(), at=at).verified


def test_leaf_half_a_second_before_not_before_is_not_yet_valid() -> None:
    verifier, bundle, leaf = _expiring_bundle()
    _clear_chain_caches()
    at = leaf.not_valid_before_utc - HALF_SECOND  # type: ignore[attr-defined]
    result = verifier.check(REVIEW, bundle, UnsafeAcceptAnyIdentity(), at=at)
    assert _failed_codes(result) == ["certificate.not_yet_valid"]
