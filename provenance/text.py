"""Content canonicalization profiles.

``none`` signs the exact bytes. ``text-v1`` makes a text survive copy and paste: the bytes must be
UTF-8; line endings CRLF and CR become LF; each line loses its trailing white space (Unicode
``White_Space``) and is NFC-normalized; trailing empty lines are dropped and the text ends in
exactly one LF (an empty text canonicalizes to a single LF). A line may hold at most
``TEXT_LIMITS.max_line_chars`` characters, so a stream is never held in memory whole, and must be
in the Stream-Safe Text Format of UAX #15 (at most ``TEXT_LIMITS.max_non_starter_run``
non-starters in a row in its NFKD form), so normalizing it takes linear time. The profile is named inside the signed statement.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import BinaryIO

from provenance.errors import CanonicalizationError

CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class TextLimits:
    """The caps of text canonicalization.

    Attributes:
        max_line_chars: One line of text.
        max_non_starter_run: UAX #15 §13 (Stream-Safe Text Format): Unicode normalization
            reorders and composes each run of non-starters in time quadratic in its length, so
            text-v1 refuses longer runs.
    """

    max_line_chars: int = 1 << 20
    max_non_starter_run: int = 30


TEXT_LIMITS = TextLimits()


WHITE_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)
"""The Unicode ``White_Space`` property (PropList.txt), the characters text-v1 strips at line ends.
Not Python's ``str.isspace()``, which adds U+001C..U+001F (information separators)."""
_PROFILE_CACHE_SIZE = 1 << 14
_PROFILES: dict[str, tuple[int, int]] = {chr(c): (0, 0) for c in range(128)}


class Canonicalization(StrEnum):
    """The canonicalization profiles a statement can name."""

    NONE = "none"
    TEXT_V1 = "text-v1"


Content = bytes | BinaryIO


def _raw_chunks(content: Content) -> Iterator[bytes]:
    if isinstance(content, bytes):
        yield content
        return
    while chunk := content.read(CHUNK_BYTES):
        yield chunk


def _text_lines(content: Content) -> Iterator[str]:
    if isinstance(content, bytes):
        return iter(_decoded_lines(content))
    return _streamed_lines(content)


def _decoded_lines(content: bytes) -> list[str]:
    """The lines of in-memory text, as universal-newline reading splits them (without the LF)."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _not_utf8(exc) from exc
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _streamed_lines(stream: BinaryIO) -> Iterator[str]:
    reader = io.TextIOWrapper(stream, encoding="utf-8", errors="strict", newline=None)
    try:
        while line := reader.readline(TEXT_LIMITS.max_line_chars + 2):
            yield line
    except UnicodeDecodeError as exc:
        raise _not_utf8(exc) from exc
    finally:
        reader.detach()


def _not_utf8(exc: UnicodeDecodeError) -> CanonicalizationError:
    return CanonicalizationError(
        f"text-v1 needs UTF-8 text; found invalid byte sequence ({exc.reason})"
    )


def _non_starter_profile(char: str) -> tuple[int, int]:
    """The non-starters (canonical combining class not 0) at the start and at the end of the NFKD
    decomposition of ``char``; the end count is -1 when the decomposition is all non-starters."""
    if not unicodedata.combining(char) and not unicodedata.decomposition(char):
        return (0, 0)
    classes = [unicodedata.combining(c) for c in unicodedata.normalize("NFKD", char)]
    leading = next((i for i, ccc in enumerate(classes) if ccc == 0), len(classes))
    if leading == len(classes):
        return (leading, -1)
    trailing = next(i for i, ccc in enumerate(reversed(classes)) if ccc == 0)
    return (leading, trailing)


def _check_stream_safe(line: str, number: int) -> None:
    """Refuse a line whose NFKD form holds more than ``TEXT_LIMITS.max_non_starter_run``
    non-starters in a row.

    Canonical reordering moves no starter, so the runs of the NFKD form are those of the code
    points' decompositions laid end to end; no normalization of the line is needed.

    Raises:
        CanonicalizationError: The line is not in the Stream-Safe Text Format.
    """
    run = 0
    cached = _PROFILES.get
    for char in line:
        profile = cached(char)
        if profile is None:
            profile = _non_starter_profile(char)
            if len(_PROFILES) < _PROFILE_CACHE_SIZE:
                _PROFILES[char] = profile
        leading, trailing = profile
        run += leading
        if run > TEXT_LIMITS.max_non_starter_run:
            raise CanonicalizationError(
                f"text-v1 lines hold at most {TEXT_LIMITS.max_non_starter_run} non-starters "
                "(combining marks) "
                f"in a row (Unicode Stream-Safe Text Format); line {number} holds more"
            )
        if trailing >= 0:
            run = trailing


def _text_v1_chunks(content: Content) -> Iterator[bytes]:
    pending_empty = 0
    for number, line in enumerate(_text_lines(content), start=1):
        if len(line.rstrip("\n")) > TEXT_LIMITS.max_line_chars:
            raise CanonicalizationError(
                f"text-v1 lines are at most {TEXT_LIMITS.max_line_chars} characters; found a "
                "longer one"
            )
        text = line.rstrip("\n").rstrip(WHITE_SPACE)
        if not text.isascii():
            _check_stream_safe(text, number)
            text = unicodedata.normalize("NFC", text)
        if not text:
            pending_empty += 1
            continue
        yield b"\n" * pending_empty + text.encode("utf-8") + b"\n"
        pending_empty = 0


def canonical_chunks(content: Content, profile: Canonicalization) -> Iterator[bytes]:
    """Yield the canonical form of ``content`` under ``profile`` in chunks (streams stay streamed).

    Raises:
        CanonicalizationError: The content cannot be canonicalized under the profile.
    """
    if profile is Canonicalization.NONE:
        return _raw_chunks(content)
    return _with_final_newline(_text_v1_chunks(content))


def _with_final_newline(chunks: Iterator[bytes]) -> Iterator[bytes]:
    empty = True
    for chunk in chunks:
        if chunk:
            empty = False
            yield chunk
    if empty:
        yield b"\n"


def canonicalize(content: bytes, profile: Canonicalization) -> bytes:
    """The canonical bytes of ``content`` under ``profile``.

    Raises:
        CanonicalizationError: The content cannot be canonicalized under the profile.
    """
    return b"".join(canonical_chunks(content, profile))


_SPACE_LF = re.compile(b" \n")
"""A space before a line feed: found by the regular expression engine's literal search, which
skips from space to space (faster on text than ``b" \\n" in content``)."""


def _trailing_ascii_space(content: bytes) -> bool:
    """Whether an ASCII White_Space character (tab, VT, FF, space) comes right before a line feed
    (what ``re.search(rb"[\t\x0b\x0c ]\n", content)`` finds; a test holds the two together),
    by substring search, each pair only when its first character occurs at all: a regular
    expression tries every position of the text."""
    return (
        _SPACE_LF.search(content) is not None
        or (b"\t" in content and b"\t\n" in content)
        or (b"\x0b" in content and b"\x0b\n" in content)
        or (b"\x0c" in content and b"\x0c\n" in content)
    )


def _already_canonical(content: bytes, profile: Canonicalization) -> bool:
    """Whether ``content`` is its own canonical form, seen without splitting it into lines.

    Under ``text-v1`` that holds for ASCII (so NFC and Stream-Safe hold) no longer than a line's
    cap, without CR, ending in exactly one LF, with no White_Space (ASCII: tab, VT, FF, space)
    before any LF: every step of :func:`_text_v1_chunks` then leaves it as it is.
    """
    if profile is Canonicalization.NONE:
        return True
    return (
        len(content) <= TEXT_LIMITS.max_line_chars
        and content.isascii()
        and content.endswith(b"\n")
        and not content.endswith(b"\n\n")
        and b"\r" not in content
        and not _trailing_ascii_space(content)
    )


def content_sha256(content: Content, profile: Canonicalization) -> str:
    """Lowercase hex SHA-256 of the canonical form of ``content``, streaming.

    Raises:
        CanonicalizationError: The content cannot be canonicalized under the profile.
    """
    if isinstance(content, bytes) and _already_canonical(content, profile):
        return hashlib.sha256(content).hexdigest()
    digest = hashlib.sha256()
    for chunk in canonical_chunks(content, profile):
        digest.update(chunk)
    return digest.hexdigest()
