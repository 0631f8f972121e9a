"""Findings of the attacker pass (issue-free, found by probing a running `prov serve`): each test
failed on main before its fix and asserts the exact status code."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import re2
from typer.testing import CliRunner

from cli.main import app
from provenance.errors import PolicyError
from provenance.verify.policy import policy_from_json
from tests.integration.api.conftest import Api, open_api
from tests.integration.api.support import REVIEW, make_home, sign_body
from tests.media_samples import tiny_png

# Past timedelta's range (999,999,999 days): 2^53 - 1 is a valid I-JSON integer.
HUGE_MAX_AGE_SECONDS = [2**53 - 1, 999_999_999_999_999]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    home = make_home(tmp_path_factory.mktemp("publisher") / "home")
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'provenance.db'}"
    yield from open_api(home, url, rate_limit_per_minute=100_000)


@pytest.fixture(scope="module")
def signed(api: Api) -> dict[str, Any]:
    response = api.client.post("/v1/sign", json=sign_body(), headers=api.keys.header("sign"))
    assert response.status_code == 200, response.text
    bundle: dict[str, Any] = response.json()["bundle"]
    return bundle


@pytest.mark.parametrize("seconds", HUGE_MAX_AGE_SECONDS)
def test_max_age_past_the_time_range_is_a_malformed_policy(seconds: int) -> None:
    with pytest.raises(PolicyError) as caught:
        policy_from_json({"unsafeAnyIdentity": True, "maxAgeSeconds": seconds})
    assert caught.value.code == "policy.malformed"


@pytest.mark.parametrize("seconds", HUGE_MAX_AGE_SECONDS)
def test_max_age_past_the_time_range_is_a_422_not_a_500(
    api: Api, signed: dict[str, Any], seconds: int
) -> None:
    policy = {"unsafeAnyIdentity": True, "maxAgeSeconds": seconds}
    body = {"content": REVIEW, "bundle": signed, "policy": policy}
    response = api.client.post("/v1/verify", json=body, headers=api.keys.header("verify"))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "policy.malformed"


@pytest.mark.parametrize("seconds", HUGE_MAX_AGE_SECONDS)
def test_cli_max_age_past_the_time_range_exits_2_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seconds: int
) -> None:
    monkeypatch.setenv("PROVENANCE_PASSPHRASE", "correct horse battery")
    runner = CliRunner()
    key, review = tmp_path / "author.key", tmp_path / "review.txt"
    review.write_text(REVIEW)
    assert runner.invoke(app, ["key", "generate", "--out", str(key)]).exit_code == 0
    assert runner.invoke(app, ["sign", str(review), "--key", str(key), "--text"]).exit_code == 0
    args = ["verify", str(review), "--key", f"{key}.pub", "--max-age", str(seconds)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "policy.malformed" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("seconds", HUGE_MAX_AGE_SECONDS)
def test_max_age_past_the_time_range_in_a_media_policy_is_a_422_not_a_500(
    api: Api, seconds: int
) -> None:
    policy = json.dumps({"unsafeAnyIdentity": True, "maxAgeSeconds": seconds})
    response = api.client.post(
        "/v1/verify/media",
        files={"file": ("photo.png", tiny_png(), "image/png")},
        data={"policy": policy},
        headers=api.keys.header("verify"),
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "policy.malformed"


def test_a_pattern_whose_program_is_costly_to_build_is_malformed() -> None:
    pattern = "(?i)(?:\\p{Greek}|\\p{Han}|\\p{Arabic}){1000}xy"
    with pytest.raises(PolicyError) as raised:
        policy_from_json({"identityRegex": pattern})
    assert raised.value.code == "policy.malformed"


def test_a_policy_with_more_identity_patterns_than_the_cap_is_malformed() -> None:
    members = [{"identityRegex": f"^https://a\\.example/u/{n}$"} for n in range(5)]
    with pytest.raises(PolicyError) as raised:
        policy_from_json({"anyOf": members})
    assert raised.value.code == "policy.malformed"
    assert policy_from_json({"anyOf": members[:4]}) is not None


def _distinct_patterns(item: int) -> dict[str, Any]:
    members = [
        {"identityRegex": f"^https://a\\.example/u/{item}-{n}[a-z]{{0,64}}$"} for n in range(4)
    ]
    return {"anyOf": members}


def _batch(items: list[dict[str, Any]], signed: dict[str, Any]) -> dict[str, Any]:
    return {"items": [{"content": REVIEW, "bundle": signed, "policy": p} for p in items]}


def test_a_batch_cannot_multiply_the_identity_pattern_budget_by_its_items(
    api: Api, signed: dict[str, Any]
) -> None:
    body = _batch([_distinct_patterns(item) for item in range(3)], signed)
    response = api.client.post("/v1/verify/batch", json=body, headers=api.keys.header("verify"))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "policy.malformed"
    within = _batch([_distinct_patterns(0), _distinct_patterns(1)], signed)
    response = api.client.post("/v1/verify/batch", json=within, headers=api.keys.header("verify"))
    assert response.status_code == 200, response.text


def test_a_batch_compiles_a_policy_its_items_share_once(
    api: Api, signed: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled: list[str] = []
    real_compile = re2.compile

    def counting_compile(pattern: str, *args: Any) -> Any:
        compiled.append(pattern)
        return real_compile(pattern, *args)

    monkeypatch.setattr(re2, "compile", counting_compile)
    body = _batch([_distinct_patterns(7)] * 32, signed)
    response = api.client.post("/v1/verify/batch", json=body, headers=api.keys.header("verify"))
    assert response.status_code == 200, response.text
    assert len(response.json()["results"]) == 32
    assert len(compiled) == 4, f"{len(compiled)} patterns compiled for one shared policy"
