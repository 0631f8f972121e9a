"""Human and JSON output of verification results.

Whatever comes from a bundle or a document (names, claims, messages, unsigned text, file names) is
printed as rich ``Text``, never parsed as markup, after control, format and separator characters
are shown as ``\\uXXXX``: no value can style the output, move the cursor or fake a verdict line.
The first line printed is always the verdict.
"""

from __future__ import annotations

import json
from typing import Any

from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from cli.common import stderr, stdout
from provenance.armor import ArmoredVerification, ArmorVerdict, BlockVerification, UnsignedSegment
from provenance.display import printable
from provenance.encoding import dumps_text
from provenance.statement import format_time
from provenance.verify.result import SignerKind, VerificationResult

MAX_UNSIGNED_LINES_SHOWN = 20
_QUOTE = "  │ "


def print_json(document: Any) -> None:
    """Print one JSON document to stdout (a lone surrogate, e.g. from a file name, escaped)."""
    stdout.write(dumps_text(document, indent=2) + "\n")
    stdout.flush()


def verdict_line(result: VerificationResult, subject: str) -> str:
    """The one-line verdict printed first."""
    if result.verified:
        who = ", ".join(result.signer.identities) if result.signer else "?"
        return printable(f"VERIFIED: {subject} signed by {who}")
    failure = result.failures[0] if result.failures else None
    reason = f"{failure.code}: {failure.message}" if failure else "incomplete verification"
    return printable(f"NOT VERIFIED: {subject}: {reason}")


def print_verdict(result: VerificationResult, subject: str) -> None:
    """Print the verdict line and the verdict panel to stderr."""
    stderr.print(Text(verdict_line(result, subject), style=_style(result.verified)))
    _print_panel(result, "provenance")


def armored_verdict_line(outcome: ArmoredVerification, subject: str) -> str:
    """The one-line verdict on an armored document; partly signed text is never VERIFIED."""
    count = len(outcome.blocks)
    if outcome.verdict is ArmorVerdict.VERIFIED:
        if count == 1:
            return verdict_line(outcome.blocks[0].result, subject)
        return printable(f"VERIFIED: {subject}: {count} signed blocks, each verified")
    if outcome.verdict is ArmorVerdict.PARTLY_SIGNED:
        unsigned = ", ".join(s.lines_label for s in outcome.unsigned_segments)
        return printable(
            f"PARTLY SIGNED: {subject}: {count} signed block(s) verify, but {unsigned} not signed"
        )
    failed = next((b for b in outcome.blocks if not b.result.verified), None)
    if failed is None:
        finding = outcome.findings[0]
        return printable(f"NOT VERIFIED: {subject}: {finding.code}: {finding.message}")
    where = f"{subject}, signed block at {_lines(failed)}"
    return verdict_line(failed.result, where)


def print_armored_verdict(outcome: ArmoredVerification, subject: str) -> None:
    """Print the document verdict, a panel per signed block and the unsigned text to stderr."""
    line = armored_verdict_line(outcome, subject)
    stderr.print(Text(line, style=_style(outcome.verified)))
    for item in outcome.blocks:
        mark = "VERIFIED" if item.result.verified else "NOT VERIFIED"
        _print_panel(item.result, f"signed block, {_lines(item)}: {mark}")
    for segment in outcome.unsigned_segments:
        _print_unsigned(segment)


def _lines(item: BlockVerification) -> str:
    return f"lines {item.block.start_line}-{item.block.end_line}"


def _style(verified: bool) -> str:
    return "bold green" if verified else "bold red"


def _print_panel(result: VerificationResult, title: str) -> None:
    stderr.print(Panel(_facts_table(result), title=Text(printable(title)), expand=False))
    for warning in result.warnings:
        stderr.print(Text("warning: ", style="bold yellow") + Text(printable(warning)))


def _print_unsigned(segment: UnsignedSegment) -> None:
    header = f"UNSIGNED, {segment.lines_label}: no signature covers this text"
    stderr.print(Text(header, style="bold yellow"))
    lines = segment.text.rstrip("\n").split("\n")
    for text_line in lines[:MAX_UNSIGNED_LINES_SHOWN]:
        stderr.print(Text(_QUOTE + printable(text_line), style="dim"))
    if len(lines) > MAX_UNSIGNED_LINES_SHOWN:
        hidden = len(lines) - MAX_UNSIGNED_LINES_SHOWN
        stderr.print(Text(f"{_QUOTE}... {hidden} more line(s); --json shows all", style="dim"))


def _facts_table(result: VerificationResult) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for label, value in _facts(result):
        table.add_row(Text(label), Text(printable(value)))
    passed = " ".join(f.code for f in result.findings if f.ok and f.code.endswith(".ok"))
    if passed:
        table.add_row(Text("checks passed"), Text(printable(passed)))
    for failure in result.failures:
        table.add_row(
            Text(f"FAILED {printable(failure.step)}", style="red"),
            Text(printable(f"{failure.code}: {failure.message}")),
        )
    return table


def _facts(result: VerificationResult) -> list[tuple[str, str]]:
    facts: list[tuple[str, str]] = []
    if result.signer is not None:
        facts.append(("signer", ", ".join(result.signer.identities)))
        if result.signer.issuer:
            facts.append(("vouched for by", result.signer.issuer))
            for name, key_id in zip(
                result.signer.issuer_chain, result.signer.issuer_key_ids, strict=False
            ):
                facts.append(("CA key (--issuer pin)", f"{key_id} {name}"))
        elif result.signer.kind is SignerKind.PINNED_KEY:
            facts.append(("vouched for by", "a key pinned by your trust root"))
        facts.append(("key id", result.signer.key_id))
    if result.statement is not None:
        predicate = result.statement.predicate
        if predicate.author is not None:
            facts.append(("author (attested)", predicate.author.id))
        if predicate.publisher is not None:
            facts.append(("publisher (attested)", predicate.publisher))
        facts.append(("created (signed claim)", format_time(predicate.created)))
        facts.extend((f"claim {k}", json.dumps(v)) for k, v in predicate.claims.items())
    for proof in result.log_proofs:
        when = format_time(proof.integrated_time)
        facts.append(("logged at", f"{proof.origin} #{proof.index} at {when}"))
    if result.certificate_checked_at and result.time_source:
        when = format_time(result.certificate_checked_at)
        facts.append(("certificate checked at", f"{when} ({result.time_source.value} time)"))
    return facts
