"""Revocation checking against the trust root's CRLs, with the signing-time rule.

A revoked certificate invalidates signatures made at or after its revocation date, or at or after
its invalidityDate when the reason is keyCompromise and that date is earlier. Signatures made
before stay valid: this is what a proven (logged) signing time buys.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from provenance.errors import CertificateError
from provenance.identity.chain import ValidatedChain
from provenance.identity.profile import as_utc, describe
from provenance.identity.trust import TrustRoot

REVOKED = "certificate.revoked"
CRL_INVALID = "certificate.crl.invalid"


@dataclass(frozen=True)
class RevocationReport:
    """What the revocation check could see.

    Attributes:
        checked: Subjects (RFC 4514) of the chain CAs whose CRL was checked.
        unchecked: Subjects of the chain CAs for which the trust root holds no CRL.
        stale: Subjects of the CAs whose CRL's nextUpdate is before ``now``.
    """

    checked: tuple[str, ...]
    unchecked: tuple[str, ...]
    stale: tuple[str, ...]


def check_revocation(
    validated: ValidatedChain, trust: TrustRoot, *, signing_time: datetime, now: datetime
) -> RevocationReport:
    """Check every certificate of ``validated`` against the CRLs of ``trust``.

    CRLs whose issuer is not a CA of the chain are ignored. A CRL naming a chain CA as issuer must
    be signed by that CA's key and must not be issued after ``now``.

    Args:
        validated: The chain :func:`validate_chain` returned.
        trust: The trust root holding the CRLs.
        signing_time: When the signature was made (proven by the log, else claimed).
        now: The verification time (for CRL freshness).

    Returns:
        Which CAs' CRLs were checked, missing or stale; the caller's policy decides.

    Raises:
        CertificateError: ``certificate.revoked`` when a certificate of the chain was revoked
            at or before ``signing_time``; ``certificate.crl.invalid`` for a CRL that claims a
            chain CA as issuer but is badly signed, malformed or from the future.
        ValueError: A naive ``signing_time`` or ``now`` (a bug of the caller, not bad input).
    """
    signed_at = as_utc(signing_time, ValueError, "signing time")
    current = as_utc(now, ValueError, "now")
    checked, stale = [], []
    issuers = validated.chain[1:]
    names = validated.issuer_subjects
    for issuer, subject, name in zip(issuers, validated.chain, names, strict=False):
        crls = [crl for crl in trust.crls if crl.issuer == issuer.subject]
        for crl in crls:
            _check_crl(crl, issuer, current)
            _check_entry(crl, subject, signed_at)
            if crl.next_update_utc is not None and crl.next_update_utc < current:
                stale.append(name)
        if crls:
            checked.append(name)
    unchecked = [name for name in names if name not in checked]
    return RevocationReport(tuple(checked), tuple(unchecked), tuple(stale))


def _check_crl(
    crl: x509.CertificateRevocationList, issuer: x509.Certificate, now: datetime
) -> None:
    if not _signed_by(crl.public_bytes(Encoding.DER), issuer.public_bytes(Encoding.DER)):
        raise CertificateError(
            f"CRL naming {issuer.subject.rfc4514_string()} as issuer is not signed by that CA's key",
            code=CRL_INVALID,
        )
    if crl.last_update_utc > now:
        raise CertificateError(
            f"CRL of {issuer.subject.rfc4514_string()} is issued {crl.last_update_utc.isoformat()},"
            f" after the verification time {now.isoformat()}",
            code=CRL_INVALID,
        )


@lru_cache(maxsize=256)
def _signed_by(crl_der: bytes, issuer_der: bytes) -> bool:
    """Whether the CRL ``crl_der`` is signed by the key of the certificate ``issuer_der``.

    Cached per (CRL, issuer) bytes: the answer depends on nothing else.
    """
    public_key = x509.load_der_x509_certificate(issuer_der).public_key()
    return isinstance(
        public_key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey
    ) and x509.load_der_x509_crl(crl_der).is_signature_valid(public_key)


def _check_entry(
    crl: x509.CertificateRevocationList, certificate: x509.Certificate, signed_at: datetime
) -> None:
    entry = crl.get_revoked_certificate_by_serial_number(certificate.serial_number)
    if entry is None:
        return
    try:
        reason = _reason(entry)
        invalid_from = _invalidity_date(entry)
    except ValueError as exc:
        raise CertificateError(f"malformed CRL entry: {exc}", code=CRL_INVALID) from exc
    effective = entry.revocation_date_utc
    if reason is x509.ReasonFlags.key_compromise and invalid_from is not None:
        effective = min(effective, invalid_from)
    if signed_at >= effective:
        raise CertificateError(
            f"{describe(certificate)} is revoked ({reason.value}) from {effective.isoformat()};"
            f" the signature was made at {signed_at.isoformat()}",
            code=REVOKED,
        )


def _reason(entry: x509.RevokedCertificate) -> x509.ReasonFlags:
    try:
        return entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    except x509.ExtensionNotFound:
        return x509.ReasonFlags.unspecified


def _invalidity_date(entry: x509.RevokedCertificate) -> datetime | None:
    try:
        return entry.extensions.get_extension_for_class(
            x509.InvalidityDate
        ).value.invalidity_date_utc
    except x509.ExtensionNotFound:
        return None
