"""A bounded soak of the service: concurrent clients mixing sign and verify on loopback.

Starts the service under uvicorn (SQLite default in a fresh home, or a fresh PostgreSQL database),
runs ``--clients`` threads that alternate ``POST /v1/sign`` and ``POST /v1/verify`` (of a bundle
signed earlier) until ``--seconds`` pass or ``--max-requests`` are sent, samples the server's RSS
from ``/proc/<pid>/status`` every ``--sample-seconds``, then audits the log offline: every
acknowledged entry is at its index and proven under the latest checkpoint, and every checkpoint
seen during the run is consistent with it. Everything stays on 127.0.0.1 and stops by itself.

Usage (the recorded run, see specs/reliability.md)::

    .venv/bin/python -m tests.soak.soak --seconds 120 --clients 32 --backend sqlite

Exit status 0 when there were zero errors, zero lost entries and RSS growth (from the first
sample after the warm-up to the last) below ``--max-rss-growth``; 1 otherwise.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from tests.faults.support import ServerProcess, Signed, audit_served_log
from tests.integration.api.support import make_home, postgres_database, sign_body
from verifier_api import crud
from verifier_api.db import make_engine
from verifier_api.migrations import upgrade_database
from verifier_api.scopes import Scope
from verifier_api.service import utc_now

WARM_UP_FRACTION = 0.2
UNLIMITED_RATE = "100000000"
MAX_ERRORS_KEPT = 20


@dataclass(frozen=True)
class SoakConfig:
    """The bounds of one soak run."""

    seconds: float = 120.0
    clients: int = 32
    max_requests: int = 1_000_000
    sample_seconds: float = 2.0
    backend: str = "sqlite"


@dataclass
class SoakReport:
    """What a soak run measured (sizes in KiB, latencies in milliseconds; ``elapsed_seconds``
    covers the load and the audit, ``load_seconds`` the load alone)."""

    config: dict[str, Any]
    started: str = ""
    elapsed_seconds: float = 0.0
    load_seconds: float = 0.0
    requests_per_second: float = 0.0
    requests: int = 0
    signs: int = 0
    verifies: int = 0
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    lost_entries: int = -1
    log_size: int = 0
    checkpoints_checked: int = 0
    sign_ms_p50: float = 0.0
    sign_ms_p99: float = 0.0
    verify_ms_p50: float = 0.0
    verify_ms_p99: float = 0.0
    rss_kib: list[int] = field(default_factory=list)
    rss_first_kib: int = 0
    rss_baseline_kib: int = 0
    rss_last_kib: int = 0
    rss_max_kib: int = 0
    rss_growth_percent: float = 0.0

    def passed(self, max_rss_growth_percent: float) -> bool:
        """Zero errors, zero lost entries, RSS growth under the bound."""
        return (
            self.error_count == 0
            and self.lost_entries == 0
            and self.rss_growth_percent < max_rss_growth_percent
        )


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000, 1)


def rss_kib(pid: int) -> int:
    """The resident set size of process ``pid`` in KiB (``VmRSS``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise ValueError(f"no VmRSS for process {pid}")


class _Load:
    """The shared state of the client threads."""

    def __init__(self, base: str, keys: dict[str, str], config: SoakConfig) -> None:
        self.base = base
        self.keys = keys
        self.config = config
        self.deadline = time.monotonic() + config.seconds
        self.counter = itertools.count()
        self.lock = threading.Lock()
        self.acknowledged: list[Signed] = []
        self.errors: list[str] = []
        self.error_count = 0
        self.latency: dict[str, list[float]] = {"sign": [], "verify": []}

    def next_request(self) -> int | None:
        number = next(self.counter)
        if number >= self.config.max_requests or time.monotonic() >= self.deadline:
            return None
        return number

    def fail(self, message: str) -> None:
        with self.lock:
            self.error_count += 1
            if len(self.errors) < MAX_ERRORS_KEPT:
                self.errors.append(message)

    def client_loop(self, worker: int) -> None:
        with httpx.Client(base_url=self.base, timeout=60) as client:
            while (number := self.next_request()) is not None:
                try:
                    if number % 2 == 0 or not self.acknowledged:
                        self._sign(client, f"Soak review {worker}-{number}: sturdy and bright.\n")
                    else:
                        self._verify(client, random.choice(self.acknowledged))
                except httpx.TransportError as exc:
                    self.fail(f"transport error: {exc!r}")

    def _timed_post(self, client: httpx.Client, op: str, body: dict[str, Any]) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.keys[op]}"}
        start = time.perf_counter()
        response = client.post(f"/v1/{op}", json=body, headers=headers)
        with self.lock:
            self.latency[op].append(time.perf_counter() - start)
        return response

    def _sign(self, client: httpx.Client, text: str) -> None:
        response = self._timed_post(client, "sign", sign_body(content=text))
        if response.status_code != 200:
            self.fail(f"sign {response.status_code}: {response.text[:200]}")
            return
        with self.lock:
            self.acknowledged.append((text, response.json()))

    def _verify(self, client: httpx.Client, signed: Signed) -> None:
        text, answer = signed
        response = self._timed_post(client, "verify", {"content": text, "bundle": answer["bundle"]})
        if response.status_code != 200 or response.json().get("verified") is not True:
            self.fail(f"verify {response.status_code}: {response.text[:200]}")


def _keys(database_url: str) -> dict[str, str]:
    engine = make_engine(database_url)
    upgrade_database(engine)
    now = utc_now()
    keys = {
        "sign": crud.create_api_key(engine, "soak-sign", Scope.SIGN, now=now)[1],
        "verify": crud.create_api_key(engine, "soak-verify", Scope.VERIFY, now=now)[1],
    }
    engine.dispose()
    return keys


@contextmanager
def _database(backend: str, home: Path) -> Iterator[str]:
    if backend == "postgres":
        with postgres_database() as url:
            yield url
    else:
        yield f"sqlite:///{home / 'provenance.db'}"


def _sample(server: ServerProcess, load: _Load, report: SoakReport, notes: list[str]) -> None:
    while time.monotonic() < load.deadline and load.error_count < MAX_ERRORS_KEPT:
        report.rss_kib.append(rss_kib(server.pid))
        checkpoint = httpx.get(f"{server.base}/v1/log/checkpoint", timeout=30)
        if checkpoint.status_code == 200:
            notes.append(checkpoint.text)
        time.sleep(min(load.config.sample_seconds, max(0.0, load.deadline - time.monotonic())))
    report.rss_kib.append(rss_kib(server.pid))


def _run_load(server: ServerProcess, keys: dict[str, str], report: SoakReport) -> list[str]:
    config = SoakConfig(**report.config)
    load = _Load(server.base, keys, config)
    start = time.monotonic()
    threads = [
        threading.Thread(target=load.client_loop, args=(worker,))
        for worker in range(config.clients)
    ]
    for thread in threads:
        thread.start()
    notes: list[str] = []
    _sample(server, load, report, notes)
    for thread in threads:
        thread.join()
    report.load_seconds = round(time.monotonic() - start, 1)
    report.signs, report.verifies = len(load.latency["sign"]), len(load.latency["verify"])
    report.requests = report.signs + report.verifies
    report.requests_per_second = round(report.requests / max(report.load_seconds, 0.1), 1)
    report.errors, report.error_count = load.errors, load.error_count
    for op in ("sign", "verify"):
        setattr(report, f"{op}_ms_p50", _percentile(load.latency[op], 0.5))
        setattr(report, f"{op}_ms_p99", _percentile(load.latency[op], 0.99))
    _audit(server.base, load.acknowledged, notes, report)
    return notes


def _audit(base: str, acknowledged: list[Signed], notes: list[str], report: SoakReport) -> None:
    if not acknowledged:
        return
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            latest = audit_served_log(client, acknowledged, notes)
    except AssertionError as exc:
        report.errors.append(f"audit failed: {exc}")
        report.lost_entries = len(acknowledged)
        return
    indices = {answer["logIndex"] for _, answer in acknowledged}
    report.lost_entries = len(acknowledged) - len(indices)
    report.log_size, report.checkpoints_checked = latest.size, len(notes)


def _summarize_memory(report: SoakReport) -> None:
    samples = report.rss_kib
    if not samples:
        return
    baseline = samples[min(len(samples) - 1, int(len(samples) * WARM_UP_FRACTION))]
    report.rss_first_kib, report.rss_baseline_kib = samples[0], baseline
    report.rss_last_kib, report.rss_max_kib = samples[-1], max(samples)
    report.rss_growth_percent = round(100 * (samples[-1] - baseline) / baseline, 1)


def run_soak(config: SoakConfig) -> SoakReport:
    """Run one bounded soak and return its report (the server and data are removed after)."""
    report = SoakReport(config=asdict(config), started=datetime.now(UTC).isoformat())
    with ExitStack() as stack:
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="soak-")))
        home = make_home(directory / "home")
        url = stack.enter_context(_database(config.backend, home))
        keys = _keys(url)
        rate = {"PROVENANCE_RATE_LIMIT_PER_MINUTE": UNLIMITED_RATE}
        server = ServerProcess(home, url, log_dir=directory, extra_env=rate)
        stack.callback(server.stop)
        server.start()
        start = time.monotonic()
        _run_load(server, keys, report)
        report.elapsed_seconds = round(time.monotonic() - start, 1)
    _summarize_memory(report)
    return report


def _arguments(argv: list[str] | None) -> tuple[SoakConfig, float]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--max-requests", type=int, default=1_000_000)
    parser.add_argument("--sample-seconds", type=float, default=2.0)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--max-rss-growth", type=float, default=20.0, help="percent")
    args = parser.parse_args(argv)
    config = SoakConfig(
        args.seconds, args.clients, args.max_requests, args.sample_seconds, args.backend
    )
    return config, args.max_rss_growth


def main(argv: list[str] | None = None) -> int:
    """Run the soak from the command line; print the report as JSON."""
    config, max_growth = _arguments(argv)
    report = run_soak(config)
    summary = asdict(report)
    summary["passed"] = report.passed(max_growth)
    sys.stdout.write(json.dumps(summary, indent=2) + "\n")
    return 0 if summary["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
