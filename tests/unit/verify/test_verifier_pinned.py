"""The Verifier with pinned keys: every step's outcome and code."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from provenance.bundle import Bundle
from provenance.dsse import INTOTO_PAYLOAD_TYPE, EnvelopeSignature, sign_envelope
from provenance.errors import DigestMismatchError, KeyUntrustedError, LogProofError
from provenance.identity.trust import TrustRoot
from provenance.keys import KeyType, generate_key
from provenance.verify.policy import AllOf
from provenance.verify.verifier import Verifier
from tests.factories import NOW, REVIEW, pinned_trust, sign

NO_POLICY = AllOf([])


@pytest.mark.parametrize("key_type", list(KeyType))
def test_pinned_key_bundle_verifies_with_every_step_ok(key_type: KeyType) -> None:
    key = generate_key(key_type)
    result = Verifier(pinned_trust(key)).check(REVIEW, sign(key).to_bytes(), NO_POLICY, at=NOW)
    assert result.verified
    assert [f.code for f in result.findings] == [
        "parse.ok",
        "signature.ok",
        "log.ok",
        "certificate.ok",
        "digest.ok",
        "revocation.ok",
        "policy.ok",
    ]
    assert result.signer is not None and result.signer.identities == ("alice",)
    assert result.claims == {"verifiedPurchase": True}


def test_changed_word_fails_with_digest_mismatch_but_names_the_signer() -> None:
    key = generate_key()
    tampered = REVIEW.replace(b"Five", b"Four")
    result = Verifier(pinned_trust(key)).check(tampered, sign(key).to_bytes(), NO_POLICY, at=NOW)
    assert not result.verified
    assert [f.code for f in result.failures] == ["digest.mismatch"]
    assert result.signer is not None and result.signer.identities == ("alice",)


def test_copy_pasted_review_with_crlf_and_trailing_spaces_still_verifies() -> None:
    key = generate_key()
    pasted = REVIEW.replace(b"\n", b"  \r\n") + b"\r\n"
    assert (
        Verifier(pinned_trust(key)).check(pasted, sign(key).to_bytes(), NO_POLICY, at=NOW).verified
    )


def test_verify_raises_the_precise_error() -> None:
    key = generate_key()
    with pytest.raises(DigestMismatchError) as info:
        Verifier(pinned_trust(key)).verify(b"other", sign(key).to_bytes(), NO_POLICY, at=NOW)
    assert info.value.code == "digest.mismatch"


def test_key_not_pinned_is_untrusted() -> None:
    signer, other = generate_key(), generate_key()
    result = Verifier(pinned_trust(other)).check(REVIEW, sign(signer).to_bytes(), NO_POLICY, at=NOW)
    assert [f.code for f in result.failures] == ["key.untrusted"]
    assert result.signer is None
    with pytest.raises(KeyUntrustedError):
        Verifier(pinned_trust(other)).verify(REVIEW, sign(signer).to_bytes(), NO_POLICY, at=NOW)


def test_hint_of_pinned_key_with_signature_of_another_fails_signature() -> None:
    pinned, attacker = generate_key(), generate_key()
    bundle = sign(attacker)
    forged = replace(bundle, public_key_hint=pinned.public_key.key_id)
    envelope = replace(
        forged.envelope, signatures=(EnvelopeSignature(bundle.envelope.signatures[0].sig),)
    )
    result = Verifier(pinned_trust(pinned)).check(
        REVIEW, replace(forged, envelope=envelope), NO_POLICY, at=NOW
    )
    assert [f.code for f in result.failures] == ["signature.invalid"]


def test_signature_keyid_naming_another_key_is_a_key_mismatch() -> None:
    key = generate_key()
    bundle = sign(key)
    signature = replace(bundle.envelope.signatures[0], keyid="0" * 64)
    envelope = replace(bundle.envelope, signatures=(signature,))
    result = Verifier(pinned_trust(key)).check(
        REVIEW, replace(bundle, envelope=envelope), NO_POLICY, at=NOW
    )
    assert [f.code for f in result.failures] == ["key.mismatch"]


def _edit(bundle: Bundle, edit: str) -> bytes:
    document = bundle.to_json()
    envelope = document["dsseEnvelope"]
    if edit == "payload_type":
        envelope["payloadType"] = "application/json"
    elif edit == "two_signatures":
        envelope["signatures"] = envelope["signatures"] * 2
    elif edit == "no_signature":
        envelope["signatures"] = []
    elif edit == "media_type":
        document["mediaType"] = "application/vnd.provenance.bundle.v2+json"
    elif edit == "flip_signature":
        sig = envelope["signatures"][0]["sig"]
        envelope["signatures"][0]["sig"] = ("B" if sig[0] == "A" else "A") + sig[1:]
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    ("edit", "code"),
    [
        ("payload_type", "envelope.payload_type"),
        ("two_signatures", "envelope.signatures"),
        ("no_signature", "envelope.signatures"),
        ("media_type", "bundle.unsupported"),
        ("flip_signature", "signature.invalid"),
    ],
)
def test_edited_bundle_fails_with_its_code(edit: str, code: str) -> None:
    key = generate_key()
    result = Verifier(pinned_trust(key)).check(REVIEW, _edit(sign(key), edit), NO_POLICY, at=NOW)
    assert not result.verified
    assert [f.code for f in result.failures] == [code]


def test_trust_root_requiring_the_log_rejects_an_unlogged_bundle() -> None:
    key = generate_key()
    trust = replace(pinned_trust(key), require_log=True)
    result = Verifier(trust).check(REVIEW, sign(key).to_bytes(), NO_POLICY, at=NOW)
    assert [f.code for f in result.failures] == ["log.missing"]
    with pytest.raises(LogProofError):
        Verifier(trust).verify(REVIEW, sign(key).to_bytes(), NO_POLICY, at=NOW)


def test_garbage_bundle_is_malformed_not_a_crash() -> None:
    result = Verifier(TrustRoot(name="empty")).check(REVIEW, b"\xff{", NO_POLICY, at=NOW)
    assert [f.code for f in result.findings] == ["bundle.malformed"]
    assert not result.verified
    assert result.to_json()["signer"] is None


def test_naive_verification_time_is_refused() -> None:
    key = generate_key()
    with pytest.raises(ValueError, match="timezone-aware"):
        Verifier(pinned_trust(key)).check(REVIEW, sign(key), NO_POLICY, at=NOW.replace(tzinfo=None))


def test_statement_that_is_not_jcs_still_verifies() -> None:
    key = generate_key()
    signed = sign(key)
    indented = json.dumps(json.loads(signed.envelope.payload), indent=3).encode()
    envelope = sign_envelope(indented, INTOTO_PAYLOAD_TYPE, key)
    bundle = replace(signed, envelope=envelope)
    result = Verifier(pinned_trust(key)).check(REVIEW, bundle.to_bytes(), AllOf([]), at=NOW)
    assert result.verified, result.failures
