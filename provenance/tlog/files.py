"""A :class:`~provenance.tlog.store.LogStore` in a directory laid out as C2SP tlog-tiles.

The directory can be served as static files (or audited in place): ``checkpoint`` holds the latest
signed checkpoint, ``tile/<L>/<N>[.p/<W>]`` the hash tiles, ``tile/entries/<N>[.p/<W>]`` the entry
bundles. ``checkpoints/<size>`` keeps every checkpoint ever committed (for consistency proofs).
Appends take an exclusive ``flock`` on ``.lock``; tiles are written first and the ``checkpoint``
file is replaced last, atomically: that rename is the commit.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Collection
from pathlib import Path

from provenance.errors import LogError, ProvenanceError
from provenance.tlog.merkle import HASH_SIZE
from provenance.tlog.note import Checkpoint
from provenance.tlog.store import Admit, LogState, LogWrite, Sequencer
from provenance.tlog.tiles import TileId, decode_entry_bundle

CHECKPOINT = "checkpoint"
HISTORY = "checkpoints"
LOCK = ".lock"


class FileStore:
    """Tiles, entry bundles and checkpoints as files under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def read_tile(self, level: int, index: int) -> bytes | None:
        """The full tile, else the widest partial one, else None."""
        return self._widest(TileId(level, index).path)

    def read_tiles(self, coordinates: Collection[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """The stored tiles among ``coordinates``."""
        found = {key: self.read_tile(*key) for key in coordinates}
        return {key: data for key, data in found.items() if data is not None}

    def read_entry_bundle(self, index: int) -> bytes | None:
        """The full entry bundle, else the widest partial one, else None."""
        return self._widest(TileId(0, index).entries_path)

    def read_state(self) -> LogState | None:
        """The committed state from the ``checkpoint`` file, or None for a new log."""
        path = self.root / CHECKPOINT
        if not path.exists():
            return None
        note = _read_text(path)
        body = note.split("\n\n", 1)[0] + "\n"
        try:
            checkpoint = Checkpoint.from_text(body)
        except ProvenanceError as exc:
            raise LogError(f"{path} is not a checkpoint: {exc}") from exc
        return LogState(checkpoint.size, checkpoint.root_hash, note)

    def read_checkpoint(self, size: int) -> str | None:
        """The checkpoint committed for ``size``, or None."""
        path = self.root / HISTORY / str(size)
        return _read_text(path) if path.exists() else None

    def append(self, sequencer: Sequencer, admit: Admit | None = None) -> LogState:
        """Run ``admit`` (with no transaction: what it writes elsewhere is not undone if the
        write fails) and ``sequencer`` under the directory lock; write tiles, then commit the
        checkpoint."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / LOCK).open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            state = self.read_state()
            if admit is not None:
                admit(None, state.size if state else 0)
            write = sequencer(self, state)
            try:
                self._write(write)
            except OSError as exc:
                raise LogError(f"cannot write the log in {self.root}: {exc.strerror}") from exc
            return write.state

    def _write(self, write: LogWrite) -> None:
        for (level, index), data in write.tiles.items():
            _write_atomic(self.root / TileId(level, index, len(data) // HASH_SIZE).path, data)
        for index, data in write.entry_bundles.items():
            width = len(decode_entry_bundle(data))
            _write_atomic(self.root / TileId(0, index, width).entries_path, data)
        size = str(write.state.size)
        _write_atomic(self.root / HISTORY / size, write.state.checkpoint.encode())
        _write_atomic(self.root / CHECKPOINT, write.state.checkpoint.encode())

    def _widest(self, full_path: str) -> bytes | None:
        full = self.root / full_path
        if full.exists():
            return full.read_bytes()
        partials = full.with_name(full.name + ".p")
        if not partials.is_dir():
            return None
        widths = [int(p.name) for p in partials.iterdir() if p.name.isdigit()]
        return (partials / str(max(widths))).read_bytes() if widths else None


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LogError(f"cannot read {path}: {exc}") from exc


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)
