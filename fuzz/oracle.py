"""The positive spec vectors and the oracle every fuzz target shares.

The oracle: verifying fuzzed bundle bytes never raises, and a verified result is only possible for a
bundle that is, as parsed JSON, one of the known-good bundles (JSON whitespace and the unsigned
DSSE ``keyid`` hint and non-leaf chain certificates aside, see :func:`signed_part`). The vectors share trust roots, so a good bundle of one vector may
verify against another's content: any known-good bundle is acceptable.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from provenance.encoding import b64decode_strict
from provenance.identity.trust import TrustRoot
from provenance.verify.policy import Policy, policy_from_json
from provenance.verify.verifier import Verifier

VECTOR_DIR = Path(__file__).resolve().parents[1] / "specs" / "vectors" / "bundle-v1"


@dataclass(frozen=True)
class PositiveVector:
    """A spec vector that verifies, ready to check other bundle bytes against."""

    name: str
    content: bytes
    bundle: bytes
    verifier: Verifier
    policy: Policy
    at: datetime


def positive_vectors(directory: Path = VECTOR_DIR) -> list[PositiveVector]:
    """Every vector of ``directory`` whose expected outcome is verified."""
    vectors = []
    for path in sorted(directory.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        if not document["expected"]["verified"]:
            continue
        trust = TrustRoot.from_json(json.dumps(document["trustRoot"]).encode())
        vectors.append(
            PositiveVector(
                name=path.stem,
                content=b64decode_strict(document["content"]),
                bundle=document["bundle"].encode(),
                verifier=Verifier(trust),
                policy=policy_from_json(document["policy"]),
                at=datetime.fromisoformat(document["verificationTime"].replace("Z", "+00:00")),
            )
        )
    return vectors


def signed_part(document: Any) -> Any:
    """The bundle document without what may change and leave it valid: each DSSE signature's
    ``keyid`` hint, and the chain's certificates after the leaf (untrusted path material that the
    trust root's own intermediates replace; :func:`is_documented_no_op` allows only leaving
    trailing ones out)."""
    if not isinstance(document, dict):
        return document
    copy = json.loads(json.dumps(document))
    envelope = copy.get("dsseEnvelope")
    if isinstance(envelope, dict) and isinstance(envelope.get("signatures"), list):
        for signature in envelope["signatures"]:
            if isinstance(signature, dict):
                signature.pop("keyid", None)
    chain = copy.get("verificationMaterial", {}).get("x509CertificateChain")
    if isinstance(chain, dict) and isinstance(chain.get("certificates"), list):
        chain["certificates"] = chain["certificates"][:1]
    return copy


def is_documented_no_op(mutated: bytes, originals: Sequence[bytes]) -> bool:
    """Whether ``mutated`` differs from one of ``originals`` only where :func:`signed_part`
    looks away, or by JSON formatting."""
    try:
        document = signed_part(json.loads(mutated))
    except (ValueError, AttributeError):
        return False
    return any(
        document == signed_part(json.loads(o)) and _chain_prefix(mutated, o) for o in originals
    )


def _chain_prefix(mutated: bytes, original: bytes) -> bool:
    """Whether the mutated chain is the original's leading certificates (the only chain edit that
    keeps a bundle valid: trailing certificates left out)."""

    def chain(data: bytes) -> list[Any]:
        material = json.loads(data).get("verificationMaterial", {})
        certificates = material.get("x509CertificateChain", {}).get("certificates", [])
        return certificates if isinstance(certificates, list) else []

    try:
        mine, theirs = chain(mutated), chain(original)
    except (ValueError, AttributeError):
        return False
    return mine == theirs[: len(mine)]
