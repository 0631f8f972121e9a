"""Every policy of the library is reachable from its JSON form and, where it makes sense, from the
CLI options; claim values are typed by one documented rule; bad policies are policy.malformed."""

from __future__ import annotations

from typing import Any

import pytest

from cli.policy_options import parse_claim
from provenance.errors import PolicyError
from provenance.verify.policy import (
    MAX_ANY_OF_MEMBERS,
    RequireClaim,
    policy_from_json,
)
from provenance.verify.verifier import Verifier
from tests.adversarial.attack import AUTHOR, CERT_TRUST, CERTIFIED
from tests.factories import IDENTITY, NOW, REVIEW, sign

OTHER = "https://reviews.example/u/1"


def _codes(policy: dict[str, Any], bundle: object = CERTIFIED) -> list[str]:
    result = Verifier(CERT_TRUST).check(REVIEW, bundle, policy_from_json(policy), at=NOW)  # type: ignore[arg-type]
    return [f.code for f in result.failures]


def test_any_of_in_the_json_form_holds_when_one_member_holds() -> None:
    assert _codes({"anyOf": [{"identity": OTHER}, {"identity": IDENTITY}]}) == []
    assert _codes({"anyOf": [{"identity": OTHER}, {"identityRegex": ".*/u/1"}]}) == [
        "policy.identity.mismatch"
    ]


def test_any_of_with_an_identity_free_member_does_not_constrain_identity() -> None:
    policy = {"anyOf": [{"identity": IDENTITY}, {"requiredClaims": {"verifiedPurchase": True}}]}
    assert _codes(policy) == ["policy.identity.required"]


def test_max_age_in_the_json_form_fails_closed_without_a_log() -> None:
    assert _codes({"identity": IDENTITY, "maxAgeSeconds": 3600}) == ["policy.age.unproven"]


@pytest.mark.parametrize(
    "policy",
    [
        {"anyOf": []},
        {"anyOf": [{"identity": IDENTITY}] * (MAX_ANY_OF_MEMBERS + 1)},
        {"anyOf": {"identity": IDENTITY}},
        {"anyOf": [{"anyOf": [{"anyOf": [{"anyOf": [{"identity": IDENTITY}]}]}]}]},
        {"anyOf": [{"identity": IDENTITY, "colour": "red"}]},
        {"unsafeAnyIdentity": "yes"},
        {"identityRegex": "(a"},
        {"issuer": "Reviews Example Issuing CA"},
        {"maxAgeSeconds": -1},
        {"maxAgeSeconds": 1.5},
        {"requiredClaims": {"n": 1.5}},
        {"requiredClaims": []},
    ],
    ids=[
        "empty-any-of",
        "too-many-members",
        "any-of-not-a-list",
        "nested-too-deep",
        "unknown-field-in-a-member",
        "unsafe-not-boolean",
        "bad-pattern",
        "issuer-name-not-pin",
        "negative-age",
        "fractional-age",
        "fractional-claim",
        "claims-not-object",
    ],
)
def test_bad_json_policy_is_malformed(policy: dict[str, Any]) -> None:
    with pytest.raises(PolicyError) as raised:
        policy_from_json(policy)
    assert raised.value.code == "policy.malformed"


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("n", RequireClaim("n")),
        ("n=3", RequireClaim("n", 3)),
        ("n=-3", RequireClaim("n", -3)),
        ('n="3"', RequireClaim("n", "3")),
        ("n=true", RequireClaim("n", True)),
        ('n="true"', RequireClaim("n", "true")),
        ("n=hello", RequireClaim("n", "hello")),
        ("n=", RequireClaim("n", "")),
        ("n=03", RequireClaim("n", "03")),  # not JSON: a leading zero
        ("n=a=b", RequireClaim("n", "a=b")),
    ],
)
def test_require_claim_values_are_typed_by_the_json_rule(
    option: str, expected: RequireClaim
) -> None:
    got = parse_claim(option)
    assert (got.name, got.value, type(got.value)) == (
        expected.name,
        expected.value,
        type(expected.value),
    )


@pytest.mark.parametrize("option", ["n=3.5", "n=1e3", "n=null", "n=[1]", 'n={"a":1}', "=3"])
def test_require_claim_values_of_other_json_types_are_malformed(option: str) -> None:
    with pytest.raises(PolicyError) as raised:
        parse_claim(option)
    assert raised.value.code == "policy.malformed"


def test_integer_claim_is_required_as_an_integer() -> None:
    bundle = sign(AUTHOR.key, chain=AUTHOR.chain, claims={"stars": 5})
    assert _codes({"identity": IDENTITY, "requiredClaims": {"stars": 5}}, bundle) == []
    required = [RequireClaim("stars", 5), RequireClaim("stars", "5")]
    assert [parse_claim("stars=5"), parse_claim('stars="5"')] == required
    assert _codes({"identity": IDENTITY, "requiredClaims": {"stars": "5"}}, bundle) == [
        "policy.claim.mismatch"
    ]
