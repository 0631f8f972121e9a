"""Auditing and monitoring a log from its tlog-tiles directory (specs/tlog-v1.md §8)."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from provenance.errors import LogProofError
from provenance.keys import Ed25519SigningKey
from provenance.tlog.audit import Fetch, audit_log, monitor, tiles_for_size
from provenance.tlog.entry import LogEntry
from provenance.tlog.files import FileStore
from provenance.tlog.log import TransparencyLog
from provenance.tlog.note import Checkpoint, NoteSigner, open_checkpoint, sign_checkpoint
from provenance.tlog.tiles import TileId, append_leaves, tree_root
from tests.factories import certified_author, make_authority

ORIGIN = "reviews.example/log"
NOW = 1_700_000_000
SIGNER = NoteSigner(ORIGIN, Ed25519SigningKey(bytes([7]) * 32))
VERIFIERS = [SIGNER.verifier]
DANA = "https://reviews.example/u/8841"
EVE = "eve@reviews.example"
SIZE, HALF = 600, 300


def _certificate(identity: str) -> bytes:
    chain = certified_author(make_authority(), identity).chain
    return chain[0].public_bytes(Encoding.DER)


def _leaves(first: int, count: int, certificates: Sequence[bytes | None]) -> list[LogEntry]:
    entries = []
    for number in range(first, first + count):
        certificate = certificates[number % len(certificates)]
        signer = hashlib.sha256(certificate or b"pinned key %d" % number).digest()
        envelope = hashlib.sha256(b"envelope %d" % number).digest()
        entries.append(LogEntry(envelope, signer, NOW, certificate))
    return entries


def _fill(root: Path, batches: Sequence[list[LogEntry]]) -> TransparencyLog:
    log = TransparencyLog(FileStore(root), SIGNER, ORIGIN, lambda: NOW)
    for batch in batches:
        log.append_batch(batch)
    return log


def _fetch(root: Path) -> Fetch:
    def fetch(path: str) -> bytes | None:
        target = root / path
        return target.read_bytes() if target.is_file() else None

    return fetch


def _checkpoint(note: str) -> Checkpoint:
    return open_checkpoint(note, VERIFIERS, origin=ORIGIN)


@pytest.fixture(scope="module")
def certificates() -> list[bytes | None]:
    """Every third entry by Dana, every third by Eve, every third by a pinned key."""
    return [_certificate(DANA), _certificate(EVE), None]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory, certificates: list[bytes | None]) -> Path:
    root = tmp_path_factory.mktemp("log")
    _fill(root, [_leaves(0, HALF, certificates), _leaves(HALF, SIZE - HALF, certificates)])
    return root


@pytest.fixture
def served(pristine: Path, tmp_path: Path) -> Path:
    """A copy of the 600-entry log that a test may tamper with."""
    return Path(shutil.copytree(pristine, tmp_path / "served"))


def _code(fetch: Fetch, previous: Checkpoint | None = None) -> str:
    with pytest.raises(LogProofError) as caught:
        audit_log(fetch, VERIFIERS, ORIGIN, previous=previous)
    return caught.value.code


def test_tiles_for_size_lists_full_tiles_and_the_exact_partial_widths() -> None:
    assert [tile.path for tile in tiles_for_size(SIZE)] == [
        "tile/0/000",
        "tile/0/001",
        "tile/0/002.p/88",
        "tile/1/000.p/2",
    ]
    assert tiles_for_size(0) == []
    assert [tile.path for tile in tiles_for_size(65536)][-1] == "tile/2/000.p/1"


def test_audit_accepts_an_honest_log_and_reports_every_tile_and_entry(pristine: Path) -> None:
    calls: list[tuple[int, int]] = []
    report = audit_log(
        _fetch(pristine), VERIFIERS, ORIGIN, previous=None, progress=lambda *a: calls.append(a)
    )
    assert (report.checkpoint.size, report.tiles, report.entries) == (SIZE, 4, SIZE)
    assert report.note == (pristine / "checkpoint").read_text()
    assert report.previous_size is None
    assert calls[-1] == (7, 7) and len(calls) == 7


def test_audit_accepts_a_log_that_extends_the_previous_checkpoint(pristine: Path) -> None:
    previous = _checkpoint((pristine / "checkpoints" / str(HALF)).read_text())
    report = audit_log(_fetch(pristine), VERIFIERS, ORIGIN, previous=previous)
    assert report.previous_size == HALF
    same = audit_log(_fetch(pristine), VERIFIERS, ORIGIN, previous=report.checkpoint)
    assert same.checkpoint == report.checkpoint


def test_audit_accepts_the_empty_log(tmp_path: Path) -> None:
    empty = sign_checkpoint(Checkpoint(ORIGIN, 0, hashlib.sha256(b"").digest()), SIGNER)
    (tmp_path / "checkpoint").write_text(empty)
    assert audit_log(_fetch(tmp_path), VERIFIERS, ORIGIN, previous=None).entries == 0


@pytest.mark.parametrize(
    "path", ["tile/0/001", "tile/0/002.p/88", "tile/1/000.p/2", "tile/entries/001"]
)
def test_audit_rejects_a_tampered_tile_byte(served: Path, path: str) -> None:
    data = bytearray((served / path).read_bytes())
    data[40] ^= 0x01
    (served / path).write_bytes(bytes(data))
    assert _code(_fetch(served)) == "log.tile.invalid"


def test_audit_rejects_a_truncated_tile(served: Path) -> None:
    (served / "tile/0/000").write_bytes((served / "tile/0/000").read_bytes()[:-32])
    assert _code(_fetch(served)) == "log.tile.invalid"


@pytest.mark.parametrize("path", ["tile/0/000", "tile/1/000.p/2", "tile/entries/002.p/88"])
def test_audit_rejects_a_missing_tile(served: Path, path: str) -> None:
    (served / path).unlink()
    assert _code(_fetch(served)) == "log.tile.missing"


def test_audit_rejects_a_checkpoint_with_a_forged_root(served: Path) -> None:
    text, signature = (served / "checkpoint").read_text().split("\n\n")
    lines = text.split("\n")
    lines[2] = "A" * 43 + "="
    (served / "checkpoint").write_text("\n".join(lines) + "\n\n" + signature)
    assert _code(_fetch(served)) == "log.checkpoint.invalid"


def test_audit_rejects_a_checkpoint_signed_by_another_key(served: Path) -> None:
    forger = NoteSigner(ORIGIN, Ed25519SigningKey(bytes([8]) * 32))
    note = (served / "checkpoint").read_text()
    forged = sign_checkpoint(_checkpoint(note), forger)
    (served / "checkpoint").write_text(forged)
    assert _code(_fetch(served)) == "log.checkpoint.unsigned"


def test_audit_rejects_a_missing_or_binary_checkpoint(served: Path) -> None:
    (served / "checkpoint").write_bytes(b"\xff\xfe")
    assert _code(_fetch(served)) == "log.checkpoint.invalid"
    (served / "checkpoint").unlink()
    assert _code(_fetch(served)) == "log.checkpoint.invalid"


def test_audit_rejects_a_log_rolled_back_below_the_previous_checkpoint(
    tmp_path: Path, pristine: Path, certificates: list[bytes | None]
) -> None:
    previous = _checkpoint((pristine / "checkpoint").read_text())
    _fill(tmp_path, [_leaves(0, HALF, certificates)])
    assert _code(_fetch(tmp_path), previous) == "log.consistency.invalid"


@pytest.mark.parametrize("size", [HALF + 10, SIZE])
def test_audit_rejects_a_forked_log(
    tmp_path: Path, pristine: Path, certificates: list[bytes | None], size: int
) -> None:
    """The same key signs a tree whose entry 5 differs: a split view of the log."""
    previous = _checkpoint((pristine / "checkpoints" / str(HALF)).read_text())
    leaves = _leaves(0, size, certificates)
    leaves[5] = LogEntry(bytes(32), leaves[5].signer_sha256, NOW, leaves[5].certificate_der)
    _fill(tmp_path, [leaves])
    assert _code(_fetch(tmp_path), previous) == "log.consistency.invalid"


def test_monitor_lists_exactly_the_identitys_entries_since_the_last_run(pristine: Path) -> None:
    report = monitor(_fetch(pristine), VERIFIERS, ORIGIN, previous=None, since=HALF, identity=DANA)
    assert [entry.index for entry in report.entries] == list(range(HALF, SIZE, 3))
    first = report.entries[0]
    assert first.identities == (DANA,)
    assert first.envelope_sha256 == hashlib.sha256(b"envelope %d" % HALF).digest()
    assert first.integrated_time == NOW
    assert report.audit.checkpoint.size == SIZE


def test_monitor_matches_email_identities_exactly(pristine: Path) -> None:
    report = monitor(_fetch(pristine), VERIFIERS, ORIGIN, previous=None, since=0, identity=EVE)
    assert [entry.index for entry in report.entries] == list(range(1, SIZE, 3))
    upper = monitor(
        _fetch(pristine), VERIFIERS, ORIGIN, previous=None, since=0, identity=EVE.upper()
    )
    assert upper.entries == ()


def test_monitor_lists_nothing_from_a_log_that_fails_its_audit(served: Path) -> None:
    (served / "tile/entries/001").unlink()
    with pytest.raises(LogProofError) as caught:
        monitor(_fetch(served), VERIFIERS, ORIGIN, previous=None, since=0, identity=DANA)
    assert caught.value.code == "log.tile.missing"


def test_audit_ignores_verifiers_for_other_origins(pristine: Path) -> None:
    other = NoteSigner("other.example/log", Ed25519SigningKey(bytes([7]) * 32)).verifier
    with pytest.raises(LogProofError) as caught:
        audit_log(_fetch(pristine), [other], ORIGIN, previous=None)
    assert caught.value.code == "log.checkpoint.unsigned"


def _raw_log(leaves: list[bytes]) -> Fetch:
    """A log of arbitrary leaf bytes (which TransparencyLog would never write), served from memory."""
    update = append_leaves(lambda *_: None, lambda _: None, 0, leaves)
    served = {
        TileId(level, index, len(data) // 32).path: data
        for (level, index), data in update.tiles.items()
    }
    served |= {
        TileId(0, index, len(leaves)).entries_path: data
        for index, data in update.entry_bundles.items()
    }
    root = tree_root(lambda level, index: update.tiles.get((level, index)), len(leaves))
    served["checkpoint"] = sign_checkpoint(Checkpoint(ORIGIN, len(leaves), root), SIGNER).encode()
    return served.get


def test_audit_rejects_an_entry_that_does_not_parse_strictly() -> None:
    good = _leaves(0, 1, [None])[0].to_bytes()
    assert audit_log(_raw_log([good]), VERIFIERS, ORIGIN, previous=None).entries == 1
    assert _code(_raw_log([good, good.replace(b":1}", b": 1}")])) == "log.entry.malformed"


def test_monitor_rejects_a_certificate_that_is_not_der() -> None:
    junk = LogEntry(bytes(32), hashlib.sha256(b"junk").digest(), NOW, b"junk").to_bytes()
    with pytest.raises(LogProofError) as caught:
        monitor(_raw_log([junk]), VERIFIERS, ORIGIN, previous=None, since=0, identity=DANA)
    assert caught.value.code == "log.entry.malformed"
