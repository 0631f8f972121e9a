"""Test helpers: a fixed clock, a real authority, and a certificate builder for bad certificates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from provenance.identity import DOCUMENT_SIGNING

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
AUTHORITY_CREATED = NOW - timedelta(days=30)
IDENTITY = "https://reviews.example/u/8841"

_SIGNING_USAGE = dict(
    digital_signature=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)
_CA_USAGE = _SIGNING_USAGE | dict(digital_signature=False, key_cert_sign=True, crl_sign=True)


def _identity_sans() -> list[x509.GeneralName]:
    return [x509.UniformResourceIdentifier(IDENTITY)]


def p256_key() -> ec.EllipticCurvePrivateKey:
    """A fresh P-256 private key."""
    return ec.generate_private_key(ec.SECP256R1())


@dataclass
class CertSpec:
    """What to put into a hand-made certificate; the defaults make a valid leaf."""

    common_name: str = "leaf"
    ca: bool | None = False
    path_length: int | None = None
    key_usage: dict[str, bool] | None = field(default_factory=lambda: dict(_SIGNING_USAGE))
    eku: list[x509.ObjectIdentifier] | None = field(default_factory=lambda: [DOCUMENT_SIGNING])
    sans: list[x509.GeneralName] | None = field(default_factory=_identity_sans)
    not_before: datetime = NOW - timedelta(days=1)
    not_after: datetime = NOW + timedelta(days=30)


def ca_spec(common_name: str, path_length: int | None) -> CertSpec:
    """A CertSpec for a CA certificate."""
    return CertSpec(
        common_name=common_name,
        ca=True,
        path_length=path_length,
        key_usage=dict(_CA_USAGE),
        eku=None,
        sans=None,
        not_before=NOW - timedelta(days=365),
        not_after=NOW + timedelta(days=365),
    )


def make_certificate(
    spec: CertSpec,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Certificate | None,
    issuer_key: ec.EllipticCurvePrivateKey,
) -> x509.Certificate:
    """Build and sign a certificate; ``issuer=None`` makes it self-signed."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, spec.common_name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject if issuer is None else issuer.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(spec.not_before)
        .not_valid_after(spec.not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    if spec.ca is not None:
        builder = builder.add_extension(
            x509.BasicConstraints(ca=spec.ca, path_length=spec.path_length), critical=True
        )
    if spec.key_usage is not None:
        builder = builder.add_extension(x509.KeyUsage(**spec.key_usage), critical=True)
    if spec.eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(spec.eku), critical=False)
    if spec.sans is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName(spec.sans), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@dataclass
class HandMadeChain:
    """A root -> issuing chain built with the factory, for crafting bad leaves."""

    root: x509.Certificate
    root_key: ec.EllipticCurvePrivateKey
    issuing: x509.Certificate
    issuing_key: ec.EllipticCurvePrivateKey

    def leaf(self, spec: CertSpec | None = None) -> x509.Certificate:
        """A leaf signed by the issuing CA."""
        return make_certificate(spec or CertSpec(), p256_key(), self.issuing, self.issuing_key)


def hand_made_chain(root_name: str = "Hand Root") -> HandMadeChain:
    """A fresh root (pathLen 1) and issuing CA (pathLen 0)."""
    root_key, issuing_key = p256_key(), p256_key()
    root = make_certificate(ca_spec(root_name, 1), root_key, None, root_key)
    issuing = make_certificate(ca_spec("Hand Issuing", 0), issuing_key, root, root_key)
    return HandMadeChain(root, root_key, issuing, issuing_key)
