"""Attacker review (attack_svc): the fast form of ``POST /v1/verify`` built the request's policy
(RE2 compiles of up to 4 identity patterns, ~45-75 ms each) on the event loop before choosing
between the loop and the thread pool. A request with a policy is now built and verified in the
thread pool, as FastAPI's way does; one without a policy is still verified on the loop."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from provenance import policy_from_json
from tests.adversarial.service_requests import Served, recording, serve
from tests.integration.api.support import REVIEW
from verifier_api import fast_path, verification
from verifier_api.routes import verify as verify_route

PATTERN = r"(?i)(?:\p{Han}|\p{L}){50}"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve(tmp_path_factory)


def _post(served: Served, policy: object) -> dict[str, object]:
    document: dict[str, object] = {"content": REVIEW, "bundle": served.bundle}
    if policy is not None:
        document["policy"] = policy
    headers = served.api.keys.header("verify") | {"Content-Type": "application/json"}
    answer = served.api.client.post("/v1/verify", content=json.dumps(document), headers=headers)
    assert answer.status_code == 200, answer.text
    result: dict[str, object] = answer.json()
    return result


def test_fast_verify_builds_an_identity_pattern_policy_off_the_event_loop(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[bool] = []
    monkeypatch.setattr(
        f"{verification.__name__}.policy_from_json", recording(calls, policy_from_json)
    )
    _post(served, {"anyOf": [{"identityRegex": PATTERN + suffix} for suffix in "wxyz"]})
    assert calls == [False], "the policy's RE2 patterns were compiled on the event loop"


def test_fast_verify_with_a_policy_answers_as_the_framework_way(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    policies = [
        {"identityRegex": ".*"},
        {"identityRegex": PATTERN},
        {"anyOf": [{"identityRegex": "^nobody$"}]},
    ]
    fast = [_post(served, policy) for policy in policies]
    monkeypatch.setattr(fast_path, "_admitted", lambda _request, _shape: None)
    assert fast == [_post(served, policy) for policy in policies]


def test_fast_verify_refuses_a_malformed_policy_as_the_framework_way(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = {"content": REVIEW, "bundle": served.bundle, "policy": {"identityRegex": "("}}
    headers = served.api.keys.header("verify") | {"Content-Type": "application/json"}
    fast = served.api.client.post("/v1/verify", content=json.dumps(document), headers=headers)
    monkeypatch.setattr(fast_path, "_admitted", lambda _request, _shape: None)
    general = served.api.client.post("/v1/verify", content=json.dumps(document), headers=headers)
    assert fast.status_code == general.status_code == 422
    assert fast.json() == general.json()
    assert fast.json()["error"]["code"] == "policy.malformed"


def test_fast_verify_without_a_policy_stays_on_the_event_loop(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[bool] = []
    held = verification.verify_bundle_held
    monkeypatch.setattr(f"{verify_route.__name__}.verify_bundle_held", recording(calls, held))
    for _ in range(2):  # the first may read the CRL number (in the thread pool)
        calls.clear()
        assert _post(served, None)["verified"] is True
    assert calls == [True]
