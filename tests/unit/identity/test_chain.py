"""Chain validation: anchors, time, profile and the codes each failure maps to."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from provenance.errors import CertificateError
from provenance.identity import (
    CertificateAuthority,
    TrustRoot,
    create_authority,
    export_trust_root,
    issue_certificate,
    validate_chain,
)
from provenance.keys import SigningKey
from tests.unit.identity.factory import (
    IDENTITY,
    NOW,
    CertSpec,
    HandMadeChain,
    ca_spec,
    hand_made_chain,
    make_certificate,
    p256_key,
)


def _trust(chain: HandMadeChain) -> TrustRoot:
    return TrustRoot(name="hand", roots=(chain.root,))


def _code(chain: list[x509.Certificate], trust: TrustRoot, at: datetime = NOW) -> CertificateError:
    with pytest.raises(CertificateError) as caught:
        validate_chain(chain, trust, at)
    return caught.value


def test_validate_chain_accepts_issued_leaf(
    authority: CertificateAuthority, author_key: SigningKey
) -> None:
    chain = issue_certificate(authority, author_key.public_key, IDENTITY, now=NOW)
    validated = validate_chain(chain, export_trust_root(authority, crl=None), NOW)
    assert validated.leaf == chain[0]
    assert validated.chain == (chain[0], authority.issuing_certificate, authority.root_certificate)
    assert validated.identities == (IDENTITY,)
    assert validated.issuer == "CN=Reviews Example Issuing CA,O=Reviews Example"


def test_validate_chain_reports_email_identity(
    authority: CertificateAuthority, author_key: SigningKey
) -> None:
    chain = issue_certificate(authority, author_key.public_key, "alice@reviews.example", now=NOW)
    validated = validate_chain(chain, export_trust_root(authority, crl=None), NOW)
    assert validated.identities == ("alice@reviews.example",)


def test_validate_chain_finds_issuing_ca_in_trust_root_intermediates(
    authority: CertificateAuthority, author_key: SigningKey
) -> None:
    leaf = issue_certificate(authority, author_key.public_key, IDENTITY, now=NOW)[0]
    validated = validate_chain([leaf], export_trust_root(authority, crl=None), NOW)
    assert validated.identities == (IDENTITY,)


def test_validate_chain_rejects_expired_leaf(
    authority: CertificateAuthority, author_key: SigningKey
) -> None:
    chain = issue_certificate(authority, author_key.public_key, IDENTITY, now=NOW, days=10)
    error = _code(
        chain, export_trust_root(authority, crl=None), NOW + timedelta(days=10, seconds=1)
    )
    assert error.code == "certificate.expired"
    assert "leaf certificate" in error.message


def test_validate_chain_rejects_leaf_not_yet_valid(
    authority: CertificateAuthority, author_key: SigningKey
) -> None:
    chain = issue_certificate(authority, author_key.public_key, IDENTITY, now=NOW)
    error = _code(chain, export_trust_root(authority, crl=None), NOW - timedelta(seconds=1))
    assert error.code == "certificate.not_yet_valid"
    assert "leaf certificate" in error.message


def test_validate_chain_rejects_expired_issuing_ca() -> None:
    hand = hand_made_chain()
    short = ca_spec("Hand Issuing", 0)
    short.not_after = NOW + timedelta(days=5)
    hand.issuing = make_certificate(short, hand.issuing_key, hand.root, hand.root_key)
    error = _code([hand.leaf(), hand.issuing], _trust(hand), NOW + timedelta(days=6))
    assert error.code == "certificate.expired"
    assert "CA certificate CN=Hand Issuing" in error.message


def test_validate_chain_rejects_server_auth_only_eku() -> None:
    hand = hand_made_chain()
    leaf = hand.leaf(CertSpec(eku=[ExtendedKeyUsageOID.SERVER_AUTH]))
    error = _code([leaf, hand.issuing], _trust(hand))
    assert error.code == "certificate.profile"
    assert "lacks id-kp-documentSigning" in error.message
    assert "server_auth (1.3.6.1.5.5.7.3.1)" in error.message


def test_validate_chain_rejects_missing_eku() -> None:
    hand = hand_made_chain()
    error = _code([hand.leaf(CertSpec(eku=None)), hand.issuing], _trust(hand))
    assert error.code == "certificate.profile"
    assert "ExtendedKeyUsage (2.5.29.37)" in error.message


def test_validate_chain_rejects_missing_key_usage() -> None:
    hand = hand_made_chain()
    error = _code([hand.leaf(CertSpec(key_usage=None)), hand.issuing], _trust(hand))
    assert error.code == "certificate.profile"
    assert "KeyUsage (2.5.29.15)" in error.message


def test_validate_chain_rejects_intermediate_without_ca_flag() -> None:
    hand = hand_made_chain()
    not_ca = ca_spec("Hand Issuing", None)
    not_ca.ca = False
    hand.issuing = make_certificate(not_ca, hand.issuing_key, hand.root, hand.root_key)
    error = _code([hand.leaf(), hand.issuing], _trust(hand))
    assert error.code == "certificate.profile"
    assert "basicConstraints.cA must be asserted" in error.message


def test_validate_chain_rejects_path_length_exceeded() -> None:
    hand = hand_made_chain()
    sub_key = p256_key()
    sub = make_certificate(ca_spec("Hand Sub", None), sub_key, hand.issuing, hand.issuing_key)
    leaf = make_certificate(CertSpec(), p256_key(), sub, sub_key)
    error = _code([leaf, sub, hand.issuing], _trust(hand))
    assert error.code == "certificate.profile"
    assert "path length constraint violated" in error.message


def test_validate_chain_rejects_unknown_root(
    authority: CertificateAuthority, author_key: SigningKey
) -> None:
    chain = issue_certificate(authority, author_key.public_key, IDENTITY, now=NOW)
    error = _code(chain, _trust(hand_made_chain()))
    assert error.code == "certificate.untrusted"


def test_validate_chain_never_trusts_root_inside_the_chain() -> None:
    attacker, trusted = hand_made_chain("Hand Root"), hand_made_chain("Hand Root")
    chain = [attacker.leaf(), attacker.issuing, attacker.root]
    error = _code(chain, _trust(trusted))
    assert error.code == "certificate.untrusted"


def test_validate_chain_rejects_trust_root_without_roots(
    authority: CertificateAuthority, author_key: SigningKey
) -> None:
    chain = issue_certificate(authority, author_key.public_key, IDENTITY, now=NOW)
    error = _code(chain, TrustRoot(name="empty"))
    assert error.code == "certificate.untrusted"


def test_validate_chain_rejects_identity_only_in_common_name() -> None:
    hand = hand_made_chain()
    leaf = hand.leaf(CertSpec(common_name=IDENTITY, sans=None))
    error = _code([leaf, hand.issuing], _trust(hand))
    assert error.code == "certificate.profile"
    assert "SubjectAlternativeName (2.5.29.17)" in error.message


def test_validate_chain_rejects_san_without_uri_or_email() -> None:
    hand = hand_made_chain()
    leaf = hand.leaf(CertSpec(sans=[x509.DNSName("reviews.example")]))
    error = _code([leaf, hand.issuing], _trust(hand))
    assert error.code == "certificate.profile"
    assert "carries no URI or email identity" in error.message


def test_validate_chain_rejects_leaf_that_is_a_ca() -> None:
    hand = hand_made_chain()
    error = _code([hand.leaf(CertSpec(ca=True)), hand.issuing], _trust(hand))
    assert error.code == "certificate.profile"


def test_validate_chain_rejects_empty_chain(authority: CertificateAuthority) -> None:
    error = _code([], export_trust_root(authority, crl=None))
    assert error.code == "certificate.malformed"


def test_validate_chain_ignores_common_name_when_san_present() -> None:
    hand = hand_made_chain()
    leaf = hand.leaf(CertSpec(common_name="https://other.example/u/1"))
    validated = validate_chain([leaf, hand.issuing], _trust(hand), NOW)
    assert validated.identities == (IDENTITY,)


def test_validate_chain_refuses_naive_time(
    authority: CertificateAuthority, author_key: SigningKey
) -> None:
    chain = issue_certificate(authority, author_key.public_key, IDENTITY, now=NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        validate_chain(chain, export_trust_root(authority, crl=None), NOW.replace(tzinfo=None))


def test_validate_chain_calls_foreign_chain_with_its_root_untrusted(
    authority: CertificateAuthority, author_key: SigningKey
) -> None:
    rogue = create_authority("Rogue Reviews", now=NOW - timedelta(days=1)).authority
    chain = issue_certificate(rogue, author_key.public_key, IDENTITY, now=NOW)
    error = _code([*chain, rogue.root_certificate], export_trust_root(authority, crl=None))
    assert error.code == "certificate.untrusted"
    assert "all candidates exhausted with no interior errors" in error.message
