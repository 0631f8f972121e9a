"""The log's storage port and an in-memory store.

A store keeps hash tiles and entry bundles (C2SP tlog-tiles, so they can be served as static
files), and the log state: tree size, root hash and signed checkpoint. Appends go through
:meth:`LogStore.append`, which runs the log's sequencing step under the store's exclusive lock
against a consistent view and commits its writes atomically: one tree, however many writers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class LogState:
    """The committed state of the log: its size, root hash and signed checkpoint note."""

    size: int
    root_hash: bytes
    checkpoint: str


@dataclass(frozen=True)
class LogWrite:
    """One atomic append: new tile contents, new entry bundles and the new state.

    ``tiles`` maps ``(tile level, tile index)`` and ``entry_bundles`` maps a bundle index to the
    full new contents (a partial tile or bundle grows by replacement).
    """

    state: LogState
    tiles: Mapping[tuple[int, int], bytes] = field(default_factory=dict)
    entry_bundles: Mapping[int, bytes] = field(default_factory=dict)


class TileSource(Protocol):
    """Read access to tiles and entry bundles."""

    def read_tile(self, level: int, index: int) -> bytes | None:
        """The stored tile (full, or the widest partial), or None."""

    def read_entry_bundle(self, index: int) -> bytes | None:
        """The stored entry bundle (full, or the widest partial), or None."""


Sequencer = Callable[[TileSource, LogState | None], LogWrite]
"""Computes an append from a consistent view and the current state (None for a new log)."""

Admit = Callable[[Any, int], Sequence[int]]
"""Run by an append inside its own transaction, holding the log's lock, before the sequencer:
given the store's transaction (a SQLAlchemy ``Connection`` for the SQL store, None for a store
without one) and the log's size before the append, the positions in the batch of the entries to
append, ascending (the k-th of them gets index size + k). What it writes through the transaction
commits or rolls back with the append; an exception it raises fails the append."""


class LogStore(TileSource, Protocol):
    """The storage port of a transparency log."""

    def read_tiles(self, coordinates: Collection[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """The stored tiles among ``coordinates`` (``(tile level, index)``), in one read."""

    def read_state(self) -> LogState | None:
        """The latest committed state, or None when nothing was ever appended."""

    def read_checkpoint(self, size: int) -> str | None:
        """The signed checkpoint committed for tree ``size``, if one was."""

    def append(self, sequencer: Sequencer, admit: Admit | None = None) -> LogState:
        """Run ``sequencer`` under the store's exclusive lock and commit its write atomically.

        ``admit``, when given, runs first in the same transaction (see :data:`Admit`). The
        sequencer (and ``admit``) may be run again if the store retries the transaction; the
        sequencer must be pure.

        Returns:
            The committed state.

        Raises:
            LogError: The write could not be committed; nothing was.
        """


class MemoryStore:
    """A :class:`LogStore` in memory, safe for threads of one process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tiles: dict[tuple[int, int], bytes] = {}
        self._bundles: dict[int, bytes] = {}
        self._checkpoints: dict[int, str] = {}
        self._state: LogState | None = None

    def read_tile(self, level: int, index: int) -> bytes | None:
        """The stored tile, or None."""
        return self._tiles.get((level, index))

    def read_entry_bundle(self, index: int) -> bytes | None:
        """The stored entry bundle, or None."""
        return self._bundles.get(index)

    def read_tiles(self, coordinates: Collection[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """The stored tiles among ``coordinates``."""
        return {key: self._tiles[key] for key in coordinates if key in self._tiles}

    def read_state(self) -> LogState | None:
        """The latest committed state, or None."""
        return self._state

    def read_checkpoint(self, size: int) -> str | None:
        """The checkpoint committed for ``size``, or None."""
        return self._checkpoints.get(size)

    def append(self, sequencer: Sequencer, admit: Admit | None = None) -> LogState:
        """Run ``admit`` (with no transaction) and ``sequencer`` under the lock; apply the write."""
        with self._lock:
            if admit is not None:
                admit(None, self._state.size if self._state else 0)
            write = sequencer(self, self._state)
            self._tiles.update(write.tiles)
            self._bundles.update(write.entry_bundles)
            self._checkpoints[write.state.size] = write.state.checkpoint
            self._state = write.state
            return write.state
