"""The transparency log over the in-memory store."""

from __future__ import annotations

import hashlib
from collections.abc import Collection

import pytest

from provenance.errors import LogError
from provenance.keys import Ed25519SigningKey
from provenance.tlog import merkle
from provenance.tlog.entry import LogEntry, verify_tlog_entry
from provenance.tlog.log import TransparencyLog
from provenance.tlog.note import Checkpoint, NoteSigner, open_checkpoint
from provenance.tlog.store import MemoryStore

ORIGIN = "example.org/log"
NOW = 1_700_000_000
SIGNER = NoteSigner(ORIGIN, Ed25519SigningKey(bytes([3]) * 32))


def _leaf(n: int, time: int = NOW) -> LogEntry:
    return LogEntry(hashlib.sha256(b"%d" % n).digest(), bytes(32), time)


class CountingStore(MemoryStore):
    """Counts store reads of tiles and how many tiles they asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.tile_reads = 0
        self.tiles_read = 0

    def read_tile(self, level: int, index: int) -> bytes | None:
        self.tile_reads += 1
        self.tiles_read += 1
        return super().read_tile(level, index)

    def read_tiles(self, coordinates: Collection[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        self.tile_reads += 1
        self.tiles_read += len(coordinates)
        return super().read_tiles(coordinates)


def _log(store: MemoryStore | None = None) -> TransparencyLog:
    return TransparencyLog(store or MemoryStore(), SIGNER, ORIGIN, lambda: NOW)


def test_append_batch_returns_consecutive_indices() -> None:
    log = _log()
    assert log.append_batch([_leaf(0), _leaf(1)]) == [0, 1]
    assert log.append_batch([]) == []
    assert log.append_batch([_leaf(2)]) == [2]
    assert log.entry(1) == _leaf(1)


def test_the_empty_log_has_a_signed_empty_checkpoint() -> None:
    checkpoint = open_checkpoint(_log().checkpoint(), [SIGNER.verifier], origin=ORIGIN)
    assert checkpoint == Checkpoint(ORIGIN, 0, merkle.EMPTY_ROOT)


def test_checkpoint_commits_to_the_merkle_root_of_all_leaves() -> None:
    log = _log()
    leaves = [_leaf(n) for n in range(300)]
    log.append_batch(leaves[:100])
    log.append_batch(leaves[100:])
    checkpoint = open_checkpoint(log.checkpoint(), [SIGNER.verifier], origin=ORIGIN)
    expected = merkle.root_from_hashes([leaf.leaf_hash for leaf in leaves])
    assert checkpoint == Checkpoint(ORIGIN, 300, expected)


def test_append_refuses_times_far_from_the_clock() -> None:
    with pytest.raises(LogError, match="more than 300 s from the log's clock"):
        _log().append_batch([_leaf(0, NOW - 301)])


def test_log_refuses_a_signer_named_unlike_the_origin() -> None:
    with pytest.raises(LogError, match="the origin is 'other'"):
        TransparencyLog(MemoryStore(), SIGNER, "other", lambda: NOW)


def test_new_entry_is_stamped_with_the_clock() -> None:
    assert _log().new_entry(bytes(32), bytes(32)).integrated_time == NOW


def test_proofs_at_older_sizes_verify_against_checkpoints_of_those_sizes() -> None:
    log = _log()
    log.append_batch([_leaf(n) for n in range(20)])
    log.append_batch([_leaf(n) for n in range(20, 50)])
    proof = log.inclusion_proof(5, 20)
    old = open_checkpoint(proof.checkpoint, [SIGNER.verifier], origin=ORIGIN)
    assert (old.size, old.root_hash) == (20, proof.root_hash)
    merkle.verify_inclusion(5, 20, _leaf(5).leaf_hash, proof.hashes, proof.root_hash)
    new = open_checkpoint(log.checkpoint(), [SIGNER.verifier], origin=ORIGIN)
    merkle.verify_consistency(20, 50, old.root_hash, new.root_hash, log.consistency_proof(20))


def test_proofs_refuse_sizes_beyond_the_log() -> None:
    log = _log()
    log.append_batch([_leaf(0)])
    with pytest.raises(LogError, match="beyond the log's size 1"):
        log.inclusion_proof(0, 2)
    with pytest.raises(LogError, match="leaf 1 is not in the tree of size 1"):
        log.inclusion_proof(1)
    with pytest.raises(LogError, match="expected 0 < size1 <= 1, found 0"):
        log.consistency_proof(0)
    with pytest.raises(LogError, match="leaf 3 is not in the tree"):
        log.entry(3)


def test_proofs_read_a_logarithmic_number_of_tiles_in_one_store_read() -> None:
    store = CountingStore()
    log = _log(store)
    for start in range(0, 5000, 1000):
        log.append_batch([_leaf(n) for n in range(start, start + 1000)])
    store.tile_reads = store.tiles_read = 0
    proof = log.inclusion_proof(1234)
    assert (store.tile_reads, store.tiles_read) == (1, 3)
    entry = log.tlog_entry_for(1234)
    assert entry.inclusion_proof == proof
    assert verify_tlog_entry(entry, _leaf(1234), [SIGNER.verifier]) == NOW
    store.tile_reads = store.tiles_read = 0
    log.consistency_proof(1000, 5000)
    assert store.tile_reads == 1
    assert store.tiles_read <= 4


def test_tiles_are_stored_full_and_partial() -> None:
    store = MemoryStore()
    _log(store).append_batch([_leaf(n) for n in range(300)])
    assert len(store.read_tile(0, 0) or b"") == 256 * 32
    assert len(store.read_tile(0, 1) or b"") == 44 * 32
    assert len(store.read_tile(1, 0) or b"") == 32
    assert store.read_tile(0, 2) is None


def test_submit_logs_one_signature_and_returns_a_verifiable_entry() -> None:
    log = _log()
    log.append_batch([_leaf(0)])
    cert = b"certificate DER"
    signer_sha256 = hashlib.sha256(cert).digest()
    entry = log.submit(bytes([9]) * 32, signer_sha256, cert)
    assert entry.log_index == 1
    expected = LogEntry(bytes([9]) * 32, signer_sha256, NOW, cert)
    assert verify_tlog_entry(entry, expected, [SIGNER.verifier]) == NOW


@pytest.mark.parametrize("sizes", [[1, 1, 1], [255, 1, 2], [300, 256, 70], [1000, 4096, 1]])
def test_append_logged_proves_every_leaf_up_to_its_own_commit(sizes: list[int]) -> None:
    log, start = _log(), 0
    for size in sizes:
        leaves = [_leaf(n) for n in range(start, start + size)]
        logged = log.append_logged(leaves)
        start += size
        assert [entry.log_index for entry in logged] == list(range(start - size, start))
        for entry, leaf in zip(logged, leaves, strict=True):
            assert entry.inclusion_proof.tree_size == start
            assert entry.inclusion_proof.checkpoint == log.checkpoint()
            assert entry == log.tlog_entry_for(entry.log_index)
            assert verify_tlog_entry(entry, leaf, [SIGNER.verifier]) == NOW


def test_append_after_this_process_committed_reads_no_tile() -> None:
    store = CountingStore()
    log = _log(store)
    log.append_logged([_leaf(n) for n in range(700)])
    store.tile_reads = store.tiles_read = 0
    for n in range(700, 1300, 37):
        log.append_logged([_leaf(m) for m in range(n, n + 37)])
    assert (store.tile_reads, store.tiles_read) == (0, 0)


def test_an_append_by_another_writer_is_read_from_the_store() -> None:
    store = CountingStore()
    mine, other = _log(store), _log(store)
    mine.append_logged([_leaf(n) for n in range(300)])
    other.append_batch([_leaf(n) for n in range(300, 310)])
    store.tile_reads = 0
    logged = mine.append_logged([_leaf(310), _leaf(311)])
    assert store.tile_reads > 0
    assert [entry.inclusion_proof.tree_size for entry in logged] == [312, 312]
    for entry in logged:
        assert verify_tlog_entry(entry, _leaf(entry.log_index), [SIGNER.verifier]) == NOW
    assert mine.state().root_hash == merkle.root_from_hashes(
        [_leaf(n).leaf_hash for n in range(312)]
    )
