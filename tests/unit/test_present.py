"""The verdict presenter: a plain sentence for every status code, facts in order, skipped steps."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509

from provenance.identity.crl import build_crl, revoke
from provenance.keys import KeyType, generate_key
from provenance.present import (
    ATTESTED_HEADING,
    CLAIMED_HEADING,
    PLAIN_REASONS,
    StepStatus,
    plain_reason,
    present,
)
from provenance.verify.policy import AllOf, Identity, UnsafeAcceptAnyIdentity
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

SPEC = Path(__file__).resolve().parents[2] / "specs" / "verification.md"
TECHNICAL_WORDS = re.compile(r"sha256|digest|[a-z]+\.[a-z_]+|_|\bDER\b|\bCRL\b|PAE|DSSE|SAN")


def spec_codes() -> list[str]:
    """The status codes of the table in specs/verification.md."""
    section = SPEC.read_text(encoding="utf-8").split("## Status codes", 1)[1]
    return re.findall(r"^\| `([a-z_.]+)` \|", section, flags=re.MULTILINE)


@pytest.mark.parametrize("code", spec_codes())
def test_every_status_code_of_the_spec_has_its_own_plain_sentence(code: str) -> None:
    assert code in PLAIN_REASONS, f"add a plain sentence for {code} to provenance/present.py"
    sentence = plain_reason(code, signer="https://reviews.example/u/1", trust="Reviews Example")
    assert sentence[0].isupper() and sentence.endswith(".")
    assert "{" not in sentence
    assert not TECHNICAL_WORDS.search(sentence.replace("https://reviews.example/u/1", "")), sentence


def test_unknown_codes_fall_back_to_their_family_or_a_general_sentence() -> None:
    assert plain_reason("c2pa.assertion.dataHash.mismatch").startswith("The provenance record")
    assert plain_reason("no.such.code") == "This could not be verified."


def test_changed_text_leads_with_the_plain_sentence_and_calls_claims_the_original() -> None:
    key = generate_key(KeyType.P256)
    result = Verifier(pinned_trust(key)).check(
        REVIEW.replace(b"sturdy", b"flimsy"), sign(key), AllOf([]), at=NOW
    )
    shown = present(result)
    assert (shown.headline, shown.reason) == (
        "NOT VERIFIED",
        "This text was changed after it was signed.",
    )
    assert shown.claims_heading == "What the signature says about the original text, not this one"
    assert [f.label for f in shown.claims][:2] == ["Author", "Author account"]
    assert shown.codes == ("digest.mismatch",)
    assert "sha256" in shown.failures[0].message


def test_pinned_key_reports_skipped_steps_as_skipped_never_as_passed() -> None:
    key = generate_key(KeyType.P256)
    result = Verifier(pinned_trust(key)).check(REVIEW, sign(key), AllOf([]), at=NOW)
    shown = present(result, trust="you (--key)")
    status = {s.step: s.status for s in shown.steps}
    assert status == {
        "parse": StepStatus.PASSED,
        "digest": StepStatus.PASSED,
        "signature": StepStatus.PASSED,
        "policy": StepStatus.PASSED,
        "log": StepStatus.SKIPPED,
        "certificate": StepStatus.SKIPPED,
        "revocation": StepStatus.SKIPPED,
    }
    assert shown.reason == "Signed by alice, a key trusted directly by you (--key)."
    assert [(f.label, f.value) for f in shown.signer] == [
        ("Signed by", "alice"),
        ("Trusted because", "pinned by you (--key)"),
    ]
    assert shown.claims_heading == ATTESTED_HEADING


def test_revoked_certificate_names_the_revocation_date() -> None:
    authority = make_authority()
    author = certified_author(authority)
    revoke(authority, author.chain[0], reason=x509.ReasonFlags.key_compromise, now=NOW)
    trust = authority_trust(authority, crl=build_crl(authority, now=NOW + timedelta(minutes=1)))
    result = Verifier(trust).check(
        REVIEW, sign(author.key, chain=author.chain), Identity(IDENTITY), at=NOW + timedelta(days=1)
    )
    shown = present(result, trust="Reviews Example")
    assert shown.reason == "The signer's certificate was revoked on 1 June 2026."
    assert shown.claims_heading == CLAIMED_HEADING
    assert shown.codes == ("certificate.revoked",)


def test_any_identity_gives_one_plain_note_on_a_verified_result_only() -> None:
    authority = make_authority()
    author = certified_author(authority)
    verifier = Verifier(authority_trust(authority))
    bundle = sign(author.key, chain=author.chain)
    verified = present(verifier.check(REVIEW, bundle, UnsafeAcceptAnyIdentity(), at=NOW), trust="X")
    assert verified.notes == (
        "No signer was required: anyone vouched for by X is accepted. Check that the signer "
        "below is who you expect.",
    )
    assert verified.reason == f"Signed by {IDENTITY}, vouched for by Reviews Example Issuing CA."
    changed = verifier.check(REVIEW + b"PS", bundle, UnsafeAcceptAnyIdentity(), at=NOW)
    assert present(changed).notes == ()


def test_wrong_identity_names_the_actual_signer() -> None:
    authority = make_authority()
    author = certified_author(authority)
    result = Verifier(authority_trust(authority)).check(
        REVIEW,
        sign(author.key, chain=author.chain),
        Identity("https://reviews.example/u/1"),
        at=NOW,
    )
    assert present(result).reason == f"Signed by {IDENTITY}, not by the signer you asked for."
