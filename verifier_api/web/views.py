"""What the pages show, built only from verification results, never from the content.

Every string that comes from a bundle, a document or a form (names, identities, claims, messages,
text) passes :func:`provenance.display.printable` and HTML autoescaping in the templates: it can neither carry
markup nor hide, reorder or fake characters with control, format or separator code points.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

from provenance.armor import ArmoredVerification, ArmorVerdict, BlockVerification, UnsignedSegment
from provenance.display import printable
from provenance.statement import format_time
from provenance.verify.result import Finding, SignerKind, VerificationResult

VERDICT_LABELS = {
    ArmorVerdict.VERIFIED: "VERIFIED",
    ArmorVerdict.PARTLY_SIGNED: "PARTLY SIGNED",
    ArmorVerdict.NOT_VERIFIED: "NOT VERIFIED",
}


def visible_text(text: str) -> str:
    """Multi-line ``text`` with every line made :func:`~provenance.display.printable`; line breaks are kept."""
    return "\n".join(printable(line) for line in text.rstrip("\n").split("\n"))


@dataclass(frozen=True)
class FailureView:
    """A failed step: its step name, stable code and message."""

    step: str
    code: str
    message: str

    @classmethod
    def of(cls, finding: Finding) -> FailureView:
        """The view of ``finding``."""
        return cls(printable(finding.step), printable(finding.code), printable(finding.message))


@dataclass(frozen=True)
class ResultView:
    """The facts of one verification, as the CLI's verdict panel shows them."""

    verified: bool
    signer: tuple[str, ...]
    vouched_for_by: str | None
    key_id: str | None
    author_name: str | None
    author_id: str | None
    publisher: str | None
    created: str | None
    claims: tuple[tuple[str, str], ...]
    logged_at: tuple[str, ...]
    checked_at: str | None
    passed: tuple[str, ...]
    failures: tuple[FailureView, ...]
    warnings: tuple[str, ...]


def result_view(result: VerificationResult) -> ResultView:
    """The facts of ``result``; facts the verifier did not establish are ``None`` or empty."""
    signer = result.signer
    predicate = result.statement.predicate if result.statement else None
    author = predicate.author if predicate else None
    checked = None
    if result.certificate_checked_at and result.time_source:
        checked = f"{format_time(result.certificate_checked_at)} ({result.time_source.value} time)"
    return ResultView(
        verified=result.verified,
        signer=tuple(printable(i) for i in signer.identities) if signer else (),
        vouched_for_by=_vouched_for_by(result),
        key_id=signer.key_id if signer else None,
        author_name=_maybe_visible(author.display_name if author else None),
        author_id=_maybe_visible(author.id if author else None),
        publisher=_maybe_visible(predicate.publisher if predicate else None),
        created=format_time(predicate.created) if predicate else None,
        claims=tuple(
            (printable(name), printable(json.dumps(value, ensure_ascii=False)))
            for name, value in result.claims.items()
        ),
        logged_at=tuple(
            printable(f"{p.origin} #{p.index} at {format_time(p.integrated_time)}")
            for p in result.log_proofs
        ),
        checked_at=checked,
        passed=tuple(printable(f.code) for f in result.findings if f.ok and f.code.endswith(".ok")),
        failures=tuple(FailureView.of(f) for f in result.failures),
        warnings=tuple(printable(w) for w in result.warnings),
    )


def _vouched_for_by(result: VerificationResult) -> str | None:
    if result.signer is None:
        return None
    if result.signer.issuer:
        return printable(result.signer.issuer)
    if result.signer.kind is SignerKind.PINNED_KEY:
        return "a key pinned by the trust root"
    return None


def _maybe_visible(value: str | None) -> str | None:
    return printable(value) if value is not None else None


class PartKind(StrEnum):
    """A part of the checked input: a signed block, unsigned text, or uploaded content."""

    SIGNED = "signed"
    UNSIGNED = "unsigned"
    CONTENT = "content"


@dataclass(frozen=True)
class Part:
    """One part of the checked input, in input order.

    Attributes:
        kind: What the part is.
        title: Its heading (e.g. ``Signed block, lines 1-9: VERIFIED``).
        text: The text to show in the framed box, or ``None`` for binary content.
        size: The part's size in bytes (shown for binary content).
        result: The verification of a signed block or uploaded content.
    """

    kind: PartKind
    title: str
    text: str | None
    size: int
    result: ResultView | None

    @property
    def verified(self) -> bool:
        """Whether this part is a verified signed block or verified content."""
        return self.result is not None and self.result.verified


@dataclass(frozen=True)
class Outcome:
    """The verdict card: the verdict, document-level failures and the parts.

    Attributes:
        verdict: VERIFIED only when everything shown is signed and verified.
        summary: One sentence under the verdict.
        failures: Document-level failures (armor errors, no block, unsigned text).
        parts: The signed blocks and unsigned text in input order (or the uploaded content).
        any_identity: No identity was required: any signer the publisher certified is accepted.
        required_identity: The identity the person required, if any.
    """

    verdict: ArmorVerdict
    summary: str
    failures: tuple[FailureView, ...]
    parts: tuple[Part, ...]
    any_identity: bool
    required_identity: str | None

    @property
    def label(self) -> str:
        """``VERIFIED``, ``PARTLY SIGNED`` or ``NOT VERIFIED``."""
        return VERDICT_LABELS[self.verdict]


def armored_outcome(checked: ArmoredVerification, required_identity: str | None) -> Outcome:
    """The verdict card of a pasted (armored) document."""
    parts = sorted(
        [*map(_block_part, checked.blocks), *map(_unsigned_part, checked.unsigned_segments)],
        key=lambda pair: pair[0],
    )
    failures = tuple(FailureView.of(f) for f in checked.findings)
    return Outcome(
        verdict=checked.verdict,
        summary=_armored_summary(checked),
        failures=failures,
        parts=tuple(part for _, part in parts),
        any_identity=required_identity is None,
        required_identity=_maybe_visible(required_identity),
    )


def _block_part(item: BlockVerification) -> tuple[int, Part]:
    mark = "VERIFIED" if item.result.verified else "NOT VERIFIED"
    title = f"Signed block, lines {item.block.start_line}-{item.block.end_line}: {mark}"
    text = item.block.text
    part = Part(PartKind.SIGNED, title, visible_text(text), len(text), result_view(item.result))
    return item.block.start_line, part


def _unsigned_part(segment: UnsignedSegment) -> tuple[int, Part]:
    title = f"UNSIGNED, {segment.lines_label}: no signature covers this text"
    text = segment.text
    return segment.start_line, Part(PartKind.UNSIGNED, title, visible_text(text), len(text), None)


def _armored_summary(checked: ArmoredVerification) -> str:
    count = len(checked.blocks)
    if checked.verdict is ArmorVerdict.VERIFIED:
        return f"{count} signed block(s), each verified; no text outside them."
    if checked.verdict is ArmorVerdict.PARTLY_SIGNED:
        spans = ", ".join(s.lines_label for s in checked.unsigned_segments)
        return f"The signed block(s) verify, but {spans} not signed: do not trust that text."
    failed = next((b for b in checked.blocks if not b.result.verified), None)
    finding = failed.result.failures[0] if failed and failed.result.failures else None
    finding = finding or (checked.findings[0] if checked.findings else None)
    return printable(f"{finding.code}: {finding.message}") if finding else "Not verified."


def content_outcome(
    content: bytes, result: VerificationResult, required_identity: str | None
) -> Outcome:
    """The verdict card of uploaded content checked against its bundle."""
    try:
        text: str | None = visible_text(content.decode("utf-8"))
    except UnicodeDecodeError:
        text = None
    mark = "VERIFIED" if result.verified else "NOT VERIFIED"
    view = result_view(result)
    part = Part(PartKind.CONTENT, f"Uploaded content: {mark}", text, len(content), view)
    verdict = ArmorVerdict.VERIFIED if result.verified else ArmorVerdict.NOT_VERIFIED
    first = view.failures[0] if view.failures else None
    summary = f"{first.code}: {first.message}" if first else "The content matches its bundle."
    return Outcome(
        verdict=verdict,
        summary=summary,
        failures=(),
        parts=(part,),
        any_identity=required_identity is None,
        required_identity=_maybe_visible(required_identity),
    )
