"""A signed statement's time is exactly bundle-v1 §2's form, ``YYYY-MM-DDTHH:MM:SSZ`` (attacker
review of the strict parsing, 2026-12-03, finding 3): ``strptime`` also read one-digit fields,
non-ASCII digits and a lower-case ``t``/``z``, which another verifier following RFC 3339 refuses,
a parser differential on a signed field."""

from __future__ import annotations

import pytest

from provenance.codes import Code
from provenance.errors import BundleFormatError
from provenance.keys import KeyType, generate_key
from provenance.statement import Statement, parse_time
from tests.factories import sign

NOT_THE_FORM = [
    "2026-6-1T12:00:00Z",
    "2026-06-01T1:2:3Z",
    "2026-6-1T1:0:0Z",
    "2026-06-01T12:00:0Z",
    "2026-06-01t12:00:00z",
    "2026-06-01T12:00:00z",
    "\u0662\u0660\u0662\u0666-06-01T12:00:00Z",
    "2026-06-01T12:00:60Z",
    "0000-06-01T12:00:00Z",
]


@pytest.mark.parametrize("text", NOT_THE_FORM)
def test_parse_time_refuses_a_time_not_of_the_exact_form(text: str) -> None:
    with pytest.raises(BundleFormatError) as raised:
        parse_time(text)
    assert raised.value.code == Code.STATEMENT_MALFORMED
    expected = f"statement: time {text!r} is not RFC 3339 UTC like 2026-01-31T12:00:00Z"
    assert raised.value.message == expected


@pytest.mark.parametrize("text", NOT_THE_FORM)
def test_a_signed_statement_created_at_a_time_not_of_the_exact_form_is_malformed(
    text: str,
) -> None:
    payload = sign(generate_key(KeyType.ED25519)).envelope.payload
    assert b'"2026-06-01T12:00:00Z"' in payload
    edited = payload.replace(b'"2026-06-01T12:00:00Z"', f'"{text}"'.encode())
    with pytest.raises(BundleFormatError) as raised:
        Statement.from_payload(edited)
    assert raised.value.code == Code.STATEMENT_MALFORMED
    assert "is not RFC 3339 UTC" in raised.value.message


def test_a_time_of_the_exact_form_parses() -> None:
    assert parse_time("2026-12-31T23:59:59Z").isoformat() == "2026-12-31T23:59:59+00:00"
