"""Every trust root vector in specs/vectors/trust-root-v1 is loaded or refused as expected
(identity-v1 §3, tlog-v1 §3): a refused trust root stops before verifying anything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provenance.errors import TrustRootError
from provenance.identity.trust import TrustRoot

TRUST_ROOT_VECTORS = sorted(
    (Path(__file__).resolve().parents[2] / "specs" / "vectors" / "trust-root-v1").glob("*.json")
)


def is_usable(document: str) -> bool:
    """Whether the trust root loads (every field a verifier reads is read when it loads)."""
    try:
        TrustRoot.from_json(document.encode())
    except TrustRootError:
        return False
    return True


def test_there_are_usable_and_refused_trust_roots() -> None:
    outcomes = {json.loads(p.read_text())["expected"]["usable"] for p in TRUST_ROOT_VECTORS}
    assert outcomes == {True, False}


@pytest.mark.parametrize("path", TRUST_ROOT_VECTORS, ids=lambda p: p.stem)
def test_trust_root_vector_outcome(path: Path) -> None:
    vector = json.loads(path.read_text())
    assert is_usable(vector["document"]) is vector["expected"]["usable"]
