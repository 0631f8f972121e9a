"""The C2SP tlog-tiles layout (https://c2sp.org/tlog-tiles).

Tiles have height 8: a tile at tile level ``L`` and index ``N`` holds up to 256 consecutive hashes of
tree level ``8 * L``, those of indices ``[256 * N, 256 * N + 256)``, concatenated. Level-0 tiles hold
leaf hashes; a hash at tree level ``8 * (L + 1)`` is the Merkle root of one full tile of level
``L``. Nodes at the seven levels between are not stored: they are hashed from one tile's contents.
A tile that is not full yet is *partial* and addressed with its width. Entry bundles hold the
entries of the leaves of the level-0 tile with the same index, each as a big-endian uint16 length
and the entry's bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from provenance.errors import LogError
from provenance.tlog.limits import TLOG_LIMITS
from provenance.tlog.merkle import HASH_SIZE, leaf_hash, root_from_hashes, subtree_hash

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
_INDEX = r"(?:x[0-9]{3}/)*[0-9]{3}"
_TILE_PATH = re.compile(
    rf"tile/(?P<level>[0-9]|[1-5][0-9]|6[0-3])/(?P<index>{_INDEX})(?:\.p/(?P<width>[0-9]+))?"
)
_ENTRIES_PATH = re.compile(rf"tile/entries/(?P<index>{_INDEX})(?:\.p/(?P<width>[0-9]+))?")

TileReader = Callable[[int, int], bytes | None]
"""Return the stored tile ``(tile level, index)`` (full, or the widest partial), or None."""


@dataclass(frozen=True)
class TileId:
    """A tile's coordinates; ``width`` 256 is a full tile, less is a partial one."""

    level: int
    index: int
    width: int = TILE_WIDTH

    def __post_init__(self) -> None:
        if self.level < 0 or self.index < 0 or not 1 <= self.width <= TILE_WIDTH:
            raise ValueError(
                f"invalid tile level {self.level}, index {self.index}, width {self.width}"
            )

    @property
    def path(self) -> str:
        """The tile's path, e.g. ``tile/0/x001/234`` or ``tile/1/005.p/17``."""
        return f"tile/{self.level}/{_encode_index(self.index)}{_partial_suffix(self.width)}"

    @property
    def entries_path(self) -> str:
        """The path of the entry bundle for this level-0 tile, e.g. ``tile/entries/000.p/3``."""
        return f"tile/entries/{_encode_index(self.index)}{_partial_suffix(self.width)}"


def _encode_index(index: int) -> str:
    groups = [index % 1000]
    while index >= 1000:
        index //= 1000
        groups.append(index % 1000)
    groups.reverse()
    return "/".join([f"x{group:03d}" for group in groups[:-1]] + [f"{groups[-1]:03d}"])


def _partial_suffix(width: int) -> str:
    return "" if width == TILE_WIDTH else f".p/{width}"


def _decode_index(text: str) -> int:
    index = int(text.replace("x", "").replace("/", ""))
    if _encode_index(index) != text:
        raise ValueError(f"non-canonical tile index {text!r}")
    return index


def _parse(pattern: re.Pattern[str], path: str, level: int | None) -> TileId:
    match = pattern.fullmatch(path)
    if match is None:
        raise ValueError(f"not a tile path: {path[:80]!r}")
    width_text = match.group("width")
    if width_text is not None and (width_text.startswith("0") or int(width_text) >= TILE_WIDTH):
        raise ValueError(f"partial tile width {width_text!r} must be 1..255 without leading zeros")
    width = TILE_WIDTH if width_text is None else int(width_text)
    tile_level = int(match.group("level")) if level is None else level
    return TileId(tile_level, _decode_index(match.group("index")), width)


def parse_tile_path(path: str) -> TileId:
    """Parse a hash tile path ``tile/<L>/<N>[.p/<W>]`` strictly (canonical forms only).

    Raises:
        ValueError: Not a canonical tile path.
    """
    return _parse(_TILE_PATH, path, None)


def parse_entries_path(path: str) -> TileId:
    """Parse an entry bundle path ``tile/entries/<N>[.p/<W>]`` strictly; the level is 0.

    Raises:
        ValueError: Not a canonical entry bundle path.
    """
    return _parse(_ENTRIES_PATH, path, 0)


def tile_width(level: int, index: int, tree_size: int) -> int:
    """How many hashes tile ``(level, index)`` holds in the tree of ``tree_size`` (0 if none)."""
    stored = tree_size >> (TILE_HEIGHT * level)
    return max(0, min(TILE_WIDTH, stored - index * TILE_WIDTH))


@dataclass(frozen=True)
class NodeLocation:
    """Where the hashes of one tree node live: ``count`` hashes of a tile from ``offset`` on."""

    tile_level: int
    tile_index: int
    offset: int
    count: int


def locate_node(level: int, index: int) -> NodeLocation:
    """The tile whose hashes give node ``(level, index)``: one stored hash, or 2**k to hash."""
    tile_level, height = divmod(level, TILE_HEIGHT)
    first = index << height
    return NodeLocation(tile_level, first // TILE_WIDTH, first % TILE_WIDTH, 1 << height)


def tile_hashes(data: bytes) -> list[bytes]:
    """Split tile contents into 32-byte hashes.

    Raises:
        LogError: The length is not a multiple of 32 or exceeds 256 hashes.
    """
    if len(data) % HASH_SIZE or len(data) > TILE_WIDTH * HASH_SIZE:
        raise LogError(f"a tile is 1..256 hashes of {HASH_SIZE} bytes, found {len(data)} bytes")
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


class TileNodeReader:
    """Reads any complete node of the tree from tiles, caching each tile it reads once.

    Args:
        read_tile: Returns the stored tile ``(tile level, index)`` or None.
    """

    def __init__(self, read_tile: TileReader) -> None:
        self._read_tile = read_tile
        self._cache: dict[tuple[int, int], bytes] = {}

    def tile(self, level: int, index: int) -> bytes:
        """The stored contents of a tile (empty when absent)."""
        key = (level, index)
        if key not in self._cache:
            self._cache[key] = self._read_tile(level, index) or b""
        return self._cache[key]

    def __call__(self, level: int, index: int) -> bytes:
        """The hash of node ``(level, index)``.

        Raises:
            LogError: The tile holding it is missing or too short.
        """
        where = locate_node(level, index)
        data = self.tile(where.tile_level, where.tile_index)
        start, end = where.offset * HASH_SIZE, (where.offset + where.count) * HASH_SIZE
        if len(data) < end:
            raise LogError(
                f"tile {where.tile_level}/{where.tile_index} holds {len(data) // HASH_SIZE} hashes; "
                f"node ({level}, {index}) needs {where.offset + where.count}"
            )
        return root_from_hashes(tile_hashes(data[start:end]))


def tree_root(read_tile: TileReader, tree_size: int) -> bytes:
    """The root hash of the tree of ``tree_size`` leaves, read from O(log n) tiles."""
    return subtree_hash(0, tree_size, TileNodeReader(read_tile))


def encode_entry_bundle(entries: Sequence[bytes]) -> bytes:
    """Entries as a bundle: each a big-endian uint16 length and its bytes.

    Raises:
        LogError: An entry is longer than 65535 bytes, or there are more than 256 entries.
    """
    if len(entries) > TILE_WIDTH:
        raise LogError(f"an entry bundle holds at most {TILE_WIDTH} entries, found {len(entries)}")
    parts = []
    for entry in entries:
        if len(entry) > TLOG_LIMITS.max_entry_bytes:
            raise LogError(
                f"a log entry is at most {TLOG_LIMITS.max_entry_bytes} bytes, found {len(entry)}"
            )
        parts.append(len(entry).to_bytes(2, "big") + entry)
    return b"".join(parts)


def decode_entry_bundle(data: bytes) -> list[bytes]:
    """Split an entry bundle into entries.

    Raises:
        LogError: Truncated, or more than 256 entries.
    """
    entries: list[bytes] = []
    position = 0
    while position < len(data):
        if position + 2 > len(data):
            raise LogError(f"entry bundle truncated in a length prefix at byte {position}")
        length = int.from_bytes(data[position : position + 2], "big")
        position += 2
        if position + length > len(data):
            raise LogError(f"entry bundle truncated: entry of {length} bytes at byte {position}")
        entries.append(data[position : position + length])
        position += length
    if len(entries) > TILE_WIDTH:
        raise LogError(f"an entry bundle holds at most {TILE_WIDTH} entries, found {len(entries)}")
    return entries


@dataclass(frozen=True)
class TileUpdate:
    """What appending leaves writes: new contents of hash tiles and entry bundles, by index."""

    tiles: Mapping[tuple[int, int], bytes]
    entry_bundles: Mapping[int, bytes]


def _chunks(first: int, items: Sequence[bytes]) -> Iterator[tuple[int, int, Sequence[bytes]]]:
    """Group items numbered from ``first`` by tile: (tile index, offset in tile, items)."""
    position = 0
    while position < len(items):
        number = first + position
        offset = number % TILE_WIDTH
        take = min(TILE_WIDTH - offset, len(items) - position)
        yield number // TILE_WIDTH, offset, items[position : position + take]
        position += take


def _tile_prefix(existing: bytes | None, count: int, what: str) -> bytes:
    prefix = (existing or b"")[: count * HASH_SIZE]
    if len(prefix) != count * HASH_SIZE:
        raise LogError(f"{what} holds {len(prefix) // HASH_SIZE} hashes; the tree needs {count}")
    return prefix


def _append_level(
    read_tile: TileReader, level: int, first: int, new_hashes: Sequence[bytes]
) -> tuple[dict[tuple[int, int], bytes], list[bytes]]:
    """Append hashes of tree level ``8 * level`` from number ``first``; return tiles and the roots
    of the tiles this completes (the new hashes of the next tile level)."""
    tiles: dict[tuple[int, int], bytes] = {}
    completed: list[bytes] = []
    for index, offset, hashes in _chunks(first, new_hashes):
        existing = read_tile(level, index) if offset else b""
        data = _tile_prefix(existing, offset, f"tile {level}/{index}") + b"".join(hashes)
        tiles[(level, index)] = data
        if len(data) == TILE_WIDTH * HASH_SIZE:
            completed.append(root_from_hashes(tile_hashes(data)))
    return tiles, completed


def _append_entries(
    read_bundle: Callable[[int], bytes | None], first: int, entries: Sequence[bytes]
) -> dict[int, bytes]:
    bundles: dict[int, bytes] = {}
    for index, offset, chunk in _chunks(first, entries):
        existing = decode_entry_bundle(read_bundle(index) or b"") if offset else []
        if len(existing) < offset:
            raise LogError(f"entry bundle {index} holds {len(existing)} entries; needs {offset}")
        bundles[index] = encode_entry_bundle([*existing[:offset], *chunk])
    return bundles


def append_leaves(
    read_tile: TileReader,
    read_bundle: Callable[[int], bytes | None],
    tree_size: int,
    entries: Sequence[bytes],
) -> TileUpdate:
    """The tiles and entry bundles that change when ``entries`` are appended to ``tree_size`` leaves.

    Reads only the right-edge partial tile of each level and the last partial bundle.

    Raises:
        LogError: The stored tiles do not match ``tree_size``, or an entry is too long.
    """
    tiles: dict[tuple[int, int], bytes] = {}
    new_hashes = [leaf_hash(entry) for entry in entries]
    level, first = 0, tree_size
    while new_hashes:
        level_tiles, new_hashes = _append_level(read_tile, level, first, new_hashes)
        tiles.update(level_tiles)
        level, first = level + 1, first // TILE_WIDTH
    bundles = _append_entries(read_bundle, tree_size, entries)
    return TileUpdate(tiles, bundles)


def overlay(read_tile: TileReader, tiles: Mapping[tuple[int, int], bytes]) -> TileReader:
    """A tile reader that sees ``tiles`` over those ``read_tile`` returns."""

    def read(level: int, index: int) -> bytes | None:
        return tiles.get((level, index)) or read_tile(level, index)

    return read
