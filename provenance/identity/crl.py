"""Revocation on the authority's side: record revocations, publish CRLs signed by the issuing CA."""

from __future__ import annotations

from datetime import datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes

from provenance.errors import AuthorityError
from provenance.identity.authority import (
    CertificateAuthority,
    RevocationEntry,
    authority_key_identifier,
)
from provenance.identity.profile import as_utc, describe
from provenance.identity.storage import save_state

DEFAULT_NEXT_UPDATE_DAYS = 7


def revoke(
    ca: CertificateAuthority,
    certificate: x509.Certificate,
    *,
    reason: x509.ReasonFlags,
    now: datetime,
    invalidity_date: datetime | None = None,
) -> RevocationEntry:
    """Record that ``certificate`` is revoked from ``now`` (saved when the CA has a directory).

    Args:
        ca: The authority that issued the certificate.
        certificate: A certificate its issuing CA signed.
        reason: The CRL reason code (``remove_from_crl`` is refused).
        now: The revocation time.
        invalidity_date: When the key became unsafe, at or before ``now`` (for keyCompromise,
            signatures from this time on are invalid).

    Raises:
        AuthorityError: Not issued by this CA, already revoked, a refused reason, or times that
            are naive or out of order.
    """
    revoked_at = as_utc(now, AuthorityError, "now").replace(microsecond=0)
    invalid_from = None
    if invalidity_date is not None:
        invalid_from = as_utc(invalidity_date, AuthorityError, "invalidity_date")
        invalid_from = invalid_from.replace(microsecond=0)
        if invalid_from > revoked_at:
            raise AuthorityError(
                f"invalidity date {invalid_from.isoformat()} is after the revocation time"
                f" {revoked_at.isoformat()}"
            )
    _check_revocable(ca, certificate, reason)
    entry = RevocationEntry(certificate.serial_number, revoked_at, reason, invalid_from)
    ca.state.revocations.append(entry)
    save_state(ca)
    return entry


def build_crl(
    ca: CertificateAuthority, *, now: datetime, next_update_days: int = DEFAULT_NEXT_UPDATE_DAYS
) -> x509.CertificateRevocationList:
    """Issue the next CRL: every recorded revocation, signed by the issuing CA.

    The CRL carries the CRL number (incremented and saved), the AKI of the issuing CA, and per
    entry the reason code (omitted for ``unspecified``) and the invalidity date when known.

    Raises:
        AuthorityError: A naive time or a non-positive ``next_update_days``.
    """
    this_update = as_utc(now, AuthorityError, "now").replace(microsecond=0)
    if next_update_days <= 0:
        raise AuthorityError(f"next_update_days must be positive, found {next_update_days}")
    ca.state.crl_number += 1
    save_state(ca)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.issuing_certificate.subject)
        .last_update(this_update)
        .next_update(this_update + timedelta(days=next_update_days))
        .add_extension(x509.CRLNumber(ca.state.crl_number), critical=False)
        .add_extension(authority_key_identifier(ca.issuing_certificate), critical=False)
    )
    for entry in ca.state.revocations:
        builder = builder.add_revoked_certificate(_revoked_entry(entry))
    return builder.sign(ca.issuing_key.to_cryptography(), hashes.SHA256(), ecdsa_deterministic=True)


def _revoked_entry(entry: RevocationEntry) -> x509.RevokedCertificate:
    builder = (
        x509.RevokedCertificateBuilder()
        .serial_number(entry.serial_number)
        .revocation_date(entry.revoked_at)
    )
    if entry.reason is not x509.ReasonFlags.unspecified:
        builder = builder.add_extension(x509.CRLReason(entry.reason), critical=False)
    if entry.invalidity_date is not None:
        builder = builder.add_extension(x509.InvalidityDate(entry.invalidity_date), critical=False)
    return builder.build()


def _check_revocable(
    ca: CertificateAuthority, certificate: x509.Certificate, reason: x509.ReasonFlags
) -> None:
    if reason is x509.ReasonFlags.remove_from_crl:
        raise AuthorityError("removeFromCRL is for delta CRLs; a revocation here is final")
    try:
        certificate.verify_directly_issued_by(ca.issuing_certificate)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise AuthorityError(
            f"{describe(certificate)} was not issued by {describe(ca.issuing_certificate)}"
        ) from exc
    if any(entry.serial_number == certificate.serial_number for entry in ca.state.revocations):
        raise AuthorityError(f"{describe(certificate)} is revoked already")
