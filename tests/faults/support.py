"""Helpers of the fault tests: server processes that can be killed, a cuttable database proxy,
concurrent signers, and an offline audit of the log against every acknowledged bundle."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from provenance.encoding import b64decode_strict
from provenance.identity.trust import TrustRoot
from provenance.tlog import merkle, tiles
from provenance.tlog.note import Checkpoint, NoteVerifier, open_checkpoint
from provenance.tlog.sql import SqlLogStore
from tests.integration.api.support import free_port, service_environment, sign_body
from verifier_api import crud
from verifier_api.db import make_engine
from verifier_api.migrations import upgrade_database
from verifier_api.scopes import Scope
from verifier_api.service import utc_now

READY_TIMEOUT_SECONDS = 120.0  # a wait, not a timing assertion: loaded machines start slowly
TRUST_ROOT_PATH = "/.well-known/provenance/trust-root.json"
Signed = tuple[str, dict[str, Any]]
"""The signed text and the ``/v1/sign`` answer (HTTP 200) that acknowledged it."""


def sign_key(database_url: str) -> str:
    """Migrate the database and create a ``sign`` API key in it; return the full key."""
    engine = make_engine(database_url)
    upgrade_database(engine)
    _, key = crud.create_api_key(engine, "faults", Scope.SIGN, now=utc_now())
    engine.dispose()
    return key


class ServerProcess:
    """The service under uvicorn on a loopback port, which a test may kill with SIGKILL.

    Args:
        home: The publisher home (the server's log is written next to it).
        database_url: The database; None for the SQLite default in the home.
        preexec: Run in the child before exec (e.g. to set resource limits).
        log_dir: Where the server's output goes (default: next to the home).
        extra_env: More environment variables (e.g. ``PROVENANCE_RATE_LIMIT_PER_MINUTE``).
    """

    def __init__(
        self,
        home: Path,
        database_url: str | None = None,
        preexec: Callable[[], None] | None = None,
        log_dir: Path | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.home = home
        self._extra_env = extra_env or {}
        self.database_url = database_url
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = (log_dir or home.parent) / f"server-{self.port}.log"
        self._preexec = preexec
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        """The process id of the running server."""
        assert self._process is not None
        return self._process.pid

    def start(self) -> None:
        """Start the server and wait until ``/readyz`` answers 200."""
        command = [
            sys.executable, "-m", "uvicorn", "verifier_api.app:app_from_environment",
            "--factory", "--host", "127.0.0.1", "--port", str(self.port),
            "--log-level", "warning",
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command,
                env=service_environment(self.home, self.database_url) | self._extra_env,
                stdout=log,
                stderr=log,
                preexec_fn=self._preexec,  # noqa: PLW1509 - only resource limits, no threads yet
            )
        self._wait_ready()

    def _wait_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise AssertionError(f"the server exited: {self.log_text()}")
            with suppress(httpx.TransportError):
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise AssertionError(f"the server did not become ready: {self.log_text()}")

    def kill(self) -> None:
        """SIGKILL the server (no shutdown of any kind) and reap it."""
        assert self._process is not None
        self._process.send_signal(signal.SIGKILL)
        self._process.wait(timeout=15)

    def stop(self) -> None:
        """Stop the server gracefully if it still runs."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_text(self) -> str:
        """Everything the server wrote to stdout and stderr so far."""
        return self.log_path.read_text(errors="replace")


@contextmanager
def running_server(
    home: Path,
    database_url: str | None = None,
    preexec: Callable[[], None] | None = None,
    log_dir: Path | None = None,
) -> Iterator[ServerProcess]:
    """A started :class:`ServerProcess`, stopped on exit."""
    server = ServerProcess(home, database_url, preexec, log_dir)
    try:
        server.start()
        yield server
    finally:
        server.stop()


class LoopbackProxy:
    """A TCP forwarder on a free loopback port to ``127.0.0.1:<target>`` that a test can cut.

    :meth:`stop` closes the listener and every forwarded connection (the database "goes away"
    for whoever connects through the proxy, and only for them); :meth:`start` serves again on
    the same port.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        """Listen and forward until :meth:`stop`."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        """Close the listener and cut every open connection."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    with suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    for sock in (source, sink):
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


@dataclass
class SigningRun:
    """Concurrent signers that record every acknowledged bundle and every other answer.

    Attributes:
        base: The server's base URL.
        key: A ``sign`` API key.
        acknowledged: ``(text, answer)`` of every HTTP 200.
        refused: ``(status, body)`` of every other HTTP answer.
        transport_errors: How many requests got no HTTP answer at all.
    """

    base: str
    key: str
    acknowledged: list[Signed] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)
    transport_errors: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self, workers: int, label: str) -> None:
        """Start ``workers`` threads signing distinct texts until :meth:`stop`."""
        for worker in range(workers):
            thread = threading.Thread(target=self._sign_loop, args=(f"{label}-{worker}",))
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop the signers and wait for them."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=90)

    def wait_for(self, count: int, timeout: float) -> None:
        """Wait until ``count`` bundles are acknowledged."""
        deadline = time.monotonic() + timeout
        while len(self.acknowledged) < count:
            assert time.monotonic() < deadline, f"only {len(self.acknowledged)} signed"
            time.sleep(0.02)

    def _sign_loop(self, label: str) -> None:
        headers = {"Authorization": f"Bearer {self.key}"}
        with httpx.Client(timeout=60, headers=headers) as client:
            for n in range(1_000_000):
                if self._stop.is_set():
                    return
                text = f"Review {label}-{n}: sturdy and bright.\n"
                try:
                    response = client.post(f"{self.base}/v1/sign", json=sign_body(content=text))
                except httpx.TransportError:
                    with self._lock:
                        self.transport_errors += 1
                    time.sleep(0.05)
                    continue
                with self._lock:
                    if response.status_code == 200:
                        self.acknowledged.append((text, response.json()))
                    else:
                        self.refused.append((response.status_code, response.text))


@dataclass
class CheckpointWatcher:
    """Polls ``GET /v1/log/checkpoint`` and keeps every distinct note served."""

    base: str
    notes: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        """Poll in a background thread until :meth:`stop`."""
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def wait_for(self, count: int, timeout: float) -> None:
        """Wait until ``count`` distinct notes were served (a slow machine takes longer)."""
        deadline = time.monotonic() + timeout
        while len(self.notes) < count and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop polling."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _poll(self) -> None:
        while not self._stop.wait(0.05):
            with suppress(httpx.TransportError):
                response = httpx.get(f"{self.base}/v1/log/checkpoint", timeout=2)
                if response.status_code == 200 and response.text not in self.notes:
                    self.notes.append(response.text)


def log_verifiers(client: httpx.Client) -> list[NoteVerifier]:
    """The checkpoint verifiers of the trust root the server behind ``client`` serves."""
    trust = TrustRoot.from_json(client.get(TRUST_ROOT_PATH).content)
    return [NoteVerifier.from_key_string(key) for key in trust.log_keys]


def _tlog_entry(answer: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = answer["bundle"]["verificationMaterial"]["tlogEntries"][0]
    return entry


def audit_served_log(
    client: httpx.Client, acknowledged: list[Signed], notes: list[str]
) -> Checkpoint:
    """Check, offline with ``provenance.tlog``, what the server behind ``client`` now serves.

    ``client`` is an ``httpx.Client`` with the server's base URL (or a ``TestClient``). Every
    acknowledged entry is the leaf at its index and is proven under the latest signed
    checkpoint; every earlier checkpoint in ``notes`` is consistent with the latest one.

    Returns:
        The latest checkpoint.
    """
    origin = origin_of(acknowledged)
    verifiers = log_verifiers(client)
    latest = open_checkpoint(client.get("/v1/log/checkpoint").text, verifiers, origin=origin)
    for _, answer in acknowledged:
        entry = _tlog_entry(answer)
        index, leaf = entry["logIndex"], b64decode_strict(entry["leafHash"])
        served = client.get(f"/v1/log/entries/{index}").json()
        assert b64decode_strict(served["leafHash"]) == leaf, f"leaf {index} differs"
        proof = client.get(
            "/v1/log/proofs/inclusion", params={"index": index, "treeSize": latest.size}
        ).json()
        hashes = [b64decode_strict(h) for h in proof["hashes"]]
        merkle.verify_inclusion(index, latest.size, leaf, hashes, latest.root_hash)
    for note in notes:
        _check_consistent(client, open_checkpoint(note, verifiers, origin=origin), latest)
    return latest


def _check_consistent(client: httpx.Client, earlier: Checkpoint, latest: Checkpoint) -> None:
    assert earlier.size <= latest.size, f"checkpoint {earlier.size} > latest {latest.size}"
    if earlier.size == 0:
        return
    proof = client.get(
        "/v1/log/proofs/consistency", params={"first": earlier.size, "second": latest.size}
    ).json()
    hashes = [b64decode_strict(h) for h in proof["hashes"]]
    if earlier.size == latest.size:
        assert earlier.root_hash == latest.root_hash
        return
    merkle.verify_consistency(
        earlier.size, latest.size, earlier.root_hash, latest.root_hash, hashes
    )


def audit_database(database_url: str, origin: str, acknowledged: list[Signed]) -> int:
    """Check the stored log directly: the root recomputed from the tiles is the checkpoint's and
    every acknowledged leaf is stored at its index. Returns the log's size."""
    engine = make_engine(database_url)
    try:
        store = SqlLogStore(engine, origin)
        state = store.read_state()
        assert state is not None, "the log lost its state"
        assert tiles.tree_root(store.read_tile, state.size) == state.root_hash
        for _, answer in acknowledged:
            entry = _tlog_entry(answer)
            index = entry["logIndex"]
            bundle_index, offset = divmod(index, tiles.TILE_WIDTH)
            stored = tiles.decode_entry_bundle(store.read_entry_bundle(bundle_index) or b"")
            assert merkle.leaf_hash(stored[offset]) == b64decode_strict(entry["leafHash"])
    finally:
        engine.dispose()
    return state.size


def origin_of(acknowledged: list[Signed]) -> str:
    """The log origin named by the acknowledged bundles."""
    origin: str = _tlog_entry(acknowledged[0][1])["logId"]["origin"]
    return origin


def server_errors(log_text: str) -> list[str]:
    """Lines of a server log that report a 500 (an unexpected exception)."""
    markers = ("unexpected error", "Traceback", " 500 ")
    return [line for line in log_text.splitlines() if any(m in line for m in markers)]


def environment_allows_mount() -> bool:
    """Whether this process may mount a tmpfs (root with CAP_SYS_ADMIN)."""
    return os.geteuid() == 0
