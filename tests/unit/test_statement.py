"""The statement and its content predicate: round trip and strict parsing."""

from __future__ import annotations

import json
from typing import Any

import pytest
import rfc8785

from provenance.errors import BundleFormatError
from provenance.statement import PREDICATE_TYPE, Statement, validate_claims
from provenance.text import Canonicalization
from tests.factories import NOW, predicate

STATEMENT = Statement("review.txt", "a" * 64, predicate({"verifiedPurchase": True, "stars": 5}))


def _payload_code(document: dict[str, Any]) -> str:
    with pytest.raises(BundleFormatError) as info:
        Statement.from_payload(rfc8785.dumps(document))
    return info.value.code


def test_payload_is_jcs_and_round_trips() -> None:
    payload = STATEMENT.to_payload()
    assert payload == rfc8785.dumps(json.loads(payload))
    assert Statement.from_payload(payload) == STATEMENT
    assert json.loads(payload)["predicate"]["created"] == "2026-06-01T12:00:00Z"
    assert json.loads(payload)["predicateType"] == PREDICATE_TYPE


def test_two_subjects_are_refused() -> None:
    document = STATEMENT.to_json()
    document["subject"] = document["subject"] * 2
    assert _payload_code(document) == "statement.malformed"


def test_other_digest_algorithm_is_refused() -> None:
    document = STATEMENT.to_json()
    document["subject"][0]["digest"] = {"sha512": "a" * 128}
    assert _payload_code(document) == "statement.malformed"


def test_uppercase_digest_is_refused() -> None:
    document = STATEMENT.to_json()
    document["subject"][0]["digest"]["sha256"] = "A" * 64
    assert _payload_code(document) == "statement.malformed"


def test_unknown_predicate_type_is_unsupported() -> None:
    document = STATEMENT.to_json() | {"predicateType": "https://slsa.dev/provenance/v1"}
    assert _payload_code(document) == "statement.unsupported"


def test_unknown_canonicalization_is_unsupported() -> None:
    document = STATEMENT.to_json()
    document["predicate"]["canonicalization"] = "text-v2"
    assert _payload_code(document) == "statement.unsupported"


def test_unknown_predicate_field_is_refused() -> None:
    document = STATEMENT.to_json()
    document["predicate"]["trusted"] = True
    assert _payload_code(document) == "statement.malformed"


def test_time_with_offset_is_refused() -> None:
    document = STATEMENT.to_json()
    document["predicate"]["created"] = "2026-06-01T12:00:00+02:00"
    assert _payload_code(document) == "statement.malformed"


@pytest.mark.parametrize(
    "claims",
    [
        {"1bad": True},
        {"x": 1.5},
        {"x": None},
        {"x": ["list"]},
        {"x": ""},
        {f"c{i}": True for i in range(65)},
    ],
)
def test_bad_claims_are_refused(claims: dict[str, Any]) -> None:
    with pytest.raises(BundleFormatError):
        validate_claims(claims)


def test_profiles_are_named_in_the_statement() -> None:
    for profile in Canonicalization:
        statement = Statement("x", "b" * 64, predicate(profile=profile, created=NOW))
        assert Statement.from_payload(statement.to_payload()).predicate.canonicalization is profile
