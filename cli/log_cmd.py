"""`prov log`: a local, file-backed transparency log."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from cli.common import (
    Exit,
    PassphraseFile,
    Unencrypted,
    fail,
    load_signing_key,
    new_key_passphrase,
    read_file,
    stderr,
    write_new_file,
)
from provenance.errors import ProvenanceError
from provenance.keys import Ed25519SigningKey, KeyType, generate_key, write_private_key
from provenance.tlog.files import FileStore
from provenance.tlog.log import TransparencyLog
from provenance.tlog.note import NoteSigner, is_valid_key_name, verifier_key_string

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
    except (OSError, ProvenanceError) as exc:
        fail(f"cannot create the log in {out}: {exc}")
    settings = {"origin": origin, "verifierKey": verifier_key}
    write_new_file(out / LOG_SETTINGS, (json.dumps(settings, indent=2) + "\n").encode(), "settings")
    stderr.print(f"created log {origin!r} in {out}; serve or audit {out / TILES}")
    print(verifier_key)
