"""The state files of `prov log audit` and `prov log monitor`: the last checkpoint accepted for a
log, re-verified on every run (``~/.config/prov/<kind>-<origin>.json`` unless --state is given).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from cli.common import fail, read_file, write_new_file
from provenance import ProvenanceError
from provenance.tlog import AuditReport, Checkpoint, NoteVerifier, open_checkpoint


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
