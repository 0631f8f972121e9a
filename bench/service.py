"""Service figures: ``POST /v1/verify`` against ``GET /healthz`` on one server and one load
generator, latency against concurrency, and sign at submission on PostgreSQL (every returned
bundle verified afterwards with the library against the served trust root)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
from cryptography import x509

from bench.loadgen import LOOPBACK, client_load, load
from bench.stats import scaled, summarize
from provenance.bundle import Bundle
from provenance.identity.trust import TrustRoot
from provenance.verify.policy import Identity
from provenance.verify.verifier import Verifier

PROV = str(Path(sys.executable).with_name("prov"))
PASSPHRASE = "bench-only-passphrase-not-for-production"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432"
REVIEW = "The desk lamp is sturdy and bright; the arm holds any angle.\nFive stars.\n"
TRUST_ROOT_PATH = "/.well-known/provenance/trust-root.json"


@dataclass(frozen=True)
class Server:
    """A running ``prov serve`` and a key to call it with."""

    url: str
    api_key: str
    workers: int
    pid: int


def _environment(database_url: str | None) -> dict[str, str]:
    env = {
        **os.environ,
        "PROVENANCE_PASSPHRASE": PASSPHRASE,
        # The per-key rate limit (600/min by default) would turn a load test into a 429 test.
        "PROVENANCE_RATE_LIMIT_PER_MINUTE": "100000000",
    }
    if database_url is not None:
        env["PROVENANCE_DATABASE_URL"] = database_url
    return env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def serving(workers: int, database_url: str | None = None) -> Iterator[Server]:
    """A fresh publisher home served by ``prov serve`` on a free loopback port."""
    env = _environment(database_url)
    with tempfile.TemporaryDirectory(prefix="prov-bench-home-") as directory:
        home = Path(directory) / "home"
        subprocess.run(
            [PROV, "init", "--home", str(home), "--name", "Bench Reviews"],
            env=env,
            check=True,
            capture_output=True,
        )
        api_key = subprocess.run(
            [PROV, "serve", "create-key", "--home", str(home), "--scope", "sign"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        port = _free_port()
        command = [PROV, "serve", "--home", str(home), "--port", str(port)]
        process = subprocess.Popen(
            [*command, "--workers", str(workers)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"{LOOPBACK}:{port}"
            _wait_ready(url, process)
            yield Server(url, api_key, workers, process.pid)
        finally:
            process.terminate()
            process.wait(timeout=30)


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"prov serve exited with {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError("prov serve did not become ready in 60 s")


def _sign_body(account: str = "8841") -> dict[str, Any]:
    return {
        "content": REVIEW,
        "contentType": "text/plain",
        "author": {"accountId": account, "displayName": "Dana"},
        "claims": {"verifiedPurchase": True},
    }


def _verify_body(server: Server) -> bytes:
    signed = httpx.post(
        f"{server.url}/v1/sign",
        json=_sign_body(),
        headers={"Authorization": f"Bearer {server.api_key}"},
        timeout=30,
    )
    signed.raise_for_status()
    body = json.dumps({"content": REVIEW, "bundle": signed.json()["bundle"]}).encode()
    check = httpx.post(
        f"{server.url}/v1/verify",
        content=body,
        headers={"Authorization": f"Bearer {server.api_key}", "Content-Type": "application/json"},
        timeout=30,
    )
    check.raise_for_status()
    if check.json()["verified"] is not True:
        raise RuntimeError(f"the service did not verify its own bundle: {check.text}")
    return body


def verify_vs_health(workers: int, rounds: int, seconds: int) -> dict[str, Any]:
    """/v1/verify and /healthz at 32 clients, interleaved rounds, and a concurrency sweep."""
    with serving(workers) as server:
        body = _verify_body(server)
        verify_url, health_url = f"{server.url}/v1/verify", f"{server.url}/healthz"
        load(health_url, "GET", b"", server.api_key, 32, 1)
        runs: dict[str, list[Any]] = {"verify": [], "healthz": []}
        for _ in range(rounds):
            runs["verify"].append(load(verify_url, "POST", body, server.api_key, 32, seconds))
            runs["healthz"].append(load(health_url, "GET", b"", server.api_key, 32, seconds))
        sweep = []
        for clients in scaled_levels():
            for name, url, method, payload in (
                ("verify", verify_url, "POST", body),
                ("healthz", health_url, "GET", b""),
            ):
                result = load(url, method, payload, server.api_key, clients, max(1, seconds // 2))
                sweep.append({"endpoint": name, **result.to_json()})
    ratios = [
        v.throughput / h.throughput for v, h in zip(runs["verify"], runs["healthz"], strict=True)
    ]
    return {
        "workers": workers,
        "generator": runs["verify"][0].generator,
        "secondsPerRun": seconds,
        "verify": _runs_summary(runs["verify"]),
        "healthz": _runs_summary(runs["healthz"]),
        "ratio": summarize(ratios).to_json(),
        "sweep": sweep,
    }


def scaled_levels() -> list[int]:
    """Client counts of the latency-against-concurrency sweep."""
    return [1, 4, 16, 32, 64] if scaled(1, 0) else [1, 32]


def _runs_summary(results: list[Any]) -> dict[str, Any]:
    return {
        "throughput": summarize([r.throughput for r in results]).to_json(),
        "p50Ms": summarize([r.p50_ms for r in results]).to_json(),
        "p99Ms": summarize([r.p99_ms for r in results]).to_json(),
        "errors": sum(r.errors for r in results),
        "requests": sum(r.requests for r in results),
    }


def profile_verify(profiler: Callable[[int, int, Callable[[], object]], str], seconds: int) -> str:
    """Sample one server process under /v1/verify load at 32 clients (py-spy)."""
    with serving(1) as server:
        body = _verify_body(server)
        url = f"{server.url}/v1/verify"
        return profiler(
            server.pid, seconds, lambda: load(url, "POST", body, server.api_key, 32, seconds)
        )


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    """A new PostgreSQL database on the local server, dropped afterwards."""
    name = f"prov_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES}/{name}"
    finally:
        with psycopg.connect(
            "postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True
        ) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def sign_on_postgres(workers: int, requests: int, seconds: float) -> dict[str, Any]:
    """POST /v1/sign at 32 clients on PostgreSQL; then verify every returned bundle offline."""
    with fresh_database() as database_url, serving(workers, database_url) as server:
        body = json.dumps(_sign_body()).encode()
        client_load(f"{server.url}/v1/sign", "POST", body, server.api_key, 4, 5, 20)
        result = client_load(
            f"{server.url}/v1/sign", "POST", body, server.api_key, 32, seconds, requests, True
        )
        trust_json = httpx.get(f"{server.url}{TRUST_ROOT_PATH}", timeout=30).content
    verified, indices = _verify_all(trust_json, result.bodies)
    return {
        **result.to_json(),
        "workers": workers,
        "database": "PostgreSQL (fresh database, dropped afterwards)",
        "bundlesReturned": len(result.bodies),
        "bundlesVerified": verified,
        "distinctLogIndices": len(set(indices)),
    }


def _verify_all(trust_json: bytes, bodies: list[Any]) -> tuple[int, list[int]]:
    """Verify each returned bundle with the library, requiring the signing service's identity."""
    verifier = Verifier(TrustRoot.from_json(trust_json))
    moment = datetime.now(UTC)
    verified, indices = 0, []
    for body in bodies:
        bundle = Bundle.from_json(body["bundle"])
        policy = Identity(_san_uri(bundle.certificates[0]))
        verified += verifier.check(REVIEW.encode(), bundle, policy, at=moment).verified
        indices.append(body["logIndex"])
    return verified, indices


def _san_uri(certificate: x509.Certificate) -> str:
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return str(names.get_values_for_type(x509.UniformResourceIdentifier)[0])
