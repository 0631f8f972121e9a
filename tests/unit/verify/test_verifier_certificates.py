"""The Verifier with X.509 identities: chain, time, revocation and policy outcomes."""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from datetime import timedelta

import pytest
from cryptography import x509

from provenance.errors import PolicyError
from provenance.identity.crl import build_crl, revoke
from provenance.identity.profile import spki_sha256
from provenance.keys import generate_key
from provenance.sign import Signer
from provenance.verify.policy import (
    AllOf,
    AnyOf,
    Identity,
    IdentityPattern,
    Issuer,
    MaxAge,
    Policy,
    RequireClaim,
    UnsafeAcceptAnyIdentity,
)
from provenance.verify.result import SignerKind, TimeSource, VerificationResult
from provenance.verify.verifier import Verifier
from tests.factories import (
    IDENTITY,
    NOW,
    REVIEW,
    authority_trust,
    certified_author,
    make_authority,
    predicate,
    sign,
)

AUTHORITY = make_authority()
AUTHOR = certified_author(AUTHORITY)
BUNDLE = sign(AUTHOR.key, chain=AUTHOR.chain)
TRUST = authority_trust(AUTHORITY)


def _check(
    policy: Policy, bundle: object = BUNDLE, trust: object = TRUST, at: object = NOW
) -> VerificationResult:
    return Verifier(trust).check(REVIEW, bundle, policy, at=at)  # type: ignore[arg-type]


def test_certified_author_verifies_with_identity_and_issuer() -> None:
    result = _check(Identity(IDENTITY, issuer=spki_sha256(AUTHOR.chain[1])))
    assert result.verified, result.failures
    assert result.signer is not None
    assert result.signer.kind is SignerKind.CERTIFICATE
    assert result.signer.identities == (IDENTITY,)
    assert result.signer.issuer == AUTHOR.chain[1].subject.rfc4514_string()
    assert result.time_source is TimeSource.VERIFICATION
    assert result.certificate_checked_at == NOW


def test_certificate_bundle_without_identity_requirement_is_refused() -> None:
    result = _check(AllOf([]))
    assert [f.code for f in result.failures] == ["policy.identity.required"]
    assert IDENTITY in result.failures[0].message


def test_unsafe_accept_any_identity_verifies_and_warns() -> None:
    result = _check(UnsafeAcceptAnyIdentity())
    assert result.verified
    assert result.warnings and "UNSAFE" in result.warnings[0]


@pytest.mark.parametrize(
    "required",
    [
        "https://reviews.example/u/8842",
        "https://REVIEWS.example/u/8841",
        "https://reviews.example/u/8841/",
        "https://reviews.examp\u217ce/u/8841",  # ROMAN NUMERAL FIFTY looks like l
        "https://reviews.example/u/8841\u200b",
    ],
)
def test_identity_that_differs_in_any_code_point_mismatches(required: str) -> None:
    result = _check(Identity(required))
    assert [f.code for f in result.failures] == ["policy.identity.mismatch"]
    assert repr(IDENTITY) in result.failures[0].message


def test_identity_differing_only_by_normalization_mismatches() -> None:
    authority = make_authority()
    author = certified_author(authority, identity="mailto-free@reviews.example")
    bundle = sign(author.key, chain=author.chain)
    decomposed = unicodedata.normalize("NFD", "caf\u00e9@reviews.example")
    result = _check(Identity(decomposed), bundle, authority_trust(authority))
    assert [f.code for f in result.failures] == ["policy.identity.mismatch"]


def test_identity_pattern_must_match_fully() -> None:
    assert _check(IdentityPattern(r"https://reviews\.example/u/\d+")).verified
    result = _check(IdentityPattern(r"https://reviews\.example/u/1\d*"))
    assert [f.code for f in result.failures] == ["policy.identity.mismatch"]


def test_wrong_issuer_pin_is_named() -> None:
    result = _check(Identity(IDENTITY, issuer="ab" * 32))
    assert [f.code for f in result.failures] == ["policy.issuer.mismatch"]
    assert "Reviews Example Issuing CA" in result.failures[0].message
    assert [f.code for f in _check(AllOf([Identity(IDENTITY), Issuer("cd" * 32)])).failures] == [
        "policy.issuer.mismatch"
    ]


@pytest.mark.parametrize(
    ("policy", "code"),
    [
        (RequireClaim("aiGenerated"), "policy.claim.missing"),
        (RequireClaim("verifiedPurchase", False), "policy.claim.mismatch"),
        (RequireClaim("verifiedPurchase", "true"), "policy.claim.mismatch"),
        (MaxAge(timedelta(days=365)), "policy.age.unproven"),  # unlogged: the age is unknown
    ],
)
def test_policy_requirements_fail_with_their_code(policy: Policy, code: str) -> None:
    result = _check(AllOf([Identity(IDENTITY), policy]))
    assert [f.code for f in result.failures] == [code]


def test_any_of_holds_when_one_alternative_holds() -> None:
    policy = AnyOf([Identity("https://reviews.example/u/1"), Identity(IDENTITY)])
    assert _check(policy).verified
    failing = AnyOf(
        [Identity("https://reviews.example/u/1"), Identity("https://reviews.example/u/2")]
    )
    assert [f.code for f in _check(failing).failures] == ["policy.identity.mismatch"]


def test_any_of_with_an_identity_free_branch_does_not_constrain_identity() -> None:
    result = _check(AnyOf([Identity(IDENTITY), RequireClaim("verifiedPurchase")]))
    assert [f.code for f in result.failures] == ["policy.identity.required"]


def test_chain_from_another_authority_is_untrusted_even_with_its_root_inside() -> None:
    rogue = make_authority("Rogue Reviews")
    author = certified_author(rogue)
    bundle = sign(author.key, chain=[*author.chain, rogue.root_certificate])
    result = _check(Identity(IDENTITY), bundle)
    assert [f.code for f in result.failures] == ["certificate.untrusted"]
    assert result.signer is None


def test_signature_by_a_key_other_than_the_leaf_key_fails() -> None:
    other = generate_key()
    statement = Signer(other).statement_for(REVIEW, "review.txt", predicate())
    bundle = Signer(other).sign_statement(statement)
    forged = replace(bundle, certificates=tuple(AUTHOR.chain), public_key_hint=None)
    forged = replace(
        forged,
        envelope=replace(
            forged.envelope, signatures=(replace(forged.envelope.signatures[0], keyid=""),)
        ),
    )
    assert [f.code for f in _check(Identity(IDENTITY), forged).failures] == ["signature.invalid"]


def test_signer_refuses_a_key_that_is_not_the_leaf_key() -> None:
    with pytest.raises(Exception, match="not the key of the leaf"):
        Signer(generate_key(), AUTHOR.chain)


def test_expired_certificate_at_verification_time_fails() -> None:
    result = _check(Identity(IDENTITY), at=NOW + timedelta(days=120))
    assert [f.code for f in result.failures] == ["certificate.expired"]


def test_certificate_not_yet_valid_at_verification_time_fails() -> None:
    result = _check(Identity(IDENTITY), at=NOW - timedelta(days=2))
    assert [f.code for f in result.failures] == ["certificate.not_yet_valid"]


def test_revoked_certificate_fails_unlogged_signature_checked_at_verification_time() -> None:
    authority = make_authority()
    author = certified_author(authority)
    revoke(
        authority,
        author.chain[0],
        reason=x509.ReasonFlags.key_compromise,
        now=NOW - timedelta(hours=1),
    )
    trust = authority_trust(authority, crl=build_crl(authority, now=NOW - timedelta(minutes=30)))
    result = _check(Identity(IDENTITY), sign(author.key, chain=author.chain), trust)
    assert [f.code for f in result.failures] == ["certificate.revoked"]
    assert (
        f"{author.chain[0].serial_number:x}" in result.failures[0].message.lower()
        or str(author.chain[0].serial_number) in result.failures[0].message
    )


def test_verify_raises_policy_error_for_wrong_identity() -> None:
    with pytest.raises(PolicyError) as info:
        Verifier(TRUST).verify(REVIEW, BUNDLE, Identity("https://reviews.example/u/1"), at=NOW)
    assert info.value.code == "policy.identity.mismatch"
