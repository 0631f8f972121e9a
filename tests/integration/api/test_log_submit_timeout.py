"""A submission whose commit outlasts the wait, or whose commit answer is lost, is logged once:
the retry gets its entry.

The sequencer's wait ends after ``SUBMIT_TIMEOUT_SECONDS`` but the queued entry is still committed;
the submission used to drop its claim and answer 503 as if nothing was logged, so the retry
appended the same signature again with a later log time (found by the fresh attack, 2026-12-03).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from datetime import UTC, datetime
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
from tests.integration.api.conftest import Api, open_api
from tests.integration.api.support import (
    BASE_URL,
    REVIEW,
    free_port,
    make_home,
    postgres_database,
)
from verifier_api import sequencer

AUTHOR = f"{BASE_URL}/u/author-timeout"


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    home = make_home(tmp_path / "home")
    with postgres_database() as url:
        yield from open_api(home, url, rate_limit_per_minute=100_000)


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


def _wait_for_size(api: Api, size: int) -> None:
    deadline = time.monotonic() + 30  # a wait for the queued append, not a timing assertion
    while api.service.log.state().size < size and time.monotonic() < deadline:
        time.sleep(0.05)


def _timed_out_submission(api: Api, bundle: Bundle, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Submit while another connection holds the log's state row (another replica's long
    append) for longer than the shortened wait."""
    monkeypatch.setattr(sequencer, "SUBMIT_TIMEOUT_SECONDS", 1.0)
    with api.service.engine.connect() as blocker:
        blocker.execute(text("SELECT size FROM tlog_state FOR UPDATE"))
        answer = _submit(api, bundle)
        time.sleep(0.5)
        blocker.rollback()
    return answer


def test_timed_out_submission_answers_503_without_dropping_its_claim(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = _author_bundle(api)
    size = api.service.log.state().size
    first = _timed_out_submission(api, bundle, monkeypatch)
    assert first.status_code == 503, first.text
    assert first.json()["error"]["code"] == "log.unavailable"
    _wait_for_size(api, size + 1)
    time.sleep(1.1)  # a retry a second later would get a later log time if appended again

    retry = _submit(api, bundle)

    assert retry.status_code == 200, retry.text
    assert retry.json()["logIndex"] == size
    assert api.service.log.state().size == size + 1


class CommitCuttingProxy:
    """Loopback forwarder to PostgreSQL that, once armed, forwards the COMMIT of the log's append
    transaction (one that wrote ``tlog_entry_bundles`` and ``tlog_state``) to the server and then
    cuts the client off before the server's reply."""

    def __init__(self) -> None:
        self.port = free_port()
        self.armed = False
        self.cuts = 0
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
            cut = threading.Event()
            threading.Thread(target=self._up, args=(client, upstream, cut), daemon=True).start()
            threading.Thread(target=self._down, args=(upstream, client, cut), daemon=True).start()

    def _up(self, client: socket.socket, upstream: socket.socket, cut: threading.Event) -> None:
        transaction = b""
        with suppress(OSError):
            while data := client.recv(65536):
                transaction += data
                ends = b"COMMIT\x00" in data or b"ROLLBACK\x00" in data
                if (
                    self.armed
                    and b"COMMIT\x00" in data
                    and b"tlog_entry_bundles" in transaction
                    and b"tlog_state" in transaction
                ):
                    self.armed = False
                    self.cuts += 1
                    cut.set()  # no byte of the reply reaches the client
                    upstream.sendall(data)  # the server gets the COMMIT ...
                    with suppress(OSError):
                        client.shutdown(socket.SHUT_RDWR)  # ... the client loses the connection
                    client.close()
                    time.sleep(0.5)  # the server commits before it sees the socket close
                    upstream.close()
                    return
                upstream.sendall(data)
                if ends:
                    transaction = b""
        for sock in (client, upstream):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    @staticmethod
    def _down(upstream: socket.socket, client: socket.socket, cut: threading.Event) -> None:
        with suppress(OSError):
            while data := upstream.recv(65536):
                if cut.is_set():
                    return
                client.sendall(data)
        for sock in (client, upstream):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[tuple[Api, CommitCuttingProxy]]:
    home = make_home(tmp_path / "home")
    proxy = CommitCuttingProxy()
    with postgres_database() as url:
        through = url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
        assert through != url
        for api in open_api(home, through, rate_limit_per_minute=100_000):
            yield api, proxy
    proxy.close()


def test_append_whose_commit_answer_is_lost_is_found_committed(
    proxied: tuple[Api, CommitCuttingProxy],
) -> None:
    api, proxy = proxied
    bundle = _author_bundle(api)
    size = api.service.log.state().size
    proxy.armed = True
    first = _submit(api, bundle)
    assert proxy.cuts == 1
    assert first.status_code == 201, first.text
    assert first.json()["logIndex"] == size
    time.sleep(1.1)  # a retry a second later would get a later log time if appended again

    retry = _submit(api, bundle)

    assert retry.status_code == 200, retry.text
    assert retry.json()["logIndex"] == size
    assert api.service.log.state().size == size + 1
