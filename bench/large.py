"""Large content: `prov sign` and `prov verify` of a big file against `sha256sum` of the same file,
wall time and peak memory (the child's maximum resident set size, from wait4)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding

from bench.stats import ratio_series, summarize
from provenance.identity.authority import create_authority, issue_certificate
from provenance.identity.trust import export_trust_root
from provenance.keys import KeyType, generate_key

PROV = str(Path(sys.executable).with_name("prov"))
IDENTITY = "https://reviews.example/u/8841"
GNU_TIME = "/usr/bin/time"
HAVE_TIME = Path(GNU_TIME).exists()


def make_big_file(size: int) -> Path:
    """A file of ``size`` random bytes in /tmp (made with `head -c`, reused when present)."""
    path = Path(f"/tmp/prov-bench-{size}.bin")
    if not path.exists() or path.stat().st_size != size:
        with path.open("wb") as out:
            subprocess.run(["head", "-c", str(size), "/dev/urandom"], stdout=out, check=True)
    return path


def timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of one child process (``env``: its environment)."""
    elapsed, peak, _ = timed_with_cpu(command, env)
    return elapsed, peak


def timed_with_cpu(
    command: list[str], env: dict[str, str] | None = None
) -> tuple[float, int, float]:
    """Wall seconds, peak RSS (bytes) and CPU seconds (user + system) of one child process.

    The peak comes from GNU time's %M when /usr/bin/time exists: the maximum RSS that wait4
    reports for a child forked from this (large) process would count pages of the parent. The CPU
    time is wait4's, which includes the command that GNU time waited for.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as report:
        wrapped = [GNU_TIME, "-f", "%M", "-o", report.name, *command] if HAVE_TIME else command
        started = time.perf_counter()
        process = subprocess.Popen(
            wrapped, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
        )
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            detail = process.stderr.read() if process.stderr else b""
            raise RuntimeError(f"{command[:3]} failed: {detail!r}")
        peak_kb = int(report.read().strip().splitlines()[-1]) if HAVE_TIME else usage.ru_maxrss
    return elapsed, peak_kb * 1024, usage.ru_utime + usage.ru_stime


def large_figures(path: Path, rounds: int) -> dict[str, Any]:
    """sha256sum, prov sign, prov verify on ``path``, interleaved per round."""
    now = datetime.now(UTC)
    authority = create_authority("Bench Reviews", now=now - timedelta(days=1)).authority
    key = generate_key(KeyType.P256)
    chain = issue_certificate(authority, key.public_key, IDENTITY, now=now - timedelta(minutes=1))
    with tempfile.TemporaryDirectory(prefix="prov-bench-large-") as directory:
        folder = Path(directory)
        (folder / "key.pem").write_bytes(key.to_pem())
        (folder / "chain.pem").write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in chain))
        (folder / "trust.json").write_bytes(export_trust_root(authority, crl=None).to_json())
        bundle = folder / "file.prov.json"
        sign = [
            PROV,
            "sign",
            str(path),
            "--key",
            str(folder / "key.pem"),
            "--cert",
            str(folder / "chain.pem"),
            "--out",
            str(bundle),
        ]
        verify = [
            PROV,
            "verify",
            str(path),
            "--trust",
            str(folder / "trust.json"),
            "--bundle",
            str(bundle),
            "--identity",
            IDENTITY,
        ]
        timed(["sha256sum", str(path)])
        runs: dict[str, list[tuple[float, int]]] = {"sha256sum": [], "sign": [], "verify": []}
        for _ in range(rounds):
            runs["sha256sum"].append(timed(["sha256sum", str(path)]))
            bundle.unlink(missing_ok=True)
            runs["sign"].append(timed(sign))
            runs["verify"].append(timed(verify))
            runs["startup"] = [*runs.get("startup", []), timed([PROV, "--help"])]
    seconds = {name: [t for t, _ in values] for name, values in runs.items()}
    return {
        "bytes": path.stat().st_size,
        **{f"{name}_seconds": summarize(values).to_json() for name, values in seconds.items()},
        **{
            f"{name}_peak_rss_mb": round(max(m for _, m in values) / 1e6, 1)
            for name, values in runs.items()
        },
        "sign_ratio": summarize(ratio_series(seconds["sign"], seconds["sha256sum"])).to_json(),
        "verify_ratio": summarize(ratio_series(seconds["verify"], seconds["sha256sum"])).to_json(),
    }
