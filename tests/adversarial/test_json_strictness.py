"""Parser abuse: duplicate JSON keys at every level, huge numbers, deep nesting, every size cap,
and non-canonical base64 in every binary field."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

from provenance.errors import LogProofError, TrustRootError
from provenance.identity.trust import TrustRoot
from provenance.tlog.entry import LogEntry
from provenance.tlog.note import Checkpoint, open_checkpoint, sign_note
from tests.adversarial.attack import (
    CERT_TRUST,
    CERTIFIED,
    LOG_SIGNER,
    ORIGIN,
    PINNED,
    PINNED_KEY,
    PINNED_TRUST,
    codes,
    edited,
    logged_trust,
    resigned,
    statement_json,
    transparency_log,
)
from tests.factories import sign

LOGGED = sign(PINNED_KEY, log=transparency_log())
LOGGED_TRUST = logged_trust(PINNED_TRUST)
KIB = 1024


def _compact(document: Any) -> str:
    return json.dumps(document, separators=(",", ":"))


def _inject(text: str, anchor: str, insertion: str) -> bytes:
    """Insert ``insertion`` right after the only occurrence of ``anchor``."""
    assert text.count(anchor) == 1, anchor
    return text.replace(anchor, anchor + insertion).encode()


# --- duplicate keys -----------------------------------------------------------------------------

LOGGED_TEXT = _compact(LOGGED.to_json())
SIG = LOGGED.to_json()["dsseEnvelope"]["signatures"][0]["sig"]
DUPLICATES = {
    "bundle": ('{"mediaType":', '"application/vnd.provenance.bundle.v1+json","mediaType":'),
    "verificationMaterial": ('"verificationMaterial":{', '"publicKey":{"hint":"x"},'),
    "publicKey": ('"publicKey":{', f'"hint":"{PINNED_KEY.public_key.key_id}",'),
    "dsseEnvelope": ('"dsseEnvelope":{', '"payloadType":"application/vnd.in-toto+json",'),
    "signature": ('"signatures":[{', f'"sig":"{SIG}",'),
    "tlogEntry": ('"tlogEntries":[{', '"logIndex":0,'),
    "logId": ('"logId":{', f'"origin":"{ORIGIN}",'),
    "inclusionProof": ('"inclusionProof":{', '"treeSize":1,'),
    "checkpoint": ('"checkpoint":{', '"envelope":"x",'),
}


@pytest.mark.parametrize(("anchor", "insertion"), DUPLICATES.values(), ids=DUPLICATES.keys())
def test_duplicate_key_in_the_bundle_is_malformed(anchor: str, insertion: str) -> None:
    assert codes(LOGGED_TEXT.encode(), LOGGED_TRUST) == []
    duplicated = _inject(LOGGED_TEXT, anchor, insertion)
    assert codes(duplicated, LOGGED_TRUST) == ["bundle.malformed"]


STATEMENT_TEXT = _compact(statement_json())
STATEMENT_DUPLICATES = {
    "statement-subject": (
        '"subject":',
        '[{"name":"x","digest":{"sha256":"' + "0" * 64 + '"}}],"subject":',
    ),
    "statement-type": ('{"_type":', '"https://in-toto.io/Statement/v1","_type":'),
    "predicate": ('"predicate":{', '"canonicalization":"none",'),
    "claims": ('"claims":{', '"verifiedPurchase":false,'),
    "digest": ('"digest":{', '"sha256":"' + "0" * 64 + '",'),
    "author": ('"author":{', '"id":"https://evil.example/u/1",'),
}


@pytest.mark.parametrize(
    ("anchor", "insertion"), STATEMENT_DUPLICATES.values(), ids=STATEMENT_DUPLICATES.keys()
)
def test_duplicate_key_in_a_validly_signed_statement_is_malformed(
    anchor: str, insertion: str
) -> None:
    assert codes(resigned(STATEMENT_TEXT.encode())) == []
    duplicated = _inject(STATEMENT_TEXT, anchor, insertion)
    assert codes(resigned(duplicated)) == ["statement.malformed"]


def test_duplicate_key_in_the_trust_root_is_refused() -> None:
    text = CERT_TRUST.to_json().decode()
    duplicated = text.replace('"name":', '"name": "Other", "name":', 1)
    with pytest.raises(TrustRootError, match="duplicate"):
        TrustRoot.from_json(duplicated.encode())


def test_duplicate_key_in_a_log_leaf_is_malformed() -> None:
    leaf = LogEntry(bytes(32), bytes(range(32)), 1_780_000_000).to_bytes().decode()
    duplicated = leaf.replace(
        '{"envelopeSha256":', '{"envelopeSha256":"' + "1" * 64 + '","envelopeSha256":'
    )
    with pytest.raises(LogProofError) as raised:
        LogEntry.from_bytes(duplicated.encode())
    assert raised.value.code == "log.entry.malformed"


# --- numbers and nesting ------------------------------------------------------------------------

HOSTILE_NUMBERS = ["1" * 41, "9007199254740992", "-1", "1e400", "1.0", "1E2", "true", "NaN"]


@pytest.mark.parametrize("field", ["logIndex", "integratedTime"])
@pytest.mark.parametrize("number", HOSTILE_NUMBERS)
def test_hostile_number_in_a_log_entry_is_malformed(field: str, number: str) -> None:
    entry = LOGGED.to_json()["verificationMaterial"]["tlogEntries"][0]
    text = LOGGED_TEXT.replace(f'"{field}":{entry[field]}', f'"{field}":{number}', 1)
    assert text != LOGGED_TEXT
    assert codes(text.encode(), LOGGED_TRUST) == ["bundle.malformed"]


@pytest.mark.parametrize("number", ["1" * 41, "1e400", "-1e999", "NaN", "Infinity"])
def test_hostile_number_in_a_validly_signed_claim_is_malformed(number: str) -> None:
    text = STATEMENT_TEXT.replace('"verifiedPurchase":true', f'"verifiedPurchase":{number}')
    assert codes(resigned(text.encode())) == ["statement.malformed"]


@pytest.mark.parametrize("number", [str(2**53), str(-(2**53)), str(2**63), "1" + "0" * 39])
def test_signed_claim_integer_past_2_53_is_malformed(number: str) -> None:
    text = STATEMENT_TEXT.replace('"verifiedPurchase":true', f'"verifiedPurchase":{number}')
    assert codes(resigned(text.encode())) == ["statement.malformed"]


def test_signed_claim_integer_of_2_53_minus_1_verifies() -> None:
    text = STATEMENT_TEXT.replace('"verifiedPurchase":true', f'"verifiedPurchase":{2**53 - 1}')
    assert codes(resigned(text.encode())) == []


@pytest.mark.parametrize("depth", [17, 100_000])
def test_deep_nesting_in_the_bundle_is_malformed(depth: int) -> None:
    nested = "[" * depth + "]" * depth
    text = LOGGED_TEXT.replace('"tlogEntries":[', f'"tlogEntries":[{nested},', 1)
    assert codes(text.encode(), LOGGED_TRUST) == ["bundle.malformed"]


@pytest.mark.parametrize("depth", [33, 20_000])
def test_deep_nesting_in_a_validly_signed_statement_is_malformed(depth: int) -> None:
    nested = "[" * depth + "]" * depth
    text = STATEMENT_TEXT.replace('"ingredients":[]', f'"ingredients":{nested}')
    assert codes(resigned(text.encode())) == ["statement.malformed"]


# --- size caps of bundle-v1 §6.1, the trust root and checkpoints --------------------------------


def _entries(document: dict[str, Any]) -> list[Any]:
    entries: list[Any] = document["verificationMaterial"]["tlogEntries"]
    return entries


def _certificates(document: dict[str, Any]) -> list[Any]:
    certificates: list[Any] = document["verificationMaterial"]["x509CertificateChain"][
        "certificates"
    ]
    return certificates


def _proof(document: dict[str, Any]) -> dict[str, Any]:
    proof: dict[str, Any] = _entries(document)[0]["inclusionProof"]
    return proof


def test_bundle_over_256_kib_is_too_large() -> None:
    padded = LOGGED.to_bytes() + b" " * (256 * KIB)
    assert codes(padded, LOGGED_TRUST) == ["bundle.too_large"]


def test_payload_over_64_kib_is_too_large() -> None:
    statement = statement_json()
    statement["predicate"]["publisher"] = "x" * (64 * KIB)
    assert codes(resigned(statement)) == ["bundle.too_large"]


def test_five_certificates_are_malformed() -> None:
    bundle = edited(CERTIFIED, lambda d: _certificates(d).extend(_certificates(d)[:1] * 3))
    assert (
        len(json.loads(bundle)["verificationMaterial"]["x509CertificateChain"]["certificates"]) == 5
    )
    assert codes(bundle, CERT_TRUST) == ["bundle.malformed"]


def test_certificate_over_16_kib_is_too_large() -> None:
    huge = {"rawBytes": base64.b64encode(b"\x30" * (16 * KIB + 1)).decode()}
    bundle = edited(CERTIFIED, lambda d: _certificates(d).append(huge))
    assert codes(bundle, CERT_TRUST) == ["bundle.too_large"]


def test_five_log_entries_are_malformed() -> None:
    bundle = edited(LOGGED, lambda d: _entries(d).extend(_entries(d) * 4))
    assert codes(bundle, LOGGED_TRUST) == ["bundle.malformed"]


def test_more_than_64_proof_hashes_are_malformed() -> None:
    hashes = [base64.b64encode(bytes(32)).decode()] * 65
    bundle = edited(LOGGED, lambda d: _proof(d).update(hashes=hashes))
    assert codes(bundle, LOGGED_TRUST) == ["bundle.malformed"]


def test_checkpoint_over_64_kib_in_a_bundle_is_malformed() -> None:
    def grow(document: dict[str, Any]) -> None:
        checkpoint = _proof(document)["checkpoint"]
        checkpoint["envelope"] = checkpoint["envelope"] + "x" * (64 * KIB)

    assert codes(edited(LOGGED, grow), LOGGED_TRUST) == ["bundle.malformed"]


def test_keyid_over_128_characters_is_malformed() -> None:
    def grow(document: dict[str, Any]) -> None:
        document["dsseEnvelope"]["signatures"][0]["keyid"] = "a" * 129

    assert codes(edited(PINNED, grow)) == ["bundle.malformed"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("publisher", "x" * 1025),
        ("claims", {f"c{i}": True for i in range(65)}),
        ("ingredients", [{"digest": {"sha256": "0" * 64}}] * 65),
    ],
    ids=["string-over-1024", "claims-over-64", "ingredients-over-64"],
)
def test_statement_field_over_its_cap_is_malformed(field: str, value: object) -> None:
    statement = statement_json()
    statement["predicate"][field] = value
    assert codes(resigned(statement)) == ["statement.malformed"]


def test_trust_root_over_1_mib_is_refused() -> None:
    document = json.loads(PINNED_TRUST.to_json())
    document["name"] = "x" * (1024 * KIB)
    with pytest.raises(TrustRootError, match="exceeds"):
        TrustRoot.from_json(json.dumps(document).encode())


def _signed_checkpoint_text(text: str) -> str:
    return sign_note(text, LOG_SIGNER)


def test_note_over_64_kib_is_an_invalid_checkpoint() -> None:
    text = Checkpoint(ORIGIN, 1, bytes(32), ("x" * (64 * KIB),)).to_text()
    with pytest.raises(LogProofError) as raised:
        open_checkpoint(_signed_checkpoint_text(text), [LOG_SIGNER.verifier], origin=ORIGIN)
    assert raised.value.code == "log.checkpoint.invalid"


def test_note_with_more_than_100_signature_lines_is_invalid() -> None:
    note = _signed_checkpoint_text(Checkpoint(ORIGIN, 1, bytes(32)).to_text())
    signature_line = note.rstrip("\n").rsplit("\n", 1)[1]
    flooded = note + (signature_line + "\n") * 100
    with pytest.raises(LogProofError) as raised:
        open_checkpoint(flooded, [LOG_SIGNER.verifier], origin=ORIGIN)
    assert raised.value.code == "log.checkpoint.invalid"


@pytest.mark.parametrize("size", ["01", "+1", "1 ", "18446744073709551616", "1e3", "0x1"])
def test_signed_checkpoint_with_a_non_canonical_size_is_invalid(size: str) -> None:
    text = f"{ORIGIN}\n{size}\n{base64.b64encode(bytes(32)).decode()}\n"
    with pytest.raises(LogProofError) as raised:
        open_checkpoint(_signed_checkpoint_text(text), [LOG_SIGNER.verifier], origin=ORIGIN)
    assert raised.value.code == "log.checkpoint.invalid"


# --- non-canonical base64 -----------------------------------------------------------------------


def _padding_bits(value: str) -> str:
    """Same bytes under a lenient decoder, but with non-zero padding bits (unchanged without padding:
    then there are no padding bits to set)."""
    stripped = value.rstrip("=")
    if stripped == value:
        return value
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = alphabet[alphabet.index(stripped[-1]) | 1]
    return stripped[:-1] + last + value[len(stripped) :]


def _url_safe(value: str) -> str:
    """The URL-safe alphabet: ``+/`` become ``-_``; a value with neither gets a ``-`` in front.

    Always a change, so the parametrization does not depend on the random bytes of a run (pytest-
    xdist workers must collect the same tests).
    """
    swapped = value.replace("+", "-").replace("/", "_")
    return swapped if swapped != value else "-" + value[1:]


BASE64_VARIANTS: dict[str, Callable[[str], str]] = {
    "padding-bits": _padding_bits,
    "missing-padding": lambda v: v.rstrip("="),
    "url-safe": _url_safe,
    "newline-inside": lambda v: v[:8] + "\n" + v[8:],
    "space-inside": lambda v: v[:8] + " " + v[8:],
    "trailing-newline": lambda v: v + "\n",
    "extra-padding": lambda v: v + "==",
}

Locator = Callable[[dict[str, Any]], dict[str, Any]]
BASE64_FIELDS: dict[str, tuple[Locator, str]] = {
    "payload": (lambda d: d["dsseEnvelope"], "payload"),
    "sig": (lambda d: d["dsseEnvelope"]["signatures"][0], "sig"),
    "leafHash": (lambda d: _entries(d)[0], "leafHash"),
    "rootHash": (_proof, "rootHash"),
}


def _base64_cases() -> list[Any]:
    cases = []
    document = LOGGED.to_json()
    for field_name, (locate, key) in BASE64_FIELDS.items():
        for variant_name, variant in BASE64_VARIANTS.items():
            original = locate(document)[key]
            if variant(original) != original:
                cases.append(pytest.param(locate, key, variant, id=f"{field_name}-{variant_name}"))
    return cases


@pytest.mark.parametrize(("locate", "key", "variant"), _base64_cases())
def test_non_canonical_base64_is_malformed(locate: Any, key: str, variant: Any) -> None:
    def edit(document: dict[str, Any]) -> None:
        holder = locate(document)
        holder[key] = variant(holder[key])

    assert codes(edited(LOGGED, edit), LOGGED_TRUST) == ["bundle.malformed"]


def test_non_canonical_base64_cases_cover_every_field_and_variant() -> None:
    assert len(_base64_cases()) >= len(BASE64_FIELDS) * (len(BASE64_VARIANTS) - 1)


@pytest.mark.parametrize("variant", BASE64_VARIANTS.values(), ids=BASE64_VARIANTS.keys())
def test_non_canonical_base64_certificate_is_malformed(variant: Any) -> None:
    def edit(document: dict[str, Any]) -> None:
        certificate = _certificates(document)[0]
        certificate["rawBytes"] = variant(certificate["rawBytes"])

    bundle = edited(CERTIFIED, edit)
    if bundle == edited(CERTIFIED, lambda d: None):
        pytest.skip("variant leaves this value unchanged")
    assert codes(bundle, CERT_TRUST) == ["bundle.malformed"]


@pytest.mark.parametrize("variant", BASE64_VARIANTS.values(), ids=BASE64_VARIANTS.keys())
def test_signed_checkpoint_with_a_non_canonical_root_hash_is_invalid(variant: Any) -> None:
    root = variant(base64.b64encode(b"\xff" * 32).decode())
    text = f"{ORIGIN}\n1\n{root}\n"
    with pytest.raises(LogProofError) as raised:
        open_checkpoint(_signed_checkpoint_text(text), [LOG_SIGNER.verifier], origin=ORIGIN)
    assert raised.value.code == "log.checkpoint.invalid"
