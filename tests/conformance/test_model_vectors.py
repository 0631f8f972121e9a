"""Every model vector in specs/vectors/model-v1 gives its expected outcome (model-v1 §11)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from provenance.encoding import b64decode_strict
from provenance.identity.trust import TrustRoot
from provenance.model import ModelVerifier
from provenance.verify.policy import policy_from_json

MODEL_VECTORS = sorted(
    (Path(__file__).resolve().parents[2] / "specs" / "vectors" / "model-v1").glob("*.json")
)


def materialize(tree: dict[str, dict[str, str]], root: Path) -> Path:
    """Write the vector's model tree under ``root``; returns ``root``."""
    root.mkdir()
    for path, entry in tree.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if "symlink" in entry:
            target.symlink_to(entry["symlink"])
        else:
            target.write_bytes(b64decode_strict(entry["content"]))
    return root


def run_model_vector(vector: dict[str, Any], directory: Path) -> tuple[bool, list[str]]:
    """Verify the vector's model; its outcome and failure codes in step order."""
    trust = TrustRoot.from_json(json.dumps(vector["trustRoot"]).encode())
    at = datetime.fromisoformat(vector["verificationTime"].replace("Z", "+00:00"))
    verification = ModelVerifier(trust, workers=1).verify(
        materialize(vector["model"], directory / "model"),
        vector["signature"].encode(),
        policy_from_json(vector["policy"]),
        at=at,
    )
    return verification.verified, [f.code for f in verification.result.failures]


def test_there_are_verified_and_refused_model_vectors() -> None:
    outcomes = {json.loads(p.read_text())["expected"]["verified"] for p in MODEL_VECTORS}
    assert outcomes == {True, False}


@pytest.mark.parametrize("path", MODEL_VECTORS, ids=lambda p: p.stem)
def test_model_vector_outcome(path: Path, tmp_path: Path) -> None:
    vector = json.loads(path.read_text())
    expected = vector["expected"]
    assert run_model_vector(vector, tmp_path) == (expected["verified"], expected["failureCodes"])
