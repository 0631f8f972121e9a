"""PNG plots (matplotlib, Agg): latency against concurrency, proof and verify time against log
size, verify time against content size. Small figures at low resolution (well under 200 KB)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

SIZE = (6.0, 3.8)
DPI = 80


def _save(figure: Any, path: Path) -> None:
    figure.tight_layout()
    figure.savefig(path, dpi=DPI)
    plt.close(figure)


def latency_vs_concurrency(sweep: list[dict[str, Any]], path: Path) -> None:
    """p50 and p99 latency of /v1/verify and /healthz against the number of clients."""
    figure, axes = plt.subplots(figsize=SIZE)
    for endpoint, colour in (("verify", "tab:blue"), ("healthz", "tab:green")):
        points = sorted(
            (p for p in sweep if p["endpoint"] == endpoint), key=lambda p: p["concurrency"]
        )
        clients = [p["concurrency"] for p in points]
        axes.plot(
            clients, [p["p50Ms"] for p in points], "o-", color=colour, label=f"{endpoint} p50"
        )
        axes.plot(
            clients, [p["p99Ms"] for p in points], "s--", color=colour, label=f"{endpoint} p99"
        )
    axes.set_xscale("log", base=2)
    axes.set_yscale("log")
    axes.set_xlabel("concurrent clients")
    axes.set_ylabel("latency (ms)")
    axes.set_title("Service latency against concurrency (loopback)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    _save(figure, path)


def proof_vs_log_size(
    points: list[dict[str, Any]], postgres: list[tuple[int, float]], path: Path
) -> None:
    """Inclusion proof generation and bundle verify time against the number of log entries."""
    figure, axes = plt.subplots(figsize=SIZE)
    entries = [p["entries"] for p in points]
    axes.plot(
        entries,
        [p["proof_seconds"]["median"] * 1e3 for p in points],
        "o-",
        label="inclusion proof, in-memory log (server side)",
    )
    axes.plot(
        entries,
        [p["verify_seconds"]["median"] * 1e3 for p in points],
        "s-",
        label="bundle verify incl. proof check (client side)",
    )
    if postgres:
        axes.plot(
            [n for n, _ in postgres],
            [ms for _, ms in postgres],
            "^:",
            label="inclusion proof p50, PostgreSQL (server side)",
        )
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("log entries")
    axes.set_ylabel("time (ms, median)")
    axes.set_title("Proof and verify time against log size")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    _save(figure, path)


def verify_vs_content_size(points: list[dict[str, Any]], sha256_mb_s: float, path: Path) -> None:
    """Library verify time against content size, with the raw SHA-256 time for reference."""
    figure, axes = plt.subplots(figsize=SIZE)
    sizes = [p["bytes"] for p in points]
    axes.plot(sizes, [p["seconds"]["median"] for p in points], "o-", label="library verify")
    axes.plot(
        sizes, [s / (sha256_mb_s * 1e6) for s in sizes], "--", label="SHA-256 alone (raw rate)"
    )
    axes.set_xscale("log", base=2)
    axes.set_yscale("log")
    axes.set_xlabel("content bytes")
    axes.set_ylabel("seconds (median)")
    axes.set_title("Verify time against content size (profile none)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    _save(figure, path)
