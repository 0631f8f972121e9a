"""A validated chain is reused only while no candidate certificate changes validity.

The validated-chain cache once returned the path found at an earlier signing time: which CA path
(so which issuer fingerprint, and which certificates the CRLs are checked against) a verification
saw depended on what the process had verified before. Set-up: a trust root whose intermediates are
a renewed issuing CA I2 (same name and key as I1, valid only from NOW+10d) and the old I1, and a
leaf issued by that key. Verified alone at NOW+20d the chain validates through I2; after the same
chain was validated at NOW (I2 not yet valid) the cache held the path through I1 for NOW+20d, so a
CRL revoking I2 was never consulted (found by the cache attack, 2026-12-03).
"""

from __future__ import annotations

from datetime import timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from provenance.identity.chain import _REFUSED, _VALIDATED, validate_chain
from provenance.identity.revocation import _PLANS
from provenance.identity.trust import TrustRoot
from provenance.keys import signing_key_from_cryptography
from provenance.verify.policy import UnsafeAcceptAnyIdentity
from provenance.verify.verifier import Verifier
from tests.factories import REVIEW, sign
from tests.unit.identity.factory import NOW, CertSpec, ca_spec, make_certificate, p256_key


def _clear() -> None:
    with _VALIDATED._lock:
        _VALIDATED._entries.clear()
    with _REFUSED._lock:
        _REFUSED._entries.clear()
    _PLANS.clear()


def _setup(
    revoke_new: bool,
) -> tuple[TrustRoot, bytes, x509.Certificate, x509.Certificate, x509.Certificate]:
    root_key, issuing_key, leaf_key = p256_key(), p256_key(), p256_key()
    root = make_certificate(ca_spec("Hand Root", 1), root_key, None, root_key)
    old = make_certificate(ca_spec("Hand Issuing", 0), issuing_key, root, root_key)
    renewed_spec = ca_spec("Hand Issuing", 0)
    renewed_spec.not_before = NOW + timedelta(days=10)
    renewed_spec.not_after = NOW + timedelta(days=400)
    renewed = make_certificate(renewed_spec, issuing_key, root, root_key)
    leaf_spec = CertSpec(not_before=NOW - timedelta(days=1), not_after=NOW + timedelta(days=60))
    leaf = make_certificate(leaf_spec, leaf_key, old, issuing_key)
    revoked = renewed if revoke_new else old
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(root.subject)
        .last_update(NOW - timedelta(days=1))
        .next_update(NOW + timedelta(days=365))
        .add_extension(x509.CRLNumber(1), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
        .add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(revoked.serial_number)
            .revocation_date(NOW - timedelta(days=1))
            .build()
        )
        .sign(root_key, hashes.SHA256())
    )
    trust = TrustRoot(name="t", roots=(root,), intermediates=(renewed, old), crls=(crl,))
    bundle = sign(signing_key_from_cryptography(leaf_key), REVIEW, [leaf]).to_bytes()
    _setup.leaf_key = leaf_key  # type: ignore[attr-defined]
    return trust, bundle, leaf, renewed, old


POLICY = UnsafeAcceptAnyIdentity()


def test_path_choice_does_not_depend_on_an_earlier_validation_time() -> None:
    _clear()
    trust, _, leaf, _renewed, _old = _setup(revoke_new=True)
    later = NOW + timedelta(days=20)
    fresh = validate_chain([leaf], trust, later).chain
    _clear()
    validate_chain([leaf], trust, NOW)  # earlier call, I2 not yet valid: path via I1
    cached = validate_chain([leaf], trust, later).chain
    assert [c.serial_number for c in cached] == [c.serial_number for c in fresh]


def test_revoked_renewed_ca_refused_after_an_earlier_verification_of_the_same_chain() -> None:
    _clear()
    trust, bundle, *_ = _setup(revoke_new=True)
    later = NOW + timedelta(days=20)
    fresh = Verifier(trust).check(REVIEW, bundle, POLICY, at=later)
    _clear()
    Verifier(trust).check(REVIEW, bundle, POLICY, at=NOW)  # warms the chain cache via I1
    cached = Verifier(trust).check(REVIEW, bundle, POLICY, at=later)
    fresh_codes = [(f.step, f.code) for f in fresh.findings]
    cached_codes = [(f.step, f.code) for f in cached.findings]
    assert (cached.verified, cached_codes) == (fresh.verified, fresh_codes)


def test_good_bundle_not_refused_because_an_earlier_call_cached_the_revoked_old_path() -> None:
    _clear()
    trust, bundle, *_ = _setup(revoke_new=False)  # the OLD issuing certificate is revoked
    later = NOW + timedelta(days=20)
    fresh = Verifier(trust).check(REVIEW, bundle, POLICY, at=later)
    _clear()
    Verifier(trust).check(REVIEW, bundle, POLICY, at=NOW)
    cached = Verifier(trust).check(REVIEW, bundle, POLICY, at=later)
    assert (cached.verified, cached.signer) == (fresh.verified, fresh.signer)


def test_bundle_carrying_the_renewed_ca_not_refused_as_chain_extra_after_an_earlier_call() -> None:
    """No CRL at all: a bundle [leaf, I2] (the renewed issuing CA) checked at NOW+20d is valid
    fresh (path leaf-I2-root); after the same chain was checked at NOW (I2 not yet valid, path
    via the trust root's I1, correctly certificate.chain.extra then), the cached I1 path makes the
    later, good bundle fail with certificate.chain.extra."""
    _clear()
    trust, _, leaf, renewed, old = _setup(revoke_new=True)
    trust = TrustRoot(name="t", roots=trust.roots, intermediates=(old,))
    later = NOW + timedelta(days=20)
    fresh = validate_chain([leaf, renewed], trust, later).chain
    _clear()
    validate_chain([leaf, renewed], trust, NOW)
    cached = validate_chain([leaf, renewed], trust, later).chain
    assert [c.serial_number for c in cached] == [c.serial_number for c in fresh]


def test_verifier_chain_extra_depends_on_an_earlier_call() -> None:
    _clear()
    trust, _, leaf, renewed, old = _setup(revoke_new=True)
    trust = TrustRoot(name="t", roots=trust.roots, intermediates=(old,))
    key = signing_key_from_cryptography(_setup.leaf_key)  # type: ignore[attr-defined]
    bundle = sign(key, REVIEW, [leaf, renewed]).to_bytes()
    later = NOW + timedelta(days=20)
    fresh = Verifier(trust).check(REVIEW, bundle, POLICY, at=later)
    _clear()
    Verifier(trust).check(REVIEW, bundle, POLICY, at=NOW)
    cached = Verifier(trust).check(REVIEW, bundle, POLICY, at=later)
    assert fresh.verified
    assert [f.code for f in cached.findings] == [f.code for f in fresh.findings]
