from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from provenance.errors import KeyFormatError, PassphraseRequiredError, SignatureInvalidError
from provenance.keys import (
    KeyType,
    generate_key,
    load_private_key,
    load_public_key,
    signing_key_from_cryptography,
    write_private_key,
    write_public_key,
)


@pytest.mark.parametrize("key_type", list(KeyType))
def test_signature_verifies_and_fails_on_other_data(key_type: KeyType) -> None:
    key = generate_key(key_type)
    signature = key.sign(b"review")
    assert len(signature) == 64
    key.public_key.verify(signature, b"review")
    with pytest.raises(SignatureInvalidError):
        key.public_key.verify(signature, b"reviews")


@pytest.mark.parametrize("key_type", list(KeyType))
def test_key_id_is_sha256_of_spki_der(key_type: KeyType) -> None:
    key = generate_key(key_type)
    spki = serialization.load_pem_public_key(key.public_key.to_pem()).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert key.public_key.key_id == hashlib.sha256(spki).hexdigest()


def test_p256_signature_is_deterministic_r_concat_s() -> None:
    key = generate_key(KeyType.P256)
    assert key.sign(b"x") == key.sign(b"x")


def test_p256_rejects_der_encoded_signature() -> None:
    key = generate_key(KeyType.P256)
    private = key.to_cryptography()
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    der = private.sign(b"x", ec.ECDSA(hashes.SHA256()))
    with pytest.raises(SignatureInvalidError, match="64-byte"):
        key.public_key.verify(der, b"x")


@pytest.mark.parametrize("key_type", list(KeyType))
def test_encrypted_pem_round_trip_needs_the_passphrase(key_type: KeyType) -> None:
    key = generate_key(key_type)
    pem = key.to_pem(b"correct horse")
    assert b"ENCRYPTED" in pem
    assert load_private_key(pem, b"correct horse").public_key == key.public_key
    with pytest.raises(PassphraseRequiredError):
        load_private_key(pem)
    with pytest.raises(KeyFormatError, match="wrong passphrase"):
        load_private_key(pem, b"wrong")


def test_private_key_file_is_0600_and_never_overwritten(tmp_path: Path) -> None:
    key = generate_key()
    path = tmp_path / "author.key"
    write_private_key(path, key, b"pw")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(KeyFormatError, match="exists already"):
        write_private_key(path, generate_key(), None)
    assert load_private_key(path.read_bytes(), b"pw").public_key == key.public_key


def test_public_key_file_round_trip(tmp_path: Path) -> None:
    key = generate_key(KeyType.ED25519)
    write_public_key(tmp_path / "k.pub", key.public_key)
    assert load_public_key((tmp_path / "k.pub").read_bytes()) == key.public_key


def test_p384_key_is_refused() -> None:
    with pytest.raises(KeyFormatError, match="P-256"):
        signing_key_from_cryptography(ec.generate_private_key(ec.SECP384R1()))


def test_garbage_is_not_a_key() -> None:
    with pytest.raises(KeyFormatError):
        load_public_key(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    with pytest.raises(KeyFormatError):
        load_private_key(b"not a key")
