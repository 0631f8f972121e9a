"""Signing and verifying keys: ECDSA P-256 (pyca/cryptography) and Ed25519 (PyNaCl).

ECDSA signatures use one encoding everywhere: IEEE P1363, the 64-byte concatenation ``r || s``
(each a 32-byte big-endian integer), as in JOSE ES256, C2PA and the DSSE protocol's example. A key's id
is the lowercase hex SHA-256 of its SubjectPublicKeyInfo DER.
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
        """Sign ``data`` (P1363 ``r || s``, RFC 6979 deterministic, for P-256; 64 bytes for Ed25519)."""

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
        if len(signature) != P256_SIGNATURE_BYTES:
            raise SignatureInvalidError(
                f"expected a {P256_SIGNATURE_BYTES}-byte P-256 signature (r || s), "
                f"found {len(signature)} bytes"
            )
        r = int.from_bytes(signature[:P256_COORDINATE_BYTES], "big")
        s = int.from_bytes(signature[P256_COORDINATE_BYTES:], "big")
        try:
            self._key.verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))
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
        der = self._key.sign(data, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
        r, s = decode_dss_signature(der)
        return r.to_bytes(P256_COORDINATE_BYTES, "big") + s.to_bytes(P256_COORDINATE_BYTES, "big")

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
