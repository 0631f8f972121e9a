"""The log sequencer: waiters get their committed entries (or the batch's failure) whichever way
they wait, on an event loop or in a thread, and a waiter that goes away does not take its entry
back."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import create_engine
from sqlmodel import Session, SQLModel

from provenance import LogError
from provenance.keys import Ed25519SigningKey
from provenance.tlog import SqlLogStore, TlogEntry, TransparencyLog, create_tlog_tables
from provenance.tlog.entry import LogEntry, verify_tlog_entry
from provenance.tlog.note import NoteSigner
from provenance.tlog.store import Admit, LogState, Sequencer
from verifier_api import crud
from verifier_api import sequencer as sequencer_module
from verifier_api.models import LogSubmission
from verifier_api.sequencer import ClaimLostError, LogSequencer

_T = TypeVar("_T")

ORIGIN = "reviews.example/log"
NOW = 1_700_000_000
SIGNER = NoteSigner(ORIGIN, Ed25519SigningKey(bytes([5]) * 32))
SIGNER_SHA256 = bytes(32)


def _digest(n: int) -> bytes:
    return hashlib.sha256(b"envelope %d" % n).digest()


class _FailingStore(SqlLogStore):
    """A store whose appends fail before committing anything."""

    def append(self, sequencer: Sequencer, admit: Admit | None = None) -> LogState:
        raise LogError("the log store did not commit the append: disk full")


class _RecordingStore(SqlLogStore):
    """A store that records the ``admit`` each append is given."""

    admits: list[Admit | None]

    def append(self, sequencer: Sequencer, admit: Admit | None = None) -> LogState:
        self.admits.append(admit)
        return super().append(sequencer, admit)


def _run_loop(main: Coroutine[Any, Any, _T]) -> _T:
    """``asyncio.run`` in a thread of its own: under xdist another test of this worker (the
    browser tests' Playwright) may leave an event loop running in the main thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main).result()


@pytest.fixture
def log(tmp_path: Path) -> Iterator[TransparencyLog]:
    engine = create_engine(f"sqlite:///{tmp_path / 'log.db'}")
    create_tlog_tables(engine)
    yield TransparencyLog(SqlLogStore(engine, ORIGIN), SIGNER, ORIGIN, lambda: NOW)
    engine.dispose()


def _verified(entry: TlogEntry, n: int) -> int:
    leaf = LogEntry(_digest(n), SIGNER_SHA256, NOW)
    return verify_tlog_entry(entry, leaf, [SIGNER.verifier])


def test_requests_awaiting_on_a_loop_get_their_committed_entries(log: TransparencyLog) -> None:
    sequencer = LogSequencer(log, max_batch=8)

    async def sign_many() -> list[TlogEntry]:
        return await asyncio.gather(
            *(sequencer.log(_digest(n), SIGNER_SHA256, None) for n in range(40))
        )

    entries = _run_loop(sign_many())
    sequencer.close()
    assert sorted(entry.log_index for entry in entries) == list(range(40))
    assert [_verified(entry, n) for n, entry in enumerate(entries)] == [NOW] * 40
    assert log.state().size == 40


def test_threads_and_a_loop_wait_on_one_sequencer(log: TransparencyLog) -> None:
    sequencer = LogSequencer(log, max_batch=4)

    async def both() -> tuple[list[TlogEntry], list[TlogEntry]]:
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(4) as pool:
            threaded = [
                loop.run_in_executor(pool, sequencer.submit, _digest(n), SIGNER_SHA256, None)
                for n in range(10)
            ]
            awaited = [sequencer.log(_digest(n), SIGNER_SHA256, None) for n in range(10, 20)]
            return list(await asyncio.gather(*threaded)), list(await asyncio.gather(*awaited))

    threaded, awaited = _run_loop(both())
    sequencer.close()
    assert [_verified(entry, n) for n, entry in enumerate(threaded + awaited)] == [NOW] * 20
    assert sorted(e.log_index for e in threaded + awaited) == list(range(20))


def test_a_failed_append_fails_every_waiter_with_log_error(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'log.db'}")
    create_tlog_tables(engine)
    log = TransparencyLog(_FailingStore(engine, ORIGIN), SIGNER, ORIGIN, lambda: NOW)
    sequencer = LogSequencer(log, max_batch=8)

    async def sign_many() -> list[TlogEntry | BaseException]:
        waits = (sequencer.log(_digest(n), SIGNER_SHA256, None) for n in range(5))
        return await asyncio.gather(*waits, return_exceptions=True)

    outcomes = _run_loop(sign_many())
    with pytest.raises(LogError, match="disk full"):
        sequencer.submit(_digest(9), SIGNER_SHA256, None)
    sequencer.close()
    engine.dispose()
    assert [type(outcome) for outcome in outcomes] == [LogError] * 5
    assert all("disk full" in str(outcome) for outcome in outcomes)


def test_a_request_that_goes_away_leaves_its_entry_queued(log: TransparencyLog) -> None:
    sequencer = LogSequencer(log, max_batch=8)

    async def one_goes_away() -> list[TlogEntry]:
        gone = asyncio.ensure_future(sequencer.log(_digest(0), SIGNER_SHA256, None))
        staying = [sequencer.log(_digest(n), SIGNER_SHA256, None) for n in range(1, 6)]
        await asyncio.sleep(0)
        gone.cancel()
        return list(await asyncio.gather(*staying))

    entries = _run_loop(one_goes_away())
    sequencer.close()
    assert [_verified(entry, n) for n, entry in enumerate(entries, start=1)] == [NOW] * 5
    assert log.state().size == 6


def test_entries_that_waited_longer_than_the_timeout_are_not_appended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'log.db'}")
    create_tlog_tables(engine)
    log = TransparencyLog(SqlLogStore(engine, ORIGIN), SIGNER, ORIGIN, lambda: NOW)
    sequencer = LogSequencer(log, max_batch=8)
    monkeypatch.setattr(sequencer_module, "SUBMIT_TIMEOUT_SECONDS", 0.5)
    with engine.connect() as blocker:
        blocker.exec_driver_sql("BEGIN IMMEDIATE")  # another writer holds the log
        first = sequencer.enqueue(_digest(0), SIGNER_SHA256, None)
        while not sequencer._queue.empty():  # the first batch has started, and waits
            time.sleep(0.01)
        late = [sequencer.enqueue(_digest(n), SIGNER_SHA256, None) for n in (1, 2)]
        time.sleep(1.0)
        blocker.rollback()
    assert first.result(timeout=30).log_index == 0
    for future in late:
        with pytest.raises(LogError, match="nothing was logged"):
            future.result(timeout=30)
    sequencer.close()
    engine.dispose()
    assert log.state().size == 1


def test_signing_batches_run_no_claim_step_in_their_append(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'log.db'}")
    create_tlog_tables(engine)
    store = _RecordingStore(engine, ORIGIN)
    store.admits = []
    sequencer = LogSequencer(TransparencyLog(store, SIGNER, ORIGIN, lambda: NOW), max_batch=8)
    for n in range(3):
        sequencer.submit(_digest(n), SIGNER_SHA256, None)
    sequencer.close()
    engine.dispose()
    assert store.admits == [None] * 3


def test_an_entry_whose_claim_was_taken_over_is_not_appended_and_others_get_their_index(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'log.db'}")
    create_tlog_tables(engine)
    SQLModel.metadata.create_all(engine, tables=[LogSubmission.__table__])  # type: ignore[attr-defined]
    log = TransparencyLog(SqlLogStore(engine, ORIGIN), SIGNER, ORIGIN, lambda: NOW)
    claimed = datetime.now(UTC) - timedelta(minutes=3)
    taken, kept = "a" * 64, "b" * 64
    for signature in (taken, kept):
        assert crud.claim_submission(engine, signature, "c" * 64, now=claimed) is None
    stale = crud.claim_submission(engine, taken, "c" * 64, now=claimed)
    assert stale is not None
    assert crud.take_over_submission(engine, stale, now=datetime.now(UTC))
    sequencer = LogSequencer(log, max_batch=8)
    lost = sequencer.enqueue(
        _digest(0), SIGNER_SHA256, None, crud.Claim(taken, "c" * 64, claimed, "k0")
    )
    logged = sequencer.enqueue(
        _digest(1), SIGNER_SHA256, None, crud.Claim(kept, "c" * 64, claimed, "k1")
    )
    signed = sequencer.submit(_digest(2), SIGNER_SHA256, None)
    with pytest.raises(ClaimLostError, match="taken over"):
        lost.result(timeout=30)
    index = logged.result(timeout=30).log_index
    sequencer.close()
    with Session(engine) as session:
        rows = {
            signature: session.get(LogSubmission, (signature, "c" * 64))
            for signature in (taken, kept)
        }
    engine.dispose()
    assert sorted([index, signed.log_index]) == [0, 1]
    assert log.state().size == 2
    assert (rows[kept].log_index, rows[kept].keyid) == (index, "k1")  # type: ignore[union-attr]
    assert rows[taken].log_index is None  # type: ignore[union-attr]


def test_of_two_entries_of_one_signature_in_a_batch_only_the_current_claims_is_kept(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'log.db'}")
    SQLModel.metadata.create_all(engine, tables=[LogSubmission.__table__])  # type: ignore[attr-defined]
    signature, signer = "d" * 64, "e" * 64
    old = datetime.now(UTC) - timedelta(minutes=3)
    assert crud.claim_submission(engine, signature, signer, now=old) is None
    stale = crud.claim_submission(engine, signature, signer, now=old)
    assert stale is not None
    new = datetime.now(UTC)
    assert crud.take_over_submission(engine, stale, now=new)
    claims = [
        crud.Claim(signature, signer, old, "old"),
        None,
        crud.Claim(signature, signer, new, ""),
    ]
    with engine.begin() as connection:
        kept = crud.log_claims(connection, claims, 7)
    found = crud.claim_submission(engine, signature, signer, now=new)
    engine.dispose()
    assert kept == [1, 2]
    assert found is not None
    assert (found.log_index, found.keyid) == (8, "")
