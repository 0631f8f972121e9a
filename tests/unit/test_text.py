from __future__ import annotations

import io

import pytest

from provenance.errors import CanonicalizationError
from provenance.text import TEXT_LIMITS, Canonicalization, canonicalize, content_sha256

TEXT = Canonicalization.TEXT_V1


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        (b"", b"\n"),
        (b"Great lamp.", b"Great lamp.\n"),
        (b"Great lamp.  \r\nFive stars\t\r\n\r\n\r\n", b"Great lamp.\nFive stars\n"),
        (b"one\rtwo\r", b"one\ntwo\n"),
        (b"\n\nindented\n", b"\n\nindented\n"),
        ("cafe\u0301\n".encode(), "caf\u00e9\n".encode()),
    ],
)
def test_text_v1_canonical_form(raw: bytes, canonical: bytes) -> None:
    assert canonicalize(raw, TEXT) == canonical


def test_none_profile_keeps_exact_bytes() -> None:
    raw = b"a \r\n\xff"
    assert canonicalize(raw, Canonicalization.NONE) == raw


def test_text_v1_refuses_invalid_utf8() -> None:
    with pytest.raises(CanonicalizationError, match="UTF-8"):
        canonicalize(b"caf\xe9", TEXT)


def test_streamed_digest_equals_bytes_digest() -> None:
    raw = ("line \u00e9  \r\n" * 50_000).encode()
    assert content_sha256(io.BytesIO(raw), TEXT) == content_sha256(raw, TEXT)
    assert content_sha256(io.BytesIO(raw), Canonicalization.NONE) == content_sha256(
        raw, Canonicalization.NONE
    )


def test_copy_paste_variants_share_one_digest() -> None:
    original = b"Sturdy and bright.\nWould buy again.\n"
    pasted = b"Sturdy and bright.   \r\nWould buy again.\r\n\r\n"
    assert content_sha256(original, TEXT) == content_sha256(pasted, TEXT)


def test_text_v1_refuses_an_overlong_line_streamed_or_in_memory() -> None:
    longest = b"a" * TEXT_LIMITS.max_line_chars + b"\n"
    assert content_sha256(io.BytesIO(longest), TEXT) == content_sha256(longest, TEXT)
    overlong = b"a" * (TEXT_LIMITS.max_line_chars + 1)
    for content in (overlong, io.BytesIO(overlong), io.BytesIO(overlong + b"\nmore\n")):
        with pytest.raises(CanonicalizationError, match="at most"):
            content_sha256(content, TEXT)


@pytest.mark.parametrize("separator", ["\x1c", "\x1d", "\x1e", "\x1f"])
def test_information_separators_at_a_line_end_are_not_white_space(separator: str) -> None:
    text = f"Five stars.{separator}\n".encode()
    assert canonicalize(text, Canonicalization.TEXT_V1) == text


@pytest.mark.parametrize("char", ["\u200b", "\u180e", "\ufeff"])
def test_zero_width_characters_at_a_line_end_are_not_white_space(char: str) -> None:
    text = f"Five stars.{char}\n".encode()
    assert canonicalize(text, Canonicalization.TEXT_V1) == text


def test_every_unicode_white_space_character_at_a_line_end_is_stripped() -> None:
    white_space = "\t\v\f \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B)))
    white_space += "\u2028\u2029\u202f\u205f\u3000"
    assert len(white_space) + 2 == 25  # with LF and CR, which end lines
    for char in white_space:
        assert canonicalize(f"Five stars.{char}\n".encode(), Canonicalization.TEXT_V1) == (
            b"Five stars.\n"
        ), hex(ord(char))
