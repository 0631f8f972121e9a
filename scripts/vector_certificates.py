"""Certificate vectors the reference authority refuses to make (issue 19): leaves that break the
profile of identity-v1 §2 (``certificate.profile``) and certificates that cannot be processed
(``certificate.malformed``), crafted here with ``cryptography``.

Every key derives from a public label (see :func:`scripts.make_vectors.label_key`), every signature
is deterministic, and the authority comes from :func:`scripts.make_vectors.deterministic_pki`, so a
run reproduces the bytes.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from provenance.bundle import Bundle
from provenance.dsse import INTOTO_PAYLOAD_TYPE, Envelope, EnvelopeSignature, pae
from provenance.identity.authority import (
    CertificateAuthority,
    authority_key_identifier,
    create_authority,
)
from provenance.identity.crl import build_crl
from provenance.identity.profile import DOCUMENT_SIGNING
from provenance.identity.trust import TrustRoot, export_trust_root
from provenance.sign import Signer
from scripts.make_vectors import (
    CREATED,
    IDENTITY,
    LABEL_PREFIX,
    REVIEW,
    VERIFY_AT,
    Vector,
    edit,
    label_key,
    predicate,
    text,
)

P384_ORDER = int(
    "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf"
    "581a0db248b0a77aecec196accc52973",
    16,
)
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
LeafKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


def _seed(label: str) -> bytes:
    return hashlib.sha256(f"{LABEL_PREFIX} {label}".encode()).digest()


def p384_key(label: str) -> ec.EllipticCurvePrivateKey:
    """A well-known TEST P-384 key: the label's SHA-256 reduced into a scalar."""
    scalar = int.from_bytes(_seed(label), "big") % (P384_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP384R1())


def ed25519_key(label: str) -> ed25519.Ed25519PrivateKey:
    """A well-known TEST Ed25519 key: the label's SHA-256 as the seed."""
    return ed25519.Ed25519PrivateKey.from_private_bytes(_seed(label))


def p256_key(label: str) -> ec.EllipticCurvePrivateKey:
    key = label_key(label, "p256").to_cryptography()
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def _leaf(
    ca: CertificateAuthority,
    key: LeafKey,
    serial: int,
    *,
    eku: bool = True,
    is_ca: bool = False,
) -> x509.Certificate:
    """A leaf meeting the profile except where told, issued by ``ca`` a day before CREATED."""
    public_key = key.public_key()
    subject = [x509.NameAttribute(x509.NameOID.ORGANIZATION_NAME, ca.name)]
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(subject))
        .issuer_name(ca.issuing_certificate.subject)
        .public_key(public_key)
        .serial_number(serial)
        .not_valid_before(CREATED - timedelta(days=1))
        .not_valid_after(CREATED + timedelta(days=29))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
        .add_extension(_USAGE, critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(IDENTITY)]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(authority_key_identifier(ca.issuing_certificate), critical=False)
    )
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage([DOCUMENT_SIGNING]), critical=False)
    return builder.sign(ca.issuing_key.to_cryptography(), hashes.SHA256(), ecdsa_deterministic=True)


def _signed(key: LeafKey, chain: tuple[x509.Certificate, ...]) -> Bundle:
    """The review's statement in an envelope signed by ``key`` itself (ECDSA: SHA-256, DER,
    RFC 6979), the keyid the hex SHA-256 of its SPKI (bundle-v1 §5)."""
    payload = (
        Signer(label_key("x509-profile-statement", "p256"))
        .sign(REVIEW, "review.txt", predicate())
        .envelope.payload
    )
    message = pae(INTOTO_PAYLOAD_TYPE, payload)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        signature = key.sign(message, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    else:
        signature = key.sign(message)
    spki = key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    keyid = hashlib.sha256(spki).hexdigest()
    envelope = Envelope(payload, INTOTO_PAYLOAD_TYPE, (EnvelopeSignature(signature, keyid),))
    return Bundle(envelope, certificates=chain)


def _with_leaf_der(bundle: Bundle, der: bytes) -> str:
    """``bundle`` as JSON with its leaf replaced by ``der`` (which need not parse)."""

    def change(document: dict[str, Any]) -> None:
        chain = document["verificationMaterial"]["x509CertificateChain"]["certificates"]
        chain[0] = {"rawBytes": base64.b64encode(der).decode()}

    return edit(bundle, change)


def _off_curve(leaf: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> bytes:
    """The leaf's DER with the last byte of its public point's y flipped: not on P-256."""
    point = key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    der = leaf.public_bytes(Encoding.DER)
    assert der.count(point) == 1
    return der.replace(point, point[:-1] + bytes([point[-1] ^ 1]))


def profile_vectors() -> list[Vector]:
    """``certificate.profile`` at the signature step (a leaf key that is not P-256) and at the
    certificate step (EKU, CA flag); ``certificate.malformed``; DER that does not parse."""
    authority = create_authority("Profile Example", now=VERIFY_AT - timedelta(days=30)).authority
    trust = export_trust_root(
        authority, crl=build_crl(authority, now=VERIFY_AT - timedelta(hours=1))
    )
    issuing = authority.issuing_certificate
    who = {"identity": IDENTITY}
    p384, ed, no_eku, ca_leaf = (
        p384_key("x509-p384-leaf"),
        ed25519_key("x509-ed25519-leaf"),
        p256_key("x509-no-eku-leaf"),
        p256_key("x509-ca-leaf"),
    )
    good_key = p256_key("x509-malformed-leaf")
    good_leaf = _leaf(authority, good_key, 7)
    good = _signed(good_key, (good_leaf, issuing))
    cases = [
        (
            "72-x509-leaf-p384",
            "a P-384 leaf certified by the trusted authority (identity-v1 §2: P-256 only), "
            "refused at the signature step",
            text(_signed(p384, (_leaf(authority, p384, 3), issuing))),
            ["certificate.profile"],
        ),
        (
            "73-x509-leaf-ed25519",
            "an Ed25519 leaf certified by the trusted (ECDSA) authority, refused at the signature "
            "step",
            text(_signed(ed, (_leaf(authority, ed, 4), issuing))),
            ["certificate.profile"],
        ),
        (
            "74-x509-leaf-without-eku",
            "a leaf without ExtendedKeyUsage (no id-kp-documentSigning)",
            text(_signed(no_eku, (_leaf(authority, no_eku, 5, eku=False), issuing))),
            ["certificate.profile"],
        ),
        (
            "75-x509-leaf-is-a-ca",
            "a leaf whose basicConstraints asserts cA",
            text(_signed(ca_leaf, (_leaf(authority, ca_leaf, 6, is_ca=True), issuing))),
            ["certificate.profile"],
        ),
        (
            "76-x509-leaf-key-off-the-curve",
            "the leaf's public point is not on P-256: its key cannot be read (signature step)",
            _with_leaf_der(good, _off_curve(good_leaf, good_key)),
            ["certificate.malformed"],
        ),
        (
            "77-x509-leaf-not-der",
            "the leaf's rawBytes are not DER: the bundle does not parse",
            _with_leaf_der(good, b"not a certificate"),
            ["bundle.malformed"],
        ),
    ]
    vectors = [
        Vector(name, description, bundle, trust, policy=who, codes=codes)
        for name, description, bundle, codes in cases
    ]
    return [*vectors, _control(good, trust, who)]


def _control(bundle: Bundle, trust: TrustRoot, policy: dict[str, Any]) -> Vector:
    """The unmodified bundle of 76 and 77: verified, so only the edit makes them fail."""
    return Vector(
        "78-x509-hand-made-leaf",
        "the hand-made leaf of 76 and 77 before their edits: verified",
        text(bundle),
        trust,
        policy=policy,
        verified=True,
    )
