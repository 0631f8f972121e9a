"""`prov log audit` and `prov log monitor`: check any log (a directory or an http(s) URL) against
its trusted checkpoint keys, and list the entries signed for an identity.

Registered on `prov log` by ``cli/main.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from cli.common import Exit, JsonOption, fail, read_file, stderr
from cli.log_fetch import RecordingFetch, make_fetcher
from cli.log_output import audit_facts, monitor_table, plural, run_audit
from cli.log_state import default_state_path, load_state, save_state
from cli.render import print_json
from provenance import ProvenanceError, TrustRoot, format_time
from provenance.tlog import TLOG_LIMITS, NoteVerifier, audit_log, monitor


def log_verifiers(
    log_key: str | None, trust: Path | None, origin: str | None
) -> tuple[str, list[NoteVerifier]]:
    """The origin to audit and the trusted checkpoint keys, from --log-key or --trust."""
    if (log_key is None) == (trust is None):
        fail("give exactly one of --log-key VERIFIER_KEY or --trust TRUST_ROOT", Exit.USAGE)
    try:
        if log_key is not None:
            keys = [log_key]
        else:
            assert trust is not None
            keys = list(TrustRoot.from_json(read_file(trust, "trust root")).log_keys)
        verifiers = [NoteVerifier.from_key_string(key) for key in keys]
    except ProvenanceError as exc:
        fail(f"{trust or '--log-key'}: {exc}", Exit.USAGE)
    names = sorted({verifier.name for verifier in verifiers})
    if origin is None:
        if len(names) != 1:
            fail(f"the trust root names logs {names or 'none'}: give --origin", Exit.USAGE)
        origin = names[0]
    if origin not in names:
        fail(f"no trusted key for log {origin!r}; trusted logs: {names or 'none'}", Exit.USAGE)
    return origin, verifiers


Source = Annotated[str, typer.Argument(help="A tlog-tiles directory or an http(s) URL.")]
LogKey = Annotated[
    str | None, typer.Option(help="Trust this checkpoint key (<name>+<key id>+<base64 key>).")
]
TrustFile = Annotated[Path | None, typer.Option(help="Trust the log keys of this trust root.")]
Origin = Annotated[str | None, typer.Option(help="The log's origin (default: the key's name).")]
StateFile = Annotated[Path | None, typer.Option(help="Where the last accepted checkpoint is kept.")]
MaxSize = Annotated[
    int,
    typer.Option(
        "--max-size",
        min=0,
        max=2**53 - 1,
        help="Refuse a checkpoint claiming more leaves (log.checkpoint.invalid).",
    ),
]


def audit_command(
    source: Source,
    log_key: LogKey = None,
    trust: TrustFile = None,
    origin: Origin = None,
    state: StateFile = None,
    json_output: JsonOption = False,
    max_size: MaxSize = TLOG_LIMITS.max_audit_size,
) -> None:
    """Verify every tile and entry of a log and its consistency with the last audit."""
    origin, verifiers = log_verifiers(log_key, trust, origin)
    state_path = state or default_state_path("audit", origin)
    previous, _ = load_state(state_path, verifiers, origin)
    fetch = RecordingFetch(make_fetcher(source))
    report = run_audit(
        fetch,
        state_path,
        json_output,
        lambda progress: audit_log(
            fetch, verifiers, origin, previous=previous, progress=progress, max_size=max_size
        ),
    )
    save_state(state_path, report)
    since = f", consistent with size {previous.size}" if previous else ""
    stderr.print(
        f"[bold green]AUDIT OK:[/] {escape(origin)} size {report.checkpoint.size}{since}; "
        f"{report.tiles} tiles and {report.entries} entries verified"
    )
    if json_output:
        print_json({"ok": True, **audit_facts(report)})


def monitor_command(
    source: Source,
    identity: Annotated[str, typer.Option(help="List entries signed for this identity.")],
    log_key: LogKey = None,
    trust: TrustFile = None,
    origin: Origin = None,
    state: StateFile = None,
    json_output: JsonOption = False,
    max_size: MaxSize = TLOG_LIMITS.max_audit_size,
) -> None:
    """Audit the log, then list the entries signed for IDENTITY since the last run."""
    origin, verifiers = log_verifiers(log_key, trust, origin)
    state_path = state or default_state_path("monitor", origin, identity)
    previous, _ = load_state(state_path, verifiers, origin)
    since = previous.size if previous else 0
    fetch = RecordingFetch(make_fetcher(source))
    result = run_audit(
        fetch,
        state_path,
        json_output,
        lambda progress: monitor(
            fetch,
            verifiers,
            origin,
            previous=previous,
            since=since,
            identity=identity,
            progress=progress,
            max_size=max_size,
        ),
    )
    save_state(state_path, result.audit, identity=identity)
    revoked = revoked_serials(trust)
    entries = [
        {
            "index": entry.index,
            "integratedTime": entry.integrated_time,
            "loggedAt": format_time(datetime.fromtimestamp(entry.integrated_time, UTC)),
            "envelopeSha256": entry.envelope_sha256.hex(),
            "serial": f"{entry.serial:x}",
            "identities": list(entry.identities),
            "revoked": None if revoked is None else entry.serial in revoked,
        }
        for entry in result.entries
    ]
    stderr.print(
        f"[bold green]AUDIT OK:[/] {escape(origin)} size {result.audit.checkpoint.size}; "
        f"{plural(len(entries), 'entry', 'entries')} for {escape(identity)} in "
        f"\\[{since}, {result.audit.checkpoint.size})"
    )
    if json_output:
        print_json({"ok": True, **audit_facts(result.audit), "since": since, "entries": entries})
        return
    if entries:
        typer.echo(monitor_table(entries))


def revoked_serials(trust: Path | None) -> set[int] | None:
    """The serial numbers the trust root's CRLs revoke, or ``None`` without a trust root."""
    if trust is None:
        return None
    try:
        crls = TrustRoot.from_json(read_file(trust, "trust root")).crls
    except ProvenanceError as exc:
        fail(f"{trust}: {exc}", Exit.USAGE)
    return {revoked.serial_number for crl in crls for revoked in crl}
