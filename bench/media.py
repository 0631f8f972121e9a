"""Media: `prov media` sign and verify against the raw c2pa-python calls on the same image.

The fair comparison is in-process: :func:`provenance.media.sign_media` / ``verify_media`` against
c2pa-python's ``Builder.sign`` / ``Reader`` with the same manifest definition, callback signer,
trust settings (trust anchors, the EKU list, trust verification on: what a trusted verdict needs)
and image. The raw calls build their c2pa ``Context`` per call; the toolkit builds one per trust
root and reuses it, so ``verify_overhead_shared_context`` also compares against a raw ``Reader``
given one ``Context`` built once (the stricter comparison). The CLI's process overhead (interpreter
start, imports, file I/O) is reported separately.

Quick verify-only run: ``python -c "from bench.media import IMAGE, verify_figures;
print(verify_figures(IMAGE, 10))"``.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from bench.stats import interleaved_rates, ratio_series, scaled, summarize
from provenance.identity.authority import create_authority, issue_certificate
from provenance.identity.trust import TrustRoot, export_trust_root
from provenance.keys import KeyType, SigningKey, generate_key
from provenance.media import manifest_definition, sign_media, trust_config, verify_media
from provenance.verify.policy import Identity

IDENTITY = "https://reviews.example/u/8841"
CLAIMS: dict[str, str | bool] = {"verifiedPurchase": True, "account": "8841"}
MIME = "image/jpeg"
PROV = str(Path(sys.executable).with_name("prov"))
IMAGE = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "c2pa" / "no_manifest.jpg"


def _context(anchor_pem: str) -> c2pa.Context:
    settings = {
        "trust": {"trust_config": trust_config(), "trust_anchors": anchor_pem},
        "verify": {"verify_trust": True, "remote_manifest_fetch": False},
        "builder": {"thumbnail": {"enabled": False}},
    }
    return c2pa.Context(c2pa.Settings.from_dict(settings))


@dataclass(frozen=True)
class _Bench:
    """A fresh authority, author and trust root, and the image signed by the author."""

    image: bytes
    now: datetime
    key: SigningKey
    chain: list[x509.Certificate]
    trust: TrustRoot
    anchor_pem: str
    signed: bytes


def _bench(image_path: Path) -> _Bench:
    image = image_path.read_bytes()
    now = datetime.now(UTC)
    authority = create_authority("Bench Reviews", now=now - timedelta(days=1)).authority
    key = generate_key(KeyType.P256)
    chain = issue_certificate(authority, key.public_key, IDENTITY, now=now - timedelta(minutes=1))
    trust = export_trust_root(authority, crl=None)
    anchor_pem = trust.roots[0].public_bytes(Encoding.PEM).decode("ascii")
    signed = sign_media(
        image,
        MIME,
        key=key,
        chain=chain,
        at=now,
        author=IDENTITY,
        claims=CLAIMS,
        title=image_path.name,
        trust=trust,
    )
    return _Bench(image, now, key, chain, trust, anchor_pem, signed)


def _verify_actions(bench: _Bench) -> dict[str, Callable[[], None]]:
    """``verify_media`` and the raw c2pa ``Reader`` (new Context per call, and one reused)."""
    policy = Identity(IDENTITY)
    shared = _context(bench.anchor_pem)

    def ours_verify() -> None:
        result = verify_media(bench.signed, MIME, bench.trust, policy, at=datetime.now(UTC))
        if not result.verified:
            raise RuntimeError(f"the signed image did not verify: {result.findings}")

    def raw_read(context: c2pa.Context) -> None:
        with c2pa.Reader(MIME, io.BytesIO(bench.signed), None, context) as reader:
            json.loads(reader.json())
            if reader.get_validation_state() != "Trusted":
                raise RuntimeError("c2pa does not see the signed image as trusted")
            reader.get_validation_results()

    return {
        "ours_verify": ours_verify,
        "raw_verify": lambda: raw_read(_context(bench.anchor_pem)),
        "raw_verify_shared_context": lambda: raw_read(shared),
    }


def _overhead(seconds: dict[str, list[float]], ours: str, raw: str) -> dict[str, Any]:
    return summarize([r - 1 for r in ratio_series(seconds[ours], seconds[raw])]).to_json()


def verify_figures(image_path: Path, rounds: int) -> dict[str, Any]:
    """Verify only: ``verify_media`` against the raw c2pa ``Reader``, interleaved round by round."""
    actions = _verify_actions(_bench(image_path))
    series = interleaved_rates({name: (f, scaled(20, 5)) for name, f in actions.items()}, rounds)
    seconds = {name: [1 / r for r in values] for name, values in series.items()}
    return {
        **{name: summarize(values).to_json() for name, values in seconds.items()},
        "verify_overhead": _overhead(seconds, "ours_verify", "raw_verify"),
        "verify_overhead_shared_context": _overhead(
            seconds, "ours_verify", "raw_verify_shared_context"
        ),
    }


def media_figures(image_path: Path, rounds: int) -> dict[str, Any]:
    """In-process overhead ratios (ours / raw c2pa) for sign and verify, and CLI wall times."""
    bench = _bench(image_path)
    image, now, key, chain, trust = bench.image, bench.now, bench.key, bench.chain, bench.trust
    chain_pem = b"".join(c.public_bytes(Encoding.PEM) for c in chain).decode("ascii")
    anchor_pem = bench.anchor_pem
    definition = manifest_definition(IDENTITY, CLAIMS, image_path.name)

    def ours_sign() -> bytes:
        return sign_media(
            image,
            MIME,
            key=key,
            chain=chain,
            at=now,
            author=IDENTITY,
            claims=CLAIMS,
            title=image_path.name,
            trust=trust,
        )

    def raw_sign() -> bytes:
        output = io.BytesIO()
        with (
            c2pa.Signer.from_callback(
                key.sign, c2pa.C2paSigningAlg.ES256, chain_pem, None
            ) as signer,
            c2pa.Builder.from_json(definition, context=_context(anchor_pem)) as builder,
        ):
            builder.set_intent(c2pa.C2paBuilderIntent.EDIT)
            builder.sign(signer, MIME, io.BytesIO(image), output)
        return output.getvalue()

    count = scaled(20, 5)
    verify = _verify_actions(bench)
    series = interleaved_rates(
        {
            "ours_sign": (ours_sign, count),
            "raw_sign": (raw_sign, count),
            **{name: (action, count) for name, action in verify.items()},
        },
        rounds,
    )
    seconds = {name: [1 / r for r in values] for name, values in series.items()}
    figures: dict[str, Any] = {
        "image": f"{image_path.name} ({len(image):,} bytes)",
        "c2pa": _c2pa_version(),
        **{name: summarize(values).to_json() for name, values in seconds.items()},
        "sign_overhead": _overhead(seconds, "ours_sign", "raw_sign"),
        "verify_overhead": _overhead(seconds, "ours_verify", "raw_verify"),
        "verify_overhead_shared_context": _overhead(
            seconds, "ours_verify", "raw_verify_shared_context"
        ),
    }
    figures["cli"] = _cli_times(image_path, key, chain, trust.to_json(), rounds)
    return figures


def profile_verify(profiler: Callable[[Callable[[], object], int], str], count: int) -> str:
    """Profile :func:`verify_media` of the signed image :func:`verify_figures` times."""
    return profiler(_verify_actions(_bench(IMAGE))["ours_verify"], count)


def _c2pa_version() -> str:
    from importlib.metadata import version  # noqa: PLC0415

    return version("c2pa-python")


def _cli_times(image_path: Path, key: Any, chain: Any, trust_json: bytes, rounds: int) -> Any:
    """Wall time of `prov media sign` and `prov media verify` as whole processes."""
    with tempfile.TemporaryDirectory(prefix="prov-bench-media-") as directory:
        folder = Path(directory)
        (folder / "key.pem").write_bytes(key.to_pem())
        (folder / "chain.pem").write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in chain))
        (folder / "trust.json").write_bytes(trust_json)
        sign_times, verify_times = [], []
        for number in range(rounds):
            out = folder / f"signed-{number}.jpg"
            sign_times.append(
                _run(
                    [
                        PROV,
                        "media",
                        "sign",
                        str(image_path),
                        "--key",
                        str(folder / "key.pem"),
                        "--cert",
                        str(folder / "chain.pem"),
                        "--out",
                        str(out),
                        "--author",
                        IDENTITY,
                        "--claim",
                        "verifiedPurchase=true",
                    ]
                )
            )
            verify_times.append(
                _run(
                    [
                        PROV,
                        "media",
                        "verify",
                        str(out),
                        "--trust",
                        str(folder / "trust.json"),
                        "--identity",
                        IDENTITY,
                    ]
                )
            )
        startup = [_run([PROV, "--help"]) for _ in range(rounds)]
    return {
        "sign_seconds": summarize(sign_times).to_json(),
        "verify_seconds": summarize(verify_times).to_json(),
        "prov_help_seconds": summarize(startup).to_json(),
    }


def _run(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started
