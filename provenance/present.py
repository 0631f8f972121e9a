"""Verdicts in plain words: the one presenter the CLI's human output and the web page share.

A presentation leads with a headline (``VERIFIED``, ``PARTLY SIGNED``, ``NOT VERIFIED``) and one
sentence a non-technical reader understands ("This text was changed after it was signed"). Then
the facts in order: who signed and who vouches for them (only once the steps that prove it
succeeded), what the signature claims (under a heading that says, on a failed verdict, that it
describes the original text, not the text at hand), notes, and the technical details (each step as
passed, failed or skipped, with its status code and message).

Every string taken from a bundle, a document or a certificate passes
:func:`provenance.display.printable`. The front ends only lay the presentation out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType

from cryptography import x509
from cryptography.x509.oid import NameOID

from provenance.armor import ArmoredVerification, ArmorVerdict, BlockVerification, UnsignedSegment
from provenance.codes import Code
from provenance.display import printable
from provenance.statement import format_time
from provenance.text import Canonicalization
from provenance.verify.policy import UnsafeAcceptAnyIdentity
from provenance.verify.result import Finding, SignerKind, TimeSource, VerificationResult

__all__ = [
    "DEFAULT_TRUST",
    "DocumentPresentation",
    "Fact",
    "Part",
    "PartKind",
    "Presentation",
    "StepLine",
    "StepStatus",
    "issuer_name",
    "long_date",
    "note",
    "plain_reason",
    "present",
    "present_armored",
    "present_content",
    "signer_names",
    "visible_text",
]
"""The face of this module: the CLI and the service import only these names from it."""

HEADLINES = MappingProxyType(
    {
        ArmorVerdict.VERIFIED: "VERIFIED",
        ArmorVerdict.PARTLY_SIGNED: "PARTLY SIGNED",
        ArmorVerdict.NOT_VERIFIED: "NOT VERIFIED",
    }
)
ATTESTED_HEADING = "What the signer attests"
CLAIMED_HEADING = "What the signature claims (not verified)"
ORIGINAL_HEADING = "What the signature says about the original text, not this one"
DEFAULT_TRUST = "your trust root"

PLAIN_REASONS: Mapping[str, str] = MappingProxyType(
    {
        Code.BUNDLE_MALFORMED: "The signature file is damaged or is not a provenance signature.",
        Code.BUNDLE_TOO_LARGE: "The signature file is larger than any genuine signature would be.",
        Code.BUNDLE_UNSUPPORTED: "The signature file is in a format this checker does not know.",
        Code.ENVELOPE_SIGNATURES: "The signature file must hold exactly one signature; it does not.",
        Code.ENVELOPE_PAYLOAD_TYPE: "The signature file does not sign a provenance statement.",
        Code.STATEMENT_MALFORMED: "The signed statement is damaged.",
        Code.STATEMENT_UNSUPPORTED: "The signed statement is in a format this checker does not know.",
        Code.DIGEST_MISMATCH: "This {noun} was changed after it was signed.",
        Code.CONTENT_INVALID: "This {noun} cannot be what was signed: it is not text of the signed form.",
        Code.SIGNATURE_INVALID: "The signature does not match: it was forged or damaged.",
        Code.SIGNATURE_LEGACY: "The signature is in an old format that is no longer accepted.",
        Code.KEY_UNTRUSTED: "It was signed with a key not trusted by {trust}.",
        Code.KEY_MISMATCH: "The signature names a different key from the one that made it.",
        Code.CERTIFICATE_UNTRUSTED: "Signed by someone not vouched for by {trust}.",
        Code.CERTIFICATE_EXPIRED: "The signer's certificate had expired when this was signed.",
        Code.CERTIFICATE_NOT_YET_VALID: "The signer's certificate was not yet valid when this was signed.",
        Code.CERTIFICATE_PROFILE: "The signer's certificate does not allow signing content like this.",
        Code.CERTIFICATE_MALFORMED: "The signer's certificate is damaged and cannot be read.",
        Code.CERTIFICATE_CHAIN_EXTRA: (
            "The signature carries certificates that do not belong to the signer's chain."
        ),
        Code.CERTIFICATE_REVOKED: "The signer's certificate was revoked before this was signed.",
        Code.CERTIFICATE_CRL_STALE: (
            "The list of withdrawn certificates is out of date: a recent withdrawal would not show."
        ),
        Code.CERTIFICATE_CRL_MISSING: (
            "There is no list of withdrawn certificates for the signer's authority, so a "
            "withdrawal would not show."
        ),
        Code.CERTIFICATE_CRL_INVALID: (
            "The list of withdrawn certificates cannot be trusted, so the signer's certificate "
            "could not be checked."
        ),
        Code.LOG_MISSING: "Every signature must be in the public log, and this one is not.",
        Code.LOG_UNTRUSTED: "It was logged in a public log not trusted by {trust}.",
        Code.LOG_ENTRY_MISMATCH: "The log entry it shows belongs to another signature.",
        Code.LOG_PROOF_INVALID: "The proof that this signature is in the public log is false.",
        Code.LOG_CHECKPOINT_INVALID: "The public log's signed summary is damaged or forged.",
        Code.LOG_CHECKPOINT_UNSIGNED: "The public log's summary is not signed by a log trusted by {trust}.",
        Code.LOG_ENTRY_FUTURE: "The public log dates this signature in the future.",
        Code.LOG_ENTRY_MALFORMED: "An entry of the public log is damaged.",
        Code.LOG_TILE_MISSING: "The public log is missing records it must publish.",
        Code.LOG_TILE_INVALID: "The public log publishes records that do not match its signed summary.",
        Code.LOG_CONSISTENCY_INVALID: (
            "The public log was rewritten since it was last checked: records were removed or "
            "changed."
        ),
        Code.POLICY_IDENTITY_REQUIRED: (
            "Signed with a certificate, but no signer was required: say whose signature you expect."
        ),
        Code.POLICY_IDENTITY_MISMATCH: "Signed by {signer}, not by the signer you asked for.",
        Code.POLICY_ISSUER_MISMATCH: "The signer is vouched for by another authority than you asked for.",
        Code.POLICY_CLAIM_MISSING: "The signature does not make a claim you asked for.",
        Code.POLICY_CLAIM_MISMATCH: "The signature makes a claim you asked for with another value.",
        Code.POLICY_AGE_EXCEEDED: "The signature is older than you accept.",
        Code.POLICY_AGE_UNPROVEN: "Its age cannot be proven: no public log or timestamp dates it.",
        Code.POLICY_ANY_OF_FAILED: "None of the signers or requirements you accept matches.",
        Code.POLICY_MALFORMED: "The verification requirements are invalid.",
        Code.ARMOR_OK: "The signed block was signed as text.",
        Code.ARMOR_PROFILE: "The signed block was not signed as text, so it cannot be checked here.",
        Code.ARMOR_MALFORMED: "The signed block is damaged: a line of it is missing or was changed.",
        Code.ARMOR_HEADER: "The signed block has a header line this checker does not accept.",
        Code.ARMOR_INJECTION: (
            "A signed block starts inside another one: someone is passing off text as signed."
        ),
        Code.ARMOR_TOO_LARGE: "The signed text is larger than this checker accepts.",
        Code.ARMOR_MISSING: "Nothing here is signed: there is no signed block in this text.",
        Code.ARMOR_PARTLY_SIGNED: "Part of this text is not covered by any signature.",
        Code.MODEL_FILE_MISSING: "A file of the signed model is missing.",
        Code.MODEL_FILE_EXTRA: "The model has a file that was not signed.",
        Code.MODEL_FILE_CHANGED: "A file of the model was changed after it was signed.",
        Code.MODEL_PATH_UNSUPPORTED: "The model holds an entry that cannot be checked (a link or special file).",
        Code.MODEL_FILE_MORE: "More files of the model differ from what was signed.",
        Code.TRUST_EXPIRED: "The publisher's list of who it vouches for has expired: update it.",
        Code.TRUST_PUBLISHER_NONE: "None of the publishers you trust vouches for the signer.",
        Code.MEDIA_UNSUPPORTED: "This kind of file cannot carry a signature this checker reads.",
        Code.MEDIA_UNSIGNED: "This file is not signed.",
        Code.MEDIA_MALFORMED: "The signature inside this file is damaged.",
        Code.MEDIA_ASSERTION_MALFORMED: "The provenance record inside this file is damaged.",
        "verification.failed": "This could not be verified.",
        "policy.failed": "The signature does not meet your requirements.",
    }
)
PREFIX_REASONS: Mapping[str, str] = MappingProxyType(
    {
        "c2pa.": "The provenance record inside this file failed a check: it was changed or forged.",
        "media.": "The provenance record inside this file cannot be checked.",
        "policy.": "The signature does not meet your requirements.",
        "certificate.": "The signer's certificate cannot be trusted.",
        "log.": "The public log does not confirm this signature.",
        "armor.": "The signed block is damaged.",
    }
)
NOTES: Mapping[str, str] = MappingProxyType(
    {
        UnsafeAcceptAnyIdentity.warnings[0]: (
            "No signer was required: anyone vouched for by {trust} is accepted. Check that the "
            "signer below is who you expect."
        ),
    }
)
VERIFIED_ONLY_NOTES = frozenset(UnsafeAcceptAnyIdentity.warnings)
"""Warnings that matter only on a verified result (who is accepted is moot when nothing is)."""
SKIPPED_WHY = MappingProxyType(
    {
        "log": "not logged: the certificate is checked at the time of verification",
        "certificate": "signed with a pinned key: there is no certificate to check",
        "revocation": "signed with a pinned key: there is no certificate to check",
    }
)
_REVOKED_FROM = re.compile(r"\) from (\d{4}-\d{2}-\d{2}T[0-9:.+]+); the signature was made at")


class StepStatus(StrEnum):
    """What happened to a verification step."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    ADVISORY = "advisory"
    """Ok, with a caveat the reader should know (e.g. ``certificate.crl.stale``)."""


@dataclass(frozen=True)
class Fact:
    """One labelled fact; ``value`` is printable. ``kind`` names it for layout (``signer``...)."""

    label: str
    value: str
    kind: str = ""


@dataclass(frozen=True)
class StepLine:
    """One step as it ran: its status, status code and message (all printable)."""

    step: str
    status: StepStatus
    code: str
    message: str


@dataclass(frozen=True)
class Presentation:
    """One verification in plain words.

    Attributes:
        verified: Whether the signature verified.
        headline: ``VERIFIED`` or ``NOT VERIFIED``.
        reason: One plain sentence: who signed, or why it is not verified.
        signer: Who signed and who vouches for them (facts the verification established).
        claims_heading: The heading over ``claims``; on a failed verdict it says they are claims.
        claims: What the signature says: author, publisher, creation time, claims, log entries.
        notes: Plain sentences the reader should weigh (unsafe policy, non-fatal warnings).
        details: Technical facts: key id, time the certificate was checked at.
        steps: Every step that ran, then the skipped ones, with codes and messages.
    """

    verified: bool
    headline: str
    reason: str
    signer: tuple[Fact, ...]
    claims_heading: str
    claims: tuple[Fact, ...]
    notes: tuple[str, ...]
    details: tuple[Fact, ...]
    steps: tuple[StepLine, ...]

    @property
    def failures(self) -> tuple[StepLine, ...]:
        """The failed steps."""
        return tuple(s for s in self.steps if s.status is StepStatus.FAILED)

    @property
    def codes(self) -> tuple[str, ...]:
        """The status codes of the failed steps."""
        return tuple(s.code for s in self.failures)


def plain_reason(
    code: str,
    *,
    noun: str = "content",
    trust: str = DEFAULT_TRUST,
    signer: str = "",
    message: str = "",
) -> str:
    """The plain sentence for status ``code``.

    Args:
        code: A status code of ``specs/verification.md`` (or of media and log audits).
        noun: What was checked (``text`` or ``content``).
        trust: Who the reader trusts (``your trust root``, a publisher's name).
        signer: The established signer identities, for ``policy.identity.mismatch``.
        message: The finding's message; ``certificate.revoked`` takes its date from it.
    """
    if code == Code.CERTIFICATE_REVOKED and (revoked := _revocation_date(message)):
        return f"The signer's certificate was revoked on {revoked}."
    template = PLAIN_REASONS.get(code) or _prefix_reason(code)
    if code == Code.POLICY_IDENTITY_MISMATCH and not signer:
        template = "Not signed by the signer you asked for."
    sentence = template.format(noun=noun, trust=trust, signer=signer)
    return sentence[0].upper() + sentence[1:]


def _prefix_reason(code: str) -> str:
    prefix = next((p for p in PREFIX_REASONS if code.startswith(p)), None)
    return PREFIX_REASONS[prefix] if prefix else PLAIN_REASONS["verification.failed"]


def _revocation_date(message: str) -> str | None:
    matches = _REVOKED_FROM.findall(message)
    if not matches:
        return None
    try:
        moment = datetime.fromisoformat(matches[-1]).astimezone(UTC)
    except ValueError:
        return None
    return long_date(moment)


def long_date(moment: datetime) -> str:
    """``3 December 2026`` (UTC)."""
    moment = moment.astimezone(UTC)
    return f"{moment.day} {moment:%B %Y}"


def present(result: VerificationResult, *, trust: str = DEFAULT_TRUST) -> Presentation:
    """``result`` in plain words, checked against ``trust`` (e.g. ``Example Reviews``)."""
    noun = _noun(result)
    claims_heading = ATTESTED_HEADING
    if not result.verified:
        changed = any(f.step == "digest" for f in result.failures)
        claims_heading = ORIGINAL_HEADING.replace("text", noun) if changed else CLAIMED_HEADING
    return Presentation(
        verified=result.verified,
        headline=HEADLINES[ArmorVerdict.VERIFIED if result.verified else ArmorVerdict.NOT_VERIFIED],
        reason=_reason(result, noun, trust),
        signer=_signer_facts(result, trust),
        claims_heading=claims_heading,
        claims=_claim_facts(result),
        notes=(
            *(plain_reason(f.code, trust=trust, message=f.message) for f in _advisories(result)),
            *(
                note(w, trust=trust)
                for w in result.warnings
                if (result.verified or w not in VERIFIED_ONLY_NOTES)
                and not w.startswith(tuple(f"{f.code}: " for f in _advisories(result)))
            ),
        ),
        details=_detail_facts(result),
        steps=_steps(result),
    )


def note(warning: str, *, trust: str = DEFAULT_TRUST) -> str:
    """A warning of the library in plain words (unknown warnings are shown as they are)."""
    known = NOTES.get(warning)
    if known is None:
        return printable(warning)
    sentence = known.format(trust=trust)
    return sentence[0].upper() + sentence[1:]


def signer_names(result: VerificationResult) -> str:
    """The established signer identities, printable and comma separated ("" when unknown)."""
    return printable(", ".join(result.signer.identities)) if result.signer else ""


def issuer_name(rfc4514: str) -> str:
    """The common name of an issuer's RFC 4514 name, else the whole name."""
    try:
        names = x509.Name.from_rfc4514_string(rfc4514).get_attributes_for_oid(NameOID.COMMON_NAME)
    except ValueError:
        return rfc4514
    return str(names[0].value) if names else rfc4514


def _noun(result: VerificationResult) -> str:
    statement = result.statement
    if statement and statement.predicate.canonicalization is Canonicalization.TEXT_V1:
        return "text"
    return "content"


def _reason(result: VerificationResult, noun: str, trust: str) -> str:
    signer = signer_names(result)
    if result.verified:
        return f"Signed by {signer}{_vouched_clause(result, trust)}."
    if not result.failures:
        return "The verification did not finish."
    first = result.failures[0]
    return plain_reason(first.code, noun=noun, trust=trust, signer=signer, message=first.message)


def _vouched_clause(result: VerificationResult, trust: str) -> str:
    if result.signer is None:
        return ""
    if result.signer.issuer:
        return f", vouched for by {printable(issuer_name(result.signer.issuer))}"
    if result.signer.kind is SignerKind.PINNED_KEY:
        return f", a key trusted directly by {trust}"
    return ""


def _signer_facts(result: VerificationResult, trust: str) -> tuple[Fact, ...]:
    signer = result.signer
    if signer is None:
        return ()
    facts = [Fact("Signed by", printable(i), "signer") for i in signer.identities]
    if signer.issuer:
        facts.append(Fact("Vouched for by", printable(signer.issuer), "issuer"))
    elif signer.kind is SignerKind.PINNED_KEY:
        facts.append(Fact("Trusted because", f"pinned by {trust}", "issuer"))
    return tuple(facts)


def _claim_facts(result: VerificationResult) -> tuple[Fact, ...]:
    if result.statement is None:
        return ()
    predicate = result.statement.predicate
    facts: list[Fact] = []
    if predicate.author is not None:
        if predicate.author.display_name:
            facts.append(Fact("Author", printable(predicate.author.display_name), "author-name"))
        facts.append(Fact("Author account", printable(predicate.author.id), "author-id"))
    if predicate.publisher is not None:
        facts.append(Fact("Publisher", printable(predicate.publisher), "publisher"))
    facts.append(Fact("Created", format_time(predicate.created), "created"))
    facts.extend(
        Fact(f"Claim {printable(name)}", printable(json.dumps(value, ensure_ascii=False)), "claim")
        for name, value in result.claims.items()
    )
    facts.extend(
        Fact("Logged at", printable(f"{p.origin} #{p.index} at {format_time(p.integrated_time)}"))
        for p in result.log_proofs
    )
    return tuple(facts)


def _detail_facts(result: VerificationResult) -> tuple[Fact, ...]:
    facts: list[Fact] = []
    if result.signer is not None:
        facts.append(Fact("Key id", result.signer.key_id, "key-id"))
        facts.extend(
            Fact("CA key (--issuer pin)", printable(f"{key_id} {name}"), "ca-key")
            for name, key_id in zip(
                result.signer.issuer_chain, result.signer.issuer_key_ids, strict=False
            )
        )
    if result.certificate_checked_at and result.time_source:
        when = format_time(result.certificate_checked_at)
        facts.append(Fact("Certificate checked at", f"{when} ({_time_source(result.time_source)})"))
    return tuple(facts)


def _time_source(source: TimeSource) -> str:
    return {
        TimeSource.LOG: "the time the public log recorded",
        TimeSource.TIMESTAMP: "the file's timestamp",
        TimeSource.VERIFICATION: "the time of verification",
    }[source]


def _steps(result: VerificationResult) -> tuple[StepLine, ...]:
    ran: list[StepLine] = []
    skipped: list[StepLine] = []
    for finding in result.findings:
        why = _skipped_why(result, finding)
        if why is not None:
            skipped.append(StepLine(finding.step, StepStatus.SKIPPED, "", why))
        else:
            ran.append(_step_line(finding))
    return (*ran, *skipped)


def _skipped_why(result: VerificationResult, finding: Finding) -> str | None:
    """Why a passed step did nothing, or ``None`` when it ran (facts, not messages, decide)."""
    if not finding.ok or finding.code != f"{finding.step}.ok":
        return None
    if finding.step == "log" and not result.log_proofs:
        return SKIPPED_WHY["log"] if result.time_source is TimeSource.VERIFICATION else None
    pinned = result.signer is not None and result.signer.kind is SignerKind.PINNED_KEY
    if finding.step in {"certificate", "revocation"} and pinned:
        return SKIPPED_WHY[finding.step]
    return None


def _advisories(result: VerificationResult) -> tuple[Finding, ...]:
    """Findings that are ok with a caveat: their code is not ``<step>.ok``."""
    return tuple(f for f in result.findings if f.ok and f.code != f"{f.step}.ok")


def _step_line(finding: Finding) -> StepLine:
    status = StepStatus.PASSED if finding.ok else StepStatus.FAILED
    if finding.ok and finding.code != f"{finding.step}.ok":
        status = StepStatus.ADVISORY
    return StepLine(
        printable(finding.step), status, printable(finding.code), printable(finding.message)
    )


# Documents: clear-signed text with its blocks and unsigned text, or uploaded content.


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
        title: Its heading (``Signed block, lines 1-9: VERIFIED``).
        lines: ``lines 1-9`` for parts of a document, else ``""``.
        text: The text to show (printable line by line), or ``None`` for binary content.
        size: The part's size in bytes.
        presentation: The verification of a signed block or of uploaded content.
    """

    kind: PartKind
    title: str
    lines: str
    text: str | None
    size: int
    presentation: Presentation | None

    @property
    def verified(self) -> bool:
        """Whether this part is a verified signed block or verified content."""
        return self.presentation is not None and self.presentation.verified


@dataclass(frozen=True)
class DocumentPresentation:
    """The verdict on a whole input: headline, plain reason, document failures, parts.

    Attributes:
        verdict: VERIFIED only when everything shown is signed and verified.
        headline: ``VERIFIED``, ``PARTLY SIGNED`` or ``NOT VERIFIED``.
        reason: One plain sentence.
        failures: Document-level failed steps (armor errors, no block, unsigned text).
        parts: The signed blocks and unsigned text in input order (or the uploaded content).
    """

    verdict: ArmorVerdict
    headline: str
    reason: str
    failures: tuple[StepLine, ...]
    parts: tuple[Part, ...]

    @property
    def verified(self) -> bool:
        """Whether the verdict is VERIFIED."""
        return self.verdict is ArmorVerdict.VERIFIED


def visible_text(text: str) -> str:
    """Multi-line ``text`` with each line :func:`~provenance.display.printable`; breaks are kept."""
    return "\n".join(printable(line) for line in text.rstrip("\n").split("\n"))


def present_armored(
    checked: ArmoredVerification, *, trust: str = DEFAULT_TRUST
) -> DocumentPresentation:
    """The verdict on a clear-signed document, in plain words."""
    blocks = [(b.block.start_line, _block_part(b, trust)) for b in checked.blocks]
    unsigned = [(s.start_line, _unsigned_part(s)) for s in checked.unsigned_segments]
    parts = tuple(part for _, part in sorted([*blocks, *unsigned], key=lambda pair: pair[0]))
    return DocumentPresentation(
        verdict=checked.verdict,
        headline=HEADLINES[checked.verdict],
        reason=_armored_reason(checked, parts, trust),
        failures=tuple(_step_line(f) for f in checked.findings),
        parts=parts,
    )


def present_content(
    content: bytes,
    result: VerificationResult,
    *,
    trust: str = DEFAULT_TRUST,
    title: str = "Uploaded content",
) -> DocumentPresentation:
    """The verdict on content checked against its bundle, in plain words."""
    try:
        text: str | None = visible_text(content.decode("utf-8"))
    except UnicodeDecodeError:
        text = None
    presentation = present(result, trust=trust)
    title = f"{title}: {presentation.headline}"
    part = Part(PartKind.CONTENT, title, "", text, len(content), presentation)
    verdict = ArmorVerdict.VERIFIED if result.verified else ArmorVerdict.NOT_VERIFIED
    return DocumentPresentation(verdict, HEADLINES[verdict], presentation.reason, (), (part,))


def _block_part(item: BlockVerification, trust: str) -> Part:
    presentation = present(item.result, trust=trust)
    lines = f"lines {item.block.start_line}-{item.block.end_line}"
    title = f"Signed block, {lines}: {presentation.headline}"
    text = item.block.text
    return Part(PartKind.SIGNED, title, lines, visible_text(text), len(text), presentation)


def _unsigned_part(segment: UnsignedSegment) -> Part:
    title = f"UNSIGNED, {segment.lines_label}: no signature covers this text"
    text = segment.text
    return Part(PartKind.UNSIGNED, title, segment.lines_label, visible_text(text), len(text), None)


def _armored_reason(checked: ArmoredVerification, parts: tuple[Part, ...], trust: str) -> str:
    presentations = [p.presentation for p in parts if p.presentation is not None]
    if checked.verdict is ArmorVerdict.VERIFIED:
        if len(presentations) == 1:
            return presentations[0].reason
        return f"{len(presentations)} signed blocks, each verified; no text outside them."
    if checked.verdict is ArmorVerdict.PARTLY_SIGNED:
        spans = ", ".join(s.lines_label for s in checked.unsigned_segments)
        return f"Part of this text ({spans}) is not covered by any signature: do not trust it."
    failed = next((p for p in presentations if not p.verified), None)
    if failed is not None:
        return failed.reason
    finding = checked.findings[0] if checked.findings else None
    if finding is None:
        return PLAIN_REASONS["verification.failed"]
    return plain_reason(finding.code, noun="text", trust=trust, message=finding.message)
