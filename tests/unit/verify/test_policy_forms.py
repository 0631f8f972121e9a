"""Every policy of the library is reachable from its JSON form and, where it makes sense, from the
CLI options; claim values are typed by one documented rule; bad policies are policy.malformed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cli.policy_options import PolicyOptions, build_policy, parse_claim, policy_document
from provenance.bundle import Bundle
from provenance.errors import BundleFormatError, PolicyError
from provenance.verify.policy import POLICY_LIMITS, RequireClaim, policy_from_json
from provenance.verify.verifier import Verifier, refused_bundle
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
        {"anyOf": [{"identity": IDENTITY}] * (POLICY_LIMITS.max_any_of_members + 1)},
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


def test_cli_options_become_the_libraries_json_form() -> None:
    options = PolicyOptions(
        identity=IDENTITY,
        issuer="ab" * 32,
        claims=("verifiedPurchase=true", "stars=5", "seen"),
        require_fresh_crl=True,
        max_age=0,
    )
    assert options.to_json() == {
        "identity": IDENTITY,
        "issuer": "ab" * 32,
        "maxAgeSeconds": 0,
        "requiredClaims": {"verifiedPurchase": True, "stars": 5, "seen": None},
        "requireFreshCrl": True,
    }
    assert PolicyOptions(unsafe_any_identity=True).to_json() == {"unsafeAnyIdentity": True}
    assert PolicyOptions().to_json() == {}


def test_cli_options_and_the_json_form_give_the_same_verdicts() -> None:
    cases = [
        PolicyOptions(identity=IDENTITY),
        PolicyOptions(identity=OTHER),
        PolicyOptions(identity_regex=".*/u/1"),
        PolicyOptions(identity=IDENTITY, claims=("verifiedPurchase=false",)),
        PolicyOptions(claims=("verifiedPurchase",)),
        PolicyOptions(unsafe_any_identity=True),
    ]
    for options in cases:
        result = Verifier(CERT_TRUST).check(REVIEW, CERTIFIED, build_policy(options), at=NOW)
        assert [f.code for f in result.failures] == _codes(options.to_json()), options


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            PolicyOptions(identity=IDENTITY, unsafe_any_identity=True),
            "--unsafe-any-identity contradicts --identity/--identity-regex",
        ),
        (PolicyOptions(claims=("n=1", "n=true")), "--require-claim n is required with two values"),
        (
            PolicyOptions(max_age=POLICY_LIMITS.max_age_seconds + 1),
            "policy.maxAgeSeconds is at most",
        ),
        (PolicyOptions(identity_regex="("), "identity"),
    ],
)
def test_refused_cli_options_raise_policy_malformed_and_print_nothing(
    options: PolicyOptions, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(PolicyError) as raised:
        build_policy(options)
    assert raised.value.code == "policy.malformed"
    assert message in raised.value.message
    assert capsys.readouterr() == ("", "")


def test_a_policy_file_must_hold_with_the_options() -> None:
    document = policy_document(Path("p.json"), b'{"requiredClaims": {"verifiedPurchase": false}}')
    policy = build_policy(PolicyOptions(identity=IDENTITY), document)
    result = Verifier(CERT_TRUST).check(REVIEW, CERTIFIED, policy, at=NOW)
    assert [f.code for f in result.failures] == ["policy.claim.mismatch"]
    with pytest.raises(PolicyError) as raised:
        policy_document(Path("p.json"), b'{"identity": "a", "identity": "b"}')
    assert raised.value.code == "policy.malformed"


def test_refused_bundle_is_the_result_check_gives() -> None:
    policy = policy_from_json({"unsafeAnyIdentity": True})
    malformed = b'{"mediaType": "application/unknown"}'
    try:
        Bundle.from_bytes(malformed)
    except BundleFormatError as exc:
        error = exc
    assert refused_bundle(error, policy) == Verifier(CERT_TRUST).check(
        REVIEW, malformed, policy, at=NOW
    )
