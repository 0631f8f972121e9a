"""Envelope attacks: extra or stripped signatures, payloadType confusion, the wrong key, replay."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from provenance.bundle import Bundle
from provenance.dsse import EnvelopeSignature, sign_envelope
from provenance.encoding import b64encode
from provenance.identity.trust import TrustRoot
from provenance.keys import generate_key
from tests.adversarial.attack import (
    AUTHOR,
    CERT_TRUST,
    CERTIFIED,
    OTHER_PINNED_KEY,
    PINNED,
    PINNED_KEY,
    PINNED_TRUST,
    codes,
    edited,
)
from tests.factories import certified_author, make_authority, sign


def _signatures(document: dict[str, Any]) -> list[dict[str, str]]:
    signatures: list[dict[str, str]] = document["dsseEnvelope"]["signatures"]
    return signatures


def _cosignature(key_sign: Any) -> dict[str, str]:
    return {"sig": b64encode(key_sign(PINNED.envelope.pae))}


def test_verify_rejects_stripped_signatures() -> None:
    bundle = edited(PINNED, lambda d: _signatures(d).clear())
    assert codes(bundle) == ["envelope.signatures"]


def test_verify_rejects_a_duplicated_signature() -> None:
    bundle = edited(PINNED, lambda d: _signatures(d).append(dict(_signatures(d)[0])))
    assert codes(bundle) == ["envelope.signatures"]


@pytest.mark.parametrize("first", [True, False], ids=["cosignature-first", "cosignature-last"])
def test_verify_rejects_an_extra_valid_signature_by_another_trusted_key(first: bool) -> None:
    extra = _cosignature(OTHER_PINNED_KEY.sign)
    bundle = edited(PINNED, lambda d: _signatures(d).insert(0 if first else 1, extra))
    assert codes(bundle) == ["envelope.signatures"]


def test_verify_rejects_a_certificate_bundle_with_a_second_signature() -> None:
    extra = {"sig": b64encode(AUTHOR.key.sign(CERTIFIED.envelope.pae))}
    bundle = edited(CERTIFIED, lambda d: _signatures(d).append(extra))
    assert codes(bundle, CERT_TRUST) == ["envelope.signatures"]


PAYLOAD_TYPE_VARIANTS = [
    "application/vnd.in-toto+JSON",
    "Application/vnd.in-toto+json",
    " application/vnd.in-toto+json",
    "application/vnd.in-toto+json ",
    "application/vnd.in-toto+json\n",
    "application/vnd.in-toto+json\u200b",
    "application/vnd.in\u2010toto+json",
    "application/json",
    "",
]


@pytest.mark.parametrize("payload_type", PAYLOAD_TYPE_VARIANTS, ids=repr)
def test_verify_rejects_a_validly_signed_statement_under_a_confusable_payload_type(
    payload_type: str,
) -> None:
    envelope = sign_envelope(PINNED.envelope.payload, payload_type, PINNED_KEY)
    bundle = replace(PINNED, envelope=envelope).to_bytes()
    assert codes(bundle) == ["envelope.payload_type"]


@pytest.mark.parametrize("payload_type", PAYLOAD_TYPE_VARIANTS[:3], ids=repr)
def test_verify_rejects_a_payload_type_edited_after_signing(payload_type: str) -> None:
    bundle = edited(PINNED, lambda d: d["dsseEnvelope"].update(payloadType=payload_type))
    assert codes(bundle) == ["envelope.payload_type"]


def test_signature_over_the_raw_payload_instead_of_pae_is_invalid() -> None:
    raw_signature = PINNED_KEY.sign(PINNED.envelope.payload)
    envelope = replace(PINNED.envelope, signatures=(EnvelopeSignature(raw_signature),))
    assert codes(replace(PINNED, envelope=envelope)) == ["signature.invalid"]


def _hint_swapped(keep_keyid: bool) -> Bundle:
    forged = sign(OTHER_PINNED_KEY)
    if not keep_keyid:
        signature = replace(forged.envelope.signatures[0], keyid="")
        forged = replace(forged, envelope=replace(forged.envelope, signatures=(signature,)))
    return replace(forged, public_key_hint=PINNED_KEY.public_key.key_id)


def test_hint_naming_one_pinned_key_with_a_signature_by_the_other_is_invalid() -> None:
    assert codes(_hint_swapped(keep_keyid=False)) == ["signature.invalid"]


def test_hint_naming_one_pinned_key_with_the_keyid_of_the_other_is_a_key_mismatch() -> None:
    assert codes(_hint_swapped(keep_keyid=True)) == ["key.mismatch"]


def test_keyid_naming_another_pinned_key_is_a_key_mismatch() -> None:
    signature = replace(PINNED.envelope.signatures[0], keyid=OTHER_PINNED_KEY.public_key.key_id)
    envelope = replace(PINNED.envelope, signatures=(signature,))
    assert codes(replace(PINNED, envelope=envelope)) == ["key.mismatch"]


def test_hint_of_an_unpinned_key_is_untrusted_even_with_its_valid_signature() -> None:
    stranger = generate_key()
    assert codes(sign(stranger)) == ["key.untrusted"]


def _with_keyid(bundle: Bundle, keyid: str) -> Bundle:
    signature = replace(bundle.envelope.signatures[0], keyid=keyid)
    return replace(bundle, envelope=replace(bundle.envelope, signatures=(signature,)))


def test_certificate_of_one_author_with_the_signature_of_another_is_invalid() -> None:
    other = certified_author(make_authority())
    forged = replace(sign(other.key, chain=other.chain), certificates=tuple(AUTHOR.chain))
    assert codes(forged, CERT_TRUST) == ["key.mismatch"]
    for keyid in ("", AUTHOR.key.public_key.key_id):
        assert codes(_with_keyid(forged, keyid), CERT_TRUST) == ["signature.invalid"]


def test_pinned_key_of_the_certified_author_does_not_stand_in_for_the_certificate() -> None:
    as_pinned = replace(CERTIFIED, certificates=(), public_key_hint=AUTHOR.key.public_key.key_id)
    trust = TrustRoot(name="authority-only", roots=CERT_TRUST.roots)
    assert codes(as_pinned, trust) == ["key.untrusted"]


def test_bundle_replayed_onto_other_content_is_a_digest_mismatch() -> None:
    result_codes = codes(PINNED, content=b"A different review, five stars.\n")
    assert result_codes == ["digest.mismatch"]


def test_certified_bundle_replayed_onto_other_content_is_a_digest_mismatch() -> None:
    assert codes(CERTIFIED, CERT_TRUST, content=b"Terrible lamp.\n") == ["digest.mismatch"]


def test_subject_digest_edited_to_the_other_content_breaks_the_signature() -> None:
    statement = json.loads(PINNED.envelope.payload)
    other = sign(PINNED_KEY, content=b"Other.\n")
    statement["subject"] = json.loads(other.envelope.payload)["subject"]
    envelope = replace(PINNED.envelope, payload=json.dumps(statement).encode())
    forged = replace(PINNED, envelope=envelope)
    assert codes(forged, content=b"Other.\n") == ["signature.invalid"]


def test_envelope_of_one_bundle_with_material_of_another_signer_fails() -> None:
    bundle: Bundle = replace(
        CERTIFIED, certificates=(), public_key_hint=PINNED_KEY.public_key.key_id
    )
    assert codes(bundle, PINNED_TRUST) == ["key.mismatch"]
    for keyid in ("", PINNED_KEY.public_key.key_id):
        assert codes(_with_keyid(bundle, keyid), PINNED_TRUST) == ["signature.invalid"]
