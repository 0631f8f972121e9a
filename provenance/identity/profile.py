"""Constants of the certificate profiles (specs/identity-v1.md) and time helpers shared by the
identity modules."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")
"""id-kp-documentSigning (RFC 9336), the extended key usage of every leaf certificate."""

ROOT_PATH_LENGTH = 1
ISSUING_PATH_LENGTH = 0


@dataclass(frozen=True)
class IdentityLimits:
    """The caps of certificates, identities and the authority's files.

    Attributes:
        max_intermediates: The most CA certificates a validated path may hold between the leaf
            and the root.
        max_leaf_days: A leaf certificate's validity.
        max_common_name_chars: ub-common-name (RFC 5280): longer identities are not copied into
            the subject's CN.
        max_identity_chars: An identity (URI or e-mail address).
        max_csr_bytes: A PEM certificate signing request.
        max_authority_name_chars: An authority's name.
        max_state_bytes: The authority's state file (CRL number and revocations).
        max_trust_root_bytes: A trust root document.
        max_trust_root_name_chars: A trust root's name.
    """

    max_intermediates: int = 2
    max_leaf_days: int = 825
    max_common_name_chars: int = 64
    max_identity_chars: int = 512
    max_csr_bytes: int = 64 * 1024
    max_authority_name_chars: int = 48
    max_state_bytes: int = 64 * 1024 * 1024
    max_trust_root_bytes: int = 1024 * 1024
    max_trust_root_name_chars: int = 128


IDENTITY_LIMITS = IdentityLimits()


ROOT_VALIDITY_DAYS = 20 * 365
ISSUING_VALIDITY_DAYS = 5 * 365
DEFAULT_LEAF_DAYS = 90


def as_utc(moment: datetime, error: type[Exception], what: str = "time") -> datetime:
    """Return ``moment`` in UTC, refusing naive datetimes.

    Raises:
        Exception: ``error`` (an AuthorityError, or ValueError for a caller's bug in
            verification) when ``moment`` has no time zone.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise error(f"{what} must be a timezone-aware datetime, found naive {moment.isoformat()}")
    return moment.astimezone(UTC)


def within_validity(certificate: x509.Certificate, moment: datetime) -> bool:
    """Whether ``moment`` lies within the certificate's notBefore..notAfter (both inclusive)."""
    return certificate.not_valid_before_utc <= moment <= certificate.not_valid_after_utc


def describe(certificate: x509.Certificate) -> str:
    """A short human description: subject and serial in hex."""
    return f"{certificate.subject.rfc4514_string() or '<empty subject>'} (serial {certificate.serial_number:x})"


def spki_sha256(certificate: x509.Certificate) -> str:
    """The certificate key's id: lowercase hex SHA-256 of its SubjectPublicKeyInfo DER."""
    return _SPKI_SHA256.get(certificate, _spki_sha256)


def _spki_sha256(certificate: x509.Certificate) -> str:
    spki = certificate.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()


def certificate_sha256(certificate: x509.Certificate) -> str:
    """The certificate's fingerprint: lowercase hex SHA-256 of its DER."""
    return hashlib.sha256(certificate_der(certificate)).hexdigest()


class _DerMemo:
    """The DER of the certificate objects seen lately, found by the object itself.

    ``Certificate.public_bytes`` writes the DER anew on every call, and hashing or comparing a
    certificate walks its whole structure; a parsed certificate is immutable, so its DER is a
    fact of the object. An entry holds the object, so no other object can take its ``id`` while
    the entry lives; the identity check on a hit is belt and braces.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: dict[int, tuple[x509.Certificate, bytes]] = {}
        self._lock = threading.Lock()

    def der(self, certificate: x509.Certificate) -> bytes:
        found = self._items.get(id(certificate))
        if found is not None and found[0] is certificate:
            return found[1]
        der = certificate.public_bytes(Encoding.DER)
        with self._lock:
            self._items[id(certificate)] = (certificate, der)
            while len(self._items) > self._size:
                del self._items[next(iter(self._items))]
        return der

    def remember(self, certificate: x509.Certificate, der: bytes) -> None:
        with self._lock:
            self._items[id(certificate)] = (certificate, der)
            while len(self._items) > self._size:
                del self._items[next(iter(self._items))]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


DER_MEMO_SIZE = 2048
_DER_MEMO = _DerMemo(DER_MEMO_SIZE)


def certificate_der(certificate: x509.Certificate) -> bytes:
    """The certificate's DER, written once per certificate object (see :class:`_DerMemo`)."""
    return _DER_MEMO.der(certificate)


def remember_der(certificate: x509.Certificate, der: bytes) -> None:
    """Record ``der`` as the DER of ``certificate``, just parsed from exactly these bytes by
    ``x509.load_der_x509_certificate``, so that :func:`certificate_der` need not write it again.

    The parser accepts DER only and ``public_bytes`` writes back the bytes it read (a test holds
    the two together on mutated certificates); the bytes read are what the caller was given.
    """
    _DER_MEMO.remember(certificate, der)


def load_certificate_der(der: bytes) -> x509.Certificate:
    """Parse a DER certificate whose encoding outside its signed part (the TBS) is the only one:
    the TBS's own signature AlgorithmIdentifier, then the signature BIT STRING with no unused
    bits. DER allows other outer encodings that nothing signs (unused bits with zero padding; an
    outer AlgorithmIdentifier pyca does not compare with the TBS's), and with unused bits it is
    another certificate DER that validates with the same serial, key and names.

    Raises:
        ValueError: Not a DER X.509 certificate (an unknown version too), or encoded otherwise
            outside its signed part.
    """
    try:
        certificate = x509.load_der_x509_certificate(der)
    except x509.InvalidVersion as exc:
        raise ValueError(str(exc)) from exc
    tbs_at = _der_content_start(der, 0)  # pyca parsed it: the DER is well formed
    tbs_end = _der_end(der, tbs_at)
    bits = _der_tlv(0x03, b"\x00" + certificate.signature)
    if der[tbs_end:] != _tbs_signature_algorithm(der, tbs_at) + bits:
        raise ValueError(
            "certificate encoded otherwise outside its signed part (expected the TBS signature "
            "algorithm, then the signature with no unused bits)"
        )
    remember_der(certificate, der)
    return certificate


_ECDSA_ORDERS = (
    0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,  # P-256
    0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973,
    int(
        "01FF"
        + "FFFFFFFF" * 7
        + "FFFFFFFA51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E9"
        "1386409",
        16,
    ),
)
"""The group orders of P-256, P-384 and P-521, the curves a CA's ECDSA key may be on."""


def certificate_twins(certificate: x509.Certificate) -> tuple[bytes, ...]:
    """The other DER encodings of ``certificate``'s signed part that a CA's ECDSA signature
    allows: the TBS with the signature ``(r, n - s)`` for each curve order ``n`` above ``s`` (one
    of them is the issuer's, and that twin validates as the certificate does). None for a
    signature that is not ECDSA (RSA and Ed25519 signatures have no such twin).
    """
    if not isinstance(certificate.signature_algorithm_parameters, ec.ECDSA):
        return ()
    try:
        r, s = decode_dss_signature(certificate.signature)
    except ValueError:
        return ()
    der = certificate_der(certificate)
    tbs_at = _der_content_start(der, 0)
    signed_part = der[tbs_at : _der_end(der, tbs_at)] + _tbs_signature_algorithm(der, tbs_at)
    return tuple(
        _der_tlv(0x30, signed_part + _der_tlv(0x03, b"\x00" + encode_dss_signature(r, n - s)))
        for n in _ECDSA_ORDERS
        if 0 < s < n and n - s != s
    )


def _der_tlv(tag: int, body: bytes) -> bytes:
    """The DER encoding of ``body`` under ``tag`` (definite, shortest length)."""
    size = len(body)
    if size < 0x80:
        return bytes((tag, size)) + body
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + body


def _tbs_signature_algorithm(der: bytes, tbs_at: int) -> bytes:
    """The encoded AlgorithmIdentifier in the TBS at ``tbs_at`` of a certificate pyca parsed (so
    the DER is well formed): after the optional [0] version and the serial number."""
    at = _der_content_start(der, tbs_at)
    if der[at] == 0xA0:  # [0] EXPLICIT version
        at = _der_end(der, at)
    at = _der_end(der, at)  # serialNumber
    return der[at : _der_end(der, at)]


def _der_content_start(data: bytes, at: int) -> int:
    first = data[at + 1]
    return at + 2 + (first & 0x7F if first & 0x80 else 0)


def _der_end(data: bytes, at: int) -> int:
    first = data[at + 1]
    if not first & 0x80:
        return at + 2 + first
    count = first & 0x7F
    return at + 2 + count + int.from_bytes(data[at + 2 : at + 2 + count], "big")


def certificate_ders(certificates: Sequence[x509.Certificate]) -> tuple[bytes, ...]:
    """:func:`certificate_der` of each certificate, in order."""
    der = _DER_MEMO.der
    return tuple(der(certificate) for certificate in certificates)


_T = TypeVar("_T")
_K = TypeVar("_K")
_V = TypeVar("_V")


class Kept(Generic[_K, _V]):
    """A bounded map, least recently added first out (for values cheap to make again)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: dict[_K, _V] = {}
        self._lock = threading.Lock()

    def get(self, key: _K) -> _V | None:
        """The value kept for ``key``, if any."""
        return self._items.get(key)

    def put(self, key: _K, value: _V) -> _V:
        """Keep ``value`` for ``key`` (dropping the oldest beyond the size); return it."""
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                del self._items[next(iter(self._items))]
        return value

    def clear(self) -> None:
        """Forget every value."""
        with self._lock:
            self._items.clear()


class DerCache(Generic[_T]):
    """Values computed from a certificate alone, kept by the certificate's exact DER (so an equal
    certificate parsed anew finds them), least recently added first out. A computation that
    raises keeps nothing.

    Args:
        size: The most values kept.
    """

    def __init__(self, size: int) -> None:
        self._kept: Kept[bytes, tuple[_T]] = Kept(size)

    def get(self, certificate: x509.Certificate, compute: Callable[[x509.Certificate], _T]) -> _T:
        """The value for ``certificate``, computed by ``compute`` unless kept."""
        der = certificate_der(certificate)
        found = self._kept.get(der)
        if found is not None:
            return found[0]
        return self._kept.put(der, (compute(certificate),))[0]

    def clear(self) -> None:
        """Forget every value."""
        self._kept.clear()


DER_CACHE_SIZE = 1024
_SPKI_SHA256: DerCache[str] = DerCache(DER_CACHE_SIZE)
