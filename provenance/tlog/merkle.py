"""RFC 9162 Merkle tree hashing, proof generation and proof verification.

Leaves hash as ``SHA-256(0x00 || data)`` and interior nodes as ``SHA-256(0x01 || left || right)``;
the root of the empty tree is ``SHA-256("")``. A *node* ``(level, index)`` is the root of the
perfect subtree over leaves ``[index * 2**level, (index + 1) * 2**level)``.

Proof generation reads node hashes through a :data:`NodeReader`, so a store answers from a few
tiles instead of all leaves. Inclusion and consistency proofs (RFC 9162 §2.1.3, §2.1.4) and the
*subtree* proofs of draft-ietf-plants-merkle-tree-certs (an inclusion proof of one leaf in a subtree
``[start, end)``, and a consistency proof of a subtree with a larger tree) all follow one path: the
walk from the tree's root down to the (sub)tree being proven, whose siblings make up the proof.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from provenance.codes import Code
from provenance.errors import LogProofError
from provenance.tlog.limits import TLOG_LIMITS

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeReader = Callable[[int, int], bytes]
"""Return the hash of the perfect node ``(level, index)``; only complete nodes are asked for."""


def leaf_hash(data: bytes) -> bytes:
    """The RFC 9162 hash of a leaf: ``SHA-256(0x00 || data)``."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The RFC 9162 hash of an interior node: ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_hashes(leaf_hashes: Sequence[bytes]) -> bytes:
    """The Merkle tree hash (RFC 9162 ``MTH``) of a list of leaf hashes."""
    if not leaf_hashes:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def _split(size: int) -> int:
    """The largest power of two strictly smaller than ``size`` (``size >= 2``)."""
    return 1 << ((size - 1).bit_length() - 1)


def range_nodes(start: int, end: int) -> list[tuple[int, int]]:
    """The perfect nodes ``(level, index)`` that cover ``[start, end)``, left to right.

    For a range that starts on a multiple of its own rounded-up size (every range a proof uses),
    the nodes shrink from left to right and their fold from the right is the range's Merkle hash.
    """
    nodes: list[tuple[int, int]] = []
    while start < end:
        level = (end - start).bit_length() - 1
        if start:
            level = min(level, (start & -start).bit_length() - 1)
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def subtree_hash(start: int, end: int, read_node: NodeReader) -> bytes:
    """The Merkle hash of leaves ``[start, end)``, read as O(log n) perfect nodes."""
    if start == end:
        return EMPTY_ROOT
    hashes = [read_node(level, index) for level, index in range_nodes(start, end)]
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


class _Step(NamedTuple):
    """One level of a proof path: the sibling range and where it sits."""

    sibling: tuple[int, int]
    sibling_is_left: bool
    inside_subtree: bool


@dataclass(frozen=True)
class _Path:
    """The walk from a tree's root down to a subtree: the base range and the steps, bottom-up."""

    base: tuple[int, int]
    base_known: bool
    steps: tuple[_Step, ...]

    @property
    def proof_length(self) -> int:
        return len(self.steps) + (0 if self.base_known else 1)


def _proof_path(start: int, end: int, size: int) -> _Path:
    """RFC 9162 ``SUBPROOF`` generalised to a valid subtree ``[start, end)`` of a tree of ``size``."""
    low, high, known = 0, size, True
    steps: list[_Step] = []
    while (start, end) != (low, high):
        middle = low + _split(high - low)
        if end <= middle:
            steps.append(_Step((middle, high), sibling_is_left=False, inside_subtree=False))
            high = middle
        elif start >= middle:
            steps.append(_Step((low, middle), sibling_is_left=True, inside_subtree=False))
            low = middle
        else:  # a valid subtree that straddles the split starts at ``low``
            steps.append(_Step((low, middle), sibling_is_left=True, inside_subtree=True))
            low = start = middle
            known = False
    return _Path((low, high), known, tuple(reversed(steps)))


def _is_valid_subtree(start: int, end: int) -> bool:
    """``start <= end`` and ``start`` is a multiple of the power of two covering ``end - start``."""
    if start > end:
        return False
    width = end - start
    return start == 0 or width == 0 or start % (1 << (width - 1).bit_length()) == 0


def _path_hashes(path: _Path, read_node: NodeReader) -> list[bytes]:
    hashes = [] if path.base_known else [subtree_hash(*path.base, read_node)]
    hashes.extend(subtree_hash(*step.sibling, read_node) for step in path.steps)
    return hashes


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise LogProofError(message, code=Code.LOG_PROOF_INVALID)


def _check_size(name: str, value: int) -> None:
    _require(0 <= value <= TLOG_LIMITS.max_tree_size, f"{name} {value} is outside 0..2**64-1")


def inclusion_proof(index: int, size: int, read_node: NodeReader) -> list[bytes]:
    """The inclusion proof of leaf ``index`` in the tree of ``size`` leaves (RFC 9162 ``PATH``).

    Raises:
        LogProofError: ``index`` is not below ``size``.
    """
    return subtree_inclusion_proof(index, 0, size, read_node)


def subtree_inclusion_proof(index: int, start: int, end: int, read_node: NodeReader) -> list[bytes]:
    """The inclusion proof of leaf ``index`` in the valid subtree ``[start, end)``.

    Raises:
        LogProofError: The subtree is not valid or does not hold ``index``.
    """
    _require(_is_valid_subtree(start, end), f"[{start}, {end}) is not a valid subtree")
    _require(start <= index < end, f"leaf {index} is not in [{start}, {end})")
    path = _proof_path(index - start, index - start + 1, end - start)
    return _path_hashes(_shift(path, start), read_node)


def consistency_proof(size1: int, size2: int, read_node: NodeReader) -> list[bytes]:
    """The consistency proof between tree sizes ``size1`` and ``size2`` (RFC 9162 ``PROOF``).

    Raises:
        LogProofError: Unless ``0 < size1 <= size2``.
    """
    _require(0 < size1 <= size2, f"expected 0 < size1 <= size2, found {size1} and {size2}")
    return subtree_consistency_proof(0, size1, size2, read_node)


def subtree_consistency_proof(
    start: int, end: int, size: int, read_node: NodeReader
) -> list[bytes]:
    """The consistency proof of the valid subtree ``[start, end)`` with the tree of ``size`` leaves.

    Raises:
        LogProofError: The subtree is not valid or ends after ``size``.
    """
    _require(_is_valid_subtree(start, end), f"[{start}, {end}) is not a valid subtree")
    _require(end <= size, f"subtree end {end} exceeds tree size {size}")
    if start == end:
        return []
    return _path_hashes(_proof_path(start, end, size), read_node)


def _shift(path: _Path, offset: int) -> _Path:
    if not offset:
        return path

    def move(span: tuple[int, int]) -> tuple[int, int]:
        return (span[0] + offset, span[1] + offset)

    steps = tuple(
        _Step(move(step.sibling), step.sibling_is_left, step.inside_subtree) for step in path.steps
    )
    return _Path(move(path.base), path.base_known, steps)


def _chain(path: _Path, known_hash: bytes, proof: Sequence[bytes]) -> tuple[bytes, bytes]:
    """Fold ``proof`` along ``path``; return (hash of the subtree, hash of the whole tree)."""
    _require(
        len(proof) == path.proof_length,
        f"expected {path.proof_length} proof hashes, found {len(proof)}",
    )
    for position, item in enumerate(proof):
        _require(
            len(item) == HASH_SIZE,
            f"expected {HASH_SIZE}-byte proof hashes, found {len(item)} bytes at position {position}",
        )
    remaining = iter(proof)
    inner = whole = known_hash if path.base_known else next(remaining)
    for step, sibling in zip(path.steps, remaining, strict=True):
        if step.sibling_is_left:
            whole = node_hash(sibling, whole)
            if step.inside_subtree:
                inner = node_hash(sibling, inner)
        else:
            whole = node_hash(whole, sibling)
    return inner, whole


def _require_equal(what: str, computed: bytes, expected: bytes) -> None:
    _require(
        hmac.compare_digest(computed, expected),
        f"{what}: expected {expected.hex()}, found {computed.hex()}",
    )


def verify_inclusion(
    leaf_index: int, tree_size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``proof`` proves leaf ``leaf_index`` with ``leaf_hash`` under ``root``.

    Raises:
        LogProofError: (code ``log.proof.invalid``) The index is not below the size, a hash is not
            32 bytes, the proof has the wrong length, or the computed root differs from ``root``.
    """
    verify_subtree_inclusion(leaf_index, 0, tree_size, leaf_hash, proof=proof, subtree_root=root)


def verify_subtree_inclusion(
    leaf_index: int,
    start: int,
    end: int,
    leaf_hash: bytes,
    *,
    proof: Sequence[bytes],
    subtree_root: bytes,
) -> None:
    """Check a subtree inclusion proof of leaf ``leaf_index`` in the subtree ``[start, end)``.

    Raises:
        LogProofError: (code ``log.proof.invalid``) The subtree is not valid or does not hold the
            leaf, the proof is malformed, or it does not lead to ``subtree_root``.
    """
    if start == 0 and _proves_inclusion(leaf_index, end, leaf_hash, proof, subtree_root):
        return
    for name, value in (("leaf index", leaf_index), ("start", start), ("end", end)):
        _check_size(name, value)
    _require(_is_valid_subtree(start, end), f"[{start}, {end}) is not a valid subtree")
    _require(
        start <= leaf_index < end, f"expected a leaf index in [{start}, {end}), found {leaf_index}"
    )
    _require(
        len(leaf_hash) == HASH_SIZE,
        f"expected a {HASH_SIZE}-byte leaf hash, found {len(leaf_hash)} bytes",
    )
    path = _proof_path(leaf_index - start, leaf_index - start + 1, end - start)
    _, computed = _chain(path, leaf_hash, proof)
    _require_equal(
        f"root computed from the proof of leaf {leaf_index} in [{start}, {end})",
        computed,
        subtree_root,
    )


def _proves_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2 in bit operations: whether ``proof`` leads leaf ``index`` of a tree of
    ``size`` to ``root``. Only a True answer is used; on False the caller's step-by-step check
    finds the precise reason (both compute the same root from the same hashes)."""
    if not (0 <= index < size <= TLOG_LIMITS.max_tree_size and len(leaf) == HASH_SIZE):
        return False
    position, last, computed = index, size - 1, leaf
    sha256 = hashlib.sha256
    for sibling in proof:
        if last == 0 or len(sibling) != HASH_SIZE:
            return False
        if position & 1 or position == last:
            computed = sha256(b"\x01" + sibling + computed).digest()
            while not position & 1 and position:
                position, last = position >> 1, last >> 1
        else:
            computed = sha256(b"\x01" + computed + sibling).digest()
        position, last = position >> 1, last >> 1
    return last == 0 and hmac.compare_digest(computed, root)


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``size2`` leaves with ``root2`` extends the one of ``size1``/``root1``.

    A proof from the empty tree is refused: it proves nothing (RFC 9162 §2.1.4.2 requires
    ``0 < size1``).

    Raises:
        LogProofError: (code ``log.proof.invalid``) The sizes are out of order or zero, the proof is
            malformed, or either root does not match.
    """
    _check_size("size1", size1)
    _check_size("size2", size2)
    _require(0 < size1 <= size2, f"expected 0 < size1 <= size2, found {size1} and {size2}")
    verify_subtree_consistency(0, size1, size2, subtree_root=root1, root=root2, proof=proof)


def verify_subtree_consistency(
    start: int,
    end: int,
    size: int,
    *,
    subtree_root: bytes,
    root: bytes,
    proof: Sequence[bytes],
) -> None:
    """Check that the subtree ``[start, end)`` with ``subtree_root`` is part of the tree ``root``.

    The empty subtree (``start == end``) is consistent with any tree when its hash is the empty
    tree's hash and the proof is empty.

    Raises:
        LogProofError: (code ``log.proof.invalid``) The subtree is not valid or ends after ``size``,
            the proof is malformed, or a computed hash differs from the given one.
    """
    for name, value in (("start", start), ("end", end), ("size", size)):
        _check_size(name, value)
    _require(_is_valid_subtree(start, end), f"[{start}, {end}) is not a valid subtree")
    _require(end <= size, f"subtree end {end} exceeds tree size {size}")
    if start == end:
        _require(not proof, f"expected an empty proof for an empty subtree, found {len(proof)}")
        _require_equal("hash of the empty subtree", subtree_root, EMPTY_ROOT)
        return
    path = _proof_path(start, end, size)
    inner, whole = _chain(path, subtree_root, proof)
    _require_equal(f"hash of the subtree [{start}, {end}) from the proof", inner, subtree_root)
    _require_equal(f"root of the tree of size {size} from the proof", whole, root)
