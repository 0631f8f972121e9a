"""The Verifier with transparency log entries: proven time, swapped entries, forged checkpoints."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest
from cryptography import x509

from provenance.bundle import Bundle
from provenance.identity.crl import build_crl, revoke
from provenance.identity.trust import TrustRoot
from provenance.keys import Ed25519SigningKey, generate_key
from provenance.tlog.log import TransparencyLog
from provenance.tlog.note import NoteSigner
from provenance.tlog.store import MemoryStore
from provenance.verify.policy import AllOf, Identity
from provenance.verify.result import TimeSource
from provenance.verify.verifier import Verifier
from tests.factories import (
    IDENTITY,
    NOW,
    REVIEW,
    authority_trust,
    certified_author,
    make_authority,
    pinned_trust,
    sign,
)

ORIGIN = "reviews.example/log"
SIGNED_AT = NOW - timedelta(days=10)


def _signer(origin: str = ORIGIN) -> NoteSigner:
    return NoteSigner(origin, Ed25519SigningKey(bytes(32) if origin == ORIGIN else bytes([1]) * 32))


def _log(origin: str = ORIGIN, at: int = int(SIGNED_AT.timestamp())) -> TransparencyLog:
    return TransparencyLog(MemoryStore(), _signer(origin), origin, lambda: at)


def _key_string(log: TransparencyLog) -> str:
    return _signer(log.origin).verifier.key_string


LOG = _log()
AUTHORITY = make_authority(created=NOW - timedelta(days=60))
AUTHOR = certified_author(AUTHORITY, issued=SIGNED_AT - timedelta(days=1), days=30)
LOGGED = sign(AUTHOR.key, chain=AUTHOR.chain, log=LOG)
OTHER = sign(AUTHOR.key, content=b"Another review.\n", chain=AUTHOR.chain, log=LOG)


def _trust(**changes: object) -> TrustRoot:
    trust = authority_trust(AUTHORITY, log_keys=[_key_string(LOG)], require_log=True)
    return replace(trust, **changes)  # type: ignore[arg-type]


def _codes(bundle: Bundle | bytes, trust: TrustRoot | None = None, at: object = NOW) -> list[str]:
    result = Verifier(trust or _trust()).check(REVIEW, bundle, Identity(IDENTITY), at=at)  # type: ignore[arg-type]
    return [f.code for f in result.failures]


def test_logged_bundle_is_checked_at_the_proven_log_time() -> None:
    result = Verifier(_trust()).check(REVIEW, LOGGED.to_bytes(), Identity(IDENTITY), at=NOW)
    assert result.verified, result.failures
    assert result.time_source is TimeSource.LOG
    assert result.certificate_checked_at == SIGNED_AT
    assert [(p.origin, p.index) for p in result.log_proofs] == [(ORIGIN, 0)]


def test_logged_signature_stays_valid_after_its_certificate_expires() -> None:
    assert _codes(LOGGED, at=NOW + timedelta(days=365)) == []


def test_unlogged_signature_fails_once_its_certificate_expired() -> None:
    unlogged = replace(LOGGED, tlog_entries=())
    trust = _trust(require_log=False)
    assert _codes(unlogged, trust, at=NOW + timedelta(days=365)) == ["certificate.expired"]


def test_revocation_after_the_logged_signature_keeps_it_valid() -> None:
    authority = make_authority(created=NOW - timedelta(days=60))
    author = certified_author(authority, issued=SIGNED_AT - timedelta(days=1), days=30)
    bundle = sign(author.key, chain=author.chain, log=LOG)
    revoke(
        authority,
        author.chain[0],
        reason=x509.ReasonFlags.superseded,
        now=SIGNED_AT + timedelta(days=1),
    )
    crl = build_crl(authority, now=NOW - timedelta(hours=1))
    trust = authority_trust(authority, crl=crl, log_keys=[_key_string(LOG)])
    assert _codes(bundle, trust) == []
    assert _codes(replace(bundle, tlog_entries=()), trust) == ["certificate.revoked"]


def test_key_compromise_before_the_logged_signature_invalidates_it() -> None:
    authority = make_authority(created=NOW - timedelta(days=60))
    author = certified_author(authority, issued=SIGNED_AT - timedelta(days=1), days=30)
    bundle = sign(author.key, chain=author.chain, log=LOG)
    revoke(
        authority,
        author.chain[0],
        reason=x509.ReasonFlags.key_compromise,
        now=SIGNED_AT + timedelta(days=1),
        invalidity_date=SIGNED_AT - timedelta(hours=1),
    )
    crl = build_crl(authority, now=NOW - timedelta(hours=1))
    trust = authority_trust(authority, crl=crl, log_keys=[_key_string(LOG)])
    assert _codes(bundle, trust) == ["certificate.revoked"]


def test_entry_swapped_from_another_bundle_is_an_entry_mismatch() -> None:
    swapped = replace(LOGGED, tlog_entries=OTHER.tlog_entries)
    assert _codes(swapped) == ["log.entry.mismatch"]


def test_entry_with_edited_time_is_an_entry_mismatch() -> None:
    entry = LOGGED.tlog_entries[0]
    backdated = replace(entry, integrated_time=entry.integrated_time - 86400)
    assert _codes(replace(LOGGED, tlog_entries=(backdated,))) == ["log.entry.mismatch"]


def test_forged_checkpoint_is_rejected() -> None:
    document = json.loads(LOGGED.to_bytes())
    proof = document["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]
    lines = proof["checkpoint"]["envelope"].split("\n")
    lines[1] = str(int(lines[1]) + 1)
    proof["checkpoint"]["envelope"] = "\n".join(lines)
    assert _codes(json.dumps(document).encode()) == ["log.checkpoint.invalid"]


def test_checkpoint_signed_by_an_impostor_log_is_unsigned() -> None:
    impostor = TransparencyLog(
        MemoryStore(),
        NoteSigner(ORIGIN, Ed25519SigningKey(bytes([9]) * 32)),
        ORIGIN,
        lambda: int(SIGNED_AT.timestamp()),
    )
    bundle = sign(AUTHOR.key, chain=AUTHOR.chain, log=impostor)
    assert _codes(bundle) == ["log.checkpoint.unsigned"]


def test_log_not_in_the_trust_root_is_untrusted() -> None:
    bundle = sign(AUTHOR.key, chain=AUTHOR.chain, log=_log("other.example/log"))
    assert _codes(bundle) == ["log.untrusted"]


def test_pinned_key_bundle_can_be_logged_too() -> None:
    key = generate_key()
    bundle = sign(key, log=LOG)
    trust = replace(pinned_trust(key), log_keys=(_key_string(LOG),), require_log=True)
    result = Verifier(trust).check(REVIEW, bundle, AllOf([]), at=NOW)
    assert result.verified, result.failures
    assert result.time_source is TimeSource.LOG


@pytest.mark.parametrize("index", [1, 5])
def test_proof_against_an_older_checkpoint_still_verifies(index: int) -> None:
    log = _log()
    bundles = [
        sign(AUTHOR.key, content=f"review {i}\n".encode(), chain=AUTHOR.chain, log=log)
        for i in range(8)
    ]
    trust = authority_trust(AUTHORITY, log_keys=[_key_string(log)], require_log=True)
    result = Verifier(trust).check(
        f"review {index}\n".encode(), bundles[index], Identity(IDENTITY), at=NOW
    )
    assert result.verified, result.failures
    assert bundles[index].tlog_entries[0].inclusion_proof.tree_size == index + 1


def test_entry_integrated_after_the_verification_time_is_refused() -> None:
    # A log (broken or hostile) that dates an entry after "now" must not move the time at which
    # certificates and revocation are checked into the future: the run at SIGNED_AT - 1 h is
    # before the log says it integrated the entry.
    assert _codes(LOGGED, at=SIGNED_AT - timedelta(hours=1)) == ["log.entry.future"]


def test_entry_within_the_clock_skew_of_the_verification_time_is_accepted() -> None:
    assert _codes(LOGGED, at=SIGNED_AT - timedelta(seconds=300)) == []
