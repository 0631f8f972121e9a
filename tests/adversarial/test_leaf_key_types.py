"""Issue 19.4: identity-v1 §2 says every certificate key is ECDSA P-256, yet an Ed25519 leaf
certified by the (ECDSA) authority verified. The leaf's key type is checked where the key is chosen,
in the signature step: anything but P-256 fails there with `certificate.profile`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from provenance.bundle import Bundle
from provenance.dsse import INTOTO_PAYLOAD_TYPE, sign_envelope
from provenance.identity.authority import authority_key_identifier
from provenance.identity.profile import DOCUMENT_SIGNING
from provenance.keys import Ed25519SigningKey
from tests.adversarial.attack import AUTHORITY, CERT_TRUST, CERTIFIED, SIGNED_AT, check
from tests.factories import IDENTITY, sign

_USAGE = x509.KeyUsage(
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


def _leaf(
    public_key: ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | rsa.RSAPublicKey,
) -> x509.Certificate:
    """A leaf meeting the profile in every other respect, issued by the trusted authority."""
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name.from_rfc4514_string("O=Reviews Example"))
        .issuer_name(AUTHORITY.issuing_certificate.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(SIGNED_AT - timedelta(days=1))
        .not_valid_after(SIGNED_AT + timedelta(days=60))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_USAGE, critical=True)
        .add_extension(x509.ExtendedKeyUsage([DOCUMENT_SIGNING]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(IDENTITY)]), critical=False
        )
        .add_extension(authority_key_identifier(AUTHORITY.issuing_certificate), critical=False)
        .sign(AUTHORITY.issuing_key.to_cryptography(), hashes.SHA256())
    )


def _steps(bundle: Bundle | bytes) -> list[tuple[str, str]]:
    return [(f.step, f.code) for f in check(bundle, CERT_TRUST).failures]


def test_ed25519_leaf_certified_by_the_ecdsa_authority_is_a_profile_failure() -> None:
    private = ed25519.Ed25519PrivateKey.generate()
    key = Ed25519SigningKey(private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()))
    bundle = sign(key, chain=[_leaf(private.public_key()), AUTHORITY.issuing_certificate])
    assert _steps(bundle) == [("signature", "certificate.profile")]


@pytest.mark.parametrize(
    "private",
    [ec.generate_private_key(ec.SECP384R1()), rsa.generate_private_key(65537, 2048)],
    ids=["p384", "rsa2048"],
)
def test_leaf_with_another_key_type_is_a_profile_failure_of_the_signature_step(
    private: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
) -> None:
    leaf = _leaf(private.public_key())
    bundle = Bundle(
        sign_envelope(CERTIFIED.envelope.payload, INTOTO_PAYLOAD_TYPE, _unused_key()),
        certificates=(leaf, AUTHORITY.issuing_certificate),
    )
    assert _steps(bundle) == [("signature", "certificate.profile")]


def _unused_key() -> Ed25519SigningKey:
    # Never used to verify: the leaf's key type fails the signature step first.
    return Ed25519SigningKey(bytes(32))


def test_p256_leaf_still_verifies() -> None:
    assert _steps(CERTIFIED) == []
