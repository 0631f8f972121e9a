"""Every Wycheproof Ed25519 and ECDSA P-256 vector through provenance.keys.

Our ECDSA encoding is P1363 (r || s). The P1363 file runs as is. The DER file runs through the same
API after converting each signature that is strict DER; a signature that is not strict DER cannot be
expressed in our encoding at all, so such an invalid vector is satisfied by construction (counted).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from provenance.errors import KeyFormatError, SignatureInvalidError
from provenance.keys import VerifyingKey, load_public_key
from tests.shared import SHARED_ROOT, shared_dir


def _cases(name: str) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    path = SHARED_ROOT / "vectors" / "wycheproof" / name
    if not path.exists():
        return [("absent", {}, {})]
    document = json.loads(path.read_text())
    return [
        (f"{name}:{case['tcId']}", group, case)
        for group in document["testGroups"]
        for case in group["tests"]
    ]


def _verifies(key: VerifyingKey, signature: bytes, message: bytes) -> bool:
    try:
        key.verify(signature, message)
    except SignatureInvalidError:
        return False
    return True


def _load_key(group: dict[str, Any]) -> VerifyingKey | None:
    shared_dir("vectors", "wycheproof")
    try:
        return load_public_key(group["publicKeyPem"].encode())
    except KeyFormatError:
        return None


def _expect(result: str, verified: bool) -> None:
    if result == "valid":
        assert verified, "a valid vector must verify"
    elif result == "invalid":
        assert not verified, "an invalid vector must never verify"


@pytest.mark.parametrize(("case_id", "group", "case"), _cases("ed25519_test.json"))
def test_ed25519_vector(case_id: str, group: dict[str, Any], case: dict[str, Any]) -> None:
    key = _load_key(group)
    if key is None:
        assert case["result"] == "invalid"
        return
    verified = _verifies(key, bytes.fromhex(case["sig"]), bytes.fromhex(case["msg"]))
    _expect(case["result"], verified)


@pytest.mark.parametrize(
    ("case_id", "group", "case"), _cases("ecdsa_secp256r1_sha256_p1363_test.json")
)
def test_ecdsa_p1363_vector(case_id: str, group: dict[str, Any], case: dict[str, Any]) -> None:
    key = _load_key(group)
    assert key is not None
    verified = _verifies(key, bytes.fromhex(case["sig"]), bytes.fromhex(case["msg"]))
    _expect(case["result"], verified)


def _der_to_p1363(der: bytes) -> bytes | None:
    try:
        r, s = decode_dss_signature(der)
    except ValueError:
        return None
    if encode_dss_signature(r, s) != der or r.bit_length() > 256 or s.bit_length() > 256:
        return None
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


@pytest.mark.parametrize(("case_id", "group", "case"), _cases("ecdsa_secp256r1_sha256_test.json"))
def test_ecdsa_der_vector(case_id: str, group: dict[str, Any], case: dict[str, Any]) -> None:
    key = _load_key(group)
    assert key is not None
    signature = _der_to_p1363(bytes.fromhex(case["sig"]))
    if signature is None:
        assert case["result"] == "invalid", "a valid DER signature must convert to r || s"
        return
    _expect(case["result"], _verifies(key, signature, bytes.fromhex(case["msg"])))
