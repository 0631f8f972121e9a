"""The :class:`LogStore` contract, run over every store: memory, files, SQL on SQLite and on
PostgreSQL (a fresh schema per test, dropped afterwards; skipped without a server unless CI).

The service types ``Service.store`` as this port (issue 16.8), so whatever passes here can serve
the log's routes.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from provenance.errors import LogError
from provenance.keys import Ed25519SigningKey
from provenance.tlog import merkle, tiles
from provenance.tlog.entry import LogEntry, verify_tlog_entry
from provenance.tlog.files import FileStore
from provenance.tlog.log import TransparencyLog
from provenance.tlog.note import NoteSigner
from provenance.tlog.sql import SqlLogStore, create_tlog_tables
from provenance.tlog.store import LogState, LogStore, LogWrite, MemoryStore, TileSource

ORIGIN = "example.org/log"
NOW = 1_700_000_000
SIGNER = NoteSigner(ORIGIN, Ed25519SigningKey(bytes([3]) * 32))
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
STORES = ["memory", "files", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _sqlite(tmp_path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{tmp_path / 'log.db'}")
    create_tlog_tables(engine)
    return engine


@pytest.fixture
def postgres() -> Iterator[Engine]:
    """An engine on a fresh PostgreSQL schema of its own, dropped afterwards."""
    name = f"tlog_contract_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        reason = f"PostgreSQL at 127.0.0.1:5432 does not answer: {exc.orig}"
        if os.environ.get("CI"):
            pytest.fail(reason + " (CI is set, so this is a failure)")
        pytest.skip(reason)
    engine = create_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={name}"})
    create_tlog_tables(engine)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> LogStore:
    """A new, empty store of each kind."""
    kind: str = request.param
    if kind == "memory":
        return MemoryStore()
    if kind == "files":
        return FileStore(tmp_path / "log")
    if kind == "sqlite":
        return SqlLogStore(_sqlite(tmp_path), ORIGIN)
    engine: Engine = request.getfixturevalue("postgres")
    return SqlLogStore(engine, ORIGIN)


def _leaf(n: int) -> LogEntry:
    return LogEntry(hashlib.sha256(b"%d" % n).digest(), bytes(32), NOW)


def _log(store: LogStore) -> TransparencyLog:
    return TransparencyLog(store, SIGNER, ORIGIN, lambda: NOW)


def test_a_new_store_holds_nothing(store: LogStore) -> None:
    assert store.read_state() is None
    assert store.read_tile(0, 0) is None
    assert store.read_entry_bundle(0) is None
    assert store.read_tiles([(0, 0), (1, 0)]) == {}
    assert store.read_checkpoint(0) is None


def test_appends_are_read_back_as_committed(store: LogStore) -> None:
    log = _log(store)
    leaves = [_leaf(n) for n in range(300)]
    assert log.append_batch(leaves[:10]) == list(range(10))
    first = log.checkpoint()
    assert log.append_batch(leaves[10:]) == list(range(10, 300))
    state = store.read_state()
    assert state is not None
    assert (state.size, state.root_hash) == (
        300,
        merkle.root_from_hashes([e.leaf_hash for e in leaves]),
    )
    assert store.read_checkpoint(300) == state.checkpoint
    assert store.read_checkpoint(10) == first
    assert store.read_checkpoint(11) is None
    assert verify_tlog_entry(log.tlog_entry_for(257), leaves[257], [SIGNER.verifier]) == NOW


def test_tiles_are_read_full_or_widest_partial_one_by_one_or_at_once(store: LogStore) -> None:
    log = _log(store)
    log.append_batch([_leaf(n) for n in range(tiles.TILE_WIDTH + 3)])
    full = store.read_tile(0, 0)
    partial = store.read_tile(0, 1)
    assert full is not None and len(full) == tiles.TILE_WIDTH * 32
    assert partial is not None and len(partial) == 3 * 32
    assert store.read_tiles([(0, 0), (0, 1), (0, 2)]) == {(0, 0): full, (0, 1): partial}
    log.append_batch([_leaf(1000)])
    assert store.read_tile(0, 1) == partial + _leaf(1000).leaf_hash
    assert store.read_entry_bundle(1) is not None
    assert store.read_entry_bundle(2) is None


def test_a_failing_sequencer_commits_nothing(store: LogStore) -> None:
    _log(store).append_batch([_leaf(0)])
    before = store.read_state()

    def failing(source: TileSource, state: LogState | None) -> LogWrite:
        raise LogError("boom")

    with pytest.raises(LogError, match="boom"):
        store.append(failing)
    assert store.read_state() == before
    assert store.read_checkpoint(2) is None


def test_the_sequencer_sees_the_committed_state(store: LogStore) -> None:
    log = _log(store)
    log.append_batch([_leaf(0), _leaf(1)])
    seen: list[LogState | None] = []

    def observing(source: TileSource, state: LogState | None) -> LogWrite:
        seen.append(state)
        raise LogError("stop")

    with pytest.raises(LogError):
        store.append(observing)
    assert seen == [store.read_state()]


def test_an_append_appends_only_what_admit_admits_at_the_indices_it_follows(
    store: LogStore,
) -> None:
    log = _log(store)
    log.append_batch([_leaf(n) for n in range(5)])
    seen: list[int] = []

    def odd_ones(_transaction: object, size: int) -> list[int]:
        seen.append(size)
        return [1, 3]

    logged = log.append_admitted([_leaf(n) for n in range(10, 15)], odd_ones)
    assert seen == [5]
    assert [entry and entry.log_index for entry in logged] == [None, 5, None, 6, None]
    for n, entry in zip((11, 13), (logged[1], logged[3]), strict=True):
        assert entry is not None
        assert verify_tlog_entry(entry, _leaf(n), [SIGNER.verifier]) == NOW
    assert [log.entry(index) for index in (5, 6)] == [_leaf(11), _leaf(13)]
    assert log.state().size == 7


def test_an_append_whose_admit_admits_nothing_writes_nothing(store: LogStore) -> None:
    log = _log(store)
    log.append_batch([_leaf(0)])
    before = store.read_state()
    assert log.append_admitted([_leaf(1), _leaf(2)], lambda _t, _size: []) == [None, None]
    assert store.read_state() == before
    assert log.append_batch([_leaf(3)]) == [1]


def test_an_admit_that_names_no_ascending_positions_fails_the_append(store: LogStore) -> None:
    log = _log(store)
    with pytest.raises(LogError, match="expected ascending positions below 2, found"):
        log.append_admitted([_leaf(1), _leaf(2)], lambda _t, _size: [1, 0])
    assert store.read_state() is None
