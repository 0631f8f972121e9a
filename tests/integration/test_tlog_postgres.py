"""The SQL log store on PostgreSQL: several processes appending build one tree.

Needs the server at 127.0.0.1:5432; skipped when it does not answer, except under CI (env ``CI``),
where that is a failure. Each test works in a fresh schema that it drops afterwards.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from provenance.keys import Ed25519SigningKey
from provenance.tlog import merkle
from provenance.tlog.entry import LogEntry, verify_tlog_entry
from provenance.tlog.log import TransparencyLog
from provenance.tlog.note import NoteSigner, open_checkpoint
from provenance.tlog.sql import SqlLogStore, create_tlog_tables
from provenance.tlog.tilecache import TileCache

pytestmark = pytest.mark.postgres

URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ORIGIN = "example.org/log"
NOW = 1_700_000_000
SIGNER = NoteSigner(ORIGIN, Ed25519SigningKey(bytes([3]) * 32))
WORKERS, PER_WORKER, BATCH = 4, 500, 10


def _engine(schema: str) -> Engine:
    return create_engine(URL, connect_args={"options": f"-csearch_path={schema}"})


def _leaf(worker: int, n: int) -> LogEntry:
    return LogEntry(hashlib.sha256(b"%d-%d" % (worker, n)).digest(), bytes(32), NOW)


def _log(engine: Engine) -> TransparencyLog:
    return TransparencyLog(SqlLogStore(engine, ORIGIN), SIGNER, ORIGIN, lambda: NOW)


def _cached_log(engine: Engine) -> TransparencyLog:
    store = SqlLogStore(engine, ORIGIN)
    return TransparencyLog(store, SIGNER, ORIGIN, lambda: NOW, tile_cache=TileCache())


@pytest.fixture
def schema() -> Iterator[str]:
    name = f"tlog_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(URL)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{name}"'))
    except OperationalError as exc:
        reason = f"PostgreSQL at 127.0.0.1:5432 does not answer: {exc.orig}"
        if os.environ.get("CI"):
            pytest.fail(reason + " (CI is set, so this is a failure)")
        pytest.skip(reason)
    create_tlog_tables(_engine(name))
    yield name
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
    admin.dispose()


def append_worker(schema: str, worker: int) -> list[int]:
    """Append PER_WORKER leaves in batches of BATCH from a separate process."""
    engine = _engine(schema)
    log = _log(engine)
    indices: list[int] = []
    for start in range(0, PER_WORKER, BATCH):
        indices += log.append_batch([_leaf(worker, n) for n in range(start, start + BATCH)])
    engine.dispose()
    return indices


def test_processes_appending_to_one_database_build_one_tree(schema: str) -> None:
    with multiprocessing.get_context("spawn").Pool(WORKERS) as pool:
        results = pool.starmap(append_worker, [(schema, worker) for worker in range(WORKERS)])
    total = WORKERS * PER_WORKER
    indices = sorted(index for result in results for index in result)
    assert indices == list(range(total))
    log = _log(_engine(schema))
    entries = [log.entry(index) for index in range(total)]
    assert set(entries) == {_leaf(w, n) for w in range(WORKERS) for n in range(PER_WORKER)}
    assert len(set(entries)) == total
    checkpoint = open_checkpoint(log.checkpoint(), [SIGNER.verifier], origin=ORIGIN)
    root = merkle.root_from_hashes([entry.leaf_hash for entry in entries])
    assert (checkpoint.size, checkpoint.root_hash) == (total, root)
    assert verify_tlog_entry(log.tlog_entry_for(1777), entries[1777], [SIGNER.verifier]) == NOW


def test_every_committed_checkpoint_is_consistent_with_the_last(schema: str) -> None:
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        pool.starmap(append_worker, [(schema, worker) for worker in range(2)])
    engine = _engine(schema)
    log, store = _log(engine), SqlLogStore(engine, ORIGIN)
    latest = open_checkpoint(log.checkpoint(), [SIGNER.verifier], origin=ORIGIN)
    for size in range(BATCH, latest.size, BATCH * 7):
        note = store.read_checkpoint(size)
        assert note is not None
        old = open_checkpoint(note, [SIGNER.verifier], origin=ORIGIN)
        proof = log.consistency_proof(size)
        merkle.verify_consistency(size, latest.size, old.root_hash, latest.root_hash, proof)


def test_a_restarted_store_serves_the_same_checkpoint(schema: str) -> None:
    engine = _engine(schema)
    _log(engine).append_batch([_leaf(0, n) for n in range(300)])
    checkpoint = _log(engine).checkpoint()
    engine.dispose()
    restarted = _engine(schema)
    assert _log(restarted).checkpoint() == checkpoint
    assert _log(restarted).append_batch([_leaf(1, 0)]) == [300]


def test_a_cached_log_serves_an_entry_another_writer_just_appended(schema: str) -> None:
    serving = _cached_log(_engine(schema))
    writer = _log(_engine(schema))
    writer.append_batch([_leaf(0, n) for n in range(300)])
    for index in range(0, 300, 7):  # warm the tile cache
        serving.inclusion_proof(index)
    for size in (301, 512, 513, 700):
        done = writer.state().size
        writer.append_batch([_leaf(2, n) for n in range(done, size - 1)])
        (new,) = writer.append_logged([_leaf(1, size)])
        assert new.log_index == size - 1
        assert serving.checkpoint() == writer.checkpoint()
        proof = serving.inclusion_proof(new.log_index)
        assert proof == new.inclusion_proof == writer.inclusion_proof(new.log_index)
        entry = serving.tlog_entry_for(new.log_index)
        assert verify_tlog_entry(entry, _leaf(1, size), [SIGNER.verifier]) == NOW
        checkpoint = open_checkpoint(proof.checkpoint, [SIGNER.verifier], origin=ORIGIN)
        assert (checkpoint.size, checkpoint.root_hash) == (size, proof.root_hash)
        assert serving.inclusion_proof(3) == writer.inclusion_proof(3)


def test_threads_reading_the_state_while_another_writer_appends_see_committed_states(
    schema: str,
) -> None:
    engine = _engine(schema)
    serving, writer = _cached_log(engine), _log(_engine(schema))
    writer.append_batch([_leaf(0, n) for n in range(10)])

    def read_states(_: int) -> list[tuple[int, str]]:
        seen = []
        for _round in range(60):
            proof = serving.inclusion_proof(0)
            seen.append((proof.tree_size, proof.checkpoint))
        return seen

    with ThreadPoolExecutor(8) as pool:
        readers = pool.map(read_states, range(8))
        for n in range(10, 40):
            writer.append_batch([_leaf(1, n)])
        results = list(readers)
    committed = SqlLogStore(engine, ORIGIN)
    for seen in results:
        sizes = [size for size, _ in seen]
        assert sizes == sorted(sizes)
        for size, note in seen:
            checkpoint = open_checkpoint(note, [SIGNER.verifier], origin=ORIGIN)
            assert checkpoint.size == size
            assert committed.read_checkpoint(size) == note


def test_two_writers_take_turns_reading_the_right_edge_in_one_query(schema: str) -> None:
    engine = _engine(schema)
    reads: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def count(_c: object, _cur: object, statement: str, *_: object) -> None:
        if statement.lstrip().startswith("SELECT") and "tlog_tiles" in statement:
            reads.append(statement)

    first, second = _log(engine), _log(engine)
    leaves = [_leaf(0, n) for n in range(2600)]
    logged, reads_per_append = [], []
    for turn, start in enumerate(range(0, 2600, 130)):
        reads.clear()
        logged += (second if turn % 2 else first).append_logged(leaves[start : start + 130])
        reads_per_append.append(len(reads))
    assert [entry.log_index for entry in logged] == list(range(2600))
    assert all(
        verify_tlog_entry(e, leaf, [SIGNER.verifier]) == NOW
        for e, leaf in zip(logged, leaves, strict=True)
    )
    assert _log(engine).state().root_hash == merkle.root_from_hashes(
        [leaf.leaf_hash for leaf in leaves]
    )
    assert reads_per_append == [0] + [1] * 19  # the first append finds an empty log


def test_an_append_on_a_connection_that_died_idle_is_retried_on_a_fresh_one(schema: str) -> None:
    engine = _engine(schema)
    no_ping = create_engine(
        URL, pool_pre_ping=False, connect_args={"options": f"-csearch_path={schema}"}
    )
    log = TransparencyLog(SqlLogStore(engine, ORIGIN, no_ping), SIGNER, ORIGIN, lambda: NOW)
    log.append_batch([_leaf(0, 0)])
    with no_ping.connect() as pooled:  # the one connection the append used, back in the pool
        pid = pooled.connection.driver_connection.info.backend_pid  # type: ignore[union-attr]
    with engine.connect() as admin:  # the database drops it while it is idle in the pool
        assert admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    assert log.append_batch([_leaf(0, 1)]) == [1]
    assert _log(engine).state().size == 2
    no_ping.dispose()
