"""`prov log`: a local, file-backed transparency log: create it, show its checkpoint, prove;
submit an offline signature to a publisher's log.

Auditing and monitoring any log (`prov log audit`, `prov log monitor`) is ``cli/log_audit_cmd.py``;
both are registered on this group by ``cli/main.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from cli.common import (
    Exit,
    PassphraseFile,
    Unencrypted,
    fail,
    new_key_passphrase,
    stderr,
    write_new_file,
)
from cli.local_log import LOG_KEY, LOG_SETTINGS, TILES, log_settings, open_local_log
from cli.log_output import plural
from cli.log_submit import output_bytes, read_api_key, read_submission, service_url, submit
from cli.render import print_json
from provenance import (
    Ed25519SigningKey,
    KeyType,
    LogError,
    ProvenanceError,
    b64encode,
    generate_key,
    write_private_key,
)
from provenance.tlog import (
    EMPTY_ROOT,
    Checkpoint,
    FileStore,
    LogState,
    LogWrite,
    NoteSigner,
    TransparencyLog,
    is_valid_key_name,
    sign_checkpoint,
    verifier_key_string,
)

__all__ = ["app", "log_settings", "plural"]
"""``log_settings`` and ``plural`` are re-exported: tests of the log read them from here."""

app = typer.Typer(help="Run and audit a transparency log.", no_args_is_help=True)


LogDir = Annotated[Path, typer.Option("--log", help="The log directory (from `prov log init`).")]


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
