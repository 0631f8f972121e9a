"""Rotation under the same root: a new issuing CA, and CRLs the offline root signs.

Both operations need the root key, which :func:`provenance.identity.storage.load_authority` never
reads: the caller unlocks it for this one operation (``specs/identity-v1.md`` §Rotation).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from provenance.errors import AuthorityError
from provenance.identity.authority import (
    AuthorityState,
    CertificateAuthority,
    RevocationEntry,
    _ca_builder,
    _sign,
    _subject,
    authority_key_identifier,
)
from provenance.identity.crl import build_crl
from provenance.identity.profile import ISSUING_PATH_LENGTH, ISSUING_VALIDITY_DAYS, as_utc
from provenance.keys import KeyType, SigningKey, generate_key

ROOT_CRL_DAYS = 365


def check_root_key(root_certificate: x509.Certificate, root_key: SigningKey) -> None:
    """Refuse a key that is not the root certificate's.

    Raises:
        AuthorityError: The key does not match.
    """
    spki = root_certificate.public_key().public_bytes(
        Encoding.DER, PublicFormat.SubjectPublicKeyInfo
    )
    if root_key.public_key.spki_der != spki:
        raise AuthorityError("the given root key is not the key of the root certificate")


def new_issuing_ca(
    ca: CertificateAuthority,
    root_key: SigningKey,
    *,
    generation: int,
    now: datetime,
    days: int = ISSUING_VALIDITY_DAYS,
) -> CertificateAuthority:
    """A new issuing CA under ``ca``'s root, with a new P-256 key and the subject
    ``<name> Issuing CA <generation>`` (distinct names keep each CA's CRLs apart).

    Raises:
        AuthorityError: A root key that is not the root's, or a naive time.
    """
    check_root_key(ca.root_certificate, root_key)
    start = as_utc(now, AuthorityError, "now").replace(microsecond=0)
    key = generate_key(KeyType.P256)
    root = ca.root_certificate
    builder = _ca_builder(
        _subject(f"{ca.name} Issuing CA {generation}", ca.name),
        root.subject,
        key.public_key,
        ISSUING_PATH_LENGTH,
    )
    end = min(start + timedelta(days=days), root.not_valid_after_utc)
    certificate = _sign(
        builder.not_valid_before(start)
        .not_valid_after(end)
        .add_extension(authority_key_identifier(root), critical=False),
        root_key,
    )
    return CertificateAuthority(
        ca.name, root, certificate, key, AuthorityState(), None, crl_url=ca.crl_url
    )


def crl_signed_by(
    issuer: x509.Certificate,
    key: SigningKey,
    revocations: Sequence[RevocationEntry],
    *,
    number: int,
    now: datetime,
    next_update_days: int,
) -> x509.CertificateRevocationList:
    """A CRL of ``revocations`` issued by ``issuer`` (an issuing CA, or the root), number ``number``.

    Raises:
        AuthorityError: A naive time or a non-positive ``next_update_days``.
    """
    state = AuthorityState(number - 1, list(revocations))
    signer = CertificateAuthority("crl", issuer, issuer, key, state, None)
    return build_crl(signer, now=now, next_update_days=max(next_update_days, 1))


def revocations_of(crl: x509.CertificateRevocationList) -> list[RevocationEntry]:
    """The entries of ``crl`` as revocations (to reissue it with one more)."""
    entries = []
    for entry in crl:
        reason = x509.ReasonFlags.unspecified
        invalidity = None
        for extension in entry.extensions:
            if isinstance(extension.value, x509.CRLReason):
                reason = extension.value.reason
            elif isinstance(extension.value, x509.InvalidityDate):
                invalidity = extension.value.invalidity_date_utc
        entries.append(
            RevocationEntry(entry.serial_number, entry.revocation_date_utc, reason, invalidity)
        )
    return entries


def crl_number(crl: x509.CertificateRevocationList) -> int:
    """The CRLNumber of ``crl`` (0 when absent)."""
    try:
        return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except x509.ExtensionNotFound:
        return 0
