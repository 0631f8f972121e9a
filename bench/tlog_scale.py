"""The transparency log at scale: fill a SQL log store on PostgreSQL and measure it.

Appends ``--entries`` realistic leaves (each carries a real P-256 leaf certificate of about 550
bytes DER, as a certified signature's entry does) through :meth:`TransparencyLog.append_batch` in
batches, in a fresh schema that is dropped at the end unless ``--keep``. Records:

- the append rate (entries per second, wall clock, building the leaves included);
- server-side inclusion proof latency (p50, p99) at the final size, over random indices, with
  the store alone (every proof reads its tiles and hashes them) and through a
  :class:`~provenance.tlog.tilecache.TileCache` (as the service serves them): on a cold cache (each
  random index's tiles read once) and warm (the same indices again), interleaved index by index
  with the store-only proofs; every cached proof is compared with the store-only one;
- bytes per entry: ``pg_total_relation_size`` of the ``tlog_`` tables divided by the entries.

Usage::

    .venv/bin/python -m bench.tlog_scale --entries 1000000
    .venv/bin/python -m bench.tlog_scale --schema tlog_bench_0123456789   # measure a kept log

This is a benchmark, not a test: it asserts nothing about timings.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import random
import statistics
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from provenance.identity.authority import create_authority, issue_certificate
from provenance.keys import Ed25519SigningKey, KeyType, generate_key
from provenance.tlog.entry import LogEntry
from provenance.tlog.limits import TLOG_LIMITS
from provenance.tlog.log import TransparencyLog
from provenance.tlog.note import NoteSigner
from provenance.tlog.sql import TLOG_TABLES, SqlLogStore, create_tlog_tables
from provenance.tlog.tilecache import DEFAULT_FULL_TILES, TileCache

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ORIGIN = "bench.reviews.example/log"
AUTHORS = 50
"""Distinct signing certificates; entries rotate through them (PostgreSQL compresses repeats)."""


def author_certificates(count: int) -> list[bytes]:
    """DER leaf certificates of ``count`` authors, issued by one real authority."""
    now = datetime.now(UTC)
    authority = create_authority("Bench Reviews", now=now).authority
    certificates = []
    for number in range(count):
        key = generate_key(KeyType.P256)
        chain = issue_certificate(
            authority, key.public_key, f"https://reviews.example/u/{number}", now=now, days=90
        )
        certificates.append(chain[0].public_bytes(Encoding.DER))
    return certificates


def leaves(first: int, count: int, certificates: Sequence[bytes], now: int) -> list[LogEntry]:
    """``count`` distinct leaves numbered from ``first``, signed by rotating authors."""
    entries = []
    for number in range(first, first + count):
        certificate = certificates[number % len(certificates)]
        entries.append(
            LogEntry(
                hashlib.sha256(b"envelope %d" % number).digest(),
                hashlib.sha256(certificate).digest(),
                now,
                certificate,
            )
        )
    return entries


def batches(total: int, size: int) -> Iterator[tuple[int, int]]:
    """(first, count) pairs covering ``total`` entries."""
    for first in range(0, total, size):
        yield first, min(size, total - first)


def fill(log: TransparencyLog, total: int, batch: int, certificates: Sequence[bytes]) -> float:
    """Append ``total`` leaves; return the elapsed seconds. Prints progress every 10%."""
    started = time.perf_counter()
    step = max(1, total // 10)
    for first, count in batches(total, batch):
        log.append_batch(leaves(first, count, certificates, int(time.time())))
        done = first + count
        if done // step != first // step or done == total:
            elapsed = time.perf_counter() - started
            print(f"  {done:>10,} entries  {elapsed:8.1f} s  {done / elapsed:8.0f} entries/s")
    return time.perf_counter() - started


def proof_latencies(log: TransparencyLog, size: int, samples: int) -> list[float]:
    """Seconds per :meth:`TransparencyLog.inclusion_proof` for ``samples`` random indices."""
    chooser = random.Random(9162)
    timings = []
    for _ in range(samples):
        index = chooser.randrange(size)
        started = time.perf_counter()
        log.inclusion_proof(index)
        timings.append(time.perf_counter() - started)
    return timings


def _timed(log: TransparencyLog, index: int) -> tuple[float, Any]:
    started = time.perf_counter()
    proof = log.inclusion_proof(index)
    return time.perf_counter() - started, proof


def cached_proof_latencies(
    plain: TransparencyLog, cached: TransparencyLog, size: int, samples: int
) -> dict[str, Any]:
    """Store-only proofs against tile-cached ones for the same ``samples`` random indices.

    The cached log first serves every index once (cold: its tiles are read and hashed once), then
    store-only and cached proofs alternate index by index (warm). Returns the timings and how many
    cached proofs differed from the store-only ones (any is a bug).
    """
    chooser = random.Random(9162)
    indices = [chooser.randrange(size) for _ in range(samples)]
    cold = [_timed(cached, index)[0] for index in indices]
    store_only, warm, differ = [], [], 0
    for index in indices:
        seconds, expected = _timed(plain, index)
        store_only.append(seconds)
        seconds, proof = _timed(cached, index)
        warm.append(seconds)
        differ += proof != expected
    return {"store": store_only, "cold": cold, "warm": warm, "differ": differ}


def _ms(values: Sequence[float], fraction: float) -> float:
    return round(percentile(values, fraction) * 1000, 2)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def storage_bytes(engine: Engine, schema: str) -> dict[str, int]:
    """``pg_total_relation_size`` (heap, TOAST and indexes) of each ``tlog_`` table."""
    sizes = {}
    with engine.connect() as connection:
        for table in TLOG_TABLES:
            query = text("SELECT pg_total_relation_size(:name)")
            sizes[table.name] = int(
                connection.execute(query, {"name": f'"{schema}"."{table.name}"'}).scalar_one()
            )
    return sizes


def server_version(engine: Engine) -> str:
    """The PostgreSQL server's version string."""
    with engine.connect() as connection:
        return str(connection.execute(text("SHOW server_version")).scalar_one())


def run(
    url: str,
    total: int,
    batch: int,
    samples: int,
    keep: bool,
    authors: int = AUTHORS,
    *,
    schema: str | None = None,
    cache_tiles: int = DEFAULT_FULL_TILES,
) -> dict[str, Any]:
    """Fill a fresh schema (or reuse the kept log ``schema``), measure, and drop a fresh schema
    unless ``keep``."""
    fresh = schema is None
    schema = schema or f"tlog_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    if fresh:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        create_tlog_tables(engine)
        signer = NoteSigner(ORIGIN, Ed25519SigningKey(bytes(range(32))))
        log = TransparencyLog(SqlLogStore(engine, ORIGIN), signer, ORIGIN, lambda: int(time.time()))
        certificates = author_certificates(authors)
        sample_leaf = leaves(0, 1, certificates, int(time.time()))[0].to_bytes()
        elapsed = None
        if fresh:
            print(
                f"schema {schema}: {total:,} entries of {len(sample_leaf)} bytes, batches of {batch}"
            )
            elapsed = fill(log, total, batch, certificates)
        total = log.state().size
        cache = TileCache(max_full_tiles=cache_tiles)
        cached = TransparencyLog(
            SqlLogStore(engine, ORIGIN), signer, ORIGIN, lambda: int(time.time()), tile_cache=cache
        )
        timings = cached_proof_latencies(log, cached, total, samples)
        sizes = storage_bytes(admin, schema)
        return {
            "entries": total,
            "batch": batch,
            "leafBytes": len(sample_leaf),
            "certificateDerBytes": len(certificates[0]),
            "authors": authors,
            "appendSeconds": None if elapsed is None else round(elapsed, 1),
            "appendRate": None if elapsed is None else round(total / elapsed),
            "proofSamples": samples,
            "proofP50Ms": _ms(timings["store"], 0.50),
            "proofP99Ms": _ms(timings["store"], 0.99),
            "proofMeanMs": round(statistics.fmean(timings["store"]) * 1000, 2),
            "cachedProofP50Ms": _ms(timings["warm"], 0.50),
            "cachedProofP99Ms": _ms(timings["warm"], 0.99),
            "coldCacheProofP50Ms": _ms(timings["cold"], 0.50),
            "coldCacheProofP99Ms": _ms(timings["cold"], 0.99),
            "cachedP50OverStoreP50": round(
                percentile(timings["warm"], 0.5) / percentile(timings["store"], 0.5), 3
            ),
            "cachedProofsDiffering": timings["differ"],
            "tileCacheFullTiles": cache_tiles,
            "tileCacheHeld": len(cache),
            "tableBytes": sizes,
            "bytesPerEntry": round(sum(sizes.values()) / total, 1),
            "postgres": server_version(admin),
            "python": platform.python_version(),
            "schema": schema,
            "kept": keep or not fresh,
        }
    finally:
        engine.dispose()
        if fresh and not keep:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    """Parse the options, run, print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="SQLAlchemy URL of the database")
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument(
        "--batch", type=int, default=TLOG_LIMITS.max_batch, help=f"at most {TLOG_LIMITS.max_batch}"
    )
    parser.add_argument("--samples", type=int, default=1000, help="inclusion proofs to time")
    parser.add_argument("--authors", type=int, default=AUTHORS, help="distinct certificates")
    parser.add_argument("--keep", action="store_true", help="keep the schema afterwards")
    parser.add_argument("--schema", help="measure the log kept in this schema (no fill)")
    parser.add_argument(
        "--cache-tiles", type=int, default=DEFAULT_FULL_TILES, help="full tiles the cache holds"
    )
    options = parser.parse_args()
    figures = run(
        options.url,
        options.entries,
        options.batch,
        options.samples,
        options.keep,
        options.authors,
        schema=options.schema,
        cache_tiles=options.cache_tiles,
    )
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
