"""Strict bundle parsing: every refusal names its code."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from provenance.bundle import Bundle, BundleLimits
from provenance.errors import BundleFormatError
from provenance.keys import generate_key
from tests.factories import certified_author, make_authority, sign

KEY = generate_key()
BUNDLE = sign(KEY)


def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(BUNDLE.to_bytes())
    return document


DEFAULT = BundleLimits()


def _code(data: bytes, limits: BundleLimits = DEFAULT) -> str:
    with pytest.raises(BundleFormatError) as info:
        Bundle.from_bytes(data, limits)
    return info.value.code


def test_round_trip_keeps_every_byte() -> None:
    assert Bundle.from_bytes(BUNDLE.to_bytes()).to_bytes() == BUNDLE.to_bytes()
    author = certified_author(make_authority())
    chained = sign(author.key, chain=author.chain)
    parsed = Bundle.from_bytes(chained.to_bytes())
    assert parsed.certificates == tuple(author.chain)
    assert parsed.to_bytes() == chained.to_bytes()


def test_unknown_top_level_field_is_refused() -> None:
    document = _document() | {"extra": 1}
    assert _code(json.dumps(document).encode()) == "bundle.malformed"


def test_unknown_field_in_material_is_refused() -> None:
    document = _document()
    document["verificationMaterial"]["timestampVerificationData"] = {}
    assert _code(json.dumps(document).encode()) == "bundle.malformed"


def test_duplicate_json_key_is_refused() -> None:
    text = BUNDLE.to_bytes().decode()
    duplicated = text.replace('"mediaType"', '"mediaType": "x", "mediaType"', 1)
    assert _code(duplicated.encode()) == "bundle.malformed"


def test_both_key_and_chain_are_refused() -> None:
    author = certified_author(make_authority())
    document = json.loads(sign(author.key, chain=author.chain).to_bytes())
    document["verificationMaterial"]["publicKey"] = {"hint": "0" * 64}
    assert _code(json.dumps(document).encode()) == "bundle.malformed"


def test_neither_key_nor_chain_is_refused() -> None:
    document = _document()
    del document["verificationMaterial"]["publicKey"]
    assert _code(json.dumps(document).encode()) == "bundle.malformed"


def test_non_canonical_base64_payload_is_refused() -> None:
    document = _document()
    payload = document["dsseEnvelope"]["payload"]
    document["dsseEnvelope"]["payload"] = payload.rstrip("=")
    assert _code(json.dumps(document).encode()) == "bundle.malformed"


def test_base64_with_nonzero_padding_bits_is_refused() -> None:
    document = _document()
    document["dsseEnvelope"]["payload"] = "YR=="  # 'a' is YQ==; R sets padding bits
    assert base64.b64decode("YR==") == b"a"
    assert _code(json.dumps(document).encode()) == "bundle.malformed"


def test_url_safe_base64_is_refused() -> None:
    document = _document()
    sig = document["dsseEnvelope"]["signatures"][0]["sig"]
    document["dsseEnvelope"]["signatures"][0]["sig"] = sig.replace("+", "-").replace("/", "_")
    if document["dsseEnvelope"]["signatures"][0]["sig"] == sig:
        pytest.skip("this signature has no + or /")
    assert _code(json.dumps(document).encode()) == "bundle.malformed"


def test_oversized_bundle_is_too_large() -> None:
    assert _code(BUNDLE.to_bytes(), BundleLimits(max_bundle_bytes=100)) == "bundle.too_large"


def test_oversized_payload_is_too_large() -> None:
    assert _code(BUNDLE.to_bytes(), BundleLimits(max_payload_bytes=10)) == "bundle.too_large"


def test_deep_nesting_is_refused_without_recursion_error() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    assert _code(deep, BundleLimits(max_bundle_bytes=1 << 20)) == "bundle.malformed"


@pytest.mark.parametrize("number", [b"1e999999", b"NaN", b"Infinity", b"1" * 500])
def test_non_finite_and_huge_numbers_are_refused(number: bytes) -> None:
    data = BUNDLE.to_bytes().replace(b'"tlogEntries": []', b'"tlogEntries": [' + number + b"]")
    assert _code(data) == "bundle.malformed"


def test_not_utf8_is_refused() -> None:
    assert _code(b'{"mediaType": "\xff"}') == "bundle.malformed"


def test_other_version_is_unsupported() -> None:
    document = _document() | {"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}
    assert _code(json.dumps(document).encode()) == "bundle.unsupported"


def test_too_many_certificates_are_refused() -> None:
    author = certified_author(make_authority())
    document = json.loads(sign(author.key, chain=author.chain).to_bytes())
    certificates = document["verificationMaterial"]["x509CertificateChain"]["certificates"]
    document["verificationMaterial"]["x509CertificateChain"]["certificates"] = certificates * 3
    assert _code(json.dumps(document).encode()) == "bundle.malformed"


def test_certificate_that_is_not_der_is_refused() -> None:
    author = certified_author(make_authority())
    document = json.loads(sign(author.key, chain=author.chain).to_bytes())
    document["verificationMaterial"]["x509CertificateChain"]["certificates"][0]["rawBytes"] = "AAAA"
    assert _code(json.dumps(document).encode()) == "bundle.malformed"


def test_missing_media_type_is_malformed() -> None:
    document = _document()
    del document["mediaType"]
    assert _code(json.dumps(document).encode()) == "bundle.malformed"


def test_media_type_that_is_not_a_string_is_malformed() -> None:
    document = _document() | {"mediaType": 1}
    assert _code(json.dumps(document).encode()) == "bundle.malformed"


@pytest.mark.parametrize("hint", ["A" * 64, "g" * 64, "a" * 63 + " ", "é" * 64])
def test_public_key_hint_that_is_not_64_lowercase_hex_is_malformed(hint: str) -> None:
    document = _document()
    document["verificationMaterial"]["publicKey"] = {"hint": hint}
    assert _code(json.dumps(document).encode()) == "bundle.malformed"


def test_missing_tlog_entries_is_malformed() -> None:
    document = _document()
    del document["verificationMaterial"]["tlogEntries"]
    assert _code(json.dumps(document).encode()) == "bundle.malformed"


def test_empty_keyid_names_no_key_and_keeps_the_envelope_hash() -> None:
    document = _document()
    signature = document["dsseEnvelope"]["signatures"][0]
    signature.pop("keyid", None)
    without = Bundle.from_bytes(json.dumps(document).encode())
    signature["keyid"] = ""
    with_empty = Bundle.from_bytes(json.dumps(document).encode())
    assert with_empty.envelope.signatures[0].keyid == ""
    assert with_empty.envelope.sha256() == without.envelope.sha256()
