"""Clear-signed text (specs/armor-v1.md): readable text followed by its bundle in base64 armor.

An armored block is a ``-----BEGIN PROVENANCE SIGNED TEXT-----`` line, optional armor headers, a
blank line, the dash-escaped text, and the bundle as base64 between ``-----BEGIN PROVENANCE
BUNDLE-----`` and ``-----END PROVENANCE BUNDLE-----``. The signed content is the text-v1 canonical
form of the dash-unescaped text, so line endings and trailing white space added by copy and paste do
not matter. A document may hold several blocks; text outside every block is unsigned and is reported
as such, never as verified. Parsing is strict and capped by :class:`ArmorLimits`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from provenance.bundle import DEFAULT_LIMITS, Bundle
from provenance.codes import Code
from provenance.encoding import StrictDecodeError, b64decode_strict, b64encode
from provenance.errors import DigestMismatchError, VerificationError
from provenance.statement import Statement
from provenance.text import WHITE_SPACE, Canonicalization, canonicalize
from provenance.verify.policy import Policy
from provenance.verify.result import Finding, VerificationResult
from provenance.verify.verifier import Verifier

ARMOR_BEGIN = "-----BEGIN PROVENANCE SIGNED TEXT-----"
BUNDLE_BEGIN = "-----BEGIN PROVENANCE BUNDLE-----"
BUNDLE_END = "-----END PROVENANCE BUNDLE-----"
PROFILE_HEADER = "Profile"
BASE64_LINE_CHARS = 64
_ARMOR_PREFIXES = ("-----BEGIN PROVENANCE", "-----END PROVENANCE")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_HEADER = re.compile(r"^([A-Za-z][A-Za-z0-9-]*): (.*)$")
_BASE64_LINE = re.compile(r"^[A-Za-z0-9+/=]+$")
_BOM = "\ufeff"


class ArmorError(VerificationError):
    """Armored text is malformed (``armor.malformed``), has a refused header (``armor.header``),
    nests a block in signed text (``armor.injection``), exceeds a cap (``armor.too_large``) or
    carries a bundle that does not sign text-v1 (``armor.profile``)."""

    default_code = Code.ARMOR_MALFORMED


@dataclass(frozen=True)
class ArmorLimits:
    """Caps applied while parsing an armored document."""

    max_document_bytes: int = 1024 * 1024
    max_line_chars: int = 16 * 1024
    max_blocks: int = 32
    max_bundle_chars: int = DEFAULT_LIMITS.max_bundle_bytes  # counted in base64 characters (§8)


DEFAULT_ARMOR_LIMITS = ArmorLimits()


@dataclass(frozen=True)
class SignedBlock:
    """One armored block: the dash-unescaped text (LF line ends) and the bundle it carries.

    Line numbers are 1-based and inclusive: ``start_line`` is the BEGIN line, ``end_line`` the END.
    """

    text: str
    bundle_bytes: bytes
    start_line: int
    end_line: int


@dataclass(frozen=True)
class UnsignedSegment:
    """Text outside every block that is not only white space; no signature covers it."""

    start_line: int
    end_line: int
    text: str

    @property
    def lines_label(self) -> str:
        """``line N`` or ``lines N-M``, for messages."""
        if self.start_line == self.end_line:
            return f"line {self.start_line}"
        return f"lines {self.start_line}-{self.end_line}"

    def to_json(self) -> dict[str, Any]:
        """The segment as a JSON object."""
        return {"lines": [self.start_line, self.end_line], "text": self.text}


@dataclass(frozen=True)
class ArmoredDocument:
    """The signed blocks and the unsigned text of a document, in document order."""

    blocks: tuple[SignedBlock, ...]
    unsigned_segments: tuple[UnsignedSegment, ...]


def armor_text(text: str, bundle: Bundle, limits: ArmorLimits = DEFAULT_ARMOR_LIMITS) -> str:
    """Clear-sign ``text`` with ``bundle``, which must sign its text-v1 canonical form.

    The armored text holds the canonical form (LF line ends, no trailing white space, NFC).

    Raises:
        ArmorError: ``armor.profile`` when the statement is not text-v1, ``armor.too_large`` or
            ``armor.malformed`` when the result would break a cap of ``limits``.
        DigestMismatchError: The bundle signs other content.
        BundleFormatError: The bundle's statement is malformed.
    """
    statement = Statement.from_payload(bundle.envelope.payload)
    _require_text_v1(statement)
    canonical = canonicalize(text.encode("utf-8"), Canonicalization.TEXT_V1)
    if hashlib.sha256(canonical).hexdigest() != statement.subject_sha256:
        raise DigestMismatchError("the bundle signs other content than this text")
    body = [_dash_escape(line) for line in canonical.decode("utf-8")[:-1].split("\n")]
    encoded = b64encode(json.dumps(bundle.to_json(), separators=(",", ":")).encode("utf-8"))
    base64_lines = [
        encoded[i : i + BASE64_LINE_CHARS] for i in range(0, len(encoded), BASE64_LINE_CHARS)
    ]
    lines = [ARMOR_BEGIN, f"{PROFILE_HEADER}: text-v1", "", *body, BUNDLE_BEGIN]
    armored = "\n".join([*lines, *base64_lines, BUNDLE_END]) + "\n"
    find_signed_blocks(armored, limits)
    return armored


def _require_text_v1(statement: Statement) -> None:
    profile = statement.predicate.canonicalization
    if profile is not Canonicalization.TEXT_V1:
        raise ArmorError(
            f"armored text must be signed under text-v1; the statement names {profile.value}",
            code=Code.ARMOR_PROFILE,
        )


def _dash_escape(line: str) -> str:
    return "- " + line if line.startswith("-") else line


def contains_armor(document: str | bytes) -> bool:
    """Whether ``document`` holds a BEGIN line (specs/armor-v1.md §2, §10).

    A BEGIN line is a whole line (CRLF, CR or LF breaks; one leading BOM ignored) equal to the
    marker after removing trailing white space; the marker mid-line or indented is text. Bytes that
    are not UTF-8 still count, so that the document parse reports them as ``armor.malformed``.
    """
    text = document.decode("utf-8", "replace") if isinstance(document, bytes) else document
    if ARMOR_BEGIN not in text:
        return False
    lines = _LINE_BREAK.split(text.removeprefix(_BOM))
    return any(line.startswith(ARMOR_BEGIN) and _trim(line) == ARMOR_BEGIN for line in lines)


def find_signed_blocks(
    document: str, limits: ArmorLimits = DEFAULT_ARMOR_LIMITS
) -> ArmoredDocument:
    """Find every armored block of ``document`` and the unsigned text around them.

    Raises:
        ArmorError: With the code of specs/armor-v1.md §6 and the offending line number.
    """
    lines = _split_lines(document, limits)
    blocks: list[SignedBlock] = []
    segments: list[UnsignedSegment] = []
    cursor = _Cursor(lines)
    unsigned: list[str] = []
    while cursor.more():
        line = cursor.next()
        if _trim(line) == ARMOR_BEGIN:
            segments.extend(_unsigned(unsigned, cursor.number - len(unsigned)))
            unsigned = []
            blocks.append(_read_block(cursor, limits))
            if len(blocks) > limits.max_blocks:
                raise ArmorError(
                    f"more than {limits.max_blocks} signed blocks", code=Code.ARMOR_TOO_LARGE
                )
        elif line.startswith(_ARMOR_PREFIXES):
            raise ArmorError(f"line {cursor.number}: armor line outside a signed text block")
        else:
            unsigned.append(line)
    segments.extend(_unsigned(unsigned, cursor.number - len(unsigned) + 1))
    return ArmoredDocument(tuple(blocks), tuple(segments))


def _split_lines(document: str, limits: ArmorLimits) -> list[str]:
    _check_size(len(document), limits)
    try:
        _check_size(len(document.encode("utf-8")), limits)
    except UnicodeEncodeError as exc:
        raise ArmorError(f"document is not valid Unicode: {exc.reason}") from exc
    lines = _LINE_BREAK.split(document.removeprefix(_BOM))
    if lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, start=1):
        if len(line) > limits.max_line_chars:
            raise ArmorError(
                f"line {number} exceeds the cap of {limits.max_line_chars} characters",
                code=Code.ARMOR_TOO_LARGE,
            )
    return lines


def _trim(line: str) -> str:
    """``line`` without trailing Unicode White_Space (armor-v1 §2: the set text-v1 trims, not
    ``str.rstrip()``'s, which adds U+001C..U+001F)."""
    return line.rstrip(WHITE_SPACE)


def _check_size(size: int, limits: ArmorLimits) -> None:
    if size > limits.max_document_bytes:
        raise ArmorError(
            f"document of {size} bytes exceeds the cap of {limits.max_document_bytes}",
            code=Code.ARMOR_TOO_LARGE,
        )


@dataclass
class _Cursor:
    """Reads lines one by one; ``number`` is the 1-based number of the last line taken."""

    lines: list[str]
    number: int = 0

    def more(self) -> bool:
        return self.number < len(self.lines)

    def next(self) -> str:
        self.number += 1
        return self.lines[self.number - 1]

    def take(self, block_start: int) -> str:
        if not self.more():
            raise ArmorError(f"the signed text block of line {block_start} has no {BUNDLE_END}")
        return self.next()


def _unsigned(lines: list[str], first: int) -> list[UnsignedSegment]:
    filled = [i for i, line in enumerate(lines) if line.strip(WHITE_SPACE)]
    if not filled:
        return []
    text = "\n".join(lines[filled[0] : filled[-1] + 1]) + "\n"
    return [UnsignedSegment(first + filled[0], first + filled[-1], text)]


def _read_block(cursor: _Cursor, limits: ArmorLimits) -> SignedBlock:
    start = cursor.number
    _read_headers(cursor, start)
    text = _read_text(cursor, start)
    bundle_bytes = _read_bundle(cursor, start, limits)
    return SignedBlock(text, bundle_bytes, start, cursor.number)


def _read_headers(cursor: _Cursor, start: int) -> None:
    seen: set[str] = set()
    while line := _trim(cursor.take(start)):
        if line == ARMOR_BEGIN:
            raise ArmorError(
                f"line {cursor.number}: BEGIN inside a block", code=Code.ARMOR_INJECTION
            )
        match = _HEADER.match(line)
        if match is None:
            raise ArmorError(f"line {cursor.number}: expected an armor header or a blank line")
        name, value = match.groups()
        if name != PROFILE_HEADER or name in seen or value != Canonicalization.TEXT_V1.value:
            raise ArmorError(
                f"line {cursor.number}: refused armor header {line!r}; only one "
                f"'{PROFILE_HEADER}: text-v1' is allowed",
                code=Code.ARMOR_HEADER,
            )
        seen.add(name)


def _read_text(cursor: _Cursor, start: int) -> str:
    text: list[str] = []
    while _trim(line := cursor.take(start)) != BUNDLE_BEGIN:
        if _trim(line) == ARMOR_BEGIN:
            raise ArmorError(
                f"line {cursor.number}: a signed text block begins inside the signed text of "
                f"line {start}",
                code=Code.ARMOR_INJECTION,
            )
        if line.startswith("- "):
            text.append(line[2:])
        elif line.startswith("-"):
            raise ArmorError(
                f"line {cursor.number}: a line of signed text starting with '-' "
                "must be dash-escaped ('- ')"
            )
        else:
            text.append(line)
    return "".join(line + "\n" for line in text)


def _read_bundle(cursor: _Cursor, start: int, limits: ArmorLimits) -> bytes:
    chunks: list[str] = []
    total = 0
    while (line := _trim(cursor.take(start))) != BUNDLE_END:
        if line == ARMOR_BEGIN:
            raise ArmorError(
                f"line {cursor.number}: BEGIN inside a block", code=Code.ARMOR_INJECTION
            )
        if chunks and len(chunks[-1]) != BASE64_LINE_CHARS:
            raise ArmorError(
                f"line {cursor.number}: only the last base64 line may be shorter than "
                f"{BASE64_LINE_CHARS} characters"
            )
        if len(line) > BASE64_LINE_CHARS or not _BASE64_LINE.match(line):
            raise ArmorError(f"line {cursor.number}: not a base64 line of at most 64 characters")
        chunks.append(line)
        total += len(line)
        if total > limits.max_bundle_chars:
            raise ArmorError(
                f"the bundle of line {start} exceeds the cap of {limits.max_bundle_chars} "
                "base64 characters",
                code=Code.ARMOR_TOO_LARGE,
            )
    if not chunks:
        raise ArmorError(f"the signed text block of line {start} carries no bundle")
    try:
        return b64decode_strict("".join(chunks))
    except StrictDecodeError as exc:
        raise ArmorError(f"the bundle of line {start} is not canonical base64: {exc}") from exc


class ArmorVerdict(StrEnum):
    """The verdict on a whole document; partly signed text is never verified."""

    VERIFIED = "verified"
    PARTLY_SIGNED = "partly-signed"
    NOT_VERIFIED = "not-verified"


@dataclass(frozen=True)
class BlockVerification:
    """One signed block and the result of verifying it."""

    block: SignedBlock
    result: VerificationResult

    def to_json(self) -> dict[str, Any]:
        """The block's result as JSON, with the block's ``lines`` ``[start, end]``."""
        return {**self.result.to_json(), "lines": [self.block.start_line, self.block.end_line]}


@dataclass(frozen=True)
class ArmoredVerification:
    """The verification of every block of a document and the text no signature covers.

    Attributes:
        blocks: Each signed block with its result, in document order.
        unsigned_segments: Text outside every block (never verified).
        error: The armor finding when the document could not be parsed (then no block is read).
    """

    blocks: tuple[BlockVerification, ...]
    unsigned_segments: tuple[UnsignedSegment, ...]
    error: Finding | None = None

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Document-level failures: an armor error, no signed block, or unsigned text."""
        if self.error is not None:
            return (self.error,)
        if not self.blocks:
            return (Finding("armor", Code.ARMOR_MISSING, False, "no signed text block found"),)
        if self.unsigned_segments:
            spans = ", ".join(s.lines_label for s in self.unsigned_segments)
            message = f"{spans} outside every signed block: no signature covers this text"
            return (Finding("armor", Code.ARMOR_PARTLY_SIGNED, False, message),)
        return ()

    @property
    def verdict(self) -> ArmorVerdict:
        """Verified only when every block verified and no text is unsigned."""
        if self.error or not self.blocks or not all(b.result.verified for b in self.blocks):
            return ArmorVerdict.NOT_VERIFIED
        return ArmorVerdict.PARTLY_SIGNED if self.unsigned_segments else ArmorVerdict.VERIFIED

    @property
    def verified(self) -> bool:
        """Whether the whole document is verified."""
        return self.verdict is ArmorVerdict.VERIFIED

    def to_json(self) -> dict[str, Any]:
        """The JSON document of specs/armor-v1.md §7 (a single block's facts also at top level)."""
        single = self.blocks[0].result if len(self.blocks) == 1 else None
        findings = [*(single.findings if single else ()), *self.findings]
        return {
            "verified": self.verified,
            "verdict": self.verdict.value,
            "findings": [f.to_json() for f in findings],
            "signer": single.signer.to_json() if single and single.signer else None,
            "claims": dict(single.claims) if single else {},
            "blocks": [b.to_json() for b in self.blocks],
            "unsignedText": [s.to_json() for s in self.unsigned_segments],
        }


def check_block(
    verifier: Verifier, block: SignedBlock, policy: Policy, *, at: datetime
) -> VerificationResult:
    """Verify one block; its statement must name text-v1 (a final ``armor`` finding says so)."""
    result = verifier.check(block.text.encode("utf-8"), block.bundle_bytes, policy, at=at)
    if result.statement is None:
        return result
    try:
        _require_text_v1(result.statement)
    except ArmorError as exc:
        finding = Finding("armor", exc.code, False, exc.message)
    else:
        finding = Finding("armor", Code.ARMOR_OK, True, "the text is signed under text-v1")
    return dataclasses.replace(
        result, verified=result.verified and finding.ok, findings=(*result.findings, finding)
    )


def check_armored(
    verifier: Verifier,
    document: str | bytes,
    policy: Policy,
    *,
    at: datetime,
    limits: ArmorLimits = DEFAULT_ARMOR_LIMITS,
) -> ArmoredVerification:
    """Verify every signed block of ``document``; never raises for bad input."""
    try:
        parsed = find_signed_blocks(_decoded(document, limits), limits)
    except ArmorError as exc:
        return ArmoredVerification((), (), Finding("armor", exc.code, False, exc.message))
    results = (
        BlockVerification(block, check_block(verifier, block, policy, at=at))
        for block in parsed.blocks
    )
    return ArmoredVerification(tuple(results), parsed.unsigned_segments)


def _decoded(document: str | bytes, limits: ArmorLimits) -> str:
    if isinstance(document, str):
        return document
    _check_size(len(document), limits)
    try:
        return document.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ArmorError(f"document is not UTF-8: {exc.reason} at byte {exc.start}") from exc
