"""Library figures: raw crypto limits, verify of a review bundle (single core, warm and cold),
batch verify on both cores, and the cost of verify as content and log grow."""

from __future__ import annotations

import base64
import hashlib
import os
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import nacl.signing
import orjson
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from bench.fixtures import ReviewFixture, review_fixture, sign_review
from bench.stats import interleaved_rates, ratio_series, scaled, summarize
from provenance.bundle import Bundle
from provenance.encoding import decode_json
from provenance.statement import Statement
from provenance.text import Canonicalization
from provenance.verify.verifier import Verifier

SHA_BUFFER = os.urandom(1 << 20)


def _p256_verifier(message: bytes) -> Any:
    key = ec.generate_private_key(ec.SECP256R1())
    signature = key.sign(message, ec.ECDSA(hashes.SHA256()))
    public = key.public_key()
    return lambda: public.verify(signature, message, ec.ECDSA(hashes.SHA256()))


def _ed25519_verifier(message: bytes) -> Any:
    key = nacl.signing.SigningKey.generate()
    signed = key.sign(message)
    verify_key = key.verify_key
    return lambda: verify_key.verify(signed)


def _sha256_64mib() -> None:
    digest = hashlib.sha256()
    for _ in range(64):
        digest.update(SHA_BUFFER)


def _verify_once(fixture: ReviewFixture, verifier: Verifier) -> Any:
    def run() -> None:
        result = verifier.check(
            fixture.content, fixture.bundle_bytes, fixture.policy, at=fixture.at
        )
        if not result.verified:
            raise RuntimeError(f"the review bundle did not verify: {result.findings}")

    return run


class _ParsedHandedOver(Verifier):
    """The verifier with its parse step free: the bundle and statement are handed over already
    parsed, with every memo the parsed bundle keeps (PAE, envelope hash, DER values). Every other
    step runs as in the library, so this rate bounds from above what any faster reader of bundles
    and statements (native code included) could give a verify."""

    def __init__(self, fixture: ReviewFixture) -> None:
        super().__init__(fixture.trust)
        self._bundle = Bundle.from_bytes(fixture.bundle_bytes)
        self._statement = Statement.from_payload(self._bundle.envelope.payload)

    def _parse(self, run: Any) -> str:
        run.bundle, run.statement = self._bundle, self._statement
        return "handed over parsed"


def _unavoidable_work(fixture: ReviewFixture) -> Any:
    """The C-level calls a warm verify of the review bundle cannot skip, with no check between
    them: read the bundle and the statement JSON (the standard library's scanner, as the library
    reads untrusted JSON), decode each base64 field, split, strip and hash
    the text, hash the PAE, the envelope and the log leaf, walk the proof, look up the cached
    chain and checkpoint. No validation logic fits under this floor, so with it the P-256 verify
    bounds the verify rate / raw P-256 rate from above."""
    raw, content, sha, b64 = fixture.bundle_bytes, fixture.content, hashlib.sha256, base64.b64decode
    assert isinstance(content, bytes)
    caches: dict[object, object] = {}

    def run() -> None:
        bundle = decode_json(raw)
        envelope, material = bundle["dsseEnvelope"], bundle["verificationMaterial"]
        payload, kind = b64(envelope["payload"]), envelope["payloadType"].encode()
        b64(envelope["signatures"][0]["sig"])
        ders = tuple(b64(c["rawBytes"]) for c in material["x509CertificateChain"]["certificates"])
        entry = material["tlogEntries"][0]
        proof = entry["inclusionProof"]
        hashes = [b64(value) for value in proof["hashes"]]
        b64(entry["leafHash"]), b64(proof["rootHash"])
        decode_json(payload)
        sha("\n".join(line.rstrip() for line in content.decode().split("\n")).encode()).digest()
        sha(b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)).digest()
        node = sha(b"\x00" + sha(orjson.dumps(envelope, option=orjson.OPT_SORT_KEYS)).digest())
        for value in hashes:
            node = sha(b"\x01" + value + node.digest())
        caches.get(ders), caches.get(proof["checkpoint"]["envelope"])

    return run


def raw_and_verify(rounds: int) -> dict[str, Any]:
    """Raw limits and the library's verify of a review bundle, interleaved round by round."""
    fixture = review_fixture()
    verifier = Verifier(fixture.trust)
    pae = fixture.bundle.envelope.pae
    checkpoint = fixture.bundle.tlog_entries[0].inclusion_proof.checkpoint.encode()
    cold = _cold_verifier(fixture, rounds)
    series = interleaved_rates(
        {
            "p256": (_p256_verifier(pae), scaled(2000, 300)),
            "ed25519": (_ed25519_verifier(checkpoint), scaled(2000, 300)),
            "sha256": (_sha256_64mib, scaled(3, 1)),
            "verify": (_verify_once(fixture, verifier), scaled(1000, 150)),
            "floor": (_unavoidable_work(fixture), scaled(2000, 300)),
            "parsed": (_verify_once(fixture, _ParsedHandedOver(fixture)), scaled(1000, 150)),
            "verify_cold": cold,
        },
        rounds,
    )
    series["sha256"] = [value * 64 * 1.048576 for value in series["sha256"]]  # MB/s
    figures: dict[str, Any] = {name: summarize(values).to_json() for name, values in series.items()}
    figures["verify_ratio"] = summarize(ratio_series(series["verify"], series["p256"])).to_json()
    figures["floor_bound"] = summarize(
        [f / (f + p) for f, p in zip(series["floor"], series["p256"], strict=True)]
    ).to_json()
    figures["parsed_bound"] = summarize(ratio_series(series["parsed"], series["p256"])).to_json()
    figures["verify_cold_ratio"] = summarize(
        ratio_series(series["verify_cold"], series["p256"])
    ).to_json()
    figures["pae_bytes"] = len(pae)
    figures["proof_hashes"] = len(fixture.bundle.tlog_entries[0].inclusion_proof.hashes)
    return figures


def _cold_verifier(fixture: ReviewFixture, rounds: int) -> tuple[Any, int]:
    """Verify bundles never seen before: a new author (leaf certificate) and a new checkpoint each.

    Returns the action and its count per round; the warm-up round consumes its own bundles. Every
    bundle is signed here, before timing starts, so that the rate is of verification alone (a
    generator signed each bundle inside the timed loop, which counted signing, certificate issuance
    and logging as verify time).
    """
    count = scaled(150, 30)
    warmup = max(1, count // 10)
    bundles = iter(
        [sign_review(fixture, author=number) for number in range(warmup + count * rounds)]
    )
    verifier = Verifier(fixture.trust)

    def run() -> None:
        content, bundle = next(bundles)
        result = verifier.check(content, bundle, fixture.policy, at=fixture.at)
        if not result.verified:
            raise RuntimeError(f"a fresh review bundle did not verify: {result.findings}")

    return run, count


_WORKER: tuple[Verifier, ReviewFixture] | None = None


def _init_worker(fixture: ReviewFixture) -> None:
    global _WORKER  # noqa: PLW0603 (one verifier per worker process)
    _WORKER = (Verifier(fixture.trust), fixture)


def _verify_chunk(count: int) -> int:
    assert _WORKER is not None
    verifier, fixture = _WORKER
    verified = 0
    for _ in range(count):
        result = verifier.check(
            fixture.content, fixture.bundle_bytes, fixture.policy, at=fixture.at
        )
        verified += result.verified
    return verified


def batch(rounds: int) -> dict[str, Any]:
    """Verify rate on one core against a pool of one process per core, interleaved."""
    fixture = review_fixture()
    chunk, chunks = scaled(250, 50), 8
    workers = os.cpu_count() or 2
    _init_worker(fixture)
    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(fixture,)) as pool:
        list(pool.map(_verify_chunk, [chunk] * workers))

        def pooled() -> None:
            if sum(pool.map(_verify_chunk, [chunk] * chunks)) != chunk * chunks:
                raise RuntimeError("a bundle did not verify in the pool")

        def single() -> None:
            if _verify_chunk(chunk * chunks) != chunk * chunks:
                raise RuntimeError("a bundle did not verify")

        series = interleaved_rates({"single": (single, 1), "pool": (pooled, 1)}, rounds)
    per_item = {name: [v * chunk * chunks for v in values] for name, values in series.items()}
    return {
        "workers": workers,
        "single": summarize(per_item["single"]).to_json(),
        "pool": summarize(per_item["pool"]).to_json(),
        "ratio": summarize(ratio_series(per_item["pool"], per_item["single"])).to_json(),
    }


def content_curve(sizes: Sequence[int], big_file: Path | None) -> list[dict[str, Any]]:
    """Verify time against content size (profile ``none``; streamed from a file above 4 MiB)."""
    fixture = review_fixture()
    verifier = Verifier(fixture.trust)
    points = []
    for size in sizes:
        path = _content_file(size, big_file)
        content, bundle = sign_review(
            fixture, author=0, content_path=path, profile=Canonicalization.NONE, size=size
        )
        timings = []
        for _ in range(scaled(5, 3) if size >= 1 << 26 else scaled(30, 10)):
            started = time.perf_counter()
            if path is None:
                result = verifier.check(content, bundle, fixture.policy, at=fixture.at)
            else:
                with path.open("rb") as stream:
                    result = verifier.check(stream, bundle, fixture.policy, at=fixture.at)
            timings.append(time.perf_counter() - started)
            if not result.verified:
                raise RuntimeError(f"content of {size} bytes did not verify")
        points.append({"bytes": size, "seconds": summarize(timings).to_json()})
        if path is not None and path != big_file:
            path.unlink()
    return points


def _content_file(size: int, big_file: Path | None) -> Path | None:
    if size < 1 << 22:
        return None
    if big_file is not None and big_file.stat().st_size == size:
        return big_file
    path = Path(f"/tmp/prov-bench-{size}.bin")
    with path.open("wb") as out:
        remaining = size
        while remaining:
            block = SHA_BUFFER[: min(remaining, len(SHA_BUFFER))]
            out.write(block)
            remaining -= len(block)
    return path


def log_curve(sizes: Sequence[int]) -> list[dict[str, Any]]:
    """Inclusion proof generation (in-memory log) and bundle verify time against log size."""
    points = []
    for size in sizes:
        started = time.perf_counter()
        fixture = review_fixture(log_size=size)
        fill_seconds = time.perf_counter() - started
        verifier = Verifier(fixture.trust)
        run = _verify_once(fixture, verifier)
        run()
        verify_times, proof_times = [], []
        for index in range(scaled(200, 50)):
            began = time.perf_counter()
            run()
            verify_times.append(time.perf_counter() - began)
            began = time.perf_counter()
            fixture.log.inclusion_proof((index * 7919) % size)
            proof_times.append(time.perf_counter() - began)
        points.append(
            {
                "entries": size,
                "proof_hashes": len(fixture.bundle.tlog_entries[0].inclusion_proof.hashes),
                "fill_seconds": round(fill_seconds, 2),
                "verify_seconds": summarize(verify_times).to_json(),
                "proof_seconds": summarize(proof_times).to_json(),
            }
        )
        del fixture
    return points
