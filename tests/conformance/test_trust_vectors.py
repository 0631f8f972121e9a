"""Every trust store vector in specs/vectors/trust-distribution-v1 gives its expected outcome
(trust-distribution-v1 §5, §7)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from provenance.encoding import b64decode_strict
from provenance.trust_store import PublisherRecord, TrustStore, TrustStoreError
from provenance.verify.policy import policy_from_json

TRUST_VECTORS = sorted(
    (Path(__file__).resolve().parents[2] / "specs" / "vectors" / "trust-distribution-v1").glob(
        "*.json"
    )
)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def store_of(publishers: list[dict[str, Any]], directory: Path) -> TrustStore:
    """A store whose publishers' last updates left these trust roots and expiries (§4)."""
    for publisher in publishers:
        folder = directory / "publishers" / publisher["name"]
        folder.mkdir(parents=True)
        trust_root = json.dumps(publisher["trustRoot"], indent=2).encode()
        (folder / "trust-root.json").write_bytes(trust_root)
        expires = _time(publisher["expires"])
        record = PublisherRecord(
            name=publisher["name"],
            url=f"https://{publisher['name']}.example",
            root_version=1,
            trust_root_version=1,
            expires=expires,
            trust_root_sha256=hashlib.sha256(trust_root).hexdigest(),
            updated=expires - timedelta(days=7),
        )
        (folder / "publisher.json").write_bytes(record.to_json())
    return TrustStore(directory)


def run_trust_vector(vector: dict[str, Any], directory: Path) -> dict[str, Any]:
    """The vector's outcome: verified, the publisher found (or None) and the failure codes."""
    store = store_of(vector["publishers"], directory)
    try:
        found = store.verify(
            b64decode_strict(vector["content"]),
            vector["bundle"].encode(),
            policy_from_json(vector["policy"]),
            at=_time(vector["verificationTime"]),
            publisher=vector["publisher"],
        )
    except TrustStoreError as exc:
        return {"verified": False, "publisher": None, "failureCodes": [exc.code]}
    codes = [f.code for f in found.result.failures]
    return {"verified": found.result.verified, "publisher": found.publisher, "failureCodes": codes}


def test_there_are_verified_and_refused_trust_vectors() -> None:
    outcomes = {json.loads(p.read_text())["expected"]["verified"] for p in TRUST_VECTORS}
    assert outcomes == {True, False}


@pytest.mark.parametrize("path", TRUST_VECTORS, ids=lambda p: p.stem)
def test_trust_vector_outcome(path: Path, tmp_path: Path) -> None:
    vector = json.loads(path.read_text())
    assert run_trust_vector(vector, tmp_path / "store") == vector["expected"]
