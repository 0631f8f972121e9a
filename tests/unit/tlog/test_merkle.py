"""RFC 9162 hashing, proof generation and verification."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pytest

from provenance.errors import LogProofError
from provenance.tlog import merkle

# Leaves and roots from transparency-dev/merkle proof/verify_test.go (the RFC 6962 reference tree).
GO_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
             "606162636465666768696a6b6c6d6e6f"]  # fmt: skip
GO_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def _leaves(count: int) -> list[bytes]:
    return [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(count)]


def _reader(hashes: Sequence[bytes]) -> merkle.NodeReader:
    def read(level: int, index: int) -> bytes:
        width = 1 << level
        return merkle.root_from_hashes(hashes[index * width : (index + 1) * width])

    return read


def _rfc_path(index: int, hashes: Sequence[bytes]) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH, written as the RFC's recursion."""
    if len(hashes) == 1:
        return []
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    if index < k:
        return [*_rfc_path(index, hashes[:k]), merkle.root_from_hashes(hashes[k:])]
    return [*_rfc_path(index - k, hashes[k:]), merkle.root_from_hashes(hashes[:k])]


def _rfc_subproof(m: int, hashes: Sequence[bytes], known: bool) -> list[bytes]:
    """RFC 9162 §2.1.4.1 SUBPROOF, written as the RFC's recursion."""
    if m == len(hashes):
        return [] if known else [merkle.root_from_hashes(hashes)]
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    if m <= k:
        return [*_rfc_subproof(m, hashes[:k], known), merkle.root_from_hashes(hashes[k:])]
    return [*_rfc_subproof(m - k, hashes[k:], False), merkle.root_from_hashes(hashes[:k])]


def test_hashes_use_rfc9162_domain_prefixes() -> None:
    assert merkle.leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert merkle.node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()
    assert merkle.root_from_hashes([]) == hashlib.sha256(b"").digest() == merkle.EMPTY_ROOT


def test_root_from_hashes_matches_reference_roots() -> None:
    hashes = [merkle.leaf_hash(bytes.fromhex(leaf)) for leaf in GO_LEAVES]
    for size, root in enumerate(GO_ROOTS, start=1):
        assert merkle.root_from_hashes(hashes[:size]).hex() == root


def test_range_nodes_cover_a_range_with_shrinking_perfect_nodes() -> None:
    assert merkle.range_nodes(0, 7) == [(2, 0), (1, 2), (0, 6)]
    assert merkle.range_nodes(8, 14) == [(2, 2), (1, 6)]
    assert merkle.range_nodes(5, 5) == []


@pytest.mark.parametrize("size", range(1, 40))
def test_generated_proofs_equal_the_rfc_recursion_and_verify(size: int) -> None:
    hashes = _leaves(size)
    root = merkle.root_from_hashes(hashes)
    read = _reader(hashes)
    for index in range(size):
        proof = merkle.inclusion_proof(index, size, read)
        assert proof == _rfc_path(index, hashes)
        merkle.verify_inclusion(index, size, hashes[index], proof, root)
    for size1 in range(1, size + 1):
        proof = merkle.consistency_proof(size1, size, read)
        assert proof == _rfc_subproof(size1, hashes, True)
        old_root = merkle.root_from_hashes(hashes[:size1])
        merkle.verify_consistency(size1, size, old_root, root, proof)


def _valid_subtrees(size: int) -> list[tuple[int, int]]:
    return [
        (start, end)
        for end in range(1, size + 1)
        for start in range(end)
        if start == 0 or start % (1 << (end - start - 1).bit_length()) == 0
    ]


@pytest.mark.parametrize("size", [1, 2, 5, 8, 13, 16, 21])
def test_subtree_proofs_verify_for_every_valid_subtree(size: int) -> None:
    hashes = _leaves(size)
    root = merkle.root_from_hashes(hashes)
    read = _reader(hashes)
    for start, end in _valid_subtrees(size):
        sub_root = merkle.root_from_hashes(hashes[start:end])
        proof = merkle.subtree_consistency_proof(start, end, size, read)
        merkle.verify_subtree_consistency(
            start, end, size, subtree_root=sub_root, root=root, proof=proof
        )
        for index in range(start, end):
            inclusion = merkle.subtree_inclusion_proof(index, start, end, read)
            merkle.verify_subtree_inclusion(
                index, start, end, hashes[index], proof=inclusion, subtree_root=sub_root
            )


def test_subtree_consistency_rejects_a_wrong_subtree_hash() -> None:
    hashes = _leaves(16)
    read = _reader(hashes)
    proof = merkle.subtree_consistency_proof(8, 14, 16, read)
    with pytest.raises(LogProofError, match=r"hash of the subtree \[8, 14\)") as caught:
        merkle.verify_subtree_consistency(
            8, 14, 16, subtree_root=hashes[0], root=merkle.root_from_hashes(hashes), proof=proof
        )
    assert caught.value.code == "log.proof.invalid"


def test_subtree_proofs_refuse_invalid_subtrees() -> None:
    read = _reader(_leaves(8))
    with pytest.raises(LogProofError, match=r"\[2, 5\) is not a valid subtree"):
        merkle.subtree_consistency_proof(2, 5, 8, read)
    with pytest.raises(LogProofError, match="leaf 7 is not in"):
        merkle.subtree_inclusion_proof(7, 4, 6, read)


def test_verify_inclusion_reports_expected_and_found_root() -> None:
    hashes = _leaves(5)
    proof = merkle.inclusion_proof(2, 5, _reader(hashes))
    wrong_root = bytes(32)
    with pytest.raises(LogProofError) as caught:
        merkle.verify_inclusion(2, 5, hashes[2], proof, wrong_root)
    assert caught.value.code == "log.proof.invalid"
    assert f"expected {wrong_root.hex()}, found {merkle.root_from_hashes(hashes).hex()}" in str(
        caught.value
    )


def test_verify_inclusion_rejects_wrong_proof_length_and_short_hashes() -> None:
    hashes = _leaves(5)
    root = merkle.root_from_hashes(hashes)
    proof = merkle.inclusion_proof(2, 5, _reader(hashes))
    with pytest.raises(LogProofError, match="expected 3 proof hashes, found 4"):
        merkle.verify_inclusion(2, 5, hashes[2], [*proof, proof[0]], root)
    with pytest.raises(LogProofError, match="expected 32-byte proof hashes, found 31 bytes"):
        merkle.verify_inclusion(2, 5, hashes[2], [proof[0][:31], *proof[1:]], root)
    with pytest.raises(LogProofError, match="expected a 32-byte leaf hash"):
        merkle.verify_inclusion(2, 5, hashes[2][:8], proof, root)


def test_verify_consistency_rejects_a_proof_from_the_empty_tree() -> None:
    with pytest.raises(LogProofError, match="expected 0 < size1 <= size2, found 0 and 0"):
        merkle.verify_consistency(0, 0, merkle.EMPTY_ROOT, merkle.EMPTY_ROOT, [])


def test_verify_rejects_sizes_beyond_64_bits() -> None:
    with pytest.raises(LogProofError, match=r"outside 0\.\.2\*\*64-1"):
        merkle.verify_inclusion(0, 2**64, bytes(32), [], bytes(32))
