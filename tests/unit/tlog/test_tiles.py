"""The C2SP tlog-tiles layout."""

from __future__ import annotations

import pytest

from provenance.errors import LogError
from provenance.tlog import merkle, tiles


@pytest.mark.parametrize(
    ("tile", "path"),
    [
        (tiles.TileId(0, 0), "tile/0/000"),
        (tiles.TileId(1, 5, 17), "tile/1/005.p/17"),
        (tiles.TileId(0, 1000), "tile/0/x001/000"),
        (tiles.TileId(2, 1234067), "tile/2/x001/x234/067"),
    ],
)
def test_tile_paths_split_the_index_in_three_digit_groups(tile: tiles.TileId, path: str) -> None:
    assert tile.path == path
    assert tiles.parse_tile_path(path) == tile


def test_entry_bundle_paths() -> None:
    assert tiles.TileId(0, 1234067, 3).entries_path == "tile/entries/x001/x234/067.p/3"
    assert tiles.parse_entries_path("tile/entries/x001/x234/067.p/3") == tiles.TileId(0, 1234067, 3)


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/1",
        "tile/0/x000/001",
        "tile/0/001.p/256",
        "tile/0/001.p/0",
        "tile/0/001.p/07",
        "tile/64/000",
        "tile/0/001/",
        "tile/entries/000",
    ],
)
def test_non_canonical_tile_paths_are_refused(path: str) -> None:
    with pytest.raises(ValueError, match="tile"):
        tiles.parse_tile_path(path)


def test_locate_node_maps_levels_between_tiles_to_one_tile() -> None:
    assert tiles.locate_node(0, 300) == tiles.NodeLocation(0, 1, 44, 1)
    assert tiles.locate_node(3, 40) == tiles.NodeLocation(0, 1, 64, 8)
    assert tiles.locate_node(8, 2) == tiles.NodeLocation(1, 0, 2, 1)
    assert tiles.locate_node(9, 200) == tiles.NodeLocation(1, 1, 144, 2)


def test_tile_width_in_a_tree() -> None:
    assert tiles.tile_width(0, 0, 300) == 256
    assert tiles.tile_width(0, 1, 300) == 44
    assert tiles.tile_width(0, 2, 300) == 0
    assert tiles.tile_width(1, 0, 300) == 1
    assert tiles.tile_width(1, 0, 255) == 0


def test_entry_bundles_prefix_each_entry_with_a_big_endian_uint16_length() -> None:
    bundle = tiles.encode_entry_bundle([b"", b"a", b"x" * 300])
    assert bundle[:5] == bytes.fromhex("0000000161")
    assert bundle[5:7] == (300).to_bytes(2, "big")
    assert tiles.decode_entry_bundle(bundle) == [b"", b"a", b"x" * 300]


def test_entry_bundles_refuse_truncation_and_oversized_entries() -> None:
    bundle = tiles.encode_entry_bundle([b"abc"])
    with pytest.raises(LogError, match="truncated"):
        tiles.decode_entry_bundle(bundle[:-1])
    with pytest.raises(LogError, match="truncated in a length prefix"):
        tiles.decode_entry_bundle(b"\x00")
    with pytest.raises(LogError, match="at most 65535 bytes"):
        tiles.encode_entry_bundle([b"x" * 65536])


def _append_all(
    sizes: list[int],
) -> tuple[dict[tuple[int, int], bytes], dict[int, bytes], list[bytes]]:
    stored: dict[tuple[int, int], bytes] = {}
    bundles: dict[int, bytes] = {}
    entries: list[bytes] = []
    for count in sizes:
        batch = [len(entries).to_bytes(4, "big") + bytes([i % 7]) for i in range(count)]
        update = tiles.append_leaves(
            lambda level, index: stored.get((level, index)), bundles.get, len(entries), batch
        )
        stored.update(update.tiles)
        bundles.update(update.entry_bundles)
        entries.extend(batch)
    return stored, bundles, entries


def test_appending_in_batches_writes_full_and_partial_tiles_of_every_level() -> None:
    stored, bundles, entries = _append_all([1, 254, 2, 600, 65536 - 857, 300])
    size = len(entries)
    assert size == 65836
    assert set(stored) == {(0, i) for i in range(258)} | {(1, 0), (1, 1), (2, 0)}
    for (level, index), data in stored.items():
        assert len(data) == 32 * tiles.tile_width(level, index, size)
    root = merkle.root_from_hashes([merkle.leaf_hash(entry) for entry in entries])
    assert tiles.tree_root(lambda level, index: stored.get((level, index)), size) == root
    flattened = [e for index in sorted(bundles) for e in tiles.decode_entry_bundle(bundles[index])]
    assert flattened == entries


def test_node_reader_hashes_unstored_levels_from_one_tile() -> None:
    stored, _, entries = _append_all([300])
    read = tiles.TileNodeReader(lambda level, index: stored.get((level, index)))
    leaf_hashes = [merkle.leaf_hash(entry) for entry in entries]
    assert read(3, 33) == merkle.root_from_hashes(leaf_hashes[264:272])
    assert read(8, 0) == merkle.root_from_hashes(leaf_hashes[:256])
    with pytest.raises(LogError, match="node \\(3, 37\\) needs 48"):
        read(3, 37)


def test_appending_refuses_tiles_shorter_than_the_tree() -> None:
    with pytest.raises(LogError, match="holds 0 hashes; the tree needs 5"):
        tiles.append_leaves(lambda level, index: None, lambda index: None, 5, [b"x"])
