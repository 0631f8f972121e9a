"""Builders shared by tests: real keys, a real authority, real signed bundles."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509

from provenance.bundle import Bundle
from provenance.identity.authority import CertificateAuthority, create_authority, issue_certificate
from provenance.identity.trust import TrustRoot, export_trust_root
from provenance.keys import KeyType, SigningKey, generate_key
from provenance.sign import LogSubmitter, Signer
from provenance.statement import Author, ClaimValue, ContentPredicate
from provenance.text import Canonicalization

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
IDENTITY = "https://reviews.example/u/8841"
REVIEW = b"The desk lamp is sturdy and bright.\nFive stars.\n"


def predicate(
    claims: Mapping[str, ClaimValue] | None = None,
    profile: Canonicalization = Canonicalization.TEXT_V1,
    created: datetime = NOW,
) -> ContentPredicate:
    """A review predicate."""
    return ContentPredicate(
        content_type="text/plain",
        canonicalization=profile,
        created=created,
        author=Author(IDENTITY, "Dana"),
        publisher="Reviews Example",
        claims=dict(claims or {"verifiedPurchase": True}),
    )


def sign(
    key: SigningKey,
    content: bytes = REVIEW,
    chain: Sequence[x509.Certificate] = (),
    log: LogSubmitter | None = None,
    claims: Mapping[str, ClaimValue] | None = None,
) -> Bundle:
    """A bundle for ``content`` signed by ``key`` (with ``chain`` when given)."""
    return Signer(key, chain, log).sign(content, "review.txt", predicate(claims))


def pinned_trust(key: SigningKey, name: str = "alice") -> TrustRoot:
    """A trust root pinning ``key`` under ``name``."""
    return TrustRoot(name="pinned", pinned_keys=((name, key.public_key),))


@dataclass(frozen=True)
class CertifiedAuthor:
    """An author's key and the chain the authority issued for it."""

    key: SigningKey
    chain: list[x509.Certificate]


def make_authority(
    name: str = "Reviews Example", created: datetime = NOW - timedelta(days=30)
) -> CertificateAuthority:
    """A real in-memory authority created 30 days before NOW."""
    return create_authority(name, now=created).authority


def certified_author(
    authority: CertificateAuthority,
    identity: str = IDENTITY,
    issued: datetime = NOW - timedelta(days=1),
    days: int = 90,
) -> CertifiedAuthor:
    """A new P-256 key certified for ``identity``."""
    key = generate_key(KeyType.P256)
    chain = issue_certificate(authority, key.public_key, identity, now=issued, days=days)
    return CertifiedAuthor(key, chain)


def authority_trust(
    authority: CertificateAuthority,
    crl: x509.CertificateRevocationList | None = None,
    log_keys: Sequence[str] = (),
    require_log: bool = False,
) -> TrustRoot:
    """The authority's exported trust root."""
    return export_trust_root(authority, crl=crl, log_keys=log_keys, require_log=require_log)
