"""Our verify against sigstore-python's on their own bundle, side by side in one run.

sigstore runs in its own process (``bench/sigstore_side.py``): in this virtual environment when
sigstore imports here (the ``bench`` extra installs it beside cryptography 50), else in
``bench/.venv-sigstore``, which this module creates on first use.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import nacl.signing

from bench import cold_crypto
from bench.fixtures import review_fixture, sign_review
from bench.stats import ratio_series, scaled, summarize
from provenance.verify.verifier import Verifier

HERE = Path(__file__).resolve().parent
SIDE_VENV = HERE / ".venv-sigstore"


def shared_fixtures() -> Path:
    """../shared/fixtures/sigstore relative to the repository root."""
    return HERE.parent.parent / "shared" / "fixtures" / "sigstore"


def sigstore_python() -> str:
    """A Python interpreter that imports sigstore (creating bench/.venv-sigstore if needed)."""
    probe = subprocess.run(
        [sys.executable, "-c", "import sigstore"], check=False, capture_output=True
    )
    if probe.returncode == 0:
        return sys.executable
    python = SIDE_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(SIDE_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "sigstore"], check=True)
    return str(python)


def _sigstore_round(python: str, count: int) -> dict[str, Any]:
    output = subprocess.run(
        [python, str(HERE / "sigstore_side.py"), str(shared_fixtures()), str(count)],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    ).stdout
    result: dict[str, Any] = json.loads(output)
    return result


def _our_round(verify: Any, count: int) -> list[float]:
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        verify()
        timings.append(time.perf_counter() - started)
    return timings


def compare(rounds: int) -> dict[str, Any]:
    """Per-verification seconds of sigstore and of ours (warm, and cold: a never-seen author and
    checkpoint each time), alternating round by round; ratios are sigstore / ours. Each round also
    times only the crypto a cold verify cannot skip (``bench.cold_crypto``): sigstore's time over
    it is the ratio reachable with no parsing and no check at all."""
    if not (shared_fixtures() / "bundle_v3.txt.sigstore").exists():
        return {"skipped": f"{shared_fixtures()} is absent"}
    python = sigstore_python()
    count = scaled(200, 30)
    fixture = review_fixture()
    verifier = Verifier(fixture.trust)
    cold_bundles = iter([sign_review(fixture, author=n) for n in range(count * rounds + 3)])

    def warm() -> None:
        result = verifier.check(
            fixture.content, fixture.bundle_bytes, fixture.policy, at=fixture.at
        )
        assert result.verified

    def cold() -> None:
        content, bundle = next(cold_bundles)
        assert verifier.check(content, bundle, fixture.policy, at=fixture.at).verified

    cold()
    note_key = nacl.signing.SigningKey.generate()
    crypto_rounds = [
        cold_crypto.crypto_inputs(fixture, 1_000_000 + n * count, note_key, count)
        for n in range(rounds)
    ]
    series: dict[str, list[float]] = {"sigstore": [], "ours": [], "ours_cold": [], "crypto": []}
    version, tampered = "", ""
    for inputs in crypto_rounds:
        side = _sigstore_round(python, count)
        version, tampered = side["sigstore"], side["tampered"]
        series["sigstore"].append(summarize(side["seconds"]).median)
        series["ours"].append(summarize(_our_round(warm, count)).median)
        series["ours_cold"].append(summarize(_our_round(cold, count)).median)
        series["crypto"].append(cold_crypto.crypto_seconds(fixture, inputs, note_key))
    return {
        "sigstore_version": version,
        "sigstore_on_tampered_data": tampered,
        "interpreter": "this venv" if python == sys.executable else str(SIDE_VENV),
        **{f"{name}_seconds": summarize(values).to_json() for name, values in series.items()},
        "ratio": summarize(ratio_series(series["sigstore"], series["ours"])).to_json(),
        "ratio_cold": summarize(ratio_series(series["sigstore"], series["ours_cold"])).to_json(),
        "ratio_crypto_only": summarize(
            ratio_series(series["sigstore"], series["crypto"])
        ).to_json(),
    }
