"""The SQL log store on SQLite (a temporary file)."""

from __future__ import annotations

import hashlib
import multiprocessing
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection, Engine

from provenance.errors import LogError
from provenance.keys import Ed25519SigningKey
from provenance.tlog import merkle
from provenance.tlog.entry import LogEntry, verify_tlog_entry
from provenance.tlog.log import TransparencyLog
from provenance.tlog.note import NoteSigner, open_checkpoint
from provenance.tlog.sql import TLOG_TABLES, SqlLogStore, create_tlog_tables
from provenance.tlog.store import LogState, LogWrite, TileSource

ORIGIN = "example.org/log"
NOW = 1_700_000_000
SIGNER = NoteSigner(ORIGIN, Ed25519SigningKey(bytes([3]) * 32))


def _leaf(worker: int, n: int) -> LogEntry:
    return LogEntry(hashlib.sha256(b"%d-%d" % (worker, n)).digest(), bytes(32), NOW)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{tmp_path / 'log.db'}")
    create_tlog_tables(engine)
    return engine


def _log(engine: Engine) -> TransparencyLog:
    return TransparencyLog(SqlLogStore(engine, ORIGIN), SIGNER, ORIGIN, lambda: NOW)


def test_tables_are_prefixed_tlog(engine: Engine) -> None:
    names = {table.name for table in TLOG_TABLES}
    assert names == {"tlog_state", "tlog_tiles", "tlog_entry_bundles", "tlog_checkpoints"}
    assert names <= set(inspect(engine).get_table_names())


def test_a_new_store_has_no_state(engine: Engine) -> None:
    store = SqlLogStore(engine, ORIGIN)
    assert store.read_state() is None
    assert store.read_tile(0, 0) is None


def test_appends_proofs_and_entries_round_trip(engine: Engine) -> None:
    log = _log(engine)
    leaves = [_leaf(0, n) for n in range(600)]
    assert log.append_batch(leaves[:250]) == list(range(250))
    assert log.append_batch(leaves[250:]) == list(range(250, 600))
    assert log.entry(599) == leaves[599]
    assert verify_tlog_entry(log.tlog_entry_for(257), leaves[257], [SIGNER.verifier]) == NOW
    root = merkle.root_from_hashes([leaf.leaf_hash for leaf in leaves])
    assert log.state().root_hash == root


def test_a_restarted_store_serves_the_same_checkpoint(engine: Engine) -> None:
    log = _log(engine)
    log.append_batch([_leaf(0, n) for n in range(40)])
    checkpoint = log.checkpoint()
    engine.dispose()
    restarted = SqlLogStore(engine, ORIGIN)
    state = restarted.read_state()
    assert state is not None
    assert state.checkpoint == checkpoint
    assert restarted.read_checkpoint(40) == checkpoint
    assert _log(engine).inclusion_proof(3).checkpoint == checkpoint


def test_two_logs_share_the_tables_without_mixing(engine: Engine) -> None:
    other_signer = NoteSigner("other.example/log", Ed25519SigningKey(bytes([4]) * 32))
    other = TransparencyLog(
        SqlLogStore(engine, "other.example/log"), other_signer, "other.example/log", lambda: NOW
    )
    _log(engine).append_batch([_leaf(0, 0), _leaf(0, 1)])
    other.append_batch([_leaf(1, 0)])
    assert _log(engine).state().size == 2
    assert other.state().size == 1


def test_a_failing_sequencer_commits_nothing(engine: Engine) -> None:
    store = SqlLogStore(engine, ORIGIN)

    def failing(*_: object) -> None:
        raise LogError("boom")

    with pytest.raises(LogError, match="boom"):
        store.append(failing)  # type: ignore[arg-type]
    assert store.read_state() is None


def test_missing_tables_are_a_log_error(tmp_path: Path) -> None:
    with pytest.raises(LogError, match="cannot open the log store"):
        SqlLogStore(create_engine(f"sqlite:///{tmp_path / 'empty.db'}"), ORIGIN)


def append_worker(url: str, worker: int, count: int, batch: int) -> list[int]:
    """Append ``count`` leaves in batches from a separate process (BEGIN IMMEDIATE serializes)."""
    log = _log(create_engine(url, connect_args={"timeout": 30}))
    indices: list[int] = []
    for start in range(0, count, batch):
        indices += log.append_batch([_leaf(worker, n) for n in range(start, start + batch)])
    return indices


def test_processes_appending_to_one_sqlite_file_build_one_tree(engine: Engine) -> None:
    url = str(engine.url)
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        results = pool.starmap(append_worker, [(url, worker, 60, 6) for worker in range(2)])
    indices = sorted(index for result in results for index in result)
    assert indices == list(range(120))
    log = _log(engine)
    leaves = {log.entry(index) for index in range(120)}
    assert leaves == {_leaf(worker, n) for worker in range(2) for n in range(60)}
    checkpoint = open_checkpoint(log.checkpoint(), [SIGNER.verifier], origin=ORIGIN)
    expected = merkle.root_from_hashes([log.entry(index).leaf_hash for index in range(120)])
    assert (checkpoint.size, checkpoint.root_hash) == (120, expected)


def test_append_logged_on_sql_with_two_writers_proves_every_leaf(engine: Engine) -> None:
    first, second = _log(engine), _log(engine)
    leaves = [_leaf(0, n) for n in range(900)]
    logged = []
    for start in range(0, 900, 150):
        writer = first if start % 300 else second
        logged += writer.append_logged(leaves[start : start + 150])
    assert [entry.log_index for entry in logged] == list(range(900))
    for entry, leaf in zip(logged, leaves, strict=True):
        assert verify_tlog_entry(entry, leaf, [SIGNER.verifier]) == NOW
    root = merkle.root_from_hashes([leaf.leaf_hash for leaf in leaves])
    assert _log(engine).state().root_hash == root


def _scratch_admit(written: str) -> Any:
    def admit(connection: Connection, size: int) -> list[int]:
        connection.execute(
            text("INSERT INTO scratch (note) VALUES (:n)"), {"n": f"{written}@{size}"}
        )
        return [0]

    return admit


def _notes(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return [row.note for row in connection.execute(text("SELECT note FROM scratch"))]


def test_what_admit_writes_commits_with_the_append_or_not_at_all(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE scratch (note TEXT)"))
    store = SqlLogStore(engine, ORIGIN)

    def failing(source: TileSource, state: LogState | None) -> LogWrite:
        raise LogError("the sequencer failed")

    with pytest.raises(LogError, match="the sequencer failed"):
        store.append(failing, _scratch_admit("failed"))
    assert _notes(engine) == []
    _log(engine).append_admitted([_leaf(0, 0)], _scratch_admit("committed"))
    assert _notes(engine) == ["committed@0"]
