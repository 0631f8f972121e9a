"""The local, file-backed transparency log of `prov log init`: its layout, settings and key.

`prov log` runs it; `prov sign --log`, `prov model sign --log` and `prov ca export-trust --log`
append to it or trust its key, so it is read here rather than in a command module.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from cli.common import fail, load_signing_key, read_file
from provenance import Ed25519SigningKey, ProvenanceError
from provenance.tlog import FileStore, NoteSigner, TransparencyLog

LOG_KEY = "log.key"
LOG_SETTINGS = "log.json"
TILES = "tiles"


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
