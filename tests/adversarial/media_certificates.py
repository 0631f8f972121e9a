"""Certificates for media tests that the toolkit's authority would never issue: time-stamp
authorities (trusted, foreign, expired) and CA certificates re-issued with other validity or
extensions. Built with pyca/cryptography directly; nothing here uses the code under test."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from provenance.keys import KeyType, SigningKey, generate_key


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Time Example"),
        ]
    )


def root_ca(common_name: str, key: SigningKey, now: datetime) -> x509.Certificate:
    """A self-signed P-256 root valid from 30 days before ``now`` for a year."""
    private = key.to_cryptography()
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    public = private.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=30))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(private, hashes.SHA256())
    )


@dataclass(frozen=True)
class TimeStampAuthority:
    """A TSA key and its chain (TSA certificate first, its root last)."""

    key: SigningKey
    chain: list[x509.Certificate]

    @property
    def root(self) -> x509.Certificate:
        """The root the TSA certificate chains to (a trust anchor only if a test adds it)."""
        return self.chain[-1]


def time_stamp_authority(
    now: datetime,
    *,
    valid: tuple[timedelta, timedelta] = (timedelta(days=-10), timedelta(days=100)),
    usages: Sequence[x509.ObjectIdentifier] = (ExtendedKeyUsageOID.TIME_STAMPING,),
) -> TimeStampAuthority:
    """A TSA certificate (critical EKU ``usages``) valid ``now + valid[0]`` to ``now + valid[1]``,
    issued by a new root."""
    root_key, key = generate_key(KeyType.P256), generate_key(KeyType.P256)
    root = root_ca("TSA Root", root_key, now)
    signer = root_key.to_cryptography()
    private = key.to_cryptography()
    assert isinstance(signer, ec.EllipticCurvePrivateKey)
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name("TSA"))
        .issuer_name(root.subject)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + valid[0])
        .not_valid_after(now + valid[1])
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage(list(usages)), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()),
            critical=False,
        )
        .sign(signer, hashes.SHA256())
    )
    return TimeStampAuthority(key, [leaf, root])


def reissued(
    certificate: x509.Certificate, issuer_key: SigningKey, *, not_before: datetime
) -> x509.Certificate:
    """``certificate`` with the same subject, key and extensions, valid from ``not_before``."""
    private = issuer_key.to_cryptography()
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    builder = (
        x509.CertificateBuilder()
        .subject_name(certificate.subject)
        .issuer_name(certificate.issuer)
        .public_key(certificate.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(certificate.not_valid_after_utc)
    )
    for extension in certificate.extensions:
        builder = builder.add_extension(extension.value, critical=extension.critical)
    return builder.sign(private, hashes.SHA256())
