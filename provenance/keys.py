"""Signing and verifying keys: ECDSA P-256 (pyca/cryptography) and Ed25519 (PyNaCl).

ECDSA P-256 signatures are ASN.1 DER ``ECDSA-Sig-Value`` (RFC 3279 §2.2.3), as Sigstore, cosign,
in-toto, securesystemslib and OpenSSL expect: RFC 6979 deterministic and low-S (``s <= n/2``) when
signing; strict DER and low-S only when verifying, so a (key, message) pair has exactly one valid
signature. The fixed-size IEEE P1363 form ``r || s`` (COSE/C2PA ES256, legacy bundles) has its own
methods, :meth:`SigningKey.sign_p1363` and :meth:`P256VerifyingKey.verify_p1363`. A key's id is the
lowercase hex SHA-256 of its SubjectPublicKeyInfo DER.
"""

from __future__ import annotations

import hashlib
import os
from abc import ABC, abstractmethod
from enum import StrEnum
from functools import cached_property
from pathlib import Path

import nacl.exceptions
import nacl.signing
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from provenance.errors import KeyFormatError, PassphraseRequiredError, SignatureInvalidError

P256_COORDINATE_BYTES = 32
P256_SIGNATURE_BYTES = 2 * P256_COORDINATE_BYTES
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
P256_HALF_ORDER = P256_ORDER // 2
P256_MAX_DER_SIGNATURE_BYTES = 72
ED25519_SIGNATURE_BYTES = 64


class KeyType(StrEnum):
    """The key algorithms the toolkit signs with."""

    P256 = "p256"
    ED25519 = "ed25519"


class VerifyingKey(ABC):
    """A public key that verifies signatures made by the matching :class:`SigningKey`."""

    key_type: KeyType

    @property
    @abstractmethod
    def spki_der(self) -> bytes:
        """The SubjectPublicKeyInfo DER encoding."""

    @abstractmethod
    def verify(self, signature: bytes, data: bytes) -> None:
        """Check ``signature`` over ``data``.

        Raises:
            SignatureInvalidError: The signature is malformed or does not verify.
        """

    @cached_property
    def key_id(self) -> str:
        """Lowercase hex SHA-256 of the SubjectPublicKeyInfo DER."""
        return hashlib.sha256(self.spki_der).hexdigest()

    def to_pem(self) -> bytes:
        """The public key as a SubjectPublicKeyInfo PEM."""
        der = self.spki_der
        key = serialization.load_der_public_key(der)
        return key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VerifyingKey) and self.spki_der == other.spki_der

    def __hash__(self) -> int:
        return hash(self.spki_der)


class SigningKey(ABC):
    """A private key."""

    key_type: KeyType

    @property
    @abstractmethod
    def public_key(self) -> VerifyingKey:
        """The matching verifying key."""

    @abstractmethod
    def sign(self, data: bytes) -> bytes:
        """Sign ``data``: DER, RFC 6979 deterministic and low-S for P-256; 64 bytes for Ed25519."""

    def sign_p1363(self, data: bytes) -> bytes:
        """Sign ``data`` in the fixed-size form (COSE, JOSE): ``r || s`` for P-256, low-S."""
        return self.sign(data)

    @abstractmethod
    def to_cryptography(self) -> ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey:
        """The key as a pyca/cryptography object (for certificate and CSR builders)."""

    def to_pem(self, passphrase: bytes | None = None) -> bytes:
        """PKCS#8 PEM, encrypted with ``passphrase`` when one is given."""
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase)
            if passphrase
            else serialization.NoEncryption()
        )
        return self.to_cryptography().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )


_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())


class P256VerifyingKey(VerifyingKey):
    """An ECDSA P-256 / SHA-256 public key."""

    key_type = KeyType.P256

    def __init__(self, key: ec.EllipticCurvePublicKey) -> None:
        if not isinstance(key.curve, ec.SECP256R1):
            raise KeyFormatError(f"expected an EC key on P-256, found curve {key.curve.name}")
        self._key = key

    @cached_property
    def spki_der(self) -> bytes:
        return self._key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def verify(self, signature: bytes, data: bytes) -> None:
        """Check a strict-DER ECDSA signature (the DSSE and X.509 encoding), with either S.

        A high S is accepted as every DSSE tool signs it (bundle-v1.md §5); the envelope hash
        counts it as its low-S twin, so the twin is the same envelope (§6.2).

        Raises:
            SignatureInvalidError: Not strict DER, or it does not verify.
        """
        r, s = ecdsa_der_values(signature)
        self._verify_values(r, s, data, signature)

    def verify_p1363(self, signature: bytes, data: bytes) -> None:
        """Check a fixed-size ``r || s`` signature (COSE ES256, legacy bundles); any S.

        Raises:
            SignatureInvalidError: Not 64 bytes, or it does not verify.
        """
        if len(signature) != P256_SIGNATURE_BYTES:
            raise SignatureInvalidError(
                f"expected a {P256_SIGNATURE_BYTES}-byte P-256 signature (r || s), "
                f"found {len(signature)} bytes"
            )
        r = int.from_bytes(signature[:P256_COORDINATE_BYTES], "big")
        s = int.from_bytes(signature[P256_COORDINATE_BYTES:], "big")
        self._verify_values(r, s, data)

    def verify_der_values(self, values: tuple[int, int], signature: bytes, data: bytes) -> None:
        """:meth:`verify` of a signature whose values :func:`strict_der_values` read already.

        Raises:
            SignatureInvalidError: As :meth:`verify`.
        """
        self._verify_values(values[0], values[1], data, signature)

    def _verify_values(self, r: int, s: int, data: bytes, der: bytes | None = None) -> None:
        """Verify ``(r, s)``; ``der`` is their strict DER when the caller has it (DER is unique,
        so it is the encoding :func:`encode_dss_signature` would write)."""
        if not (0 < r < P256_ORDER and 0 < s < P256_ORDER):
            raise SignatureInvalidError("P-256 signature values r and s must lie in [1, n-1]")
        try:
            self._key.verify(der or encode_dss_signature(r, s), data, _ECDSA_SHA256)
        except InvalidSignature as exc:
            raise SignatureInvalidError(
                f"P-256 signature does not verify for key {self.key_id}"
            ) from exc


class Ed25519VerifyingKey(VerifyingKey):
    """An Ed25519 public key, verified with PyNaCl (libsodium)."""

    key_type = KeyType.ED25519

    def __init__(self, raw: bytes) -> None:
        try:
            self._key = nacl.signing.VerifyKey(raw)
        except (nacl.exceptions.CryptoError, ValueError, TypeError) as exc:
            raise KeyFormatError(f"not an Ed25519 public key: {exc}") from exc
        self.raw = bytes(raw)

    @cached_property
    def spki_der(self) -> bytes:
        return ed25519.Ed25519PublicKey.from_public_bytes(self.raw).public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def verify(self, signature: bytes, data: bytes) -> None:
        if len(signature) != ED25519_SIGNATURE_BYTES:
            raise SignatureInvalidError(
                f"expected a {ED25519_SIGNATURE_BYTES}-byte Ed25519 signature, "
                f"found {len(signature)} bytes"
            )
        try:
            self._key.verify(data, signature)
        except (nacl.exceptions.CryptoError, ValueError) as exc:
            raise SignatureInvalidError(
                f"Ed25519 signature does not verify for key {self.key_id}"
            ) from exc


class P256SigningKey(SigningKey):
    """An ECDSA P-256 / SHA-256 private key."""

    key_type = KeyType.P256

    def __init__(self, key: ec.EllipticCurvePrivateKey) -> None:
        if not isinstance(key.curve, ec.SECP256R1):
            raise KeyFormatError(f"expected an EC key on P-256, found curve {key.curve.name}")
        self._key = key

    @cached_property
    def public_key(self) -> VerifyingKey:
        return P256VerifyingKey(self._key.public_key())

    def sign(self, data: bytes) -> bytes:
        r, s = self._sign_values(data)
        return encode_dss_signature(r, s)

    def sign_p1363(self, data: bytes) -> bytes:
        r, s = self._sign_values(data)
        return r.to_bytes(P256_COORDINATE_BYTES, "big") + s.to_bytes(P256_COORDINATE_BYTES, "big")

    def _sign_values(self, data: bytes) -> tuple[int, int]:
        """RFC 6979 deterministic (r, s), with s normalized to the low half (s <= n/2)."""
        der = self._key.sign(data, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
        r, s = decode_dss_signature(der)
        return r, low_s(s)

    def to_cryptography(self) -> ec.EllipticCurvePrivateKey:
        return self._key


class Ed25519SigningKey(SigningKey):
    """An Ed25519 private key, signing with PyNaCl (libsodium)."""

    key_type = KeyType.ED25519

    def __init__(self, seed: bytes) -> None:
        try:
            self._key = nacl.signing.SigningKey(seed)
        except (nacl.exceptions.CryptoError, ValueError, TypeError) as exc:
            raise KeyFormatError(f"not an Ed25519 seed: {exc}") from exc
        self._seed = bytes(seed)

    @cached_property
    def public_key(self) -> Ed25519VerifyingKey:
        return Ed25519VerifyingKey(bytes(self._key.verify_key))

    def sign(self, data: bytes) -> bytes:
        return bytes(self._key.sign(data).signature)

    def to_cryptography(self) -> ed25519.Ed25519PrivateKey:
        return ed25519.Ed25519PrivateKey.from_private_bytes(self._seed)


def low_s(s: int) -> int:
    """``s`` or ``n - s``, whichever is in the low half: the one S this toolkit emits."""
    return P256_ORDER - s if s > P256_HALF_ORDER else s


def ecdsa_der_values(signature: bytes) -> tuple[int, int]:
    """``(r, s)`` of a strict-DER ``ECDSA-Sig-Value`` (SEQUENCE of two minimal non-negative
    INTEGERs and nothing after it): the only encoding of a P-256 signature the DSSE path accepts.

    Raises:
        SignatureInvalidError: Not exactly the DER encoding of some ``(r, s)``.
    """
    if len(signature) > P256_MAX_DER_SIGNATURE_BYTES:
        raise SignatureInvalidError(
            f"expected a DER P-256 signature of at most {P256_MAX_DER_SIGNATURE_BYTES} bytes, "
            f"found {len(signature)} bytes"
        )
    values = _strict_der_values(signature)
    if values is None:
        return _diagnose_der(signature)
    return values


def strict_der_values(signature: bytes) -> tuple[int, int] | None:
    """What :func:`ecdsa_der_values` reads from ``signature`` without a diagnosis: ``(r, s)``
    of a strict-DER signature of at most 72 bytes, else None (the caller then asks
    :func:`ecdsa_der_values` for the error, or treats the signature as not DER)."""
    if len(signature) > P256_MAX_DER_SIGNATURE_BYTES:
        return None
    return _strict_der_values(signature)


def low_s_form(signature: bytes, values: tuple[int, int]) -> bytes:
    """:func:`normalized_signature` of a signature whose :func:`strict_der_values` are
    ``values``, without reading it again."""
    r, s = values
    if not 0 < s < P256_ORDER or s <= P256_HALF_ORDER:
        return signature
    return encode_dss_signature(r, P256_ORDER - s)


def _strict_der_values(der: bytes) -> tuple[int, int] | None:
    """``(r, s)`` when ``der`` (at most 72 bytes, so every length is one short-form byte) is
    exactly ``SEQUENCE { INTEGER r, INTEGER s }`` with both INTEGERs minimal and non-negative,
    else None: what a parse and re-encode with pyca/cryptography accepts (a test holds the two
    together), read in place."""
    size = len(der)
    if size < 8 or der[0] != 0x30 or der[1] != size - 2 or der[2] != 0x02:
        return None
    r_end = 4 + der[3]
    if r_end + 2 >= size or der[r_end] != 0x02 or r_end + 2 + der[r_end + 1] != size:
        return None
    r, s = der[4:r_end], der[r_end + 2 :]
    if not (_minimal_unsigned(r) and _minimal_unsigned(s)):
        return None
    return int.from_bytes(r, "big"), int.from_bytes(s, "big")


def _minimal_unsigned(content: bytes) -> bool:
    """Whether ``content`` is the minimal DER content of a non-negative INTEGER."""
    if not content or content[0] & 0x80:
        return False
    return len(content) == 1 or content[0] != 0 or bool(content[1] & 0x80)


def _diagnose_der(signature: bytes) -> tuple[int, int]:
    """The error for a signature :func:`_strict_der_values` refused, worded by whether it parses
    at all (pyca/cryptography's reading) or only is not canonical.

    Raises:
        SignatureInvalidError: Always, for such a signature.
    """
    try:
        r, s = decode_dss_signature(signature)
    except ValueError as exc:
        raise SignatureInvalidError(
            f"expected a DER ECDSA-Sig-Value (SEQUENCE of INTEGER r, s), found {len(signature)} "
            "bytes that do not parse as one"
        ) from exc
    if encode_dss_signature(r, s) != signature:
        raise SignatureInvalidError("expected canonical DER for the P-256 signature, found another")
    return r, s


def low_s_der(signature: bytes) -> bytes:
    """The low-S form of a strict-DER P-256 signature: ``(r, n - s)`` when ``s`` is high, else the
    signature itself. Needs no key: it is how an envelope from a signer that does not normalize S
    (OpenSSL, Go, pyca, hence securesystemslib, in-toto, sigstore) becomes acceptable here.

    Raises:
        SignatureInvalidError: Not strict DER, or ``s`` outside ``[1, n-1]``.
    """
    r, s = ecdsa_der_values(signature)
    if not 0 < s < P256_ORDER:
        raise SignatureInvalidError("P-256 signature value s must lie in [1, n-1]")
    if s <= P256_HALF_ORDER:
        return signature  # strict DER is the one encoding of (r, s)
    return encode_dss_signature(r, P256_ORDER - s)


def normalized_signature(signature: bytes) -> bytes:
    """The signature as the envelope hash counts it: the low-S form of a strict-DER ECDSA
    signature, any other signature unchanged (bundle-v1.md §6.2)."""
    try:
        return low_s_der(signature)
    except SignatureInvalidError:
        return signature


def is_ecdsa_der(signature: bytes) -> bool:
    """Whether ``signature`` is a strict-DER ``ECDSA-Sig-Value``, whatever its values."""
    try:
        ecdsa_der_values(signature)
    except SignatureInvalidError:
        return False
    return True


def generate_key(key_type: KeyType = KeyType.P256) -> SigningKey:
    """Generate a new private key of ``key_type``."""
    if key_type is KeyType.ED25519:
        return Ed25519SigningKey(bytes(nacl.signing.SigningKey.generate()))
    return P256SigningKey(ec.generate_private_key(ec.SECP256R1()))


def signing_key_from_cryptography(key: PrivateKeyTypes) -> SigningKey:
    """Wrap a pyca/cryptography private key.

    Raises:
        KeyFormatError: The key is neither P-256 nor Ed25519.
    """
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return P256SigningKey(key)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return Ed25519SigningKey(key.private_bytes_raw())
    raise KeyFormatError(f"unsupported private key type {type(key).__name__}; use P-256 or Ed25519")


def verifying_key_from_cryptography(key: PublicKeyTypes) -> VerifyingKey:
    """Wrap a pyca/cryptography public key (for example a certificate's).

    Raises:
        KeyFormatError: The key is neither P-256 nor Ed25519.
    """
    if isinstance(key, ec.EllipticCurvePublicKey):
        return P256VerifyingKey(key)
    if isinstance(key, ed25519.Ed25519PublicKey):
        return Ed25519VerifyingKey(key.public_bytes_raw())
    raise KeyFormatError(f"unsupported public key type {type(key).__name__}; use P-256 or Ed25519")


def load_private_key(pem: bytes, passphrase: bytes | None = None) -> SigningKey:
    """Read a PKCS#8 (or SEC1) PEM private key.

    Raises:
        KeyFormatError: Not a PEM private key, a wrong or missing passphrase, or an unsupported type.
    """
    try:
        key = serialization.load_pem_private_key(pem, password=passphrase or None)
    except TypeError as exc:
        if passphrase is None:
            raise PassphraseRequiredError(
                "the private key is encrypted and needs a passphrase"
            ) from exc
        raise KeyFormatError("the private key is not encrypted but a passphrase was given") from exc
    except ValueError as exc:
        raise KeyFormatError(
            "cannot read the private key: not a PEM private key or wrong passphrase"
        ) from exc
    return signing_key_from_cryptography(key)


def load_public_key(pem: bytes) -> VerifyingKey:
    """Read a SubjectPublicKeyInfo PEM public key.

    Raises:
        KeyFormatError: Not a PEM public key, or an unsupported type.
    """
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise KeyFormatError("cannot read the public key: not a SubjectPublicKeyInfo PEM") from exc
    return verifying_key_from_cryptography(key)


def write_private_key(path: Path, key: SigningKey, passphrase: bytes | None) -> None:
    """Create ``path`` with mode 0600 holding ``key`` as PKCS#8 PEM; never overwrites.

    Raises:
        KeyFormatError: The file exists already or cannot be created.
    """
    data = key.to_pem(passphrase)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise KeyFormatError(f"{path} exists already; refusing to overwrite a key") from exc
    except OSError as exc:
        raise KeyFormatError(f"cannot create {path}: {exc.strerror}") from exc
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def write_public_key(path: Path, key: VerifyingKey) -> None:
    """Write ``key`` as SubjectPublicKeyInfo PEM to ``path``; never overwrites.

    Raises:
        KeyFormatError: The file exists already or cannot be created.
    """
    try:
        with path.open("xb") as handle:
            handle.write(key.to_pem())
    except FileExistsError as exc:
        raise KeyFormatError(f"{path} exists already; refusing to overwrite it") from exc
    except OSError as exc:
        raise KeyFormatError(f"cannot create {path}: {exc.strerror}") from exc
