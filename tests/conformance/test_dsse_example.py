"""The DSSE protocol's own test vector (../shared/vectors/dsse/protocol-example.json)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from provenance.dsse import Envelope, pae, sign_envelope
from provenance.errors import SignatureInvalidError
from provenance.keys import P256SigningKey, P256VerifyingKey
from tests.shared import shared_dir


@pytest.fixture(scope="module")
def example() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (shared_dir("vectors", "dsse") / "protocol-example.json").read_text()
    )
    return data


def _verifying_key(example: dict[str, Any]) -> P256VerifyingKey:
    numbers = ec.EllipticCurvePublicNumbers(
        int(example["key"]["x"]), int(example["key"]["y"]), ec.SECP256R1()
    )
    return P256VerifyingKey(numbers.public_key())


def test_pae_matches_the_protocol_example(example: dict[str, Any]) -> None:
    body = example["serializedBody"].encode()
    assert pae(example["payloadType"], body) == example["pae"].encode()


def test_example_envelope_parses_and_its_r_s_signature_verifies(example: dict[str, Any]) -> None:
    envelope = Envelope.from_json(example["envelope"], max_payload_bytes=1024)
    assert envelope.payload == b"hello world"
    assert envelope.to_json() == example["envelope"]
    _verifying_key(example).verify_p1363(envelope.signatures[0].sig, envelope.pae)


def test_example_signature_does_not_verify_over_the_raw_body(example: dict[str, Any]) -> None:
    envelope = Envelope.from_json(example["envelope"], max_payload_bytes=1024)
    with pytest.raises(SignatureInvalidError):
        _verifying_key(example).verify_p1363(envelope.signatures[0].sig, envelope.payload)


def _example_key(example: dict[str, Any]) -> P256SigningKey:
    private = ec.derive_private_key(int(example["key"]["d"]), ec.SECP256R1())
    key = P256SigningKey(private)
    assert key.public_key == _verifying_key(example)
    return key


def test_signing_the_example_reproduces_its_exact_r_s_signature(example: dict[str, Any]) -> None:
    key = _example_key(example)
    envelope = Envelope.from_json(example["envelope"], max_payload_bytes=1024)
    assert key.sign_p1363(envelope.pae) == envelope.signatures[0].sig


def test_our_der_envelope_carries_the_example_signature_values(example: dict[str, Any]) -> None:
    key = _example_key(example)
    envelope = sign_envelope(b"hello world", example["payloadType"], key)
    r, s = decode_dss_signature(envelope.signatures[0].sig)
    fixed = Envelope.from_json(example["envelope"], max_payload_bytes=1024).signatures[0].sig
    assert r.to_bytes(32, "big") + s.to_bytes(32, "big") == fixed
    _verifying_key(example).verify(envelope.signatures[0].sig, envelope.pae)
