"""Human and JSON output of verification results."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from cli.common import stderr
from provenance.statement import format_time
from provenance.verify.result import VerificationResult


def print_json(document: Any) -> None:
    """Print one JSON document to stdout."""
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def verdict_line(result: VerificationResult, subject: str) -> str:
    """The one-line verdict printed first."""
    if result.verified:
        who = ", ".join(result.signer.identities) if result.signer else "?"
        return f"VERIFIED: {subject} signed by {who}"
    failure = result.failures[0] if result.failures else None
    reason = f"{failure.code}: {failure.message}" if failure else "incomplete verification"
    return f"NOT VERIFIED: {subject}: {reason}"


def print_verdict(result: VerificationResult, subject: str) -> None:
    """Print the verdict line and a panel of the established facts to stderr."""
    style = "bold green" if result.verified else "bold red"
    stderr.print(f"[{style}]{escape(verdict_line(result, subject))}[/]")
    stderr.print(Panel(_facts_table(result), title="provenance", expand=False))
    for warning in result.warnings:
        stderr.print(f"[bold yellow]warning:[/] {escape(warning)}")


def _facts_table(result: VerificationResult) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    for label, value in _facts(result):
        table.add_row(label, escape(value))
    for finding in result.findings:
        mark = "ok" if finding.ok else "FAILED"
        table.add_row(f"step {finding.step}", escape(f"{mark} [{finding.code}] {finding.message}"))
    return table


def _facts(result: VerificationResult) -> list[tuple[str, str]]:
    facts: list[tuple[str, str]] = []
    if result.signer is not None:
        facts.append(("signer", ", ".join(result.signer.identities)))
        if result.signer.issuer:
            facts.append(("vouched for by", result.signer.issuer))
        facts.append(("key id", result.signer.key_id))
    if result.statement is not None:
        predicate = result.statement.predicate
        if predicate.author is not None:
            facts.append(("author (attested)", predicate.author.id))
        facts.append(("created (signed claim)", format_time(predicate.created)))
        facts.extend((f"claim {k}", json.dumps(v)) for k, v in predicate.claims.items())
    for proof in result.log_proofs:
        when = format_time(proof.integrated_time)
        facts.append(("logged at", f"{proof.origin} #{proof.index} at {when}"))
    if result.certificate_checked_at and result.time_source:
        when = format_time(result.certificate_checked_at)
        facts.append(("certificate checked at", f"{when} ({result.time_source.value} time)"))
    return facts
