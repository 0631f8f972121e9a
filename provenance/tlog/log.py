"""The transparency log: a sequencer and proof server over a :class:`~provenance.tlog.store.LogStore`.

Appends are acknowledged only after the store commits them. Proofs read O(log n) tiles, never all
leaves. The checkpoint key's name is the log's origin.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from provenance.errors import LogError
from provenance.tlog import merkle, tilecache, tiles
from provenance.tlog.edge import NO_EDGE, CommittedEdge, EdgeView
from provenance.tlog.entry import InclusionProof, LogEntry, TlogEntry
from provenance.tlog.limits import TLOG_LIMITS
from provenance.tlog.note import Checkpoint, NoteSigner, sign_checkpoint
from provenance.tlog.store import Admit, LogState, LogStore, LogWrite, TileSource

_T = TypeVar("_T")


class _NoneAdmittedError(Exception):
    """An append's ``admit`` admitted none of its entries: the append writes nothing."""


def _checked_positions(positions: Sequence[int], count: int) -> Sequence[int]:
    """``positions`` if they ascend strictly within a batch of ``count`` entries.

    Raises:
        LogError: They do not.
    """
    if any(not 0 <= p < count for p in positions) or any(
        a >= b for a, b in itertools.pairwise(positions)
    ):
        raise LogError(f"expected ascending positions below {count}, found {list(positions)}")
    return positions


PAST_STATES_KEPT = 1024
"""Past tree sizes whose root and checkpoint a log with a tile cache keeps."""


class TransparencyLog:
    """An append-only log of :class:`LogEntry` leaves with signed checkpoints.

    Args:
        store: Where tiles, bundles and the state live.
        signer: Signs checkpoints; its name must be ``origin``.
        origin: The log's origin (first checkpoint line).
        clock: Returns the current Unix time in seconds.
        max_skew: How far an entry's integrated time may be from the clock, in seconds.
        tile_cache: Keeps tiles' node hashes (and past checkpoints) in memory between proofs;
            None reads every proof's tiles from the store and hashes them again.

    Raises:
        LogError: The signer's name is not the origin.
    """

    def __init__(
        self,
        store: LogStore,
        signer: NoteSigner,
        origin: str,
        clock: Callable[[], int],
        *,
        max_skew: int = TLOG_LIMITS.max_skew_seconds,
        tile_cache: tilecache.TileCache | None = None,
    ) -> None:
        if signer.name != origin:
            raise LogError(f"the checkpoint key is named {signer.name!r}, the origin is {origin!r}")
        self._store = store
        self._signer = signer
        self.origin = origin
        self._clock = clock
        self._max_skew = max_skew
        self._edge: CommittedEdge = NO_EDGE
        self._tile_cache = tile_cache
        self._past_states: dict[int, LogState] = {}
        self._past_lock = threading.Lock()

    def new_entry(
        self, envelope_sha256: bytes, signer_sha256: bytes, certificate_der: bytes | None = None
    ) -> LogEntry:
        """A leaf for an envelope and signer, stamped with the log's clock."""
        return LogEntry(envelope_sha256, signer_sha256, self._clock(), certificate_der)

    def submit(
        self, envelope_sha256: bytes, signer_sha256: bytes, certificate_der: bytes | None
    ) -> TlogEntry:
        """Log one signature now and return its bundle entry (a ``sign.LogSubmitter``).

        Raises:
            LogError: The store did not commit the entry.
        """
        (logged,) = self.append_logged(
            [self.new_entry(envelope_sha256, signer_sha256, certificate_der)]
        )
        return logged

    def _check_batch(self, entries: Sequence[LogEntry]) -> list[bytes]:
        if len(entries) > TLOG_LIMITS.max_batch:
            raise LogError(
                f"a batch holds at most {TLOG_LIMITS.max_batch} entries, found {len(entries)}"
            )
        now = self._clock()
        for entry in entries:
            if abs(entry.integrated_time - now) > self._max_skew:
                raise LogError(
                    f"integrated time {entry.integrated_time} is more than {self._max_skew} s "
                    f"from the log's clock {now}"
                )
        return [entry.to_bytes() for entry in entries]

    def append_batch(self, entries: Sequence[LogEntry]) -> list[int]:
        """Append ``entries`` in order; return their indices once the store has committed them.

        Raises:
            LogError: An entry's time is too far from the clock, the batch is too large, or the
                store failed (then nothing was appended).
        """
        if not entries:
            return []
        committed, _view, _kept = self._append(self._check_batch(entries))
        return list(range(committed.size - len(entries), committed.size))

    def append_logged(self, entries: Sequence[LogEntry]) -> list[TlogEntry]:
        """Append ``entries`` in order; once committed, return each one's bundle entry, proven up
        to the checkpoint this append committed (read from what the append itself read and
        wrote: at most one more store read, and none for leaves of a single process's log).

        Raises:
            LogError: As :meth:`append_batch`.
        """
        return [logged for logged in self.append_admitted(entries) if logged is not None]

    def append_admitted(
        self, entries: Sequence[LogEntry], admit: Admit | None = None
    ) -> list[TlogEntry | None]:
        """As :meth:`append_logged`, appending only the entries ``admit`` admits in the append's
        own transaction (see :data:`~provenance.tlog.store.Admit`; None admits all of them):
        None for each one left out. Nothing is appended when it admits none.

        Raises:
            LogError: As :meth:`append_batch`, or ``admit`` named positions that are not
                ascending positions of the batch.
        """
        if not entries:
            return []
        try:
            committed, view, kept = self._append(self._check_batch(entries), admit)
        except _NoneAdmittedError:
            return [None] * len(entries)
        first = committed.size - len(kept)
        hashes = self._batch_proofs(view, range(first, committed.size), committed.size)
        logged: list[TlogEntry | None] = [None] * len(entries)
        for offset, position in enumerate(kept):
            entry = entries[position]
            logged[position] = TlogEntry(
                self.origin,
                first + offset,
                entry.integrated_time,
                entry.leaf_hash,
                InclusionProof(
                    first + offset,
                    committed.size,
                    committed.root_hash,
                    tuple(hashes[offset]),
                    committed.checkpoint,
                ),
            )
        return logged

    def _append(
        self, leaves: list[bytes], admit: Admit | None = None
    ) -> tuple[LogState, EdgeView, Sequence[int]]:
        """Commit the ``leaves`` ``admit`` admits (all without it); return the committed state,
        the tiles the append read or wrote and the positions of the leaves appended.

        The tiles of the state this process committed last are kept (:mod:`.edge`), so an append
        after it reads only the state row.

        Raises:
            _NoneAdmittedError: ``admit`` admitted no leaf (nothing was written).
        """
        views: list[EdgeView] = []
        admitted: list[Sequence[int]] = [range(len(leaves))]

        def admitting(transaction: Any, size: int) -> Sequence[int]:
            assert admit is not None
            admitted.append(_checked_positions(admit(transaction, size), len(leaves)))
            if not admitted[-1]:
                raise _NoneAdmittedError
            return admitted[-1]

        def sequence(source: TileSource, state: LogState | None) -> LogWrite:
            chosen = [leaves[position] for position in admitted[-1]]
            view = self._edge.view_for(state)
            views.append(view)
            read_tile = view.tile_reader(source.read_tile)
            size = state.size if state else 0
            update = tiles.append_leaves(
                read_tile, view.bundle_reader(source.read_entry_bundle), size, chosen
            )
            view.tiles.update(update.tiles)
            view.bundles.update(update.entry_bundles)
            new_size = size + len(chosen)
            root = tiles.tree_root(read_tile, new_size)
            note = sign_checkpoint(Checkpoint(self.origin, new_size, root), self._signer)
            return LogWrite(LogState(new_size, root, note), update.tiles, update.entry_bundles)

        if admit is None:  # the store's append sends nothing for an admit it is not given
            committed = self._store.append(sequence)
        else:
            committed = self._store.append(sequence, admitting)
        view = views[-1]
        edge = view.right_edge(committed.size)
        self._edge = CommittedEdge(committed.size, committed.root_hash, edge)
        return committed, view, admitted[-1]

    def _batch_proofs(self, view: EdgeView, indices: range, size: int) -> list[list[bytes]]:
        """Inclusion proofs of ``indices`` in the tree of ``size``, from ``view`` and one store
        read of the tiles it lacks; each node hashed once for the whole batch."""
        planned: set[tuple[int, int]] = set()

        def plan(level: int, index: int) -> bytes:
            where = tiles.locate_node(level, index)
            planned.add((where.tile_level, where.tile_index))
            return bytes(merkle.HASH_SIZE)

        for index in indices:
            merkle.inclusion_proof(index, size, plan)
        missing = planned - view.tiles.keys()
        view.tiles.update(self._store.read_tiles(missing) if missing else {})
        reader = tiles.TileNodeReader(lambda level, index: view.tiles.get((level, index)))
        nodes: dict[tuple[int, int], bytes] = {}

        def read(level: int, index: int) -> bytes:
            key = (level, index)
            if key not in nodes:
                nodes[key] = reader(level, index)
            return nodes[key]

        return [merkle.inclusion_proof(index, size, read) for index in indices]

    def state(self) -> LogState:
        """The latest committed state (an empty log has size 0 and a signed empty checkpoint)."""
        state = self._store.read_state()
        if state is None:
            note = sign_checkpoint(Checkpoint(self.origin, 0, merkle.EMPTY_ROOT), self._signer)
            return LogState(0, merkle.EMPTY_ROOT, note)
        return state

    def checkpoint(self) -> str:
        """The latest signed checkpoint note."""
        return self.state().checkpoint

    def _with_tiles(self, tree_size: int, proof: Callable[[merkle.NodeReader], _T]) -> _T:
        """Run ``proof`` over the tree of ``tree_size`` after reading its tiles in one store read
        (none when the tile cache holds them all, see :meth:`~provenance.tlog.tilecache.TileCache.prove`).

        Which nodes a proof reads depends only on their coordinates, so a dry run whose node
        reader records coordinates (and hashes nothing) names the tiles to fetch.
        """
        if self._tile_cache is not None:
            fallback = tiles.TileNodeReader(self._store.read_tile)
            return self._tile_cache.prove(tree_size, proof, self._store.read_tiles, fallback)
        planned: set[tuple[int, int]] = set()

        def plan(level: int, index: int) -> bytes:
            where = tiles.locate_node(level, index)
            planned.add((where.tile_level, where.tile_index))
            return bytes(merkle.HASH_SIZE)

        proof(plan)
        fetched = self._store.read_tiles(planned)
        return proof(tiles.TileNodeReader(lambda level, index: fetched.get((level, index))))

    def _checked_size(self, tree_size: int | None, current: LogState | None = None) -> LogState:
        state = current or self.state()
        if tree_size is None or tree_size == state.size:
            return state
        if not 0 <= tree_size < state.size:
            raise LogError(f"tree size {tree_size} is beyond the log's size {state.size}")
        past = self._past_states.get(tree_size)
        if past is not None:
            return past
        root = self._with_tiles(tree_size, lambda read: merkle.subtree_hash(0, tree_size, read))
        note = self._store.read_checkpoint(tree_size) or sign_checkpoint(
            Checkpoint(self.origin, tree_size, root), self._signer
        )
        past = LogState(tree_size, root, note)
        if self._tile_cache is not None:  # a past size's root and checkpoint never change
            with self._past_lock:
                if len(self._past_states) >= PAST_STATES_KEPT:
                    self._past_states.pop(next(iter(self._past_states)))
                self._past_states[tree_size] = past
        return past

    def inclusion_proof(
        self, index: int, tree_size: int | None = None, *, current: LogState | None = None
    ) -> InclusionProof:
        """The inclusion proof of leaf ``index`` up to the signed checkpoint of ``tree_size``.

        Args:
            index: The leaf's index.
            tree_size: A size up to the current one; None for the current size.
            current: The state :meth:`state` just returned, when the caller has it (saves a
                store read); None reads it.

        Raises:
            LogError: ``tree_size`` exceeds the log, or ``index`` is not below it.
        """
        state = self._checked_size(tree_size, current)
        if not 0 <= index < state.size:
            raise LogError(f"leaf {index} is not in the tree of size {state.size}")
        hashes = self._with_tiles(
            state.size, lambda read: merkle.inclusion_proof(index, state.size, read)
        )
        return InclusionProof(index, state.size, state.root_hash, tuple(hashes), state.checkpoint)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """The consistency proof from ``size1`` to ``size2`` (None: the current size).

        Raises:
            LogError: Unless ``0 < size1 <= size2 <= size``.
        """
        state = self._checked_size(size2)
        if not 0 < size1 <= state.size:
            raise LogError(f"expected 0 < size1 <= {state.size}, found {size1}")
        return self._with_tiles(
            state.size, lambda read: merkle.consistency_proof(size1, state.size, read)
        )

    def entry(self, index: int) -> LogEntry:
        """The leaf at ``index``.

        Raises:
            LogError: No such leaf.
        """
        size = self.state().size
        if not 0 <= index < size:
            raise LogError(f"leaf {index} is not in the tree of size {size}")
        bundle_index, offset = divmod(index, tiles.TILE_WIDTH)
        entries = tiles.decode_entry_bundle(self._store.read_entry_bundle(bundle_index) or b"")
        if len(entries) <= offset:
            raise LogError(f"entry bundle {bundle_index} does not hold leaf {index}")
        return LogEntry.from_bytes(entries[offset])

    def tlog_entry_for(self, index: int) -> TlogEntry:
        """The bundle's log entry for leaf ``index``, proven up to the current checkpoint."""
        leaf = self.entry(index)
        return TlogEntry(
            self.origin, index, leaf.integrated_time, leaf.leaf_hash, self.inclusion_proof(index)
        )
