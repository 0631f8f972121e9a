"""CRLs weaker than RFC 5280 (issue 12.6) and CRLs matched to their issuer by name only (issue 19.9).

A CRL is used only when it is a complete v2 CRL that RFC 5280 allows: a non-critical cRLNumber, no
critical extension the verifier cannot process (delta and partitioned CRLs), signed by a CA whose
keyUsage includes cRLSign. A CRL belongs to the CA whose name it carries *and* whose key signed it
(its authorityKeyIdentifier names that key): two authorities with identical names in one trust root
do not break each other's revocation.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from provenance.identity.authority import (
    CertificateAuthority,
    authority_key_identifier,
    create_authority,
)
from provenance.identity.crl import build_crl, revoke
from provenance.identity.trust import TrustRoot, export_trust_root
from tests.adversarial.attack import SIGNED_AT, codes
from tests.factories import IDENTITY, NOW, CertifiedAuthor, certified_author, sign

CREATED = NOW - timedelta(days=60)
CRL_AT = NOW - timedelta(days=1)
FIRST_NUMBER = x509.CRLNumber(1)


def _authority(name: str = "Reviews Example", crl_sign: bool = True) -> CertificateAuthority:
    """A fresh authority; with ``crl_sign=False`` its issuing CA's keyUsage lacks cRLSign."""
    new = create_authority(name, now=CREATED)
    if crl_sign:
        return new.authority
    issuing = new.authority.issuing_certificate
    usage = x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(issuing.subject)
        .issuer_name(issuing.issuer)
        .public_key(issuing.public_key())
        .serial_number(issuing.serial_number + 1)
        .not_valid_before(issuing.not_valid_before_utc)
        .not_valid_after(issuing.not_valid_after_utc)
    )
    for extension in issuing.extensions:
        value = usage if isinstance(extension.value, x509.KeyUsage) else extension.value
        builder = builder.add_extension(value, extension.critical)
    weak = builder.sign(new.root_key.to_cryptography(), hashes.SHA256())
    return replace(new.authority, issuing_certificate=weak)


def _revoked_author(authority: CertificateAuthority) -> CertifiedAuthor:
    author = certified_author(authority, IDENTITY, issued=SIGNED_AT - timedelta(days=1))
    revoke(authority, author.chain[0], reason=x509.ReasonFlags.key_compromise, now=SIGNED_AT)
    return author


def _crl(
    authority: CertificateAuthority,
    *,
    number: x509.CRLNumber | None = FIRST_NUMBER,
    number_critical: bool = False,
    extra: x509.ExtensionType | None = None,
) -> x509.CertificateRevocationList:
    """The authority's CRL with its revocations, made by hand to vary its extensions."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(authority.issuing_certificate.subject)
        .last_update(CRL_AT)
        .next_update(CRL_AT + timedelta(days=7))
        .add_extension(authority_key_identifier(authority.issuing_certificate), critical=False)
    )
    if number is not None:
        builder = builder.add_extension(number, critical=number_critical)
    if extra is not None:
        builder = builder.add_extension(extra, critical=True)
    for entry in authority.state.revocations:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(entry.serial_number)
            .revocation_date(entry.revoked_at)
            .build()
        )
    return builder.sign(authority.issuing_key.to_cryptography(), hashes.SHA256())


def _codes_of_a_revoked_author(
    authority: CertificateAuthority, crl: x509.CertificateRevocationList
) -> list[str]:
    author = _revoked_author(authority)
    trust = export_trust_root(authority, crl=crl)
    return codes(sign(author.key, chain=author.chain), trust)


def test_a_well_formed_crl_revokes() -> None:
    authority = _authority()
    author = _revoked_author(authority)
    trust = export_trust_root(authority, crl=_crl(authority))
    assert codes(sign(author.key, chain=author.chain), trust) == ["certificate.revoked"]


def test_crl_without_a_crl_number_is_refused() -> None:
    authority = _authority()
    author = certified_author(authority, IDENTITY, issued=SIGNED_AT - timedelta(days=1))
    trust = export_trust_root(authority, crl=_crl(authority, number=None))
    assert codes(sign(author.key, chain=author.chain), trust) == ["certificate.crl.invalid"]


def test_crl_with_a_critical_crl_number_is_refused() -> None:
    authority = _authority()
    author = certified_author(authority, IDENTITY, issued=SIGNED_AT - timedelta(days=1))
    trust = export_trust_root(authority, crl=_crl(authority, number_critical=True))
    assert codes(sign(author.key, chain=author.chain), trust) == ["certificate.crl.invalid"]


def test_crl_of_an_issuer_without_crl_sign_is_refused() -> None:
    authority = _authority(crl_sign=False)
    author = certified_author(authority, IDENTITY, issued=SIGNED_AT - timedelta(days=1))
    trust = export_trust_root(authority, crl=build_crl(authority, now=CRL_AT))
    assert codes(sign(author.key, chain=author.chain), trust) == ["certificate.crl.invalid"]


def test_delta_crl_is_refused() -> None:
    authority = _authority()
    author = certified_author(authority, IDENTITY, issued=SIGNED_AT - timedelta(days=1))
    delta = _crl(authority, number=x509.CRLNumber(2), extra=x509.DeltaCRLIndicator(1))
    trust = export_trust_root(authority, crl=delta)
    assert codes(sign(author.key, chain=author.chain), trust) == ["certificate.crl.invalid"]


def test_partitioned_crl_is_refused() -> None:
    authority = _authority()
    author = certified_author(authority, IDENTITY, issued=SIGNED_AT - timedelta(days=1))
    scope = x509.IssuingDistributionPoint(
        full_name=None,
        relative_name=None,
        only_contains_user_certs=False,
        only_contains_ca_certs=True,
        only_some_reasons=None,
        indirect_crl=False,
        only_contains_attribute_certs=False,
    )
    trust = export_trust_root(authority, crl=_crl(authority, extra=scope))
    assert codes(sign(author.key, chain=author.chain), trust) == ["certificate.crl.invalid"]


def _two_publishers_with_identical_names() -> tuple[
    CertificateAuthority, CertificateAuthority, TrustRoot
]:
    first, second = _authority(), _authority()
    assert first.issuing_certificate.subject == second.issuing_certificate.subject
    trust = TrustRoot(
        name="two publishers",
        roots=(first.root_certificate, second.root_certificate),
        intermediates=(first.issuing_certificate, second.issuing_certificate),
    )
    return first, second, trust


def test_crl_of_an_authority_with_the_same_names_does_not_break_the_other() -> None:
    first, second, trust = _two_publishers_with_identical_names()
    author = certified_author(first, IDENTITY, issued=SIGNED_AT - timedelta(days=1))
    both = replace(trust, crls=(build_crl(second, now=CRL_AT), build_crl(first, now=CRL_AT)))
    assert codes(sign(author.key, chain=author.chain), both) == []


def test_revocation_by_an_authority_with_the_same_names_as_another_still_holds() -> None:
    first, second, trust = _two_publishers_with_identical_names()
    revoked = _revoked_author(second)
    both = replace(trust, crls=(build_crl(first, now=CRL_AT), build_crl(second, now=CRL_AT)))
    assert codes(sign(revoked.key, chain=revoked.chain), both) == ["certificate.revoked"]


def test_crl_claiming_an_authoritys_key_but_signed_by_another_is_invalid() -> None:
    first, second, trust = _two_publishers_with_identical_names()
    author = certified_author(first, IDENTITY, issued=SIGNED_AT - timedelta(days=1))
    forged = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(first.issuing_certificate.subject)
        .last_update(CRL_AT)
        .next_update(CRL_AT + timedelta(days=7))
        .add_extension(x509.CRLNumber(1), critical=False)
        .add_extension(authority_key_identifier(first.issuing_certificate), critical=False)
        .sign(second.issuing_key.to_cryptography(), hashes.SHA256())
    )
    assert codes(sign(author.key, chain=author.chain), replace(trust, crls=(forged,))) == [
        "certificate.crl.invalid"
    ]


def test_a_revocation_in_any_applicable_crl_counts() -> None:
    authority = _authority()
    older = build_crl(authority, now=CRL_AT - timedelta(days=1))
    revoked = _revoked_author(authority)
    newer = build_crl(authority, now=CRL_AT)
    for crls in ((older, newer), (newer, older)):
        trust = replace(export_trust_root(authority, crl=None), crls=crls)
        assert codes(sign(revoked.key, chain=revoked.chain), trust) == ["certificate.revoked"]
