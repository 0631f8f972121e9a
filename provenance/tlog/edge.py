"""The right edge of a committed tree: the tiles and entry bundles the next append reads.

An append reads the right-edge partial tile of each level and the last partial entry bundle, and
the tree root reads the right-edge tiles again. Tiles are a pure function of the tree they belong
to, and the root hash commits to the whole tree, so the right edge kept from the last append this
process committed is exact for any state with the same size and root hash: the next append then
reads nothing but the state row. A state committed by another process (another replica on the
same database) has a different root, and the append falls back to reading the store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from provenance.tlog.store import LogState
from provenance.tlog.tiles import TILE_HEIGHT, TILE_WIDTH, TileReader

BundleReader = Callable[[int], bytes | None]


@dataclass
class EdgeView:
    """Tiles and entry bundles one append read or wrote, each as of the tree it committed.

    Attributes:
        tiles: ``(tile level, index)`` to contents.
        bundles: Entry bundle index to contents.
    """

    tiles: dict[tuple[int, int], bytes] = field(default_factory=dict)
    bundles: dict[int, bytes] = field(default_factory=dict)

    def tile_reader(self, fallback: TileReader) -> TileReader:
        """A reader answering from this view, reading (and keeping) what it lacks from
        ``fallback``."""

        def read(level: int, index: int) -> bytes | None:
            key = (level, index)
            if key not in self.tiles:
                data = fallback(level, index)
                if data is None:
                    return None
                self.tiles[key] = data
            return self.tiles[key]

        return read

    def bundle_reader(self, fallback: BundleReader) -> BundleReader:
        """As :meth:`tile_reader`, for entry bundles."""

        def read(index: int) -> bytes | None:
            if index not in self.bundles:
                data = fallback(index)
                if data is None:
                    return None
                self.bundles[index] = data
            return self.bundles[index]

        return read

    def right_edge(self, size: int) -> EdgeView:
        """The part of this view the next append to a tree of ``size`` leaves reads."""
        edge = EdgeView()
        level, stored = 0, size
        while stored:
            key = (level, (stored - 1) // TILE_WIDTH)
            if key in self.tiles:
                edge.tiles[key] = self.tiles[key]
            level, stored = level + 1, stored >> TILE_HEIGHT
        last_bundle = (size - 1) // TILE_WIDTH if size else -1
        if last_bundle in self.bundles:
            edge.bundles[last_bundle] = self.bundles[last_bundle]
        return edge


@dataclass(frozen=True)
class CommittedEdge:
    """The right edge of the tree of one committed state."""

    size: int
    root_hash: bytes
    view: EdgeView

    def view_for(self, state: LogState | None) -> EdgeView:
        """A copy of the kept edge when ``state`` is the tree it belongs to, else an empty view."""
        if state is None or (state.size, state.root_hash) != (self.size, self.root_hash):
            return EdgeView()
        return EdgeView(dict(self.view.tiles), dict(self.view.bundles))


NO_EDGE = CommittedEdge(-1, b"", EdgeView())
"""Nothing kept yet: every state misses."""
