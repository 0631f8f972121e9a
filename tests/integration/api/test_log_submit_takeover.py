"""A submission's claim taken over while its append is still under way does not log the signature
twice: the claim gets its index in the append's own transaction.

A claim without an index older than ``STALE_CLAIM`` may be taken over by a retry, which appends
again. An append that outlived that age (waiting for the log's lock held by another replica, or
a COMMIT held up by storage) used to commit anyway, and the retry's append too: two entries for one
signature, the second with a later log time (reliability F2's residual).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from sqlalchemy import text

from provenance.bundle import Bundle
from provenance.identity import create_csr
from provenance.keys import KeyType, generate_key
from provenance.sign import Signer
from provenance.statement import ContentPredicate
from provenance.text import Canonicalization
from provenance.tlog import SqlLogStore
from tests.integration.api.conftest import Api, open_api
from tests.integration.api.support import (
    BASE_URL,
    REVIEW,
    free_port,
    make_home,
    postgres_database,
)
from tests.integration.api.test_log_submit_timeout import CommitCuttingProxy
from verifier_api import crud, sequencer, submissions

AUTHOR = f"{BASE_URL}/u/author-takeover"
pytestmark = pytest.mark.postgres


def _author_bundle(api: Api) -> Bundle:
    key = generate_key(KeyType.P256)
    body = {"csr": create_csr(key, AUTHOR).decode(), "identity": AUTHOR}
    issued = api.client.post("/v1/certificates", json=body, headers=api.keys.header("admin"))
    assert issued.status_code == 201, issued.text
    chain = [x509.load_pem_x509_certificate(p.encode()) for p in issued.json()["certificateChain"]]
    predicate = ContentPredicate("text/plain", Canonicalization.TEXT_V1, datetime.now(UTC))
    return Signer(key, chain).sign(REVIEW.encode(), "review.txt", predicate)


def _submit(api: Api, bundle: Bundle) -> Any:
    return api.client.post(
        "/v1/log/entries", json={"bundle": bundle.to_json()}, headers=api.keys.header("log")
    )


def _until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + 30  # a wait for another thread, not a timing assertion
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _leaves_for(api: Api, bundle: Bundle, size: int) -> int:
    """How many leaves of the log past ``size`` hold ``bundle``'s envelope."""
    digest = bundle.envelope.sha256()
    state = api.service.log.state()
    return sum(
        api.service.log.entry(index).envelope_sha256 == digest for index in range(size, state.size)
    )


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    home = make_home(tmp_path / "home")
    with postgres_database() as url:
        yield from open_api(home, url, rate_limit_per_minute=100_000)


def test_a_claim_taken_over_while_its_append_waits_for_the_log_is_logged_once(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first append waits for the log's lock (another replica holds it) past the takeover
    age; the retry takes the claim over; once the lock is free both appends run."""
    bundle = _author_bundle(api)
    size = api.service.log.state().size
    monkeypatch.setattr(sequencer, "SUBMIT_TIMEOUT_SECONDS", 1.0)
    monkeypatch.setattr(submissions, "STALE_CLAIM", timedelta(seconds=1.5))
    with api.service.engine.connect() as blocker, ThreadPoolExecutor(1) as pool:
        blocker.execute(text("SELECT size FROM tlog_state FOR UPDATE"))
        first = _submit(api, bundle)  # its append waits for the lock; the request gives up
        assert first.status_code == 503, first.text
        time.sleep(1.0)  # the claim is now older than STALE_CLAIM
        monkeypatch.setattr(sequencer, "SUBMIT_TIMEOUT_SECONDS", 30.0)
        retry = pool.submit(_submit, api, bundle)
        _until(lambda: api.service.sequencer._queue.qsize() == 1, "the retry's entry")
        blocker.rollback()
        answer = retry.result(timeout=60)
    assert answer.status_code == 201, answer.text  # the first append left its entry out
    assert answer.json()["logIndex"] == size
    again = _submit(api, bundle)
    assert (again.status_code, again.json()["logIndex"]) == (200, size)
    assert _leaves_for(api, bundle, size) == 1
    assert api.service.log.state().size == size + 1


class CommitDelayingProxy:
    """Loopback forwarder to PostgreSQL that, once armed, holds the COMMIT of the log's append
    transaction (one that wrote ``tlog_entry_bundles`` and ``tlog_state``) for ``delay`` seconds
    before forwarding it: a commit held up by storage."""

    def __init__(self, delay: float) -> None:
        self.port = free_port()
        self.delay = delay
        self.armed = False
        self.held = threading.Event()
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", self.port))
        self._listener.listen(64)
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        with suppress(OSError):
            self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", 5432), timeout=5)
            upstream.settimeout(None)
            threading.Thread(target=self._up, args=(client, upstream), daemon=True).start()
            threading.Thread(target=_forward, args=(upstream, client), daemon=True).start()

    def _up(self, client: socket.socket, upstream: socket.socket) -> None:
        transaction = b""
        with suppress(OSError):
            while data := client.recv(65536):
                transaction += data
                if (
                    self.armed
                    and b"COMMIT\x00" in data
                    and b"tlog_entry_bundles" in transaction
                    and b"tlog_state" in transaction
                ):
                    self.armed = False
                    self.held.set()
                    time.sleep(self.delay)
                upstream.sendall(data)
                if b"COMMIT\x00" in data or b"ROLLBACK\x00" in data:
                    transaction = b""
        _close(client, upstream)


def _forward(source: socket.socket, sink: socket.socket) -> None:
    with suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    _close(source, sink)


def _close(*sockets: socket.socket) -> None:
    for sock in sockets:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def delayed(tmp_path: Path) -> Iterator[tuple[Api, CommitDelayingProxy]]:
    home = make_home(tmp_path / "home")
    proxy = CommitDelayingProxy(delay=4.0)
    with postgres_database() as url:
        through = url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
        assert through != url
        for api in open_api(home, through, rate_limit_per_minute=100_000):
            yield api, proxy
    proxy.close()


def test_a_claim_taken_over_while_its_append_commits_is_logged_once(
    delayed: tuple[Api, CommitDelayingProxy], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first append's COMMIT is held up past the takeover age; the retry comes meanwhile."""
    api, proxy = delayed
    bundle = _author_bundle(api)
    size = api.service.log.state().size
    monkeypatch.setattr(sequencer, "SUBMIT_TIMEOUT_SECONDS", 1.0)
    monkeypatch.setattr(submissions, "STALE_CLAIM", timedelta(seconds=1.5))
    proxy.armed = True
    first = _submit(api, bundle)  # its COMMIT is held; the request gives up
    assert first.status_code == 503, first.text
    assert proxy.held.is_set()
    time.sleep(1.0)  # the claim is now older than STALE_CLAIM, the COMMIT still held
    monkeypatch.setattr(sequencer, "SUBMIT_TIMEOUT_SECONDS", 30.0)

    retry = _submit(api, bundle)

    # the claim holds its index in the held transaction: the retry's claim waits for its commit
    assert (retry.status_code, retry.json()["logIndex"]) == (200, size), retry.text
    again = _submit(api, bundle)
    assert (again.status_code, again.json()["logIndex"]) == (200, size)
    assert _leaves_for(api, bundle, size) == 1
    assert api.service.log.state().size == size + 1


def test_a_takeover_waits_for_an_append_holding_the_claim_and_finds_its_index(
    delayed: tuple[Api, CommitDelayingProxy],
) -> None:
    """A retry that read the claim before the append settled it: its takeover waits for the
    append's transaction (the claim's row is locked), then finds the index and takes nothing."""
    api, proxy = delayed
    engine = api.service.engine
    signature, signer = "5" * 64, "6" * 64
    claimed = datetime.now(UTC) - timedelta(minutes=3)  # a claim old enough to take over
    assert crud.claim_submission(engine, signature, signer, now=claimed) is None
    stale = crud.claim_submission(engine, signature, signer, now=datetime.now(UTC))
    assert stale is not None
    size = api.service.log.state().size
    proxy.armed = True
    logged = api.service.sequencer.enqueue(
        bytes(32), bytes.fromhex(signer), None, crud.Claim(signature, signer, claimed, "k")
    )
    _until(proxy.held.is_set, "the append's COMMIT")

    taken = crud.take_over_submission(engine, stale, now=datetime.now(UTC))

    assert taken is False  # the claim's row was free without the append's lock: it took it
    assert logged.result(timeout=30).log_index == size
    found = crud.claim_submission(engine, signature, signer, now=datetime.now(UTC))
    assert found is not None
    assert (found.log_index, found.keyid) == (size, "k")


@pytest.fixture
def cut(tmp_path: Path) -> Iterator[tuple[Api, CommitCuttingProxy]]:
    home = make_home(tmp_path / "home")
    proxy = CommitCuttingProxy()
    with postgres_database() as url:
        through = url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
        assert through != url
        for api in open_api(home, through, rate_limit_per_minute=100_000):
            yield api, proxy
    proxy.close()


def test_an_append_whose_commit_answer_is_lost_and_cannot_be_looked_up_is_logged_once(
    cut: tuple[Api, CommitCuttingProxy], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The COMMIT reaches the server, its answer is lost, and the database cannot be asked
    whether it committed: the request fails, but the claim committed with its index, so the
    release finds nothing to drop and the retry gets the one entry."""
    api, proxy = cut
    monkeypatch.setattr(SqlLogStore, "_committed", lambda _store, _state: False)
    bundle = _author_bundle(api)
    size = api.service.log.state().size
    proxy.armed = True
    first = _submit(api, bundle)
    assert proxy.cuts == 1
    assert first.status_code == 503, first.text
    assert first.json()["error"]["code"] == "database.unreachable"
    time.sleep(1.1)  # a retry a second later would get a later log time if appended again

    retry = _submit(api, bundle)

    assert (retry.status_code, retry.json()["logIndex"]) == (200, size), retry.text
    assert _leaves_for(api, bundle, size) == 1
    assert api.service.log.state().size == size + 1
