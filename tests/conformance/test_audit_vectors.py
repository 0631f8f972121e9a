"""Every log audit vector in specs/vectors/tlog-v1 gives its expected outcome (tlog-v1 §8.1, §9)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from provenance.encoding import b64decode_strict
from provenance.errors import LogProofError
from provenance.tlog.audit import audit_log
from provenance.tlog.note import NoteVerifier, open_checkpoint

AUDIT_VECTORS = sorted(
    (Path(__file__).resolve().parents[2] / "specs" / "vectors" / "tlog-v1").glob("*.json")
)


def run_audit_vector(vector: dict[str, Any]) -> list[str]:
    """Audit the vector's served files; the failure codes ([] when the audit passes)."""
    verifiers = [NoteVerifier.from_key_string(key) for key in vector["logKeys"]]
    origin = vector["origin"]
    files = {path: b64decode_strict(data) for path, data in vector["files"].items()}
    note = vector["previousCheckpoint"]
    previous = None if note is None else open_checkpoint(note, verifiers, origin=origin)
    try:
        report = audit_log(files.get, verifiers, origin, previous=previous)
    except LogProofError as exc:
        return [exc.code]
    assert report.checkpoint.size == report.entries
    return []


def test_there_are_passing_and_failing_audit_vectors() -> None:
    outcomes = {json.loads(p.read_text())["expected"]["passed"] for p in AUDIT_VECTORS}
    assert outcomes == {True, False}


@pytest.mark.parametrize("path", AUDIT_VECTORS, ids=lambda p: p.stem)
def test_audit_vector_outcome(path: Path) -> None:
    vector = json.loads(path.read_text())
    codes = run_audit_vector(vector)
    assert (not codes, codes) == (vector["expected"]["passed"], vector["expected"]["failureCodes"])
