"""Identity rules: https URIs and emails only, NFC, no hidden or space characters."""

from __future__ import annotations

import re

import pytest
from cryptography import x509

from provenance.errors import AuthorityError
from provenance.identity import parse_identity


def test_parse_identity_accepts_https_uri() -> None:
    assert parse_identity("https://reviews.example/u/8841") == x509.UniformResourceIdentifier(
        "https://reviews.example/u/8841"
    )


def test_parse_identity_accepts_email() -> None:
    assert parse_identity("alice@reviews.example") == x509.RFC822Name("alice@reviews.example")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://reviews.example/u/cafe\u0301", "is not NFC-normalized"),
        ("https://reviews.example/u/88\u200b41", "format character U+200B"),
        ("https://reviews.example/u/\u202e1488", "format character U+202E"),
        ("alice\u2066@reviews.example", "format character U+2066"),
        ("https://reviews.example/u/88\x0041", "control character U+0000"),
        ("https://reviews.example/u/88 41", "whitespace U+0020"),
        ("https://reviews.example/u/88\u00a041", "whitespace U+00A0"),
        ("https://reviews.example/u/caf\u00e9", "is not ASCII"),
        ("http://reviews.example/u/8841", "neither an https URI nor an email"),
        ("8841", "neither an https URI nor an email"),
        ("https://Reviews.example/u/8841", "lowercase DNS host"),
        ("https://bob@reviews.example/u/8841", "user information"),
        ("https://reviews.example/u/8841#top", "fragment"),
        ("alice@Reviews.Example", "not an email address"),
        ("@reviews.example", "not an email address"),
        ("", "1 to 512 characters"),
    ],
)
def test_parse_identity_refuses(text: str, expected: str) -> None:
    with pytest.raises(AuthorityError, match=re.escape(expected)):
        parse_identity(text)
