"""Every vector in specs/vectors/bundle-v1 gives its expected outcome and failure codes."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from provenance.armor import check_armored
from provenance.encoding import b64decode_strict
from provenance.errors import PolicyError
from provenance.identity.trust import TrustRoot
from provenance.verify.policy import policy_from_json
from provenance.verify.result import Finding, VerificationResult
from provenance.verify.verifier import Verifier

SPEC_VECTORS = Path(__file__).resolve().parents[2] / "specs" / "vectors"
VECTORS = sorted((SPEC_VECTORS / "bundle-v1").glob("*.json")) + sorted(
    (SPEC_VECTORS / "bundle-v1-legacy").glob("*.json")
)


def check_vector(vector: dict[str, Any]) -> VerificationResult:
    """Run one vector through the Verifier."""
    trust = TrustRoot.from_json(json.dumps(vector["trustRoot"]).encode())
    at = datetime.fromisoformat(vector["verificationTime"].replace("Z", "+00:00"))
    try:
        policy = policy_from_json(vector["policy"])
    except PolicyError as exc:
        return VerificationResult(False, (Finding("policy", exc.code, False, exc.message),))
    return Verifier(trust).check(
        b64decode_strict(vector["content"]), vector["bundle"].encode(), policy, at=at
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


ARMOR_VECTORS = sorted((SPEC_VECTORS / "armor-v1").glob("*.json"))
# Checked by test_audit_vectors.py, test_model_vectors.py and test_trust_vectors.py.
OTHER_VECTORS = sorted(
    path
    for family in ("tlog-v1", "model-v1", "trust-distribution-v1")
    for path in (SPEC_VECTORS / family).glob("*.json")
)


@pytest.mark.parametrize("path", ARMOR_VECTORS, ids=lambda p: p.stem)
def test_armor_vector_outcome(path: Path) -> None:
    vector = json.loads(path.read_text())
    trust = TrustRoot.from_json(json.dumps(vector["trustRoot"]).encode())
    at = datetime.fromisoformat(vector["verificationTime"].replace("Z", "+00:00"))
    outcome = check_armored(
        Verifier(trust),
        b64decode_strict(vector["document"]),
        policy_from_json(vector["policy"]),
        at=at,
    )
    failures = [f["code"] for f in outcome.to_json()["findings"] if not f["ok"]]
    assert (outcome.verdict.value, failures) == (
        vector["expected"]["verdict"],
        vector["expected"]["failureCodes"],
    )


# Codes no bundle or armor vector can give, and where their cases live instead.
ELSEWHERE = {
    "armor.ok": "a success code: every verified armor vector's finding",
}


def test_vectors_cover_every_status_code_of_the_table() -> None:
    section = (SPEC_VECTORS.parent / "verification.md").read_text().split("## Status codes", 1)[1]
    table = set(re.findall(r"^\| `([a-z0-9_.]+)` \|", section, re.M))
    covered: set[str] = set()
    for path in VECTORS + ARMOR_VECTORS + OTHER_VECTORS:
        covered |= set(json.loads(path.read_text())["expected"]["failureCodes"])
    missing = sorted(table - covered - set(ELSEWHERE))
    assert not missing, f"status codes without a vector: {missing}"
