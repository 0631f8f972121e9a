from __future__ import annotations

import hashlib
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from provenance.errors import KeyFormatError, PassphraseRequiredError, SignatureInvalidError
from provenance.keys import (
    P256_HALF_ORDER,
    P256_ORDER,
    KeyType,
    P256SigningKey,
    P256VerifyingKey,
    generate_key,
    load_private_key,
    load_public_key,
    low_s_der,
    signing_key_from_cryptography,
    write_private_key,
    write_public_key,
)


@pytest.mark.parametrize("key_type", list(KeyType))
def test_signature_verifies_and_fails_on_other_data(key_type: KeyType) -> None:
    key = generate_key(key_type)
    signature = key.sign(b"review")
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


def _p256() -> tuple[P256SigningKey, P256VerifyingKey]:
    key = generate_key(KeyType.P256)
    assert isinstance(key, P256SigningKey) and isinstance(key.public_key, P256VerifyingKey)
    return key, key.public_key


def test_p256_signature_is_deterministic_low_s_der() -> None:
    key, public = _p256()
    for message in (b"x", b"y", b"z", b"w"):
        signature = key.sign(message)
        assert signature == key.sign(message)
        r, s = decode_dss_signature(signature)
        assert encode_dss_signature(r, s) == signature
        assert s <= P256_HALF_ORDER
        public.verify(signature, message)


def test_p256_der_signatures_interoperate_with_openssl_in_both_directions() -> None:
    key, public = _p256()
    private = key.to_cryptography()
    private.public_key().verify(key.sign(b"x"), b"x", ec.ECDSA(hashes.SHA256()))
    theirs = private.sign(b"x", ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(theirs)
    if s > P256_HALF_ORDER:
        theirs = encode_dss_signature(r, P256_ORDER - s)
    public.verify(theirs, b"x")


def _high_s_twin(der: bytes) -> bytes:
    r, s = decode_dss_signature(der)
    return encode_dss_signature(r, P256_ORDER - s)


def test_p256_accepts_the_high_s_twin_of_a_valid_signature() -> None:
    key, public = _p256()
    twin = _high_s_twin(key.sign(b"x"))
    public.verify(twin, b"x")


@pytest.mark.parametrize(
    "mangle",
    [
        lambda der: der + b"\x00",
        lambda der: b"\x30\x81" + bytes([der[1]]) + der[2:],
        lambda der: bytes([0x30, der[1] + 1, 0x02, der[3] + 1, 0x00]) + der[4:],
        lambda der: der[:-1],
    ],
    ids=["trailing-byte", "long-form-length", "padded-integer", "truncated"],
)
def test_p256_rejects_non_canonical_der(mangle: Callable[[bytes], bytes]) -> None:
    key, public = _p256()
    with pytest.raises(SignatureInvalidError, match="DER"):
        public.verify(mangle(key.sign(b"x")), b"x")


def test_p256_rejects_p1363_on_the_der_path_and_accepts_it_on_its_own() -> None:
    key, public = _p256()
    fixed = key.sign_p1363(b"x")
    assert len(fixed) == 64
    with pytest.raises(SignatureInvalidError, match="DER"):
        public.verify(fixed, b"x")
    public.verify_p1363(fixed, b"x")
    with pytest.raises(SignatureInvalidError, match="64-byte"):
        public.verify_p1363(key.sign(b"x"), b"x")


def test_p1363_and_der_carry_the_same_values() -> None:
    key, _ = _p256()
    r, s = decode_dss_signature(key.sign(b"x"))
    assert key.sign_p1363(b"x") == r.to_bytes(32, "big") + s.to_bytes(32, "big")


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


def test_low_s_der_normalizes_a_high_s_signature_without_the_key() -> None:
    key, public = _p256()
    signature = key.sign(b"x")
    assert low_s_der(signature) == signature
    twin = _high_s_twin(signature)
    public.verify(twin, b"x")
    assert low_s_der(twin) == signature
    with pytest.raises(SignatureInvalidError, match="DER"):
        low_s_der(key.sign_p1363(b"x"))
