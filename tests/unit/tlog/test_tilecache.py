"""The tile cache: proofs served through it are byte-identical to proofs from the store alone."""

from __future__ import annotations

import hashlib
from collections.abc import Collection

import pytest

from provenance.errors import LogError
from provenance.keys import Ed25519SigningKey
from provenance.tlog import merkle, tiles
from provenance.tlog.entry import LogEntry, TlogEntry, verify_tlog_entry
from provenance.tlog.limits import TLOG_LIMITS
from provenance.tlog.log import TransparencyLog
from provenance.tlog.note import NoteSigner
from provenance.tlog.store import MemoryStore
from provenance.tlog.tilecache import NODE_BYTES, TileCache, TileNodes

ORIGIN = "example.org/log"
NOW = 1_700_000_000
SIGNER = NoteSigner(ORIGIN, Ed25519SigningKey(bytes([3]) * 32))
W = tiles.TILE_WIDTH
BOUNDARY_SIZES = (1, 2, 3, W - 1, W, W + 1, 2 * W, 2 * W + 1, W * W - 1, W * W, W * W + 1)


class CountingStore(MemoryStore):
    """A memory store that counts the tiles read from it."""

    def __init__(self) -> None:
        super().__init__()
        self.tiles_read = 0

    def read_tile(self, level: int, index: int) -> bytes | None:
        self.tiles_read += 1
        return super().read_tile(level, index)

    def read_tiles(self, coordinates: Collection[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        self.tiles_read += len(coordinates)
        return super().read_tiles(coordinates)


def _leaf(n: int) -> LogEntry:
    return LogEntry(hashlib.sha256(b"%d" % n).digest(), bytes(32), NOW)


def _grow(log: TransparencyLog, size: int) -> None:
    done = log.state().size
    while done < size:
        count = min(TLOG_LIMITS.max_batch, size - done)
        log.append_batch([_leaf(n) for n in range(done, done + count)])
        done += count


def _pair(
    store: MemoryStore, cache: TileCache | None = None
) -> tuple[TransparencyLog, TransparencyLog]:
    """A log reading the store alone and one serving through a tile cache, over one store."""
    plain = TransparencyLog(store, SIGNER, ORIGIN, lambda: NOW)
    cached = TransparencyLog(store, SIGNER, ORIGIN, lambda: NOW, tile_cache=cache or TileCache())
    return plain, cached


def _indices(size: int) -> list[int]:
    near = {0, 1, size // 2, size - 2, size - 1}
    for boundary in (W - 1, W, W + 1, W * W - 1, W * W):
        near.add(boundary)
    near.update(range(0, size, max(1, size // 37)))
    return sorted(index for index in near if 0 <= index < size)


@pytest.fixture(scope="module")
def grown() -> tuple[CountingStore, list[int]]:
    """A log of W * W + 1 leaves (three tile levels) built in uneven batches."""
    store = CountingStore()
    log = TransparencyLog(store, SIGNER, ORIGIN, lambda: NOW)
    for size in (*BOUNDARY_SIZES[:-3], 4000, W * W - 1, W * W, W * W + 1):
        _grow(log, size)
    return store, list(BOUNDARY_SIZES)


def test_cached_inclusion_proofs_equal_store_proofs_at_tile_boundaries(
    grown: tuple[CountingStore, list[int]],
) -> None:
    store, sizes = grown
    plain, cached = _pair(store, TileCache(max_full_tiles=8, max_partial_tiles=4))
    compared = 0
    for size in (*sizes, 4000, 777):
        for index in _indices(size):
            expected = plain.inclusion_proof(index, size)
            for _ in range(2):  # the cold read, then from the cache
                assert cached.inclusion_proof(index, size) == expected
            compared += 1
            leaf = merkle.leaf_hash(_leaf(index).to_bytes())
            merkle.verify_inclusion(index, size, leaf, expected.hashes, expected.root_hash)
    assert compared > 300


def test_cached_proofs_verify_with_the_library_verifier(
    grown: tuple[CountingStore, list[int]],
) -> None:
    store, _ = grown
    _, cached = _pair(store)
    for index in (0, W - 1, W, W * W - 1, W * W):
        proof = cached.inclusion_proof(index)
        leaf = _leaf(index)
        entry = TlogEntry(ORIGIN, index, NOW, leaf.leaf_hash, proof)
        assert verify_tlog_entry(entry, leaf, [SIGNER.verifier]) == NOW


def test_cached_consistency_proofs_equal_store_proofs(
    grown: tuple[CountingStore, list[int]],
) -> None:
    store, sizes = grown
    plain, cached = _pair(store)
    for second in sizes:
        for first in {1, second // 3 or 1, W, second - 1 or 1, second}:
            if first <= second:
                expected = plain.consistency_proof(first, second)
                assert cached.consistency_proof(first, second) == expected
                assert cached.consistency_proof(first, second) == expected


def test_a_warm_cache_serves_full_tiles_without_reading_the_store(
    grown: tuple[CountingStore, list[int]],
) -> None:
    store, _ = grown
    _, cached = _pair(store)
    size = W * W  # every tile of this tree is full
    cached.inclusion_proof(12345, size)
    before = store.tiles_read
    cached.inclusion_proof(12345 ^ 1, size)
    cached.inclusion_proof(12345, size)
    assert store.tiles_read == before


def test_the_cache_is_bounded_and_still_correct_after_evictions(
    grown: tuple[CountingStore, list[int]],
) -> None:
    store, _ = grown
    cache = TileCache(max_full_tiles=3, max_partial_tiles=2)
    plain, cached = _pair(store, cache)
    for index in range(0, W * W, 997):
        assert cached.inclusion_proof(index) == plain.inclusion_proof(index)
        assert len(cache) <= 5


def test_proofs_stay_equal_while_the_log_grows_through_a_cached_right_edge() -> None:
    store = MemoryStore()
    plain, cached = _pair(store)
    for size in (5, W - 1, W, W + 3, 2 * W - 1, 2 * W, 2 * W + 7):
        _grow(plain, size)
        for index in _indices(size):
            assert cached.inclusion_proof(index) == plain.inclusion_proof(index)
        assert cached.checkpoint() == plain.checkpoint()


def test_past_sizes_keep_their_committed_checkpoints() -> None:
    store = MemoryStore()
    plain, cached = _pair(store)
    _grow(plain, W + 1)
    committed = cached.inclusion_proof(0, W + 1).checkpoint
    _grow(plain, 2 * W)
    for _ in range(2):
        assert cached.inclusion_proof(3, W + 1).checkpoint == committed
        assert cached.inclusion_proof(3, W + 1) == plain.inclusion_proof(3, W + 1)


def test_a_missing_tile_is_reported_as_the_store_reports_it() -> None:
    store = MemoryStore()
    plain, cached = _pair(store)
    _grow(plain, 2 * W + 1)
    del store._tiles[(0, 1)]  # a damaged store
    with pytest.raises(LogError) as expected:
        plain.inclusion_proof(W + 5)
    with pytest.raises(LogError) as found:
        cached.inclusion_proof(W + 5)
    assert str(found.value) == str(expected.value)


def test_a_short_tile_is_not_cached_and_fails_as_without_the_cache() -> None:
    store = MemoryStore()
    cache = TileCache()
    plain, cached = _pair(store, cache)
    _grow(plain, 2 * W)
    store._tiles[(0, 0)] = store._tiles[(0, 0)][:-32]  # a damaged store
    with pytest.raises(LogError) as expected:
        plain.inclusion_proof(7)
    with pytest.raises(LogError) as found:
        cached.inclusion_proof(7)
    assert str(found.value) == str(expected.value)
    assert cache.tiles([(0, 0)], 2 * W, store.read_tiles) == {}


def test_tile_nodes_hold_every_perfect_subtree_of_a_tile() -> None:
    data = b"".join(hashlib.sha256(b"%d" % n).digest() for n in range(W))
    nodes = TileNodes(data)
    assert sum(len(level) for level in nodes.levels) == NODE_BYTES
    hashes = tiles.tile_hashes(data)
    for height in range(tiles.TILE_HEIGHT + 1):
        for position in range(W >> height):
            span = hashes[position << height : (position + 1) << height]
            assert nodes.node(height, position) == merkle.root_from_hashes(span)
    assert nodes.node(tiles.TILE_HEIGHT, 1) is None
    assert nodes.node(tiles.TILE_HEIGHT + 1, 0) is None


def test_partial_tile_nodes_hold_only_complete_subtrees() -> None:
    data = b"".join(hashlib.sha256(b"%d" % n).digest() for n in range(5))
    nodes = TileNodes(data)
    hashes = tiles.tile_hashes(data)
    assert nodes.node(2, 0) == merkle.root_from_hashes(hashes[:4])
    assert nodes.node(0, 4) == hashes[4]
    assert nodes.node(1, 2) is None
    assert nodes.node(2, 1) is None
    assert nodes.node(3, 0) is None


def test_each_newly_appended_entry_is_served_at_the_size_that_appended_it() -> None:
    store = MemoryStore()
    writer, cached = _pair(store)
    _grow(writer, W - 3)
    cached.inclusion_proof(0)  # the right edge of size W - 3 is now cached
    for size in range(W - 2, W + 4):
        (logged,) = writer.append_logged([_leaf(size - 1)])
        proof = cached.inclusion_proof(size - 1)
        assert proof == logged.inclusion_proof
        assert (proof.tree_size, proof.checkpoint) == (size, writer.checkpoint())
        entry = TlogEntry(ORIGIN, size - 1, NOW, _leaf(size - 1).leaf_hash, proof)
        assert verify_tlog_entry(entry, _leaf(size - 1), [SIGNER.verifier]) == NOW
        assert cached.inclusion_proof(0) == writer.inclusion_proof(0)
