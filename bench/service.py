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

from bench.loadgen import LOOPBACK, client_load, have_wrk, load, wrk
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


def _environment(database_url: str | None, source: Path | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        "PROVENANCE_PASSPHRASE": PASSPHRASE,
        # The per-key rate limit (600/min by default) would turn a load test into a 429 test.
        "PROVENANCE_RATE_LIMIT_PER_MINUTE": "100000000",
    }
    if database_url is not None:
        env["PROVENANCE_DATABASE_URL"] = database_url
    if source is not None:  # another checkout of the project (e.g. main, for before/after)
        env["PYTHONPATH"] = os.pathsep.join([str(source), env.get("PYTHONPATH", "")])
    return env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def serving(
    workers: int, database_url: str | None = None, source: Path | None = None
) -> Iterator[Server]:
    """A fresh publisher home served by ``prov serve`` on a free loopback port (with the code of
    the checkout ``source`` first on the path when given)."""
    env = _environment(database_url, source)
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
            _wait_listening(port, workers)
            yield Server(url, api_key, workers, process.pid)
        finally:
            process.terminate()
            process.wait(timeout=30)


def _wait_listening(port: int, workers: int) -> None:
    """Wait until each worker listens on its own socket (``SO_REUSEPORT``, Linux): a pool opened
    while only one listens stays on that one for the whole run."""
    deadline = time.monotonic() + 60
    while workers > 1 and time.monotonic() < deadline:
        rows = [row.split() for row in Path("/proc/net/tcp").read_text().splitlines()[1:]]
        if sum(int(r[1].split(":")[1], 16) == port and r[3] == "0A" for r in rows) >= workers:
            return
        time.sleep(0.2)


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


@dataclass(frozen=True)
class Variant:
    """A server to compare: its worker count and the checkout it runs (None: this one)."""

    workers: int
    source: Path | None = None


def workers_side_by_side(rounds: int, seconds: int) -> dict[str, Any]:
    """/v1/verify at 32 clients on a one-worker and a two-worker server (SQLite), both up at once,
    in alternating rounds; the ratio is the median of the per-round throughput ratios."""
    with serving(1) as one, serving(2) as two:
        bodies = {1: _verify_body(one), 2: _verify_body(two)}
        runs: dict[int, list[Any]] = {1: [], 2: []}
        single = {  # one connection: a per-request penalty of a worker count shows here
            server.workers: load(f"{server.url}/healthz", "GET", b"", server.api_key, 1, 3)
            for server in (one, two)
        }
        for server in (one, two):
            load(f"{server.url}/v1/verify", "POST", bodies[server.workers], server.api_key, 32, 1)
        for _ in range(rounds):
            for server in (one, two):
                url = f"{server.url}/v1/verify"
                result = load(url, "POST", bodies[server.workers], server.api_key, 32, seconds)
                runs[server.workers].append(result)
    ratios = [b.throughput / a.throughput for a, b in zip(runs[1], runs[2], strict=True)]
    return {
        "generator": runs[1][0].generator,
        "secondsPerRun": seconds,
        "oneWorker": _runs_summary(runs[1]),
        "twoWorkers": _runs_summary(runs[2]),
        "ratio": summarize(ratios).to_json(),
        "healthzOneConnection": {
            "oneWorker": single[1].to_json(),
            "twoWorkers": single[2].to_json(),
        },
    }


def sign_on_postgres(
    variants: dict[str, Variant], rounds: int, seconds: int, clients: int = 32
) -> dict[str, Any]:
    """POST /v1/sign at ``clients`` on PostgreSQL, every variant on its own fresh database and
    server, all up at once and loaded in alternating rounds (wrk when installed); then every
    returned bundle verified offline against its server's trust root."""
    with contextlib.ExitStack() as stack:
        servers = {
            name: stack.enter_context(
                serving(v.workers, stack.enter_context(fresh_database()), v.source)
            )
            for name, v in variants.items()
        }
        body = json.dumps(_sign_body()).encode()
        for server in servers.values():
            _sign_load(server, body, 4, 2)
        runs: dict[str, list[Any]] = {name: [] for name in servers}
        for _ in range(rounds):
            for name, server in servers.items():
                runs[name].append(_sign_load(server, body, clients, seconds))
        trust = {
            name: httpx.get(f"{server.url}{TRUST_ROOT_PATH}", timeout=30).content
            for name, server in servers.items()
        }
    return {name: _sign_summary(variants[name], runs[name], trust[name]) for name in servers}


def _sign_load(server: Server, body: bytes, clients: int, seconds: int) -> Any:
    url = f"{server.url}/v1/sign"
    before = server_cpu_seconds(server.pid)
    if have_wrk():
        result = wrk(url, "POST", body, server.api_key, clients, seconds, keep_bodies=True)
    else:
        result = client_load(url, "POST", body, server.api_key, clients, seconds, 100_000, True)
    result.cpu_ms_per_request = (server_cpu_seconds(server.pid) - before) * 1e3 / result.requests
    return result


def server_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a server process and its direct children (uvicorn's workers)
    so far, from /proc: what a request costs the server whatever else the machine runs."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    pids = [pid, *(int(child) for child in children.read_text().split())]
    ticks = 0
    for each in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _sign_summary(variant: Variant, runs: list[Any], trust_json: bytes) -> dict[str, Any]:
    bodies = [body for run in runs for body in run.bodies]
    verified, indices = _verify_all(trust_json, bodies)
    return {
        **_runs_summary(runs),
        "serverCpuMsPerRequest": summarize([run.cpu_ms_per_request for run in runs]).to_json(),
        "generator": runs[0].generator,
        "workers": variant.workers,
        "source": str(variant.source or "this checkout"),
        "database": "PostgreSQL (fresh database, dropped afterwards)",
        "bundlesReturned": len(bodies),
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
