"""What `prov log audit` and `prov log monitor` print: progress, the failure (with the evidence of
a split view kept), the facts of an audit, and the monitor's table of entries.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from cli.common import Exit, fail, stderr, write_new_file
from cli.log_fetch import RecordingFetch
from cli.render import print_json
from provenance import Code, LogProofError, LogSourceError, b64encode
from provenance.tlog import AuditReport

T = TypeVar("T")


def run_audit(
    fetch: RecordingFetch,
    state_path: Path,
    json_output: bool,
    work: Callable[[Callable[[int, int], None]], T],
) -> T:
    """Run ``work`` with a progress bar on a terminal (nothing, not even a blank line, off one);
    exit 1 on a failed audit and 3 on an unreadable source."""
    columns = (TextColumn("auditing tiles"), BarColumn(), MofNCompleteColumn())
    try:
        if not stderr.is_terminal:
            return work(lambda done, total: None)
        with Progress(*columns, console=stderr, transient=True) as bar:
            task = bar.add_task("tiles", total=None)
            return work(lambda done, total: bar.update(task, completed=done, total=total))
    except LogSourceError as exc:
        fail(str(exc))
    except LogProofError as exc:
        if exc.code == Code.LOG_CONSISTENCY_INVALID and fetch.checkpoint is not None:
            evidence = state_path.with_name(f"{state_path.stem}.conflict-{int(time.time())}.txt")
            write_new_file(evidence, fetch.checkpoint, "conflicting checkpoint")
            stderr.print(
                f"kept the conflicting checkpoint in {evidence}; the previous stays in {state_path}"
            )
        stderr.print(f"[bold red]AUDIT FAILED:[/] {exc.code}: {escape(exc.message)}")
        if json_output:
            print_json({"ok": False, "code": exc.code, "message": exc.message})
        raise typer.Exit(int(Exit.NOT_VERIFIED)) from exc


def audit_facts(report: AuditReport) -> dict[str, Any]:
    return {
        "origin": report.checkpoint.origin,
        "size": report.checkpoint.size,
        "rootHash": b64encode(report.checkpoint.root_hash),
        "previousSize": report.previous_size,
        "tiles": report.tiles,
        "entries": report.entries,
    }


MONITOR_COLUMNS = (
    ("INDEX", "index"),
    ("LOGGED AT (UTC)", "loggedAt"),
    ("CERTIFICATE", "status"),
    ("SERIAL", "serial"),
    ("ENVELOPE SHA-256", "envelopeSha256"),
)


def monitor_table(entries: list[dict[str, Any]]) -> str:
    """The entries as labelled, aligned columns (revoked certificates flagged REVOKED)."""
    rows = [[label for label, _ in MONITOR_COLUMNS]]
    for entry in entries:
        status = {None: "not checked", True: "REVOKED", False: "not revoked"}[entry["revoked"]]
        cells = {**entry, "status": status}
        rows.append([str(cells[key]) for _, key in MONITOR_COLUMNS])
    widths = [max(len(row[i]) for row in rows) for i in range(len(MONITOR_COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def plural(number: int, one: str, many: str) -> str:
    """``1 entry``, ``2 entries``."""
    return f"{number} {one if number == 1 else many}"
