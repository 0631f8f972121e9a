"""The log sequencer: batches concurrent ``/v1/sign`` appends into one database commit.

Request threads call :meth:`LogSequencer.submit` (it is a ``provenance.sign.LogSubmitter``). One
worker thread per process takes every entry waiting, appends them with one
``TransparencyLog.append_logged`` (one transaction holding the log's row lock, so replicas on one
database are serialized and never fork the tree) and wakes the waiting requests only after the
commit: an acknowledged signature is durable. Each waiter gets its entry with its inclusion proof
up to the checkpoint of that commit, computed once per batch from the tiles the append wrote: a
request reads nothing from the database after its commit. The requests awaiting on an event loop
(:meth:`LogSequencer.log`) are woken by one callback per batch on their loop, not one per request.

An entry of ``POST /v1/log/entries`` is queued with its submission's claim: a batch holding such
entries settles their claims in its own transaction (:func:`~verifier_api.crud.log_claims`), so
an entry whose claim was taken over while it waited, or whose signature was logged under another
certificate of its key meanwhile, is not appended, and a claim has its index exactly when its
entry is committed. A batch of ``/v1/sign`` entries sends nothing more.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from provenance import LogError
from provenance.tlog import LogEntry, TlogEntry, TransparencyLog
from verifier_api import crud
from verifier_api.crud import Claim

logger = logging.getLogger(__name__)
SUBMIT_TIMEOUT_SECONDS = 60.0


Outcome = TlogEntry | LogError
"""What a waiter is given: its committed entry, or why its batch was not committed."""
_Awaited = tuple[asyncio.Future[TlogEntry], Outcome]


class ClaimLostError(LogError):
    """The entry was not appended: its submission's claim was taken over by a retry (or
    released) while it waited, and the claim's new holder logs it; or its signature was logged
    under another signer (another certificate of its key) meanwhile, or by an entry before it in
    its batch."""


@dataclass(frozen=True)
class _Pending:
    """A queued entry and its waiter: a thread's future (``logged``) or a request's future on
    its event loop (``awaited``)."""

    entry: LogEntry
    logged: Future[TlogEntry] | None = None
    awaited: asyncio.Future[TlogEntry] | None = None
    claim: Claim | None = None
    queued_at: float = field(default_factory=time.monotonic)


class LogSequencer:
    """Appends log entries in batches from one worker thread.

    Args:
        log: The transparency log (over the SQL store).
        max_batch: The most entries one commit appends.
        on_commit: Called with the batch size after each commit (for metrics).
    """

    def __init__(
        self,
        log: TransparencyLog,
        max_batch: int,
        on_commit: Callable[[int], None] = lambda _size: None,
    ) -> None:
        self._log = log
        self._max_batch = max_batch
        self._on_commit = on_commit
        self._queue: queue.Queue[_Pending | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def submit(
        self, envelope_sha256: bytes, signer_sha256: bytes, certificate_der: bytes | None
    ) -> TlogEntry:
        """Log one signature and return its entry once the batch holding it is committed.

        Raises:
            LogError: The batch was not committed (nothing of it was), or it timed out.
        """
        logged = self.enqueue(envelope_sha256, signer_sha256, certificate_der)
        try:
            return logged.result(timeout=SUBMIT_TIMEOUT_SECONDS)
        except TimeoutError as exc:
            raise LogError("the log did not commit the entry in time") from exc

    def enqueue(
        self,
        envelope_sha256: bytes,
        signer_sha256: bytes,
        certificate_der: bytes | None,
        claim: Claim | None = None,
    ) -> Future[TlogEntry]:
        """Queue one signature; the future settles once the batch holding it is committed (its
        entry) or failed (``LogError``: nothing of the batch was logged). It is committed even
        if nobody waits for it any more.

        With ``claim`` (a submission's), the entry is appended only if that claim still holds
        when its batch commits and its signature has no entry yet under any signer (nor one
        before it in the batch), and the claim gets its index in that commit; else its future
        fails with :class:`ClaimLostError`."""
        logged: Future[TlogEntry] = Future()
        entry = self._new_entry(envelope_sha256, signer_sha256, certificate_der)
        self._enqueue(_Pending(entry, logged=logged, claim=claim))
        return logged

    async def log(
        self, envelope_sha256: bytes, signer_sha256: bytes, certificate_der: bytes | None
    ) -> TlogEntry:
        """As :meth:`submit`, awaited on the event loop: no thread waits for the commit.

        A request that goes away does not take back an entry already queued.

        Raises:
            LogError: The batch was not committed (nothing of it was), or it timed out.
        """
        loop = asyncio.get_running_loop()
        awaited: asyncio.Future[TlogEntry] = loop.create_future()
        entry = self._new_entry(envelope_sha256, signer_sha256, certificate_der)
        self._enqueue(_Pending(entry, awaited=awaited))
        timer = loop.call_later(SUBMIT_TIMEOUT_SECONDS, _expire, awaited)
        try:
            return await awaited
        finally:
            timer.cancel()

    def _new_entry(
        self, envelope_sha256: bytes, signer_sha256: bytes, certificate_der: bytes | None
    ) -> LogEntry:
        return self._log.new_entry(envelope_sha256, signer_sha256, certificate_der)

    def _enqueue(self, pending: _Pending) -> None:
        self._ensure_worker()
        self._queue.put(pending)

    def close(self) -> None:
        """Stop the worker after the entries already queued."""
        with self._start_lock:
            if self._worker is not None:
                self._queue.put(None)
                self._worker.join(timeout=SUBMIT_TIMEOUT_SECONDS)
                self._worker = None

    def _ensure_worker(self) -> None:
        if self._worker is not None:  # started: no lock on the request path
            return
        with self._start_lock:
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="log-sequencer", daemon=True)
                self._worker.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = self._drain(batch)
            batch = _current(batch)
            if batch:
                self._commit(batch)
            if stop:
                return

    def _drain(self, batch: list[_Pending]) -> bool:
        while len(batch) < self._max_batch:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return False
            if item is None:
                return True
            batch.append(item)
        return False

    def _commit(self, batch: list[_Pending]) -> None:
        try:
            logged = self._append(batch)
        except Exception as exc:  # the worker must outlive any failed batch
            logger.error("log append of %d entries failed: %s", len(batch), exc)
            failure = exc if isinstance(exc, LogError) else LogError(f"log append failed: {exc}")
            _settle(batch, [failure] * len(batch))
            return
        appended = sum(entry is not None for entry in logged)
        if appended:
            self._on_commit(appended)
        if appended < len(batch):
            logger.warning("%d log entries' claims were taken over", len(batch) - appended)
        lost = ClaimLostError(
            "this signature's claim was taken over by another request, or the signature was "
            "logged under another certificate of its key, meanwhile"
        )
        _settle(batch, [lost if entry is None else entry for entry in logged])

    def _append(self, batch: list[_Pending]) -> Sequence[TlogEntry | None]:
        """Append ``batch``; with submissions in it, settle their claims in its transaction."""
        entries = [pending.entry for pending in batch]
        claims = [pending.claim for pending in batch]
        if all(claim is None for claim in claims):
            return self._log.append_logged(entries)
        return self._log.append_admitted(
            entries, lambda connection, size: crud.log_claims(connection, claims, size)
        )


def _current(batch: list[_Pending]) -> list[_Pending]:
    """The entries of ``batch`` queued less than :data:`SUBMIT_TIMEOUT_SECONDS` ago; the others
    fail without being appended. Their requests stopped waiting, and a log submission's claim is
    taken over only after twice that time: an entry appended later than that could be appended
    again by the retry."""
    oldest = time.monotonic() - SUBMIT_TIMEOUT_SECONDS
    late = [pending for pending in batch if pending.queued_at < oldest]
    if not late:
        return batch
    logger.error("%d log entries waited too long in the queue and were not appended", len(late))
    failure = LogError("the log did not append the entry in time; nothing was logged")
    _settle(late, [failure] * len(late))
    return [pending for pending in batch if pending.queued_at >= oldest]


def _settle(batch: Sequence[_Pending], outcomes: Sequence[Outcome]) -> None:
    """Give each waiter its outcome: a thread's future at once, the futures of each event loop in
    one callback on that loop (one wake-up of the loop per batch)."""
    on_loops: defaultdict[asyncio.AbstractEventLoop, list[_Awaited]] = defaultdict(list)
    for pending, outcome in zip(batch, outcomes, strict=True):
        if pending.awaited is not None:
            on_loops[pending.awaited.get_loop()].append((pending.awaited, outcome))
        elif pending.logged is None:
            continue
        elif isinstance(outcome, LogError):
            pending.logged.set_exception(outcome)
        else:
            pending.logged.set_result(outcome)
    for loop, waiters in on_loops.items():
        try:
            loop.call_soon_threadsafe(_settle_on_loop, waiters)
        except RuntimeError:  # the loop was closed: nobody waits there any more
            logger.warning("%d log waiters' event loop is closed", len(waiters))


def _settle_on_loop(waiters: Sequence[_Awaited]) -> None:
    """Resolve the waiters still waiting (on their loop); one that went away is skipped."""
    for logged, outcome in waiters:
        if logged.done():
            continue
        if isinstance(outcome, LogError):
            logged.set_exception(outcome)
        else:
            logged.set_result(outcome)


def _expire(logged: asyncio.Future[TlogEntry]) -> None:
    """Fail a waiter still waiting after :data:`SUBMIT_TIMEOUT_SECONDS`."""
    if not logged.done():
        logged.set_exception(LogError("the log did not commit the entry in time"))
