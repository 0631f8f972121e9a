"""Material shared by the adversarial tests: real keys, a real authority, a real log, and helpers
that edit a bundle's JSON the way an attacker would (the signature is not redone unless a test says
so)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from provenance.bundle import Bundle
from provenance.dsse import INTOTO_PAYLOAD_TYPE, sign_envelope
from provenance.identity.trust import TrustRoot
from provenance.keys import Ed25519SigningKey, KeyType, SigningKey, generate_key
from provenance.tlog.log import TransparencyLog
from provenance.tlog.note import NoteSigner
from provenance.tlog.store import MemoryStore
from provenance.verify.policy import AllOf, Identity, Policy
from provenance.verify.result import VerificationResult
from provenance.verify.verifier import Verifier
from tests.factories import (
    IDENTITY,
    NOW,
    REVIEW,
    authority_trust,
    certified_author,
    make_authority,
    sign,
)

ORIGIN = "reviews.example/log"
SIGNED_AT = NOW - timedelta(days=10)
LOG_SIGNER = NoteSigner(ORIGIN, Ed25519SigningKey(bytes([7]) * 32))

PINNED_KEY = generate_key(KeyType.ED25519)
OTHER_PINNED_KEY = generate_key(KeyType.P256)
PINNED_TRUST = TrustRoot(
    name="pinned",
    pinned_keys=(("alice", PINNED_KEY.public_key), ("bob", OTHER_PINNED_KEY.public_key)),
)
PINNED = sign(PINNED_KEY)

AUTHORITY = make_authority(created=NOW - timedelta(days=60))
AUTHOR = certified_author(AUTHORITY, issued=SIGNED_AT - timedelta(days=1), days=30)
CERTIFIED = sign(AUTHOR.key, chain=AUTHOR.chain)
CERT_TRUST = authority_trust(AUTHORITY)


def transparency_log(at: datetime = SIGNED_AT) -> TransparencyLog:
    """A fresh in-memory log whose clock says ``at``."""
    return TransparencyLog(MemoryStore(), LOG_SIGNER, ORIGIN, lambda: int(at.timestamp()))


def logged_trust(trust: TrustRoot, require_log: bool = True) -> TrustRoot:
    """``trust`` that also trusts the test log."""
    return replace(trust, log_keys=(LOG_SIGNER.verifier.key_string,), require_log=require_log)


def check(
    bundle: bytes | Bundle,
    trust: TrustRoot = PINNED_TRUST,
    content: bytes = REVIEW,
    policy: Policy | None = None,
    at: datetime = NOW,
) -> VerificationResult:
    """Verify without raising; certificate trust roots get the author's identity policy."""
    if policy is None:
        policy = Identity(IDENTITY) if trust.roots else AllOf([])
    return Verifier(trust).check(content, bundle, policy, at=at)


def codes(
    bundle: bytes | Bundle,
    trust: TrustRoot = PINNED_TRUST,
    content: bytes = REVIEW,
    policy: Policy | None = None,
    at: datetime = NOW,
) -> list[str]:
    """The failed steps' codes; asserts that a failing result is never ``verified``."""
    result = check(bundle, trust, content, policy, at)
    failures = [finding.code for finding in result.failures]
    assert result.verified is not bool(failures)
    return failures


def edited(bundle: Bundle | bytes, edit: Callable[[dict[str, Any]], object]) -> bytes:
    """The bundle's JSON after ``edit`` changed it in place (no re-signing)."""
    raw = bundle.to_bytes() if isinstance(bundle, Bundle) else bundle
    document = json.loads(raw)
    edit(document)
    return json.dumps(document).encode()


def resigned(statement: dict[str, Any] | bytes, key: SigningKey = PINNED_KEY) -> bytes:
    """A pinned-key bundle whose payload is ``statement`` (JSON object or raw bytes), validly
    signed by ``key``: what a holder of a trusted key (or a stolen one) can produce."""
    payload = statement if isinstance(statement, bytes) else json.dumps(statement).encode()
    envelope = sign_envelope(payload, INTOTO_PAYLOAD_TYPE, key)
    return Bundle(envelope, public_key_hint=key.public_key.key_id).to_bytes()


def statement_json(bundle: Bundle = PINNED) -> dict[str, Any]:
    """The bundle's signed statement as a JSON object."""
    statement: dict[str, Any] = json.loads(bundle.envelope.payload)
    return statement
