"""The chain verdict is a function of (bundle, trust root, time): never of what was verified before.

pyca's ``x509.verification`` reads the validation time to whole seconds, so in the second after a
candidate's notAfter it still chose a path through it; the exact-time check then refused that path
(``certificate.expired``) although a renewed certificate of the same key and name gave a valid
one, and a verification one second later cached the renewed path for a window that included the
earlier moment: the same bundle at the same time was ``certificate.expired`` first and verified
after another verification (found by attack, PoC ``pocs/test_chain_cache_subsecond_verdict.py``).
Each edge (after a notAfter, before a notBefore) is checked with the cache cold and warmed in both
orders; certificate validity bounds are whole seconds, which the fix relies on.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from provenance.errors import CertificateError
from provenance.identity.chain import _REFUSED, _VALIDATED, validate_chain
from provenance.identity.trust import TrustRoot
from provenance.keys import signing_key_from_cryptography
from provenance.verify.policy import UnsafeAcceptAnyIdentity
from provenance.verify.result import VerificationResult
from provenance.verify.verifier import Verifier
from tests.factories import REVIEW, sign
from tests.unit.identity.factory import NOW, CertSpec, ca_spec, make_certificate, p256_key

HALF_SECOND = timedelta(milliseconds=500)
ONE_SECOND = timedelta(seconds=1)
EDGE = NOW + timedelta(days=10)
"""The notAfter of the old CA (after-notAfter cases) or the notBefore of the renewed one."""
POLICY = UnsafeAcceptAnyIdentity()
_Verdict = tuple[bool, list[str], str | None]


def _clear() -> None:
    with _VALIDATED._lock:
        _VALIDATED._entries.clear()
    with _REFUSED._lock:
        _REFUSED._entries.clear()


@dataclass
class _Setup:
    trust: TrustRoot
    leaf: x509.Certificate
    bundle: bytes
    old: x509.Certificate
    renewed: x509.Certificate


def _renewal(*, old_until: datetime, renewed_from: datetime, renewed_first: bool) -> _Setup:
    """An issuing CA and its renewal (same name and key) in the trust root, and a leaf of the key."""
    root_key, issuing_key, leaf_key = p256_key(), p256_key(), p256_key()
    root = make_certificate(ca_spec("Subsecond Root", 1), root_key, None, root_key)
    old_spec = ca_spec("Subsecond Issuing", 0)
    old_spec.not_after = old_until
    old = make_certificate(old_spec, issuing_key, root, root_key)
    renewed_spec = ca_spec("Subsecond Issuing", 0)
    renewed_spec.not_before = renewed_from
    renewed_spec.not_after = NOW + timedelta(days=400)
    renewed = make_certificate(renewed_spec, issuing_key, root, root_key)
    leaf_spec = CertSpec(not_before=NOW - timedelta(days=1), not_after=NOW + timedelta(days=60))
    leaf = make_certificate(leaf_spec, leaf_key, old, issuing_key)
    intermediates = (renewed, old) if renewed_first else (old, renewed)
    trust = TrustRoot(name="subsecond", roots=(root,), intermediates=intermediates)
    bundle = sign(signing_key_from_cryptography(leaf_key), REVIEW, [leaf]).to_bytes()
    return _Setup(trust, leaf, bundle, old, renewed)


def _after_not_after() -> _Setup:
    """The old CA (listed first) expires at EDGE; the renewal is valid on both sides of it."""
    return _renewal(old_until=EDGE, renewed_from=NOW - timedelta(days=30), renewed_first=False)


def _before_not_before() -> _Setup:
    """The renewal (listed first) becomes valid at EDGE; the old CA is valid on both sides."""
    return _renewal(old_until=NOW + timedelta(days=300), renewed_from=EDGE, renewed_first=True)


def _issuing_serial(setup: _Setup, at: datetime) -> int:
    return validate_chain([setup.leaf], setup.trust, at).chain[1].serial_number


def _verdict(setup: _Setup, at: datetime) -> _Verdict:
    """Whether the bundle verified at ``at``, the codes of its failed findings, and the
    fingerprint of the CA that issued its leaf on the validated path."""
    result: VerificationResult = Verifier(setup.trust).check(REVIEW, setup.bundle, POLICY, at=at)
    fingerprint = result.signer.issuer_fingerprints[0] if result.signer else None
    return result.verified, [f.code for f in result.findings if not f.ok], fingerprint


def _fingerprint(certificate: x509.Certificate) -> str:
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


# After notAfter: half a second past the old CA's notAfter only the renewal is valid.


def test_half_a_second_after_an_old_ca_expires_the_path_goes_through_its_renewal_cold() -> None:
    setup = _after_not_after()
    _clear()
    assert _issuing_serial(setup, EDGE + HALF_SECOND) == setup.renewed.serial_number


def test_half_a_second_after_an_old_ca_expires_a_bundle_verifies_cold() -> None:
    setup = _after_not_after()
    _clear()
    assert _verdict(setup, EDGE + HALF_SECOND) == (True, [], _fingerprint(setup.renewed))


def test_half_a_second_after_an_old_ca_expires_a_bundle_verifies_after_a_later_check() -> None:
    setup = _after_not_after()
    _clear()
    _verdict(setup, EDGE + HALF_SECOND + ONE_SECOND)
    assert _verdict(setup, EDGE + HALF_SECOND) == (True, [], _fingerprint(setup.renewed))


def test_a_check_half_a_second_after_an_old_ca_expires_does_not_change_a_later_one() -> None:
    setup = _after_not_after()
    _clear()
    first = _verdict(setup, EDGE + HALF_SECOND)
    later = _verdict(setup, EDGE + HALF_SECOND + ONE_SECOND)
    again = _verdict(setup, EDGE + HALF_SECOND)
    expected: _Verdict = (True, [], _fingerprint(setup.renewed))
    assert (first, later, again) == (expected, expected, expected)


def test_at_an_old_ca_s_exact_not_after_either_path_is_reused_only_at_its_own_moments() -> None:
    """At notAfter itself the old CA (listed first) is valid; half a second later it is not."""
    setup = _after_not_after()
    _clear()
    at_edge = _issuing_serial(setup, EDGE)
    after = _issuing_serial(setup, EDGE + HALF_SECOND)
    assert (at_edge, after) == (setup.old.serial_number, setup.renewed.serial_number)
    _clear()
    after = _issuing_serial(setup, EDGE + HALF_SECOND)
    at_edge = _issuing_serial(setup, EDGE)
    assert (at_edge, after) == (setup.old.serial_number, setup.renewed.serial_number)


# Before notBefore: half a second before the renewal's notBefore only the old CA is valid.


def test_half_a_second_before_a_renewal_is_valid_the_path_goes_through_the_old_ca_cold() -> None:
    setup = _before_not_before()
    _clear()
    assert _issuing_serial(setup, EDGE - HALF_SECOND) == setup.old.serial_number
    _clear()
    assert _issuing_serial(setup, EDGE + HALF_SECOND) == setup.renewed.serial_number


def test_half_a_second_before_a_renewal_is_valid_the_verdict_does_not_depend_on_the_cache() -> None:
    setup = _before_not_before()
    before: _Verdict = (True, [], _fingerprint(setup.old))
    after: _Verdict = (True, [], _fingerprint(setup.renewed))
    _clear()
    assert _verdict(setup, EDGE - HALF_SECOND) == before
    assert _verdict(setup, EDGE + HALF_SECOND) == after
    assert _verdict(setup, EDGE - HALF_SECOND) == before
    _clear()
    assert _verdict(setup, EDGE + HALF_SECOND) == after
    assert _verdict(setup, EDGE - HALF_SECOND) == before
    assert _verdict(setup, EDGE + HALF_SECOND) == after


# A CA with no renewal: the exact time decides, cold or warm.


def _single_ca(not_before: datetime, not_after: datetime) -> _Setup:
    root_key, issuing_key, leaf_key = p256_key(), p256_key(), p256_key()
    root = make_certificate(ca_spec("Single Root", 1), root_key, None, root_key)
    spec = ca_spec("Single Issuing", 0)
    spec.not_before, spec.not_after = not_before, not_after
    issuing = make_certificate(spec, issuing_key, root, root_key)
    leaf_spec = CertSpec(not_before=NOW - timedelta(days=1), not_after=NOW + timedelta(days=60))
    leaf = make_certificate(leaf_spec, leaf_key, issuing, issuing_key)
    trust = TrustRoot(name="single", roots=(root,), intermediates=(issuing,))
    bundle = sign(signing_key_from_cryptography(leaf_key), REVIEW, [leaf]).to_bytes()
    return _Setup(trust, leaf, bundle, issuing, issuing)


def test_half_a_second_after_the_only_ca_expires_is_expired_cold_and_after_a_valid_check() -> None:
    setup = _single_ca(NOW - timedelta(days=30), EDGE)
    _clear()
    assert _verdict(setup, EDGE + HALF_SECOND)[:2] == (False, ["certificate.expired"])
    _clear()
    assert _verdict(setup, EDGE - HALF_SECOND)[:2] == (True, [])
    assert _verdict(setup, EDGE + HALF_SECOND)[:2] == (False, ["certificate.expired"])
    assert _verdict(setup, EDGE - HALF_SECOND)[:2] == (True, [])


def test_half_a_second_before_the_only_ca_is_valid_is_not_yet_valid_cold_and_warm() -> None:
    setup = _single_ca(EDGE, NOW + timedelta(days=300))
    _clear()
    assert _verdict(setup, EDGE - HALF_SECOND)[:2] == (False, ["certificate.not_yet_valid"])
    _clear()
    assert _verdict(setup, EDGE + HALF_SECOND)[:2] == (True, [])
    assert _verdict(setup, EDGE - HALF_SECOND)[:2] == (False, ["certificate.not_yet_valid"])
    assert _verdict(setup, EDGE + HALF_SECOND)[:2] == (True, [])


# Anchors: a renewed root, and a trust root whose only anchor just expired.


def _renewed_root(*, with_renewal: bool) -> tuple[TrustRoot, x509.Certificate, x509.Certificate]:
    root_key, issuing_key, leaf_key = p256_key(), p256_key(), p256_key()
    old_spec = ca_spec("Renewed Root", 1)
    old_spec.not_after = EDGE
    old_root = make_certificate(old_spec, root_key, None, root_key)
    renewed_spec = ca_spec("Renewed Root", 1)
    renewed_spec.not_after = NOW + timedelta(days=400)
    renewed_root = make_certificate(renewed_spec, root_key, None, root_key)
    issuing = make_certificate(ca_spec("Renewed Issuing", 0), issuing_key, old_root, root_key)
    leaf_spec = CertSpec(not_before=NOW - timedelta(days=1), not_after=NOW + timedelta(days=60))
    leaf = make_certificate(leaf_spec, leaf_key, issuing, issuing_key)
    roots = (old_root, renewed_root) if with_renewal else (old_root,)
    trust = TrustRoot(name="roots", roots=roots, intermediates=(issuing,))
    return trust, leaf, renewed_root


def test_half_a_second_after_an_old_root_expires_the_path_ends_at_its_renewal_cold_and_warm() -> (
    None
):
    trust, leaf, renewed_root = _renewed_root(with_renewal=True)
    _clear()
    assert validate_chain([leaf], trust, EDGE + HALF_SECOND).chain[-1] == renewed_root
    _clear()
    validate_chain([leaf], trust, EDGE + HALF_SECOND + ONE_SECOND)
    assert validate_chain([leaf], trust, EDGE + HALF_SECOND).chain[-1] == renewed_root


def test_half_a_second_after_the_only_anchor_expires_is_expired_not_malformed() -> None:
    trust, leaf, _ = _renewed_root(with_renewal=False)
    _clear()
    with pytest.raises(CertificateError) as caught:
        validate_chain([leaf], trust, EDGE + HALF_SECOND)
    assert caught.value.code == "certificate.expired"


# The fix relies on certificate validity bounds being whole seconds.


def test_certificate_validity_bounds_are_whole_seconds() -> None:
    key = p256_key()
    spec = ca_spec("Fraction", 0)
    spec.not_before = NOW + timedelta(microseconds=700_000)
    certificate = make_certificate(spec, key, None, key)
    assert certificate.not_valid_before_utc == NOW
    with pytest.raises(ValueError):
        x509.load_der_x509_certificate(_with_fractional_not_before(key))


def _with_fractional_not_before(key: ec.EllipticCurvePrivateKey) -> bytes:
    """A certificate whose notBefore is the GeneralizedTime 20550101100000.7Z (lengths fixed up
    by hand: every enclosing SEQUENCE grows by the two added bytes)."""
    spec = ca_spec("Fraction", 0)
    spec.not_before = datetime(2055, 1, 1, 10, 0, tzinfo=UTC)
    spec.not_after = datetime(2056, 1, 1, 10, 0, tzinfo=UTC)
    der = bytearray(make_certificate(spec, key, None, key).public_bytes(serialization.Encoding.DER))
    whole = b"\x18\x0f20550101100000Z"
    at = der.find(whole)
    assert der[at - 2] == 0x30 and der[0:2] == b"\x30\x82" and der[4:6] == b"\x30\x82"
    der[at : at + len(whole)] = b"\x18\x1120550101100000.7Z"
    der[at - 1] += 2
    for header in (0, 4):
        length = int.from_bytes(der[header + 2 : header + 4], "big") + 2
        der[header + 2 : header + 4] = length.to_bytes(2, "big")
    return bytes(der)
