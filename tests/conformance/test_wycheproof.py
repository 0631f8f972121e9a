"""Every Wycheproof Ed25519 and ECDSA P-256 vector through provenance.keys.

The DER file runs through ``VerifyingKey.verify``, the path every DSSE signature takes, and must
give Wycheproof's own outcomes: a valid signature with a high S (s > n/2) verifies, as do its low-S
twin ``(r, n - s)`` (the envelope hash counts both as one, bundle-v1.md §6.2). The P1363 file runs
through ``verify_p1363`` (COSE, legacy bundles).
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
from provenance.keys import (
    P256_HALF_ORDER,
    P256_ORDER,
    P256VerifyingKey,
    VerifyingKey,
    load_public_key,
)
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
    assert isinstance(key, P256VerifyingKey)
    try:
        key.verify_p1363(bytes.fromhex(case["sig"]), bytes.fromhex(case["msg"]))
    except SignatureInvalidError:
        verified = False
    else:
        verified = True
    _expect(case["result"], verified)


def _high_s(der: bytes) -> int | None:
    """The s of a strict-DER signature when it is high, else None."""
    try:
        r, s = decode_dss_signature(der)
    except ValueError:
        return None
    if encode_dss_signature(r, s) != der or not P256_HALF_ORDER < s < P256_ORDER:
        return None
    return s


@pytest.mark.parametrize(("case_id", "group", "case"), _cases("ecdsa_secp256r1_sha256_test.json"))
def test_ecdsa_der_vector(case_id: str, group: dict[str, Any], case: dict[str, Any]) -> None:
    key = _load_key(group)
    assert key is not None
    signature, message = bytes.fromhex(case["sig"]), bytes.fromhex(case["msg"])
    verified = _verifies(key, signature, message)
    high_s = _high_s(signature)
    if case["result"] == "valid" and high_s is not None:
        assert verified, "a valid high-S signature verifies"
        r, _ = decode_dss_signature(signature)
        twin = encode_dss_signature(r, P256_ORDER - high_s)
        assert _verifies(key, twin, message), "its low-S twin must verify"
        return
    _expect(case["result"], verified)


def test_the_der_file_exercises_the_high_s_rule() -> None:
    cases = _cases("ecdsa_secp256r1_sha256_test.json")
    if cases[0][0] == "absent":
        shared_dir("vectors", "wycheproof")
    high = [case for _, _, case in cases if _high_s(bytes.fromhex(case["sig"])) is not None]
    assert any(case["result"] == "valid" for case in high)
