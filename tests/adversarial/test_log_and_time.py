"""Log and time attacks: swapped entries, and a backdated `created` claim that must not buy time.

The signed ``created`` claim is only the signer's word. The certificate is checked at the time the
log proves, else at the verification time (specs/verification.md step 4).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509

from provenance.bundle import Bundle
from provenance.identity.crl import build_crl, revoke
from provenance.identity.trust import TrustRoot
from provenance.sign import Signer
from provenance.tlog.log import TransparencyLog
from provenance.tlog.store import MemoryStore
from provenance.verify.policy import AllOf, Identity, MaxAge
from provenance.verify.result import TimeSource
from tests.adversarial.attack import (
    AUTHOR,
    AUTHORITY,
    CERT_TRUST,
    LOG_SIGNER,
    ORIGIN,
    PINNED,
    PINNED_KEY,
    PINNED_TRUST,
    SIGNED_AT,
    check,
    codes,
    edited,
    logged_trust,
    transparency_log,
)
from tests.factories import (
    IDENTITY,
    NOW,
    REVIEW,
    CertifiedAuthor,
    authority_trust,
    certified_author,
    make_authority,
    predicate,
    sign,
)

LOG = transparency_log()
LOGGED = sign(AUTHOR.key, chain=AUTHOR.chain, log=LOG)
OTHER_SAME_SIGNER = sign(AUTHOR.key, content=b"Another review.\n", chain=AUTHOR.chain, log=LOG)
OTHER_AUTHOR = certified_author(AUTHORITY, "https://reviews.example/u/9", SIGNED_AT - timedelta(1))
OTHER_SIGNER = sign(OTHER_AUTHOR.key, chain=OTHER_AUTHOR.chain, log=LOG)
TRUST = logged_trust(CERT_TRUST)


def _entries(document: dict[str, Any]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = document["verificationMaterial"]["tlogEntries"]
    return entries


def _with_entries_of(donor: Bundle) -> bytes:
    donated = _entries(json_of(donor))
    return edited(LOGGED, lambda d: _entries(d).__setitem__(slice(None), donated))


def json_of(bundle: Bundle) -> dict[str, Any]:
    """The bundle as a JSON object."""
    return bundle.to_json()


def test_verify_rejects_log_entry_swapped_from_a_bundle_of_the_same_signer() -> None:
    assert codes(LOGGED, TRUST) == []
    assert codes(_with_entries_of(OTHER_SAME_SIGNER), TRUST) == ["log.entry.mismatch"]


def test_verify_rejects_log_entry_swapped_from_a_bundle_of_another_signer() -> None:
    assert codes(_with_entries_of(OTHER_SIGNER), TRUST) == ["log.entry.mismatch"]


def test_verify_rejects_a_foreign_entry_added_next_to_the_genuine_one() -> None:
    """A second entry of the same log is malformed before any entry is checked (bundle-v1 §6:
    one entry per log)."""
    foreign = _entries(json_of(OTHER_SAME_SIGNER))[0]
    bundle = edited(LOGGED, lambda d: _entries(d).append(foreign))
    assert codes(bundle, TRUST) == ["bundle.malformed"]


def test_verify_rejects_a_swapped_entry_even_when_the_log_is_optional() -> None:
    trust = logged_trust(CERT_TRUST, require_log=False)
    assert codes(_with_entries_of(OTHER_SAME_SIGNER), trust) == ["log.entry.mismatch"]


def _signed_claiming(author: CertifiedAuthor, created: datetime, log_at: datetime | None) -> Bundle:
    log = transparency_log(log_at) if log_at else None
    signer = Signer(author.key, author.chain, log)
    return signer.sign(REVIEW, "review.txt", predicate(created=created))


def _short_lived_author() -> tuple[CertifiedAuthor, TrustRoot]:
    authority = make_authority(created=NOW - timedelta(days=400))
    author = certified_author(authority, issued=NOW - timedelta(days=100), days=30)
    return author, authority_trust(authority)


def test_expired_certificate_with_a_backdated_claim_is_checked_at_the_verification_time() -> None:
    author, trust = _short_lived_author()
    backdated = _signed_claiming(author, created=NOW - timedelta(days=95), log_at=None)
    result = check(backdated, trust)
    assert [f.code for f in result.failures] == ["certificate.expired"]
    assert not result.verified
    assert result.time_source is TimeSource.VERIFICATION


def test_expired_certificate_with_a_backdated_claim_is_checked_at_the_log_time() -> None:
    author, trust = _short_lived_author()
    bundle = _signed_claiming(
        author, created=NOW - timedelta(days=95), log_at=NOW - timedelta(days=2)
    )
    assert codes(bundle, logged_trust(trust)) == ["certificate.expired"]


def test_claim_after_expiry_does_not_hurt_a_signature_the_log_proves_in_time() -> None:
    author, trust = _short_lived_author()
    bundle = _signed_claiming(author, created=NOW, log_at=NOW - timedelta(days=95))
    result = check(bundle, logged_trust(trust))
    assert result.verified, result.failures
    assert result.certificate_checked_at == NOW - timedelta(days=95)


def _revoked_author(reason: x509.ReasonFlags) -> tuple[CertifiedAuthor, TrustRoot]:
    authority = make_authority(created=NOW - timedelta(days=60))
    author = certified_author(authority, issued=NOW - timedelta(days=20), days=60)
    compromise = NOW - timedelta(days=6) if reason is x509.ReasonFlags.key_compromise else None
    revoke(
        authority,
        author.chain[0],
        reason=reason,
        now=NOW - timedelta(days=5),
        invalidity_date=compromise,
    )
    crl = build_crl(authority, now=NOW - timedelta(hours=1))
    return author, authority_trust(authority, crl=crl)


def test_revoked_certificate_with_a_backdated_claim_fails_unlogged() -> None:
    author, trust = _revoked_author(x509.ReasonFlags.superseded)
    bundle = _signed_claiming(author, created=NOW - timedelta(days=15), log_at=None)
    assert codes(bundle, trust) == ["certificate.revoked"]


def test_revoked_certificate_with_a_backdated_claim_fails_at_the_log_time() -> None:
    author, trust = _revoked_author(x509.ReasonFlags.superseded)
    bundle = _signed_claiming(
        author, created=NOW - timedelta(days=15), log_at=NOW - timedelta(days=4)
    )
    assert codes(bundle, logged_trust(trust)) == ["certificate.revoked"]


def test_stolen_key_signature_logged_after_the_compromise_fails_whatever_it_claims() -> None:
    author, trust = _revoked_author(x509.ReasonFlags.key_compromise)
    bundle = _signed_claiming(
        author, created=NOW - timedelta(days=19), log_at=NOW - timedelta(days=6)
    )
    assert codes(bundle, logged_trust(trust)) == ["certificate.revoked"]


def test_signature_logged_before_revocation_stays_valid() -> None:
    author, trust = _revoked_author(x509.ReasonFlags.superseded)
    bundle = _signed_claiming(author, created=NOW, log_at=NOW - timedelta(days=10))
    assert codes(bundle, logged_trust(trust)) == []


def test_pinned_key_log_entry_time_edited_to_the_past_is_an_entry_mismatch() -> None:
    bundle = sign(PINNED_KEY, log=transparency_log())
    backdate = 86_400 * 30

    def edit(document: dict[str, Any]) -> None:
        _entries(document)[0]["integratedTime"] -= backdate

    assert codes(edited(bundle, edit), logged_trust(PINNED_TRUST)) == ["log.entry.mismatch"]


def test_a_log_signing_a_time_past_year_9999_gives_a_finding_not_a_crash() -> None:
    rogue_log = TransparencyLog(MemoryStore(), LOG_SIGNER, ORIGIN, lambda: 2**53 - 1)
    bundle = sign(PINNED_KEY, log=rogue_log)
    assert codes(bundle, logged_trust(PINNED_TRUST)) == ["log.entry.malformed"]


def test_stripping_the_log_entries_fails_when_the_trust_root_requires_the_log() -> None:
    unlogged = replace(LOGGED, tlog_entries=())
    assert codes(unlogged, TRUST) == ["log.missing"]


def test_stripping_the_log_entries_does_not_satisfy_a_maximum_age() -> None:
    policy = AllOf([Identity(IDENTITY), MaxAge(timedelta(days=1))])
    assert codes(LOGGED, TRUST, policy=policy) == ["policy.age.exceeded"]
    unlogged = replace(LOGGED, tlog_entries=())
    optional_log = logged_trust(CERT_TRUST, require_log=False)
    assert codes(unlogged, optional_log, policy=policy) == ["policy.age.unproven"]


def test_a_maximum_age_needs_a_proven_time_for_a_pinned_key_too() -> None:
    assert codes(PINNED, policy=MaxAge(timedelta(days=365))) == ["policy.age.unproven"]
