"""Property tests: proofs from tiles of random trees verify, and any corruption fails."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance.errors import LogProofError
from provenance.keys import Ed25519SigningKey
from provenance.tlog import merkle, tiles
from provenance.tlog.entry import LogEntry, verify_tlog_entry
from provenance.tlog.log import TransparencyLog
from provenance.tlog.note import NoteSigner
from provenance.tlog.store import MemoryStore

ORIGIN = "example.org/log"
NOW = 1_700_000_000
SIGNER = NoteSigner(ORIGIN, Ed25519SigningKey(bytes([3]) * 32))
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclasses.dataclass
class Tree:
    """A tree built in random batches into tiles."""

    size: int
    leaf_hashes: list[bytes]
    read: tiles.TileNodeReader


@st.composite
def trees(draw: st.DrawFn, max_size: int = 3000) -> Tree:
    size = draw(st.integers(1, max_size))
    stored: dict[tuple[int, int], bytes] = {}
    bundles: dict[int, bytes] = {}
    entries = [n.to_bytes(4, "big") for n in range(size)]
    done = 0
    while done < size:
        count = min(size - done, draw(st.integers(1, 700)))
        update = tiles.append_leaves(
            lambda level, index: stored.get((level, index)),
            bundles.get,
            done,
            entries[done : done + count],
        )
        stored.update(update.tiles)
        bundles.update(update.entry_bundles)
        done += count
    reader = tiles.TileNodeReader(lambda level, index: stored.get((level, index)))
    return Tree(size, [merkle.leaf_hash(entry) for entry in entries], reader)


def _flip(proof: list[bytes], position: int, bit: int) -> list[bytes]:
    item = proof[position]
    changed = bytes([item[bit // 8] ^ (1 << (bit % 8))])
    return [
        *proof[:position],
        item[: bit // 8] + changed + item[bit // 8 + 1 :],
        *proof[position + 1 :],
    ]


@SETTINGS
@given(tree=trees(), data=st.data())
def test_inclusion_proofs_from_tiles_verify_and_corruption_fails(
    tree: Tree, data: st.DataObject
) -> None:
    root = tiles.tree_root(tree.read.tile, tree.size)
    assert root == merkle.root_from_hashes(tree.leaf_hashes)
    index = data.draw(st.integers(0, tree.size - 1))
    proof = merkle.inclusion_proof(index, tree.size, tree.read)
    leaf = tree.leaf_hashes[index]
    merkle.verify_inclusion(index, tree.size, leaf, proof, root)
    bit = data.draw(st.integers(0, 255))
    with pytest.raises(LogProofError):
        merkle.verify_inclusion(index, tree.size, leaf, proof, _flip([root], 0, bit)[0])
    with pytest.raises(LogProofError):
        merkle.verify_inclusion(index, tree.size, _flip([leaf], 0, bit)[0], proof, root)
    if proof:
        position = data.draw(st.integers(0, len(proof) - 1))
        with pytest.raises(LogProofError):
            merkle.verify_inclusion(index, tree.size, leaf, _flip(proof, position, bit), root)
    if tree.size > 1:
        other = data.draw(st.integers(0, tree.size - 1).filter(lambda i: i != index))
        with pytest.raises(LogProofError):
            merkle.verify_inclusion(other, tree.size, leaf, proof, root)


@SETTINGS
@given(tree=trees(), data=st.data())
def test_consistency_proofs_from_tiles_verify_and_corruption_fails(
    tree: Tree, data: st.DataObject
) -> None:
    size1 = data.draw(st.integers(1, tree.size))
    root1 = merkle.root_from_hashes(tree.leaf_hashes[:size1])
    root2 = merkle.root_from_hashes(tree.leaf_hashes)
    proof = merkle.consistency_proof(size1, tree.size, tree.read)
    merkle.verify_consistency(size1, tree.size, root1, root2, proof)
    bit = data.draw(st.integers(0, 255))
    with pytest.raises(LogProofError):
        merkle.verify_consistency(size1, tree.size, _flip([root1], 0, bit)[0], root2, proof)
    with pytest.raises(LogProofError):
        merkle.verify_consistency(size1, tree.size, root1, _flip([root2], 0, bit)[0], proof)
    if proof:
        position = data.draw(st.integers(0, len(proof) - 1))
        with pytest.raises(LogProofError):
            merkle.verify_consistency(size1, tree.size, root1, root2, _flip(proof, position, bit))


def _leaf(n: int) -> LogEntry:
    return LogEntry(hashlib.sha256(b"%d" % n).digest(), bytes(32), NOW)


@settings(max_examples=15, deadline=None)
@given(sizes=st.lists(st.integers(1, 120), min_size=1, max_size=5), data=st.data())
def test_log_entries_verify_and_a_corrupted_checkpoint_fails(
    sizes: list[int], data: st.DataObject
) -> None:
    log = TransparencyLog(MemoryStore(), SIGNER, ORIGIN, lambda: NOW)
    total = 0
    for count in sizes:
        log.append_batch([_leaf(n) for n in range(total, total + count)])
        total += count
    index = data.draw(st.integers(0, total - 1))
    entry = log.tlog_entry_for(index)
    assert verify_tlog_entry(entry, _leaf(index), [SIGNER.verifier]) == NOW
    note = entry.inclusion_proof.checkpoint
    text_end = note.index("\n\n")
    position = data.draw(st.integers(0, text_end - 1))
    replacement = "x" if note[position] != "x" else "y"
    corrupted = note[:position] + replacement + note[position + 1 :]
    proof = dataclasses.replace(entry.inclusion_proof, checkpoint=corrupted)
    with pytest.raises(LogProofError) as caught:
        verify_tlog_entry(
            dataclasses.replace(entry, inclusion_proof=proof), _leaf(index), [SIGNER.verifier]
        )
    assert caught.value.code == "log.checkpoint.invalid"
