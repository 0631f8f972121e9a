"""Certificates re-encoded outside their signed part, written here independently of the library
(an oracle for ``load_certificate_der`` and ``certificate_twins``)."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

ECDSA_SHA256 = bytes.fromhex("300a06082a8648ce3d040302")
"""The AlgorithmIdentifier ecdsa-with-SHA256."""
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def der_tlv(tag: int, body: bytes) -> bytes:
    """``body`` under ``tag`` with the shortest definite length."""
    size = len(body)
    if size < 0x80:
        return bytes([tag, size]) + body
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + body


def rebuilt(
    der: bytes, algorithm: bytes, unused_bits: int = 0, signature: bytes | None = None
) -> bytes:
    """The certificate's TBS under ``algorithm`` and ``signature`` (its own by default) in a BIT
    STRING declaring ``unused_bits``."""
    certificate = x509.load_der_x509_certificate(der)
    value = certificate.signature if signature is None else signature
    bits = der_tlv(0x03, bytes([unused_bits]) + value)
    return der_tlv(0x30, certificate.tbs_certificate_bytes + algorithm + bits)


def p256_twin(der: bytes) -> bytes:
    """A certificate its P-256 CA signed, with the signature ``(r, n - s)``: its valid twin."""
    r, s = decode_dss_signature(x509.load_der_x509_certificate(der).signature)
    return rebuilt(der, ECDSA_SHA256, signature=encode_dss_signature(r, P256_ORDER - s))
