"""CSRs: the key is taken, the request's identity is not."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from provenance.errors import AuthorityError
from provenance.identity import CertificateAuthority, create_csr, issue_from_csr
from provenance.keys import KeyType, SigningKey, generate_key
from tests.unit.identity.factory import IDENTITY, NOW


def _sans(certificate: x509.Certificate) -> list[str]:
    extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    return [str(name.value) for name in extension.value]


def test_issue_from_csr_certifies_the_asserted_identity_not_the_requested(
    authority: CertificateAuthority, author_key: SigningKey
) -> None:
    csr = create_csr(author_key, "https://reviews.example/u/1")
    chain = issue_from_csr(authority, csr, IDENTITY, now=NOW)
    leaf = chain[0]
    assert chain[1:] == [authority.issuing_certificate]
    assert _sans(leaf) == [IDENTITY]
    assert leaf.subject.rfc4514_string() == f"CN={IDENTITY},O=Reviews Example"
    assert (
        leaf.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        == author_key.public_key.spki_der
    )


def test_issue_from_csr_ignores_requested_extensions(authority: CertificateAuthority) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "admin")]))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    leaf = issue_from_csr(
        authority, request.public_bytes(serialization.Encoding.PEM), IDENTITY, now=NOW
    )[0]
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False


def test_issue_from_csr_refuses_bad_signature(
    authority: CertificateAuthority, author_key: SigningKey
) -> None:
    request = x509.load_pem_x509_csr(create_csr(author_key, IDENTITY))
    der = bytearray(request.public_bytes(serialization.Encoding.DER))
    der[-1] ^= 0x01
    tampered = x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM)
    with pytest.raises(AuthorityError, match="signature does not verify"):
        issue_from_csr(authority, tampered, IDENTITY, now=NOW)


def test_issue_from_csr_refuses_ed25519_key(authority: CertificateAuthority) -> None:
    csr = create_csr(generate_key(KeyType.ED25519), IDENTITY)
    with pytest.raises(
        AuthorityError,
        match="only ECDSA P-256 keys can be certified; the CSR carries key type Ed25519",
    ):
        issue_from_csr(authority, csr, IDENTITY, now=NOW)


def test_issue_from_csr_refuses_rsa_key(authority: CertificateAuthority) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([]))
        .sign(key, hashes.SHA256())
    )
    with pytest.raises(AuthorityError, match="the CSR carries key type RSA"):
        issue_from_csr(
            authority, request.public_bytes(serialization.Encoding.PEM), IDENTITY, now=NOW
        )


def test_issue_from_csr_refuses_p384_key(authority: CertificateAuthority) -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([]))
        .sign(key, hashes.SHA384())
    )
    with pytest.raises(AuthorityError, match="key type EC on curve secp384r1"):
        issue_from_csr(
            authority, request.public_bytes(serialization.Encoding.PEM), IDENTITY, now=NOW
        )


def test_issue_from_csr_refuses_garbage(authority: CertificateAuthority) -> None:
    with pytest.raises(AuthorityError, match="not a PEM certificate signing request"):
        issue_from_csr(authority, b"-----BEGIN CERTIFICATE REQUEST-----\n", IDENTITY, now=NOW)


def test_issue_from_csr_refuses_bad_asserted_identity(
    authority: CertificateAuthority, author_key: SigningKey
) -> None:
    with pytest.raises(AuthorityError, match="format character U\\+200B"):
        issue_from_csr(authority, create_csr(author_key, IDENTITY), IDENTITY + "\u200b", now=NOW)
