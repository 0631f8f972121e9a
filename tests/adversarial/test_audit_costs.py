"""Attacker review 2026-12-03, F4: a log that signs a checkpoint of an absurd size.

``prov log audit`` listed every tile id of the claimed tree before fetching anything and kept every
fetched tile, so a signed checkpoint of 2^40 leaves exhausted the auditor's memory instead of giving
a finding. The auditor now refuses sizes over its cap (``log.checkpoint.invalid``) and walks the
tiles lazily, holding one tile per level and the few the root computations need.
"""

from __future__ import annotations

import hashlib
import itertools
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from provenance.errors import LogProofError
from provenance.keys import Ed25519SigningKey
from provenance.tlog import audit as audit_module
from provenance.tlog.audit import Fetch, tile_walk
from provenance.tlog.audit import audit_log as audit
from provenance.tlog.entry import LogEntry
from provenance.tlog.files import FileStore
from provenance.tlog.limits import TLOG_LIMITS
from provenance.tlog.log import TransparencyLog
from provenance.tlog.note import Checkpoint, NoteSigner, open_checkpoint, sign_checkpoint

ORIGIN = "evil.example/log"
SIGNER = NoteSigner(ORIGIN, Ed25519SigningKey(bytes([9]) * 32))
ROOT = Path(__file__).resolve().parents[2]
MEMORY_CAP = 1536 << 20
"""The address space the child auditor gets: far below what 2^40 tile ids take."""


def _served_checkpoint(directory: Path, size: int) -> Path:
    note = sign_checkpoint(Checkpoint(ORIGIN, size, bytes(32)), SIGNER)
    (directory / "checkpoint").write_text(note)
    return directory


def _recording(directory: Path, fetched: list[str]) -> Fetch:
    def fetch(path: str) -> bytes | None:
        fetched.append(path)
        target = directory / path
        return target.read_bytes() if target.is_file() else None

    return fetch


def test_a_checkpoint_over_the_size_cap_is_refused_before_any_tile_is_fetched(
    tmp_path: Path,
) -> None:
    fetched: list[str] = []
    fetch = _recording(_served_checkpoint(tmp_path, 1001), fetched)
    with pytest.raises(LogProofError) as caught:
        audit(fetch, [SIGNER.verifier], ORIGIN, previous=None, max_size=1000)
    assert caught.value.code == "log.checkpoint.invalid"
    assert "1001" in caught.value.message and "1000" in caught.value.message
    assert fetched == ["checkpoint"]


def test_the_default_cap_is_2_32_leaves(tmp_path: Path) -> None:
    assert TLOG_LIMITS.max_audit_size == 2**32
    fetched: list[str] = []
    fetch = _recording(_served_checkpoint(tmp_path, 2**32 + 1), fetched)
    with pytest.raises(LogProofError) as caught:
        audit(fetch, [SIGNER.verifier], ORIGIN, previous=None)
    assert caught.value.code == "log.checkpoint.invalid"
    assert fetched == ["checkpoint"]


def test_the_tile_walk_is_lazy_for_the_largest_tree() -> None:
    walk = tile_walk(2**53 - 1)
    assert isinstance(walk, Iterator)
    first = [tile.path for tile in itertools.islice(walk, 3)]
    assert first == ["tile/6/000.p/31", "tile/5/000", "tile/4/000"]


def test_the_tile_walk_lists_every_tile_once_parents_before_children() -> None:
    for size in (1, 255, 256, 257, 600, 65536, 65541, 70000):
        walked = [(tile.level, tile.index, tile.width) for tile in tile_walk(size)]
        listed = [
            (tile.level, tile.index, tile.width) for tile in audit_module.tiles_for_size(size)
        ]
        assert sorted(walked) == sorted(listed)
        leaves = [index for level, index, _ in walked if level == 0]
        assert leaves == sorted(leaves)


def _two_tile_log(root: Path) -> None:
    log = TransparencyLog(FileStore(root), SIGNER, ORIGIN, lambda: 1_700_000_000)
    entries = [
        LogEntry(hashlib.sha256(b"%d" % n).digest(), bytes(32), 1_700_000_000, None)
        for n in range(300)
    ]
    log.append_batch(entries)


def test_the_audit_fetches_each_path_once(tmp_path: Path) -> None:
    _two_tile_log(tmp_path)
    fetched: list[str] = []
    report = audit(_recording(tmp_path, fetched), [SIGNER.verifier], ORIGIN, previous=None)
    assert (report.tiles, report.entries) == (3, 300)
    expected = ["checkpoint", "tile/0/000", "tile/0/001.p/44", "tile/1/000.p/1"]
    expected += ["tile/entries/000", "tile/entries/001.p/44"]
    assert sorted(fetched) == sorted(expected)


def _cli_in_a_small_address_space(
    directory: Path, *options: str
) -> subprocess.CompletedProcess[str]:
    script = textwrap.dedent(f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_CAP}, {MEMORY_CAP}))
        from typer.testing import CliRunner
        from cli.main import app
        result = CliRunner().invoke(app, ["log", "audit", {str(directory)!r}, "--log-key",
            {SIGNER.verifier.key_string!r}, "--state", {str(directory / "state")!r}, *{options!r}])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            print("EXCEPTION", type(result.exception).__name__)
        print(result.output)
        sys.exit(result.exit_code)
    """)
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_prov_log_audit_of_a_2_40_checkpoint_is_a_finding_not_an_out_of_memory(
    tmp_path: Path,
) -> None:
    directory = _served_checkpoint(tmp_path, 2**40)
    refused = _cli_in_a_small_address_space(directory)
    assert (refused.returncode, "EXCEPTION" in refused.stdout) == (1, False), refused.stdout
    assert "log.checkpoint.invalid" in refused.stdout
    walked = _cli_in_a_small_address_space(directory, "--max-size", str(2**40))
    assert (walked.returncode, "EXCEPTION" in walked.stdout) == (1, False), walked.stdout
    assert "log.tile.missing" in walked.stdout


THREE_LEVELS = 65536 + 300


@pytest.fixture(scope="module")
def three_levels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A log of 65,836 entries (tiles on levels 0, 1 and 2), appended 300 first."""
    root = tmp_path_factory.mktemp("three-levels")
    log = TransparencyLog(FileStore(root), SIGNER, ORIGIN, lambda: 1_700_000_000)
    entries = [
        LogEntry(hashlib.sha256(b"%d" % n).digest(), bytes(32), 1_700_000_000, None)
        for n in range(THREE_LEVELS)
    ]
    log.append_batch(entries[:300])
    for start in range(300, THREE_LEVELS, 4096):
        log.append_batch(entries[start : start + 4096])
    return root


def test_an_audit_over_three_levels_links_the_previous_root_through_full_tiles(
    three_levels: Path,
) -> None:
    """The previous root (300 leaves) reads tile/0/001, full in the new tree: it is linked up
    through tile/1/000 to the right edge tile/2/000.p/1, and nothing is fetched twice."""
    previous = open_checkpoint(
        (three_levels / "checkpoints" / "300").read_text(), [SIGNER.verifier], origin=ORIGIN
    )
    fetched: list[str] = []
    report = audit(_recording(three_levels, fetched), [SIGNER.verifier], ORIGIN, previous=previous)
    assert (report.previous_size, report.entries, report.tiles) == (300, THREE_LEVELS, 261)
    assert len(fetched) == len(set(fetched)) == 1 + 261 + 258


@pytest.mark.parametrize("path", ["tile/1/000", "tile/0/100", "tile/0/001"])
def test_an_audit_over_three_levels_finds_a_flipped_hash_in_a_full_tile(
    three_levels: Path, tmp_path: Path, path: str
) -> None:
    served = Path(shutil.copytree(three_levels, tmp_path / "served"))
    data = bytearray((served / path).read_bytes())
    data[100] ^= 0x01
    (served / path).write_bytes(bytes(data))
    previous = open_checkpoint(
        (served / "checkpoints" / "300").read_text(), [SIGNER.verifier], origin=ORIGIN
    )
    with pytest.raises(LogProofError) as caught:
        audit(_recording(served, []), [SIGNER.verifier], ORIGIN, previous=previous)
    assert caught.value.code == "log.tile.invalid"
