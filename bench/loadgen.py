"""Load generation on loopback, bounded in count and time.

Two generators, each used for every endpoint it is compared across: ``wrk`` (C, when installed:
it leaves the server most of the two cores) and an asyncio + httpx client (always available; it
also keeps the responses, which sign-at-submission needs to verify every returned bundle).
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.stats import percentile

LOOPBACK = "http://127.0.0.1"


@dataclass
class LoadResult:
    """What one bounded load run saw."""

    generator: str
    concurrency: int
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    bodies: list[Any] = field(default_factory=list)
    cpu_ms_per_request: float = 0.0

    @property
    def throughput(self) -> float:
        """Successful requests per second."""
        return (self.requests - self.errors) / self.seconds

    def to_json(self) -> dict[str, Any]:
        """The figures (without bodies)."""
        return {
            "generator": self.generator,
            "concurrency": self.concurrency,
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.seconds, 2),
            "throughput": round(self.throughput, 1),
            "p50Ms": round(self.p50_ms, 2),
            "p99Ms": round(self.p99_ms, 2),
        }


def have_wrk() -> bool:
    """Whether wrk is installed."""
    return shutil.which("wrk") is not None


_WRK_SCRIPT = """
wrk.method = {method}
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = {authorization}
"""
_WRK_KEEP_BODIES = """
local kept = io.open({path}, "a")
response = function(status, headers, body)
  if status == 200 then
    kept:write(body, "\\n")
    kept:flush()
  end
end
"""


def _lua_string(text: str) -> str:
    return json.dumps(text)


def wrk(
    url: str,
    method: str,
    body: bytes,
    api_key: str,
    concurrency: int,
    seconds: int,
    keep_bodies: bool = False,
) -> LoadResult:
    """Run wrk (one thread, ``concurrency`` connections) for ``seconds``; parse its report.

    With ``keep_bodies`` the JSON of every 200 answer is kept too (wrk's Lua ``response`` hook
    writes one compact JSON answer a line to a temporary file)."""
    script = _WRK_SCRIPT.format(
        method=_lua_string(method),
        body=_lua_string(body.decode("utf-8")),
        authorization=_lua_string(f"Bearer {api_key}"),
    )
    with tempfile.TemporaryDirectory(prefix="wrk-bodies-") as directory:
        bodies = Path(directory) / "bodies.jsonl"
        if keep_bodies:
            script += _WRK_KEEP_BODIES.format(path=_lua_string(str(bodies)))
        result = _run_wrk(url, script, concurrency, seconds)
        if keep_bodies and bodies.exists():
            result.bodies = [json.loads(line) for line in bodies.read_text().splitlines()]
    return result


def _run_wrk(url: str, script: str, concurrency: int, seconds: int) -> LoadResult:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
        script_path = Path(handle.name)
    try:
        command = ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s", "--latency"]
        output = subprocess.run(
            [*command, "-s", str(script_path), url],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 30,
        ).stdout
    finally:
        script_path.unlink()
    return _parse_wrk(output, concurrency)


def _parse_wrk(output: str, concurrency: int) -> LoadResult:
    requests = int(re.search(r"(\d+) requests in ([\d.]+)(\w+)", output).group(1))  # type: ignore[union-attr]
    elapsed = re.search(r"requests in ([\d.]+)(\w+)", output)
    assert elapsed is not None
    seconds = float(elapsed.group(1)) * {"s": 1.0, "ms": 1e-3, "m": 60.0}[elapsed.group(2)]
    errors_match = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    errors = int(errors_match.group(1)) if errors_match else 0
    if socket_errors:
        errors += sum(int(value) for value in socket_errors.groups())
    return LoadResult(
        "wrk",
        concurrency,
        requests,
        errors,
        seconds,
        _wrk_latency(output, "50%"),
        _wrk_latency(output, "99%"),
    )


def _wrk_latency(output: str, label: str) -> float:
    match = re.search(rf"^\s*{re.escape(label)}\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    assert match is not None, output
    return float(match.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1000.0}[match.group(2)]


async def _client_load(
    url: str,
    method: str,
    body: bytes | None,
    api_key: str,
    concurrency: int,
    seconds: float,
    max_requests: int,
    keep_bodies: bool,
) -> LoadResult:
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
    latencies: list[float] = []
    bodies: list[Any] = []
    errors = 0
    issued = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    started = time.perf_counter()
    deadline = started + seconds

    async with httpx.AsyncClient(limits=limits, timeout=60.0) as client:

        async def worker() -> None:
            nonlocal errors, issued
            while issued < max_requests and time.perf_counter() < deadline:
                issued += 1
                began = time.perf_counter()
                response = await client.request(method, url, content=body, headers=headers)
                latencies.append(time.perf_counter() - began)
                if response.status_code != 200:
                    errors += 1
                elif keep_bodies:
                    bodies.append(response.json())

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return LoadResult(
        "httpx",
        concurrency,
        len(latencies),
        errors,
        elapsed,
        percentile(latencies, 0.5) * 1000,
        percentile(latencies, 0.99) * 1000,
        bodies,
    )


def client_load(
    url: str,
    method: str,
    body: bytes | None,
    api_key: str,
    concurrency: int,
    seconds: float,
    max_requests: int,
    keep_bodies: bool = False,
) -> LoadResult:
    """Run the asyncio + httpx generator: ``concurrency`` clients until ``max_requests`` or
    ``seconds``, whichever comes first."""
    return asyncio.run(
        _client_load(url, method, body, api_key, concurrency, seconds, max_requests, keep_bodies)
    )


def load(
    url: str, method: str, body: bytes, api_key: str, concurrency: int, seconds: int
) -> LoadResult:
    """wrk when installed, else the httpx generator (bounded at 200,000 requests)."""
    if have_wrk():
        return wrk(url, method, body, api_key, concurrency, seconds)
    return client_load(url, method, body or None, api_key, concurrency, seconds, 200_000)
