"""A bounded in-memory cache of hash tiles and of the interior hashes they determine.

A tile's first ``w`` hashes never change once the tree holds them: a full tile is immutable, and a
partial tile only grows (C2SP tlog-tiles). So the node hashes of a tile prefix of width ``w``
(every perfect subtree inside it, up to the tile's own root for a full tile) are computed once and
kept; a proof then reads its hashes from memory instead of reading tiles and hashing up to 255
nodes per tile. Full tiles and partial prefixes live in separate LRUs, so the right edge, which
changes with every append, never evicts full tiles. The cache holds no I/O of its own: misses are
read through the ``read_tiles`` callable the caller passes (one store read for all of them).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Collection
from typing import TypeVar

from provenance.tlog.merkle import HASH_SIZE, node_hash
from provenance.tlog.tiles import TILE_HEIGHT, TILE_WIDTH, tile_width

_T = TypeVar("_T")
NodeReader = Callable[[int, int], bytes]
ReadTiles = Callable[[Collection[tuple[int, int]]], dict[tuple[int, int], bytes]]
"""Return the stored tiles among the coordinates ``(tile level, index)`` in one read."""
DEFAULT_FULL_TILES = 4096
"""About 67 MB: a full tile's nodes take 511 hashes (16 KiB and a little overhead)."""
DEFAULT_PARTIAL_TILES = 256
NODE_BYTES = (2 * TILE_WIDTH - 1) * HASH_SIZE
"""The node hashes of one full tile: 256 + 128 + ... + 1 hashes."""


class TileNodes:
    """Every perfect node of the first ``width`` hashes of one tile, level by level.

    ``levels[h]`` holds the ``width >> h`` nodes of height ``h`` inside the tile (height 0: the
    stored hashes), concatenated.
    """

    __slots__ = ("levels", "width")

    def __init__(self, data: bytes) -> None:
        self.width = len(data) // HASH_SIZE
        levels = [data]
        below = data
        while len(below) >= 2 * HASH_SIZE:
            pairs = len(below) // (2 * HASH_SIZE)
            below = b"".join(
                node_hash(below[i : i + HASH_SIZE], below[i + HASH_SIZE : i + 2 * HASH_SIZE])
                for i in range(0, pairs * 2 * HASH_SIZE, 2 * HASH_SIZE)
            )
            levels.append(below)
        self.levels = tuple(levels)

    def node(self, height: int, position: int) -> bytes | None:
        """The hash of the perfect node of ``height`` at ``position``, or None if it is not in
        this prefix."""
        if height >= len(self.levels):
            return None
        start = position * HASH_SIZE
        found = self.levels[height][start : start + HASH_SIZE]
        return found if len(found) == HASH_SIZE else None


class _Lru:
    """A bounded least-recently-used map, safe for threads."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[tuple[int, int, int], TileNodes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[int, int, int]) -> TileNodes | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[int, int, int], value: TileNodes) -> None:
        if self._size <= 0:
            return
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


class TileCache:
    """Node hashes of full tiles and of right-edge tile prefixes, each in a bounded LRU.

    Args:
        max_full_tiles: Full tiles kept (about 16.6 KB each); 0 keeps none.
        max_partial_tiles: Partial tile prefixes kept (keyed by their width, so one per tree size
            and level at most).
    """

    def __init__(
        self,
        max_full_tiles: int = DEFAULT_FULL_TILES,
        max_partial_tiles: int = DEFAULT_PARTIAL_TILES,
    ) -> None:
        self._full = _Lru(max_full_tiles)
        self._partial = _Lru(max_partial_tiles)

    def __len__(self) -> int:
        return len(self._full) + len(self._partial)

    def _lru(self, width: int) -> _Lru:
        return self._full if width == TILE_WIDTH else self._partial

    def tiles(
        self, coordinates: Collection[tuple[int, int]], tree_size: int, read_tiles: ReadTiles
    ) -> dict[tuple[int, int], TileNodes]:
        """The nodes of the tiles ``coordinates`` as the tree of ``tree_size`` holds them.

        Tiles not cached are read in one ``read_tiles`` call. A tile the store lacks, or holds
        with fewer hashes than the tree needs, is left out (and not cached): the caller reports it.
        """
        found: dict[tuple[int, int], TileNodes] = {}
        wanted: dict[tuple[int, int], int] = {}
        for level, index in coordinates:
            width = tile_width(level, index, tree_size)
            cached = self._lru(width).get((level, index, width)) if width else None
            if cached is not None:
                found[(level, index)] = cached
            elif width:
                wanted[(level, index)] = width
        if wanted:
            for key, data in read_tiles(list(wanted)).items():
                width = wanted[key]
                if len(data) < width * HASH_SIZE:
                    continue
                nodes = TileNodes(data[: width * HASH_SIZE])
                self._lru(width).put((*key, width), nodes)
                found[key] = nodes
        return found

    def prove(
        self,
        tree_size: int,
        proof: Callable[[NodeReader], _T],
        read_tiles: ReadTiles,
        fallback: NodeReader,
    ) -> _T:
        """Run ``proof`` over the tree of ``tree_size`` from the cache alone when it holds every
        tile the proof reads; else read the missing tiles in one ``read_tiles`` call and run it
        again (a node of a tile the store lacks or holds too short is read through ``fallback``,
        which reports it)."""
        seen: dict[tuple[int, int], TileNodes | None] = {}
        missing: set[tuple[int, int]] = set()

        def from_cache(level: int, index: int) -> bytes:
            tile_level, height = divmod(level, TILE_HEIGHT)  # as locate_node places it
            tile_index, position = divmod(index, TILE_WIDTH >> height)
            key = (tile_level, tile_index)
            if key not in seen:
                width = tile_width(tile_level, tile_index, tree_size)
                seen[key] = self._lru(width).get((*key, width)) if width else None
            tile = seen[key]
            found = None if tile is None else tile.node(height, position)
            if found is None:
                missing.add(key)
                return _ABSENT
            return found

        result = proof(from_cache)
        if not missing:
            return result
        nodes = self.tiles(seen.keys(), tree_size, read_tiles)
        return proof(node_reader(nodes, fallback))


_ABSENT = bytes(HASH_SIZE)


def node_reader(
    nodes: dict[tuple[int, int], TileNodes], fallback: Callable[[int, int], bytes]
) -> Callable[[int, int], bytes]:
    """A :data:`~provenance.tlog.merkle.NodeReader` over cached tile nodes; a node whose tile is
    not among ``nodes`` is read through ``fallback`` (which reports a missing or short tile)."""

    def read(level: int, index: int) -> bytes:
        tile_level, height = divmod(level, TILE_HEIGHT)  # as locate_node places it
        tile_index, position = divmod(index, TILE_WIDTH >> height)
        tile = nodes.get((tile_level, tile_index))
        if tile is not None:
            found = tile.node(height, position)
            if found is not None:
                return found
        return fallback(level, index)

    return read
