"""The identity authority: an offline root CA, an issuing CA, and leaf certificate issuance.

Profiles are those of ``specs/identity-v1.md``: every key is ECDSA P-256, CA certificates carry
critical basicConstraints (root pathLen 1, issuing pathLen 0) and keyCertSign + cRLSign; leaves
carry digitalSignature, id-kp-documentSigning (bundles) and id-kp-emailProtection (the one C2PA
signer EKU that stock C2PA readers accept by default), AKI/SKI and the identity in their SAN: one
certificate signs text and media (C2PA spec §14.5).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from provenance.errors import AuthorityError
from provenance.identity.names import parse_identity
from provenance.identity.profile import (
    DEFAULT_LEAF_DAYS,
    DOCUMENT_SIGNING,
    IDENTITY_LIMITS,
    ISSUING_PATH_LENGTH,
    ISSUING_VALIDITY_DAYS,
    ROOT_PATH_LENGTH,
    ROOT_VALIDITY_DAYS,
    as_utc,
    describe,
    within_validity,
)
from provenance.keys import KeyType, SigningKey, VerifyingKey, generate_key


@dataclass(frozen=True)
class RevocationEntry:
    """One revoked certificate as the authority records it.

    Attributes:
        serial_number: The revoked certificate's serial number.
        revoked_at: When the authority revoked it (the CRL entry's revocationDate).
        reason: The CRL reason code.
        invalidity_date: When the key is known or suspected to have become unsafe, if earlier.
    """

    serial_number: int
    revoked_at: datetime
    reason: x509.ReasonFlags
    invalidity_date: datetime | None = None


@dataclass
class AuthorityState:
    """The authority's mutable state: its revocations and the number of the last CRL issued."""

    crl_number: int = 0
    revocations: list[RevocationEntry] = field(default_factory=list)


@dataclass
class CertificateAuthority:
    """An issuing CA ready to certify identities; the root key is not part of it.

    Attributes:
        name: The authority's name (the O of every subject it issues).
        root_certificate: The self-signed root, the trust anchor verifiers are given.
        issuing_certificate: The issuing intermediate the root certified.
        issuing_key: The issuing intermediate's private key.
        state: Revocations and the CRL number counter.
        directory: The CA directory the state is saved to, or ``None`` when held in memory only.
        crl_url: Where the issuing CA's CRL is published (an http or https URL), written into
            every leaf issued as its CRL distribution point; ``None`` writes none.
    """

    name: str
    root_certificate: x509.Certificate
    issuing_certificate: x509.Certificate
    issuing_key: SigningKey
    state: AuthorityState = field(default_factory=AuthorityState)
    directory: Path | None = None
    crl_url: str | None = None

    @property
    def chain(self) -> list[x509.Certificate]:
        """The CA part of an issued chain: the issuing certificate (the root is a trust anchor)."""
        return [self.issuing_certificate]


@dataclass(frozen=True)
class NewAuthority:
    """A freshly created authority together with its root key, which belongs offline."""

    authority: CertificateAuthority
    root_key: SigningKey


def create_authority(
    name: str,
    *,
    now: datetime,
    root_days: int = ROOT_VALIDITY_DAYS,
    issuing_days: int = ISSUING_VALIDITY_DAYS,
) -> NewAuthority:
    """Create a root CA and the issuing CA it certifies, both with new P-256 keys.

    Args:
        name: The authority's name, 1 to 48 printable characters.
        now: The creation time (timezone-aware); certificates are valid from it.
        root_days: Validity of the root certificate (default 20 years).
        issuing_days: Validity of the issuing certificate, cut to the root's.

    Raises:
        AuthorityError: A bad name, naive time or validity.
    """
    _check_authority_name(name)
    start = as_utc(now, AuthorityError, "now").replace(microsecond=0)
    if root_days <= 0 or issuing_days <= 0:
        raise AuthorityError("CA validity must be a positive number of days")
    root_key, issuing_key = generate_key(KeyType.P256), generate_key(KeyType.P256)
    root_subject = _subject(f"{name} Root CA", name)
    root_builder = _ca_builder(root_subject, root_subject, root_key.public_key, ROOT_PATH_LENGTH)
    root = _sign(
        root_builder.not_valid_before(start)
        .not_valid_after(start + timedelta(days=root_days))
        .add_extension(_aki_from_key(root_key.public_key), critical=False),
        root_key,
    )
    issuing_builder = _ca_builder(
        _subject(f"{name} Issuing CA", name),
        root_subject,
        issuing_key.public_key,
        ISSUING_PATH_LENGTH,
    )
    issuing_end = min(start + timedelta(days=issuing_days), root.not_valid_after_utc)
    issuing = _sign(
        issuing_builder.not_valid_before(start)
        .not_valid_after(issuing_end)
        .add_extension(authority_key_identifier(root), critical=False),
        root_key,
    )
    authority = CertificateAuthority(name, root, issuing, issuing_key)
    return NewAuthority(authority, root_key)


def issue_certificate(
    ca: CertificateAuthority,
    public_key: VerifyingKey,
    identity: str,
    *,
    now: datetime,
    days: int = DEFAULT_LEAF_DAYS,
) -> list[x509.Certificate]:
    """Certify ``public_key`` for ``identity`` (the identity the authority asserts).

    Args:
        ca: The issuing authority.
        public_key: A P-256 key (an author's, or the publisher's own signing service key).
        identity: An https URI or an email address (see :func:`parse_identity`).
        now: The issuance time; the leaf is valid from it.
        days: Validity in days (1 to 825), cut to the issuing CA's notAfter.

    Returns:
        The chain leaf first: ``[leaf, issuing CA]``; the root is the verifier's trust anchor.

    Raises:
        AuthorityError: A bad identity, a key that is not P-256, bad validity, or an issuing CA
            that is not valid at ``now``.
    """
    general_name = parse_identity(identity)
    key = _p256_public_key(public_key)
    start = as_utc(now, AuthorityError, "now").replace(microsecond=0)
    issuing = ca.issuing_certificate
    if not within_validity(issuing, start):
        raise AuthorityError(
            f"the issuing CA {describe(issuing)} is valid {issuing.not_valid_before_utc.isoformat()}"
            f" to {issuing.not_valid_after_utc.isoformat()}, not at {start.isoformat()}"
        )
    if not 0 < days <= IDENTITY_LIMITS.max_leaf_days:
        raise AuthorityError(
            f"leaf validity must be 1 to {IDENTITY_LIMITS.max_leaf_days} days, found {days}"
        )
    end = min(start + timedelta(days=days), issuing.not_valid_after_utc)
    common_name = identity if len(identity) <= IDENTITY_LIMITS.max_common_name_chars else None
    leaf = _sign(
        _leaf_builder(ca, key, general_name, common_name)
        .not_valid_before(start)
        .not_valid_after(end),
        ca.issuing_key,
    )
    return [leaf, *ca.chain]


def _leaf_builder(
    ca: CertificateAuthority,
    key: ec.EllipticCurvePublicKey,
    general_name: x509.GeneralName,
    common_name: str | None,
) -> x509.CertificateBuilder:
    usage = _key_usage(digital_signature=True)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_subject(common_name, ca.name))
        .issuer_name(ca.issuing_certificate.subject)
        .public_key(key)
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION]),
            critical=False,
        )
        .add_extension(x509.SubjectAlternativeName([general_name]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key), critical=False)
        .add_extension(authority_key_identifier(ca.issuing_certificate), critical=False)
    )
    if ca.crl_url is None:
        return builder
    return builder.add_extension(crl_distribution_point(ca.crl_url), critical=False)


def crl_distribution_point(url: str) -> x509.CRLDistributionPoints:
    """The CRLDistributionPoints extension naming ``url`` (RFC 5280 §4.2.1.13): one distribution
    point, a full name that is the URI, no reasons, no CRL issuer.

    Raises:
        AuthorityError: ``url`` is not an ASCII http or https URL with a host.
    """
    parts = urlsplit(url)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or not url.isascii()
        or any(char.isspace() or not char.isprintable() for char in url)
    ):
        raise AuthorityError(f"a CRL distribution point is an http(s) URL, found {url!r}")
    point = x509.DistributionPoint(
        full_name=[x509.UniformResourceIdentifier(url)],
        relative_name=None,
        reasons=None,
        crl_issuer=None,
    )
    return x509.CRLDistributionPoints([point])


def _ca_builder(
    subject: x509.Name, issuer: x509.Name, public_key: VerifyingKey, path_length: int
) -> x509.CertificateBuilder:
    key = _p256_public_key(public_key)
    usage = _key_usage(key_cert_sign=True, crl_sign=True)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key)
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key), critical=False)
    )


def _key_usage(
    *, digital_signature: bool = False, key_cert_sign: bool = False, crl_sign: bool = False
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


def authority_key_identifier(issuer: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    """The AuthorityKeyIdentifier naming ``issuer``'s key (its SubjectKeyIdentifier)."""
    ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def _aki_from_key(public_key: VerifyingKey) -> x509.AuthorityKeyIdentifier:
    return x509.AuthorityKeyIdentifier.from_issuer_public_key(_p256_public_key(public_key))


def _subject(common_name: str | None, organization: str) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)]
    if common_name is not None:
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _sign(builder: x509.CertificateBuilder, key: SigningKey) -> x509.Certificate:
    """Sign with ECDSA P-256 / SHA-256, RFC 6979 deterministic (as :mod:`provenance.keys` signs)."""
    return builder.sign(key.to_cryptography(), hashes.SHA256(), ecdsa_deterministic=True)


def _p256_public_key(key: VerifyingKey) -> ec.EllipticCurvePublicKey:
    loaded = serialization.load_der_public_key(key.spki_der)
    if key.key_type is not KeyType.P256 or not isinstance(loaded, ec.EllipticCurvePublicKey):
        raise AuthorityError(
            f"only ECDSA P-256 keys can be certified, found a {key.key_type.value} key"
        )
    return loaded


def _check_authority_name(name: str) -> None:
    if (
        not 0 < len(name) <= IDENTITY_LIMITS.max_authority_name_chars
        or not name.isprintable()
        or name != name.strip()
    ):
        raise AuthorityError(
            f"an authority name has 1 to {IDENTITY_LIMITS.max_authority_name_chars} printable "
            "characters"
            f" without leading or trailing spaces, found {name!r}"
        )
