"""``publisher.json`` is read with exact JSON types (attacker review of the strict parsing,
2026-12-03, finding 6): ``int()`` and ``str()`` once converted ``"rootVersion": 7.9`` to root
version 7 (the TUF rollback floor), ``true`` to 1, ``"\\u0663"`` to 3 and ``["x"]`` to "['x']"."""

from __future__ import annotations

import json
from typing import Any

import pytest

from provenance.trust_store import PublisherRecord, TrustStoreError

GOOD: dict[str, Any] = {
    "name": "reviews",
    "url": "https://reviews.example",
    "rootVersion": 3,
    "trustRootVersion": 4,
    "expires": "2027-01-01T00:00:00+00:00",
    "trustRootSha256": "00" * 32,
    "updated": "2026-06-01T12:00:00+00:00",
}


def test_a_record_of_exact_types_parses() -> None:
    record = PublisherRecord.from_json(json.dumps(GOOD).encode())
    assert (record.root_version, record.trust_root_version, record.name) == (3, 4, "reviews")
    assert PublisherRecord.from_json(record.to_json()) == record


@pytest.mark.parametrize(
    ("field", "value", "expected", "found"),
    [
        ("rootVersion", 7.9, "an integer", "a number with a fraction or exponent"),
        ("rootVersion", 7.0, "an integer", "a number with a fraction or exponent"),
        ("rootVersion", True, "an integer", "a boolean"),
        ("rootVersion", "7", "an integer", "a string"),
        ("rootVersion", "\u0663", "an integer", "a string"),
        ("trustRootVersion", " 4 ", "an integer", "a string"),
        ("trustRootVersion", "1_000", "an integer", "a string"),
        ("name", ["x"], "a string", "an array"),
        ("trustRootSha256", 12, "a string", "an integer"),
        ("url", None, "a string", "null"),
        ("url", {"a": 1}, "a string", "an object"),
    ],
)
def test_a_record_field_of_another_json_type_is_invalid(
    field: str, value: object, expected: str, found: str
) -> None:
    document = {**GOOD, field: value}
    with pytest.raises(TrustStoreError) as raised:
        PublisherRecord.from_json(json.dumps(document).encode())
    assert raised.value.code == "trust.store.invalid"
    assert str(raised.value.message) == (
        f"malformed publisher.json: expected {field} {expected}, found {found}"
    )
