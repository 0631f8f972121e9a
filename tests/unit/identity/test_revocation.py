"""CRLs the authority issues, and the signing-time rule of the revocation check."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from provenance.errors import AuthorityError, CertificateError
from provenance.identity import (
    CertificateAuthority,
    RevocationReport,
    TrustRoot,
    ValidatedChain,
    build_crl,
    check_revocation,
    export_trust_root,
    issue_certificate,
    revoke,
    validate_chain,
)
from provenance.identity.authority import authority_key_identifier
from provenance.keys import SigningKey, signing_key_from_cryptography
from tests.unit.identity.factory import IDENTITY, NOW, hand_made_chain, p256_key

REVOKED_AT = NOW + timedelta(days=10)
COMPROMISED_AT = NOW + timedelta(days=3)
ISSUING = "CN=Reviews Example Issuing CA,O=Reviews Example"
ROOT = "CN=Reviews Example Root CA,O=Reviews Example"


def _issue(authority: CertificateAuthority, key: SigningKey) -> ValidatedChain:
    chain = issue_certificate(authority, key.public_key, IDENTITY, now=NOW)
    return validate_chain(chain, export_trust_root(authority, crl=None), NOW)


def _check(validated: ValidatedChain, trust: TrustRoot, signing_time: datetime) -> RevocationReport:
    return check_revocation(validated, trust, signing_time=signing_time, now=REVOKED_AT)


def _revoked_trust(
    authority: CertificateAuthority,
    validated: ValidatedChain,
    reason: x509.ReasonFlags,
    invalidity_date: datetime | None = None,
) -> TrustRoot:
    revoke(
        authority, validated.leaf, reason=reason, now=REVOKED_AT, invalidity_date=invalidity_date
    )
    return export_trust_root(authority, crl=build_crl(authority, now=REVOKED_AT))


def test_build_crl_numbers_and_signs_with_issuing_ca(authority: CertificateAuthority) -> None:
    first, second = build_crl(authority, now=NOW), build_crl(authority, now=NOW)
    assert first.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 1
    assert second.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 2
    assert second.issuer == authority.issuing_certificate.subject
    issuing_key = authority.issuing_certificate.public_key()
    assert isinstance(issuing_key, ec.EllipticCurvePublicKey)
    assert second.is_signature_valid(issuing_key)
    assert second.next_update_utc == NOW + timedelta(days=7)
    aki = second.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = authority.issuing_certificate.extensions.get_extension_for_class(
        x509.SubjectKeyIdentifier
    ).value
    assert aki.key_identifier == ski.digest


def test_build_crl_records_reason_and_invalidity_date(
    authority: CertificateAuthority, author_key: SigningKey
) -> None:
    leaf = issue_certificate(authority, author_key.public_key, IDENTITY, now=NOW)[0]
    revoke(
        authority,
        leaf,
        reason=x509.ReasonFlags.key_compromise,
        now=REVOKED_AT,
        invalidity_date=COMPROMISED_AT,
    )
    entry = build_crl(authority, now=REVOKED_AT).get_revoked_certificate_by_serial_number(
        leaf.serial_number
    )
    assert entry is not None
    assert entry.revocation_date_utc == REVOKED_AT
    reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    assert reason is x509.ReasonFlags.key_compromise
    invalidity = entry.extensions.get_extension_for_class(x509.InvalidityDate).value
    assert invalidity.invalidity_date_utc == COMPROMISED_AT


def test_build_crl_omits_unspecified_reason(
    authority: CertificateAuthority, author_key: SigningKey
) -> None:
    leaf = issue_certificate(authority, author_key.public_key, IDENTITY, now=NOW)[0]
    revoke(authority, leaf, reason=x509.ReasonFlags.unspecified, now=REVOKED_AT)
    entry = build_crl(authority, now=REVOKED_AT)[0]
    assert len(entry.extensions) == 0


def test_revoke_refuses_certificate_of_another_ca(authority: CertificateAuthority) -> None:
    foreign = hand_made_chain().leaf()
    with pytest.raises(AuthorityError, match="was not issued by"):
        revoke(authority, foreign, reason=x509.ReasonFlags.superseded, now=NOW)


def test_revoke_refuses_second_revocation(
    authority: CertificateAuthority, author_key: SigningKey
) -> None:
    leaf = issue_certificate(authority, author_key.public_key, IDENTITY, now=NOW)[0]
    revoke(authority, leaf, reason=x509.ReasonFlags.superseded, now=NOW)
    with pytest.raises(AuthorityError, match="revoked already"):
        revoke(authority, leaf, reason=x509.ReasonFlags.key_compromise, now=NOW)


def test_revoke_refuses_invalidity_date_after_revocation(
    authority: CertificateAuthority, author_key: SigningKey
) -> None:
    leaf = issue_certificate(authority, author_key.public_key, IDENTITY, now=NOW)[0]
    with pytest.raises(AuthorityError, match="is after the revocation time"):
        revoke(
            authority,
            leaf,
            reason=x509.ReasonFlags.key_compromise,
            now=NOW,
            invalidity_date=NOW + timedelta(seconds=1),
        )


def test_check_revocation_accepts_signature_before_revocation(
    authority: CertificateAuthority, author_key: SigningKey
) -> None:
    validated = _issue(authority, author_key)
    trust = _revoked_trust(authority, validated, x509.ReasonFlags.superseded)
    report = _check(validated, trust, REVOKED_AT - timedelta(seconds=1))
    assert report == RevocationReport(checked=(ISSUING,), unchecked=(ROOT,), stale=())


def test_check_revocation_rejects_signature_at_revocation(
    authority: CertificateAuthority, author_key: SigningKey
) -> None:
    validated = _issue(authority, author_key)
    trust = _revoked_trust(authority, validated, x509.ReasonFlags.superseded)
    with pytest.raises(CertificateError) as caught:
        _check(validated, trust, REVOKED_AT)
    assert caught.value.code == "certificate.revoked"
    serial = f"{validated.leaf.serial_number:x}"
    assert caught.value.message == (
        f"CN={IDENTITY},O=Reviews Example (serial {serial}) is revoked (superseded)"
        f" from {REVOKED_AT.isoformat()}; the signature was made at {REVOKED_AT.isoformat()}"
    )


def test_check_revocation_rejects_signature_after_key_compromise(
    authority: CertificateAuthority, author_key: SigningKey
) -> None:
    validated = _issue(authority, author_key)
    trust = _revoked_trust(
        authority, validated, x509.ReasonFlags.key_compromise, invalidity_date=COMPROMISED_AT
    )
    with pytest.raises(CertificateError) as caught:
        _check(validated, trust, COMPROMISED_AT + timedelta(days=1))
    assert caught.value.code == "certificate.revoked"
    assert f"(keyCompromise) from {COMPROMISED_AT.isoformat()}" in caught.value.message


def test_check_revocation_accepts_signature_before_key_compromise(
    authority: CertificateAuthority, author_key: SigningKey
) -> None:
    validated = _issue(authority, author_key)
    trust = _revoked_trust(
        authority, validated, x509.ReasonFlags.key_compromise, invalidity_date=COMPROMISED_AT
    )
    report = _check(validated, trust, COMPROMISED_AT - timedelta(seconds=1))
    assert report.checked == (ISSUING,)


def test_check_revocation_ignores_invalidity_date_without_key_compromise(
    authority: CertificateAuthority, author_key: SigningKey
) -> None:
    validated = _issue(authority, author_key)
    trust = _revoked_trust(
        authority, validated, x509.ReasonFlags.superseded, invalidity_date=COMPROMISED_AT
    )
    report = _check(validated, trust, COMPROMISED_AT + timedelta(days=1))
    assert report.checked == (ISSUING,)


def test_check_revocation_rejects_crl_naming_the_cas_key_but_signed_by_another(
    authority: CertificateAuthority, author_key: SigningKey
) -> None:
    validated = _issue(authority, author_key)
    forged = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(authority.issuing_certificate.subject)
        .last_update(NOW)
        .next_update(NOW + timedelta(days=7))
        .add_extension(x509.CRLNumber(1), critical=False)
        .add_extension(authority_key_identifier(authority.issuing_certificate), critical=False)
        .sign(p256_key(), hashes.SHA256())
    )
    trust = TrustRoot(name="t", roots=(authority.root_certificate,), crls=(forged,))
    with pytest.raises(CertificateError) as caught:
        _check(validated, trust, NOW)
    assert caught.value.code == "certificate.crl.invalid"


def test_check_revocation_ignores_same_named_crl_of_another_key(
    authority: CertificateAuthority, author_key: SigningKey
) -> None:
    validated = _issue(authority, author_key)
    other = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(authority.issuing_certificate.subject)
        .last_update(NOW)
        .next_update(NOW + timedelta(days=7))
        .add_extension(x509.CRLNumber(1), critical=False)
        .sign(p256_key(), hashes.SHA256())
    )
    trust = TrustRoot(name="t", roots=(authority.root_certificate,), crls=(other,))
    assert _check(validated, trust, NOW).unchecked == (ISSUING, ROOT)


def test_check_revocation_rejects_crl_from_the_future(
    authority: CertificateAuthority, author_key: SigningKey
) -> None:
    validated = _issue(authority, author_key)
    crl = build_crl(authority, now=REVOKED_AT + timedelta(days=1))
    trust = export_trust_root(authority, crl=crl)
    with pytest.raises(CertificateError) as caught:
        _check(validated, trust, NOW)
    assert caught.value.code == "certificate.crl.invalid"


def test_check_revocation_ignores_crl_of_another_ca(
    authority: CertificateAuthority, author_key: SigningKey
) -> None:
    validated = _issue(authority, author_key)
    other = hand_made_chain()
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(other.issuing.subject)
        .last_update(NOW)
        .next_update(NOW + timedelta(days=7))
        .sign(other.issuing_key, hashes.SHA256())
    )
    trust = TrustRoot(name="t", roots=(authority.root_certificate,), crls=(crl,))
    report = _check(validated, trust, NOW)
    assert report == RevocationReport(checked=(), unchecked=(ISSUING, ROOT), stale=())


def test_check_revocation_reports_stale_crl(
    authority: CertificateAuthority, author_key: SigningKey
) -> None:
    validated = _issue(authority, author_key)
    trust = export_trust_root(authority, crl=build_crl(authority, now=NOW, next_update_days=1))
    report = _check(validated, trust, NOW)
    assert report.stale == (ISSUING,)


def test_check_revocation_reads_each_leaf_of_the_same_cas_in_the_crl(
    authority: CertificateAuthority, author_key: SigningKey
) -> None:
    # The plan is shared by every leaf of the same CAs and CRLs: a leaf checked first (not listed)
    # must not make a listed leaf of the same issuer pass, nor the other way round.
    kept = _issue(authority, author_key)
    revoked = _issue(authority, signing_key_from_cryptography(p256_key()))
    trust = _revoked_trust(authority, revoked, x509.ReasonFlags.superseded)
    assert _check(kept, trust, REVOKED_AT).checked == (ISSUING,)
    with pytest.raises(CertificateError) as caught:
        _check(revoked, trust, REVOKED_AT)
    assert caught.value.code == "certificate.revoked"
    assert f"(serial {revoked.leaf.serial_number:x}) is revoked" in caught.value.message
    assert _check(kept, trust, REVOKED_AT).checked == (ISSUING,)
