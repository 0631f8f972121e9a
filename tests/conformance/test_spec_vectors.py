"""Every vector in specs/vectors/bundle-v1 gives its expected outcome and failure codes."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from provenance.encoding import b64decode_strict
from provenance.identity.trust import TrustRoot
from provenance.verify.policy import policy_from_json
from provenance.verify.result import VerificationResult
from provenance.verify.verifier import Verifier

SPEC_VECTORS = Path(__file__).resolve().parents[2] / "specs" / "vectors"
VECTORS = sorted((SPEC_VECTORS / "bundle-v1").glob("*.json")) + sorted(
    (SPEC_VECTORS / "bundle-v1-legacy").glob("*.json")
)


def check_vector(vector: dict[str, Any]) -> VerificationResult:
    """Run one vector through the Verifier."""
    trust = TrustRoot.from_json(json.dumps(vector["trustRoot"]).encode())
    at = datetime.fromisoformat(vector["verificationTime"].replace("Z", "+00:00"))
    return Verifier(trust).check(
        b64decode_strict(vector["content"]),
        vector["bundle"].encode(),
        policy_from_json(vector["policy"]),
        at=at,
    )


def test_there_are_positive_and_negative_vectors() -> None:
    outcomes = {json.loads(p.read_text())["expected"]["verified"] for p in VECTORS}
    assert outcomes == {True, False}


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.stem)
def test_vector_outcome(path: Path) -> None:
    vector = json.loads(path.read_text())
    result = check_vector(vector)
    assert result.verified is vector["expected"]["verified"]
    assert [f.code for f in result.failures] == vector["expected"]["failureCodes"]
