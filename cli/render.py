"""Human and JSON output of verification results.

The words come from :mod:`provenance.present`, the presenter the web page uses too: the verdict and
one plain sentence first, then who signed, what the signature claims (under a heading that says,
on a failure, that it describes the original text), notes, and each step as passed, failed or
skipped with its status code. Whatever comes from a bundle or a document is printed as rich
``Text``, never parsed as markup, after control, format and separator characters are shown as
``\\uXXXX``: no value can style the output, move the cursor or fake a verdict line.
"""

from __future__ import annotations

from typing import Any, NoReturn

import typer
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from cli.common import CLI_LIMITS, Exit, stderr, stdout
from provenance import (
    ArmoredVerification,
    ArmorVerdict,
    Code,
    VerificationResult,
    dumps_text,
    printable,
)
from provenance.present import (
    DEFAULT_TRUST,
    DocumentPresentation,
    Part,
    PartKind,
    Presentation,
    StepStatus,
    present,
    present_armored,
)

_QUOTE = "  │ "
HINTS: dict[str, str] = {
    Code.POLICY_IDENTITY_REQUIRED: (
        "give --identity URI, --identity-regex REGEX, or say --unsafe-any-identity"
    ),
    Code.POLICY_IDENTITY_MISMATCH: "check --identity against the signer above",
}


def print_json(document: Any) -> None:
    """Print one JSON document to stdout (a lone surrogate, e.g. from a file name, escaped)."""
    stdout.write(dumps_text(document, indent=2) + "\n")
    stdout.flush()


def verdict_line(presentation: Presentation | DocumentPresentation, subject: str) -> str:
    """The one-line verdict printed first: headline, subject, plain reason and the first code."""
    codes = _codes(presentation)
    suffix = f" ({codes[0]})" if codes else ""
    return printable(f"{presentation.headline}: {subject}: {presentation.reason}{suffix}")


def _codes(presentation: Presentation | DocumentPresentation) -> tuple[str, ...]:
    if isinstance(presentation, Presentation):
        return presentation.codes
    own = tuple(f.code for f in presentation.failures)
    blocks = (p.presentation.codes for p in presentation.parts if p.presentation is not None)
    return own + tuple(code for block in blocks for code in block)


def print_verdict(result: VerificationResult, subject: str, trust: str = DEFAULT_TRUST) -> None:
    """Print the verdict line and the verdict panel to stderr."""
    presentation = present(result, trust=trust)
    stderr.print(Text(verdict_line(presentation, subject), style=_style(presentation.verified)))
    _print_presentation(presentation, presentation.claims_heading)


def print_armored_verdict(
    outcome: ArmoredVerification, subject: str, trust: str = DEFAULT_TRUST
) -> None:
    """Print the document verdict, a panel per signed block and the unsigned text to stderr."""
    document = present_armored(outcome, trust=trust)
    failed = next((p for p in document.parts if p.presentation and not p.verified), None)
    if failed is not None and document.verdict is ArmorVerdict.NOT_VERIFIED:
        subject = f"{subject}, signed block at {failed.lines}"
    stderr.print(Text(verdict_line(document, subject), style=_style(document.verified)))
    for failure in document.failures:
        stderr.print(Text(f"FAILED {failure.step} {failure.code}: {failure.message}", style="red"))
    for part in document.parts:
        if part.kind is PartKind.UNSIGNED:
            _print_unsigned(part)
        elif part.presentation is not None:
            stderr.print(Text(part.presentation.claims_heading + ":", style="bold"))
            title = f"signed block, {part.lines}: {part.presentation.headline}"
            _print_presentation(part.presentation, title)


def _style(verified: bool) -> str:
    return "bold green" if verified else "bold red"


def _print_presentation(presentation: Presentation, title: str) -> None:
    stderr.print(Panel(_facts_table(presentation), title=Text(title), expand=False))
    for note in presentation.notes:
        stderr.print(Text("note: ", style="bold yellow") + Text(note))
    for failure in presentation.failures:
        if hint := HINTS.get(failure.code):
            stderr.print(Text("hint: ", style="bold") + Text(hint))


def _print_unsigned(part: Part) -> None:
    stderr.print(Text(part.title, style="bold yellow"))
    lines = (part.text or "").split("\n")
    for text_line in lines[: CLI_LIMITS.max_unsigned_lines_shown]:
        stderr.print(Text(_QUOTE + text_line, style="dim"))
    if len(lines) > CLI_LIMITS.max_unsigned_lines_shown:
        hidden = len(lines) - CLI_LIMITS.max_unsigned_lines_shown
        stderr.print(Text(f"{_QUOTE}... {hidden} more line(s); --json shows all", style="dim"))


def _facts_table(presentation: Presentation) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for fact in (*presentation.signer, *presentation.claims, *presentation.details):
        table.add_row(Text(fact.label), Text(fact.value))
    _add_steps(table, presentation)
    return table


def _add_steps(table: Table, presentation: Presentation) -> None:
    passed = [s.code for s in presentation.steps if s.status is StepStatus.PASSED]
    if passed:
        table.add_row(Text("checks passed"), Text(" ".join(passed)))
    for step in presentation.steps:
        if step.status is StepStatus.ADVISORY:
            table.add_row(
                Text(f"note {step.step}", style="yellow"), Text(f"{step.code}: {step.message}")
            )
        elif step.status is StepStatus.SKIPPED:
            table.add_row(Text(f"skipped {step.step}"), Text(step.message, style="dim"))
        elif step.status is StepStatus.FAILED:
            table.add_row(
                Text(f"FAILED {step.step}", style="red"), Text(f"{step.code}: {step.message}")
            )


def report(
    result: VerificationResult, subject: str, as_json: bool, trust: str = DEFAULT_TRUST
) -> NoReturn:
    """Print the result (JSON on stdout, or the verdict on stderr) and exit 0 or 1."""
    if as_json:
        print_json(result.to_json())
    else:
        print_verdict(result, subject, trust)
    raise typer.Exit(int(Exit.VERIFIED if result.verified else Exit.NOT_VERIFIED))
