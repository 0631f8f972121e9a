"""Hostile requests against the service, from anyone who can reach it: unbounded metrics labels,
input the JSON encoder cannot write back, and numbers past the exact range. Each answer is a 4xx
with a code, or a verdict, never a 500; nothing a client sends grows the service's state."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from provenance.tlog.tiles import TileId
from tests.integration.api.conftest import Api, open_api
from tests.integration.api.support import REVIEW, make_home, sign_body

LONE_SURROGATE = "\ud800"
DISTINCT_METHODS = 40
HUGE_METHOD_CHARS = 8000
MAX_NEW_SERIES = 3  # method "other" with 404 and 405, and the /metrics route itself


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One app on SQLite with a rate limit that this module cannot reach."""
    home = make_home(tmp_path_factory.mktemp("publisher") / "home")
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'provenance.db'}"
    yield from open_api(home, url, rate_limit_per_minute=100_000)


@pytest.fixture(scope="module")
def signed(api: Api) -> dict[str, Any]:
    """A genuine, logged bundle of the review, signed by the service."""
    response = api.client.post("/v1/sign", json=sign_body(), headers=api.keys.header("sign"))
    assert response.status_code == 200, response.text
    bundle: dict[str, Any] = response.json()["bundle"]
    return bundle


def _with_keyid(bundle: dict[str, Any], keyid: str) -> dict[str, Any]:
    edited: dict[str, Any] = json.loads(json.dumps(bundle))
    edited["dsseEnvelope"]["signatures"][0]["keyid"] = keyid
    return edited


def _post_raw(api: Api, path: str, body: dict[str, Any], scope: str = "verify") -> Any:
    """Post ``body`` as ASCII JSON, so a lone surrogate travels as its ``\\ud800`` escape."""
    headers = api.keys.header(scope) | {"Content-Type": "application/json"}
    return api.client.post(path, content=json.dumps(body).encode("ascii"), headers=headers)


# --- 12.10: metrics labels come from fixed sets --------------------------------------------------


def test_distinct_huge_methods_do_not_grow_the_metrics(api: Api) -> None:
    before = api.client.get("/metrics").text
    for number in range(DISTINCT_METHODS):
        method = f"M{number}" + "X" * HUGE_METHOD_CHARS
        response = api.client.request(method, f"/nowhere/{number}")
        assert response.status_code in {404, 405}
    after = api.client.get("/metrics").text
    assert "XXXXXXXX" not in after
    assert "/nowhere" not in after
    new_series = _series(after) - _series(before)
    assert len(new_series) <= MAX_NEW_SERIES, sorted(new_series)


def _series(exposition: str) -> set[str]:
    """The label sets of the request counter in a Prometheus text exposition (values dropped)."""
    return {
        line.rsplit(" ", 1)[0]
        for line in exposition.splitlines()
        if line.startswith("provenance_http_requests_total{")
    }


def test_metrics_label_methods_and_statuses_only_from_fixed_sets(api: Api) -> None:
    api.client.request("BREW", "/healthz")
    api.client.get("/healthz")
    text = api.client.get("/metrics").text
    lines = [line for line in text.splitlines() if line.startswith("provenance_http_requests")]
    assert any('method="GET"' in line and 'route="/healthz"' in line for line in lines)
    assert any('method="other"' in line for line in lines)
    assert not any("BREW" in line for line in lines)


# --- 12.11: input the encoder cannot write back ---------------------------------------------------


def test_lone_surrogate_keyid_of_a_genuine_bundle_is_a_verdict_not_a_500(
    api: Api, signed: dict[str, Any]
) -> None:
    body = {"content": REVIEW, "bundle": _with_keyid(signed, LONE_SURROGATE)}
    response = _post_raw(api, "/v1/verify", body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["verified"] is False
    assert [f["code"] for f in result["findings"] if not f["ok"]] == ["bundle.malformed"]


def test_lone_surrogate_in_one_batch_item_fails_that_item_alone(
    api: Api, signed: dict[str, Any]
) -> None:
    good = {"content": REVIEW, "bundle": signed}
    bad = {"content": REVIEW, "bundle": _with_keyid(signed, LONE_SURROGATE)}
    response = _post_raw(api, "/v1/verify/batch", {"items": [good, bad, good]})
    assert response.status_code == 200, response.text
    assert [r["verified"] for r in response.json()["results"]] == [True, False, True]


@pytest.mark.parametrize(
    "policy",
    [
        {"identity": LONE_SURROGATE},
        {"identityRegex": LONE_SURROGATE},
        {"issuer": LONE_SURROGATE, "unsafeAnyIdentity": True},
        {"requiredClaims": {LONE_SURROGATE: True}, "unsafeAnyIdentity": True},
    ],
)
def test_lone_surrogate_in_a_policy_never_gives_a_500(
    api: Api, signed: dict[str, Any], policy: dict[str, Any]
) -> None:
    body = {"content": REVIEW, "bundle": signed, "policy": policy}
    response = _post_raw(api, "/v1/verify", body)
    assert response.status_code in {200, 422}, response.text
    if response.status_code == 200:
        assert response.json()["verified"] is False


def test_lone_surrogate_in_the_content_is_refused_as_invalid(
    api: Api, signed: dict[str, Any]
) -> None:
    response = _post_raw(api, "/v1/verify", {"content": LONE_SURROGATE, "bundle": signed})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "request.invalid"


@pytest.mark.parametrize(
    "change",
    [
        {"content": LONE_SURROGATE},
        {"author": {"accountId": "a1", "displayName": LONE_SURROGATE}},
        {"claims": {"note": LONE_SURROGATE}},
    ],
)
def test_lone_surrogate_in_a_sign_request_is_refused_not_a_500(
    api: Api, change: dict[str, Any]
) -> None:
    response = _post_raw(api, "/v1/sign", sign_body() | change, scope="sign")
    assert response.status_code == 422, response.text


def test_lone_surrogate_keyid_uploaded_to_the_web_page_shows_a_verdict(
    api: Api, signed: dict[str, Any]
) -> None:
    bundle = json.dumps(_with_keyid(signed, LONE_SURROGATE)).encode("ascii")
    files = {"content": ("review.txt", REVIEW.encode()), "bundle": ("b.json", bundle)}
    response = api.client.post("/verify/upload", files=files)
    assert response.status_code == 200, response.text
    assert "bundle.malformed" in response.text


# --- 12.12: numbers past the exact range ----------------------------------------------------------


@pytest.mark.parametrize("number", [2**53, -(2**53), 2**63, 10**39])
def test_sign_with_a_claim_integer_past_2_53_is_a_422(api: Api, number: int) -> None:
    body = sign_body(claims={"purchases": number})
    response = api.client.post("/v1/sign", json=body, headers=api.keys.header("sign"))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] in {"statement.malformed", "request.invalid"}


def test_sign_with_a_claim_integer_at_2_53_minus_1_is_signed(api: Api) -> None:
    body = sign_body(claims={"purchases": 2**53 - 1})
    response = api.client.post("/v1/sign", json=body, headers=api.keys.header("sign"))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "path",
    [
        TileId(0, 2**63).path,
        TileId(0, 2**64 + 5).path,
        TileId(5, 2**63, 3).path,
        TileId(0, 2**63).entries_path,
        TileId(0, 10**30, 7).entries_path,
    ],
)
def test_tile_index_past_2_63_is_a_404(api: Api, path: str) -> None:
    response = api.client.get(f"/v1/log/{path}")
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "log.not_found"


def test_entry_and_proof_indices_past_2_53_are_4xx(api: Api) -> None:
    for path in (
        f"/v1/log/entries/{2**63}",
        f"/v1/log/proofs/inclusion?index={2**64}",
        f"/v1/log/proofs/consistency?first={2**70}",
    ):
        response = api.client.get(path)
        assert 400 <= response.status_code < 500, (path, response.text)
