"""Log audit vectors (``specs/tlog-v1.md`` §8.1, §9): a log's served tlog-tiles files, the trusted
log key, the previous checkpoint, and the audit's expected outcome.

The logs are built leaf by leaf from fixed entries with :func:`append_leaves` (which also allows
leaves :class:`TransparencyLog` would never write), and signed with a labelled Ed25519 key, so a
run reproduces the bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from provenance.encoding import b64encode
from provenance.keys import Ed25519SigningKey
from provenance.tlog.entry import LogEntry
from provenance.tlog.note import Checkpoint, NoteSigner, sign_checkpoint
from provenance.tlog.tiles import (
    TileId,
    append_leaves,
    encode_entry_bundle,
    tile_width,
    tree_root,
)
from scripts.make_vectors import CREATED, LABEL_PREFIX

AUDIT_OUT = Path(__file__).resolve().parents[1] / "specs" / "vectors" / "tlog-v1"
ORIGIN = "audit.vectors.example/log"
Files = dict[str, bytes]


def _signer(label: str) -> NoteSigner:
    seed = hashlib.sha256(f"{LABEL_PREFIX} {label}".encode()).digest()
    return NoteSigner(ORIGIN, Ed25519SigningKey(seed))


LOG = _signer("audit log")
IMPOSTOR = _signer("audit impostor")


def leaves(count: int, label: str = "entry") -> list[bytes]:
    """``count`` pinned-key leaves (tlog-v1 §1) with labelled digests, one second apart."""
    time = int(CREATED.timestamp())
    return [
        LogEntry(
            hashlib.sha256(f"{label} {n} envelope".encode()).digest(),
            hashlib.sha256(f"{label} {n} signer".encode()).digest(),
            time + n,
        ).to_bytes()
        for n in range(count)
    ]


def _root(entries: Sequence[bytes]) -> bytes:
    tiles = append_leaves(lambda *_: None, lambda _: None, 0, entries).tiles
    return tree_root(lambda level, index: tiles.get((level, index)), len(entries))


def checkpoint(entries: Sequence[bytes], signer: NoteSigner = LOG) -> bytes:
    """The signed checkpoint note of the tree of ``entries``."""
    return sign_checkpoint(Checkpoint(ORIGIN, len(entries), _root(entries)), signer).encode()


def served(entries: Sequence[bytes], signer: NoteSigner = LOG) -> Files:
    """Every file a static tlog-tiles server holds for the tree of ``entries``."""
    update = append_leaves(lambda *_: None, lambda _: None, 0, entries)
    files = {
        TileId(level, index, len(data) // 32).path: data
        for (level, index), data in update.tiles.items()
    }
    files |= {
        TileId(0, index, tile_width(0, index, len(entries))).entries_path: data
        for index, data in update.entry_bundles.items()
    }
    files["checkpoint"] = checkpoint(entries, signer)
    return files


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :]


def _without(files: Files, path: str) -> Files:
    assert path in files
    return {p: data for p, data in files.items() if p != path}


def _with(files: Files, path: str, data: bytes) -> Files:
    assert path in files
    return files | {path: data}


def _not_strict(entries: list[bytes]) -> list[bytes]:
    """``entries`` with the last one given a space after a colon: same value, not strict JSON of
    tlog-v1 §1 (which is the compact RFC 8785 form)."""
    last = entries[-1].replace(b'":', b'": ', 1)
    assert last != entries[-1]
    return [*entries[:-1], last]


def audit_cases() -> list[dict[str, Any]]:
    """The audit vectors, each a JSON object of ``specs/tlog-v1.md`` §9."""
    five, big = leaves(5), leaves(257)
    honest, big_log = served(five), served(big)
    cases: list[tuple[str, str, Files, bytes | None, str | None]] = [
        ("01-honest", "a log of 5 entries, first audit", honest, None, None),
        (
            "02-extends-previous",
            "a log of 5 entries that extends the previous checkpoint of its first 3",
            honest,
            checkpoint(five[:3]),
            None,
        ),
        ("03-empty", "the empty log (size 0, no tiles)", served([]), None, None),
        (
            "04-full-tile",
            "257 entries: a full level-0 tile, a partial one, and level 1",
            big_log,
            None,
            None,
        ),
        (
            "05-checkpoint-missing",
            "no checkpoint is served",
            _without(honest, "checkpoint"),
            None,
            "log.checkpoint.invalid",
        ),
        (
            "06-checkpoint-of-another-key",
            "the checkpoint is signed by a key named like the origin that the auditor does not "
            "trust",
            served(five, IMPOSTOR),
            None,
            "log.checkpoint.unsigned",
        ),
        (
            "07-tile-missing",
            "the level-0 tile is not served",
            _without(honest, "tile/0/000.p/5"),
            None,
            "log.tile.missing",
        ),
        (
            "08-tile-short",
            "the level-0 tile is one byte short of 32 x 5",
            _with(honest, "tile/0/000.p/5", honest["tile/0/000.p/5"][:-1]),
            None,
            "log.tile.invalid",
        ),
        (
            "09-tile-hash-flipped",
            "one bit of a leaf hash in the level-0 tile flipped: the tiles no longer hash to the "
            "checkpoint's root",
            _with(honest, "tile/0/000.p/5", _flip(honest["tile/0/000.p/5"], 40)),
            None,
            "log.tile.invalid",
        ),
        (
            "10-tile-link-broken",
            "257 entries, one bit of the level-1 tile flipped: it is not the root of the full "
            "level-0 tile",
            _with(big_log, "tile/1/000.p/1", _flip(big_log["tile/1/000.p/1"], 0)),
            None,
            "log.tile.invalid",
        ),
        (
            "11-entries-missing",
            "the entry bundle is not served",
            _without(honest, "tile/entries/000.p/5"),
            None,
            "log.tile.missing",
        ),
        (
            "12-entry-swapped",
            "the entry bundle holds another well-formed entry in place of the third",
            _with(
                honest,
                "tile/entries/000.p/5",
                encode_entry_bundle([*five[:2], leaves(1, "other")[0], *five[3:]]),
            ),
            None,
            "log.tile.invalid",
        ),
        (
            "13-entry-not-strict",
            "a leaf whose JSON has a space after a colon, hashed into the tiles and signed: it "
            "does not parse strictly",
            served(_not_strict(five)),
            None,
            "log.entry.malformed",
        ),
        (
            "14-rolled-back",
            "the log serves 3 entries after the auditor accepted a checkpoint of 5",
            served(five[:3]),
            checkpoint(five),
            "log.consistency.invalid",
        ),
        (
            "15-forked",
            "the previous checkpoint (size 3, signed by the log) is of other leaves than the "
            "served log's first 3",
            honest,
            checkpoint(leaves(3, "fork")),
            "log.consistency.invalid",
        ),
    ]
    return [_case(*case) for case in cases]


def _case(
    name: str, description: str, files: Files, previous: bytes | None, code: str | None
) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "origin": ORIGIN,
        "logKeys": [LOG.verifier.key_string],
        "previousCheckpoint": None if previous is None else previous.decode(),
        "files": {path: b64encode(files[path]) for path in sorted(files)},
        "expected": {"passed": code is None, "failureCodes": [] if code is None else [code]},
    }


def write_audit_vectors() -> int:
    """Write ``specs/vectors/tlog-v1``; returns the number of cases."""
    AUDIT_OUT.mkdir(parents=True, exist_ok=True)
    for old in AUDIT_OUT.glob("*.json"):
        old.unlink()
    cases = audit_cases()
    for case in cases:
        name = case.pop("name")
        (AUDIT_OUT / f"{name}.json").write_text(json.dumps(case, indent=2) + "\n")
    return len(cases)
