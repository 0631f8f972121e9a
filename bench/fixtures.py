"""Realistic inputs for the benchmarks: a review bundle (P-256 leaf, chain of depth 2, logged).

The review is 1 KiB of text signed under ``text-v1`` by an author whose certificate the
publisher's issuing CA (under its root) issued; the signature is logged in an in-memory
transparency log that already holds ``log_size`` entries, so the bundle carries a real inclusion
proof of ``ceil(log2(log_size))`` hashes up to a signed checkpoint.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding

from provenance.bundle import Bundle
from provenance.identity import build_crl
from provenance.identity.authority import (
    CertificateAuthority,
    create_authority,
    issue_certificate,
)
from provenance.identity.trust import TrustRoot, export_trust_root
from provenance.keys import Ed25519SigningKey, KeyType, generate_key
from provenance.sign import Signer
from provenance.statement import Author, ContentPredicate
from provenance.text import Canonicalization
from provenance.tlog.entry import LogEntry
from provenance.tlog.limits import TLOG_LIMITS
from provenance.tlog.log import TransparencyLog
from provenance.tlog.note import NoteSigner
from provenance.tlog.store import MemoryStore
from provenance.verify.policy import Identity

ORIGIN = "bench.reviews.example/log"
IDENTITY = "https://reviews.example/u/8841"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
REVIEW_BYTES = 1024


def review_text(size: int = REVIEW_BYTES) -> bytes:
    """``size`` bytes of plain review text in lines of at most 64 characters."""
    line = b"The desk lamp is sturdy and bright; the arm holds any angle. 5/5\n"
    text = (line * (size // len(line) + 1))[: size - 1]
    return text.rstrip() + b"\n" * (size - len(text.rstrip()))


@dataclass(frozen=True)
class ReviewFixture:
    """A signed review and everything needed to verify it."""

    content: bytes
    bundle_bytes: bytes
    bundle: Bundle
    trust: TrustRoot
    policy: Identity
    at: datetime
    log: TransparencyLog
    authority: CertificateAuthority


LOG_SIGNER = NoteSigner(ORIGIN, Ed25519SigningKey(bytes(range(32))))


def filled_log(log_size: int) -> TransparencyLog:
    """An in-memory log holding ``log_size - 1`` filler entries (the next one is the review's)."""
    signer = LOG_SIGNER
    log = TransparencyLog(MemoryStore(), signer, ORIGIN, lambda: int(NOW.timestamp()))
    filler = hashlib.sha256(b"other signer").digest()
    for first in range(0, max(0, log_size - 1), TLOG_LIMITS.max_batch):
        count = min(TLOG_LIMITS.max_batch, log_size - 1 - first)
        log.append_batch(
            [
                LogEntry(hashlib.sha256(b"%d" % n).digest(), filler, int(NOW.timestamp()))
                for n in range(first, first + count)
            ]
        )
    return log


def review_fixture(content_size: int = REVIEW_BYTES, log_size: int = 1024) -> ReviewFixture:
    """A logged review of ``content_size`` bytes in a log of ``log_size`` entries."""
    authority = create_authority("Bench Reviews", now=NOW - timedelta(days=30)).authority
    key = generate_key(KeyType.P256)
    chain = issue_certificate(authority, key.public_key, IDENTITY, now=NOW - timedelta(days=1))
    log = filled_log(log_size)
    content = review_text(content_size)
    bundle = Signer(key, chain, log).sign(
        content, "review.txt", _predicate(Canonicalization.TEXT_V1)
    )
    trust = export_trust_root(
        authority,
        crl=build_crl(authority, now=NOW - timedelta(hours=1)),
        log_keys=[LOG_SIGNER.verifier.key_string],
        require_log=True,
    )
    return ReviewFixture(
        content,
        bundle.to_bytes(),
        bundle,
        trust,
        Identity(IDENTITY),
        NOW + timedelta(hours=1),
        log,
        authority,
    )


def _predicate(profile: Canonicalization) -> ContentPredicate:
    return ContentPredicate(
        content_type="text/plain"
        if profile is Canonicalization.TEXT_V1
        else "application/octet-stream",
        canonicalization=profile,
        created=NOW,
        author=Author(IDENTITY, "Dana"),
        publisher="Bench Reviews",
        claims={"verifiedPurchase": True},
    )


def sign_review(
    fixture: ReviewFixture,
    *,
    author: int,
    content_path: Path | None = None,
    profile: Canonicalization = Canonicalization.TEXT_V1,
    size: int = REVIEW_BYTES,
) -> tuple[bytes, bytes]:
    """A new key for the fixture's identity, certified anew (a new leaf), signs new content and
    logs it (a new checkpoint). Returns the content (empty when read from ``content_path``) and
    the bundle bytes."""
    key = generate_key(KeyType.P256)
    chain = issue_certificate(
        fixture.authority, key.public_key, IDENTITY, now=NOW - timedelta(days=1)
    )
    signer = Signer(key, chain, fixture.log)
    if content_path is not None:
        with content_path.open("rb") as stream:
            return b"", signer.sign(stream, content_path.name, _predicate(profile)).to_bytes()
    content = review_text(size)[:-9] + b"#%07d\n" % author
    return content, signer.sign(content, "review.txt", _predicate(profile)).to_bytes()


def leaf_der(fixture: ReviewFixture) -> bytes:
    """The author's leaf certificate (DER)."""
    return fixture.bundle.certificates[0].public_bytes(Encoding.DER)
