"""`prov log`: a local, file-backed transparency log; proofs; audits and monitors of any log;
submitting an offline signature to a publisher's log."""

from __future__ import annotations

import hashlib
import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from cli.common import (
    Exit,
    JsonOption,
    PassphraseFile,
    Unencrypted,
    fail,
    load_signing_key,
    new_key_passphrase,
    read_file,
    stderr,
    write_new_file,
)
from cli.log_submit import output_bytes, read_api_key, read_submission, service_url, submit
from cli.render import print_json
from provenance.codes import Code
from provenance.encoding import b64encode
from provenance.errors import LogError, LogProofError, ProvenanceError
from provenance.identity.trust import TrustRoot
from provenance.keys import Ed25519SigningKey, KeyType, generate_key, write_private_key
from provenance.statement import format_time
from provenance.tlog.audit import (
    CHECKPOINT_PATH,
    AuditReport,
    Fetch,
    audit,
    monitor,
)
from provenance.tlog.files import FileStore
from provenance.tlog.limits import TLOG_LIMITS
from provenance.tlog.log import TransparencyLog
from provenance.tlog.merkle import EMPTY_ROOT
from provenance.tlog.note import (
    Checkpoint,
    NoteSigner,
    NoteVerifier,
    is_valid_key_name,
    open_checkpoint,
    sign_checkpoint,
    verifier_key_string,
)
from provenance.tlog.store import LogState, LogWrite

app = typer.Typer(help="Run and audit a transparency log.", no_args_is_help=True)

LOG_KEY = "log.key"
LOG_SETTINGS = "log.json"
TILES = "tiles"

LogDir = Annotated[Path, typer.Option("--log", help="The log directory (from `prov log init`).")]


def log_settings(directory: Path) -> dict[str, str]:
    """The log's origin and verifier key from ``log.json``."""
    try:
        settings = json.loads(read_file(directory / LOG_SETTINGS, "log settings"))
        return {"origin": str(settings["origin"]), "verifierKey": str(settings["verifierKey"])}
    except (ValueError, KeyError, TypeError) as exc:
        fail(f"{directory / LOG_SETTINGS} is not a log settings file: {exc}")


def open_local_log(directory: Path, passphrase_file: Path | None) -> TransparencyLog:
    """The log in ``directory`` with its checkpoint key, ready to append."""
    origin = log_settings(directory)["origin"]
    key = load_signing_key(directory / LOG_KEY, passphrase_file)
    if not isinstance(key, Ed25519SigningKey):
        fail(f"{directory / LOG_KEY} is not an Ed25519 key")
    try:
        signer = NoteSigner(origin, key)
        return TransparencyLog(
            FileStore(directory / TILES), signer, origin, lambda: int(time.time())
        )
    except ProvenanceError as exc:
        fail(str(exc))


def _publish_empty_checkpoint(store: FileStore, signer: NoteSigner) -> None:
    """Commit the signed checkpoint of the empty tree, so a new log can be audited at once."""
    note = sign_checkpoint(Checkpoint(signer.name, 0, EMPTY_ROOT), signer)
    store.append(lambda _source, _state: LogWrite(LogState(0, EMPTY_ROOT, note)))


@app.command("init")
def init(
    out: Annotated[Path, typer.Option(help="New log directory.")],
    origin: Annotated[str, typer.Option(help="The log's origin, e.g. reviews.example/log.")],
    passphrase_file: PassphraseFile = None,
    unencrypted: Unencrypted = False,
) -> None:
    """Create a log: its Ed25519 checkpoint key, settings and an empty tile directory."""
    if not is_valid_key_name(origin):
        fail(f"origin {origin!r} must be non-empty, without spaces or '+'", Exit.USAGE)
    if out.exists() and any(out.iterdir()):
        fail(f"{out} exists and is not empty; refusing to overwrite a log", Exit.USAGE)
    passphrase = new_key_passphrase(passphrase_file, unencrypted)
    key = generate_key(KeyType.ED25519)
    assert isinstance(key, Ed25519SigningKey)
    verifier_key = verifier_key_string(origin, key.public_key)
    try:
        (out / TILES).mkdir(parents=True, exist_ok=True)
        write_private_key(out / LOG_KEY, key, passphrase)
        _publish_empty_checkpoint(FileStore(out / TILES), NoteSigner(origin, key))
    except (OSError, ProvenanceError) as exc:
        fail(f"cannot create the log in {out}: {exc}")
    settings = {"origin": origin, "verifierKey": verifier_key}
    write_new_file(out / LOG_SETTINGS, (json.dumps(settings, indent=2) + "\n").encode(), "settings")
    stderr.print(f"created log {origin!r} in {out}; serve or audit {out / TILES}")
    print(verifier_key)


@app.command("checkpoint")
def checkpoint(log: LogDir, passphrase_file: PassphraseFile = None) -> None:
    """Print the log's current signed checkpoint."""
    typer.echo(open_local_log(log, passphrase_file).checkpoint(), nl=False)


def _signed_checkpoint(transparency_log: TransparencyLog, size: int) -> str:
    """The signed checkpoint the log committed for ``size`` (its proof of leaf 0 carries it)."""
    return transparency_log.inclusion_proof(0, size).checkpoint


def _inclusion_document(
    transparency_log: TransparencyLog, index: int, size: int | None
) -> dict[str, Any]:
    inclusion = transparency_log.inclusion_proof(index, size)
    return {
        "origin": transparency_log.origin,
        "leafHash": b64encode(transparency_log.entry(index).leaf_hash),
        **inclusion.to_json(),
    }


def _consistency_document(
    transparency_log: TransparencyLog, old_size: int, size: int | None
) -> dict[str, Any]:
    hashes = transparency_log.consistency_proof(old_size, size)
    new_size = transparency_log.state().size if size is None else size
    return {
        "origin": transparency_log.origin,
        "size1": old_size,
        "size2": new_size,
        "hashes": [b64encode(item) for item in hashes],
        "checkpoint1": {"envelope": _signed_checkpoint(transparency_log, old_size)},
        "checkpoint2": {"envelope": _signed_checkpoint(transparency_log, new_size)},
    }


@app.command("submit")
def submit_command(
    file: Annotated[
        Path,
        typer.Argument(
            help="A bundle (FILE.prov.json) or clear-signed text (FILE.asc) you signed."
        ),
    ],
    url: Annotated[str, typer.Option(help="The publisher's service base URL.")],
    api_key_file: Annotated[
        Path, typer.Option(help="A file holding an API key of scope log (or sign).")
    ],
    out: Annotated[
        Path | None, typer.Option(help="Where to write the logged result (default: FILE).")
    ] = None,
) -> None:
    """Log a signature made offline (`prov sign --cert`) in the publisher's log.

    The publisher verifies it against its trust root and logs it once; the bundle (or clear-signed
    text) is written again with its log entry, as verifiers of a trust root with requireLog need.
    """
    submission = read_submission(file)
    logged = submit(service_url(url), read_api_key(api_key_file), submission.bundle)
    target = out or file
    write_new_file(target, output_bytes(submission, logged), "logged bundle")
    how = "was logged already at" if logged.replayed else "logged at"
    stderr.print(f"{escape(str(file))} {how} index {logged.log_index} -> {escape(str(target))}")


@app.command("proof")
def proof(
    log: LogDir,
    index: Annotated[int | None, typer.Option(help="Inclusion proof of this leaf.")] = None,
    from_size: Annotated[
        int | None, typer.Option("--from", help="Consistency proof from this tree size.")
    ] = None,
    size: Annotated[
        int | None, typer.Option(help="Up to this tree size (default: current).")
    ] = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Print an inclusion (--index) or consistency (--from) proof as JSON."""
    if (index is None) == (from_size is None):
        fail("give exactly one of --index N or --from OLD_SIZE", Exit.USAGE)
    transparency_log = open_local_log(log, passphrase_file)
    try:
        if index is not None:
            document = _inclusion_document(transparency_log, index, size)
        else:
            assert from_size is not None
            document = _consistency_document(transparency_log, from_size, size)
    except LogError as exc:
        fail(str(exc), Exit.USAGE)
    print_json(document)


class SourceUnreadableError(Exception):
    """The log's source (a directory or a URL) could not be read."""


MAX_FETCH_BYTES = 256 * 0x10001  # the largest entry bundle
FETCH_TIMEOUT_SECONDS = 30


def directory_fetcher(root: Path) -> Fetch:
    """Read tlog-tiles paths from a directory."""
    if not root.is_dir():
        raise SourceUnreadableError(f"{root} is not a directory")

    def fetch(path: str) -> bytes | None:
        target = root / path
        try:
            if not target.is_file():
                return None
            with target.open("rb") as handle:
                return handle.read(MAX_FETCH_BYTES + 1)
        except OSError as exc:
            raise SourceUnreadableError(f"cannot read {target}: {exc.strerror}") from exc

    return fetch


def http_fetcher(base_url: str) -> Fetch:
    """Read tlog-tiles paths under an http(s) URL (404 means absent)."""
    if not re.match(r"https?://", base_url):
        raise SourceUnreadableError(f"{base_url} is not an http(s) URL")
    base = base_url.rstrip("/") + "/"

    def fetch(path: str) -> bytes | None:
        url = base + path
        try:
            with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310 (scheme checked)
                data: bytes = response.read(MAX_FETCH_BYTES + 1)
                return data
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise SourceUnreadableError(f"{url}: HTTP {exc.code}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise SourceUnreadableError(f"{url}: {exc}") from exc

    return fetch


def make_fetcher(source: str) -> Fetch:
    """A fetcher for a tiles directory or an http(s) URL."""
    if re.match(r"https?://", source):
        return http_fetcher(source)
    if "://" in source:
        fail(f"{source}: only http and https URLs or directories are supported", Exit.USAGE)
    try:
        return directory_fetcher(Path(source))
    except SourceUnreadableError as exc:
        fail(str(exc))


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


def default_state_path(kind: str, origin: str, identity: str | None = None) -> Path:
    """``~/.config/prov/<kind>-<origin>[-<identity hash>].json`` with the origin made file-safe."""
    name = f"{kind}-{re.sub(r'[^A-Za-z0-9._-]', '_', origin)}"
    if identity is not None:
        name += "-" + hashlib.sha256(identity.encode()).hexdigest()[:12]
    return Path.home() / ".config" / "prov" / f"{name}.json"


def load_state(
    path: Path, verifiers: list[NoteVerifier], origin: str
) -> tuple[Checkpoint | None, dict[str, Any]]:
    """The last accepted checkpoint in the state file (re-verified), and the file's contents."""
    if not path.exists():
        return None, {}
    try:
        state = json.loads(read_file(path, "state file"))
        note = state["checkpoint"]
        if state.get("origin") != origin or not isinstance(note, str):
            raise ValueError(f"it is not a state file for log {origin!r}")
        return open_checkpoint(note, verifiers, origin=origin), state
    except (ValueError, KeyError, TypeError, ProvenanceError) as exc:
        fail(f"state file {path}: {exc}")


def save_state(path: Path, report: AuditReport, **extra: Any) -> None:
    """Keep the audited checkpoint as the last one accepted."""
    state = {"origin": report.checkpoint.origin, "checkpoint": report.note, **extra}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"cannot create {path.parent}: {exc.strerror}")
    write_new_file(path, (json.dumps(state, indent=2) + "\n").encode(), "state file")


T = TypeVar("T")


class _RecordingFetch:
    """Passes fetches through and remembers the checkpoint it served (evidence of a split view)."""

    def __init__(self, fetch: Fetch) -> None:
        self._fetch = fetch
        self.checkpoint: bytes | None = None

    def __call__(self, path: str) -> bytes | None:
        data = self._fetch(path)
        if path == CHECKPOINT_PATH:
            self.checkpoint = data
        return data


def run_audit(
    fetch: _RecordingFetch,
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
    except SourceUnreadableError as exc:
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


def _audit_facts(report: AuditReport) -> dict[str, Any]:
    return {
        "origin": report.checkpoint.origin,
        "size": report.checkpoint.size,
        "rootHash": b64encode(report.checkpoint.root_hash),
        "previousSize": report.previous_size,
        "tiles": report.tiles,
        "entries": report.entries,
    }


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


@app.command("audit")
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
    fetch = _RecordingFetch(make_fetcher(source))
    report = run_audit(
        fetch,
        state_path,
        json_output,
        lambda progress: audit(
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
        print_json({"ok": True, **_audit_facts(report)})


@app.command("monitor")
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
    fetch = _RecordingFetch(make_fetcher(source))
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
        print_json({"ok": True, **_audit_facts(result.audit), "since": since, "entries": entries})
        return
    if entries:
        typer.echo(monitor_table(entries))


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


def revoked_serials(trust: Path | None) -> set[int] | None:
    """The serial numbers the trust root's CRLs revoke, or ``None`` without a trust root."""
    if trust is None:
        return None
    try:
        crls = TrustRoot.from_json(read_file(trust, "trust root")).crls
    except ProvenanceError as exc:
        fail(f"{trust}: {exc}", Exit.USAGE)
    return {revoked.serial_number for crl in crls for revoked in crl}


def plural(number: int, one: str, many: str) -> str:
    """``1 entry``, ``2 entries``."""
    return f"{number} {one if number == 1 else many}"
