"""Sign at submission, verify server side and offline, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
from typing import Any

from tests.integration.api.conftest import Api
from tests.integration.api.support import (
    BASE_URL,
    REVIEW,
    SERVICE_IDENTITY,
    TAMPERED,
    sign_body,
    verify_offline,
)


def _sign(api: Api, **extra: Any) -> dict[str, Any]:
    response = api.client.post("/v1/sign", json=sign_body(**extra), headers=api.keys.header("sign"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _verify(api: Api, content: str, bundle: dict[str, Any], **extra: Any) -> dict[str, Any]:
    body = {"content": content, "bundle": bundle, **extra}
    response = api.client.post("/v1/verify", json=body, headers=api.keys.header("verify"))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_signed_review_verifies_offline_against_the_served_trust_root(api: Api) -> None:
    signed = _sign(api)
    trust = api.client.get("/.well-known/provenance/trust-root.json")
    assert trust.status_code == 200
    result = verify_offline(trust.content, REVIEW, signed["bundle"])
    assert result.verified, result.failures
    assert [p.index for p in result.log_proofs] == [signed["logIndex"]]
    assert result.statement is not None
    author = result.statement.predicate.author
    assert author is not None and author.id == f"{BASE_URL}/u/8841"
    assert result.statement.predicate.publisher == "Reviews Example"
    assert signed["authorId"] == f"{BASE_URL}/u/8841"
    assert signed["canonicalization"] == "text-v1"


def test_verify_route_accepts_the_signed_review(api: Api) -> None:
    signed = _sign(api)
    result = _verify(api, REVIEW, signed["bundle"])
    assert result["verified"] is True
    assert result["signer"]["identities"] == [SERVICE_IDENTITY]
    assert result["claims"] == {"verifiedPurchase": True}
    assert result["timeSource"] == "log"


def test_verify_reports_tampered_review_as_digest_mismatch(api: Api) -> None:
    signed = _sign(api)
    result = _verify(api, TAMPERED, signed["bundle"])
    assert result["verified"] is False
    failed = [f["code"] for f in result["findings"] if not f["ok"]]
    assert failed == ["digest.mismatch"]


def test_verify_applies_the_callers_policy(api: Api) -> None:
    signed = _sign(api)
    other = {"identity": f"{BASE_URL}/u/someone-else"}
    result = _verify(api, REVIEW, signed["bundle"], policy=other)
    assert result["verified"] is False
    assert [f["code"] for f in result["findings"] if not f["ok"]] == ["policy.identity.mismatch"]
    claims = {"requiredClaims": {"verifiedPurchase": True}, "identity": SERVICE_IDENTITY}
    assert _verify(api, REVIEW, signed["bundle"], policy=claims)["verified"] is True


def test_verify_reports_malformed_bundle_as_not_verified(api: Api) -> None:
    result = _verify(api, REVIEW, {"mediaType": "application/unknown"})
    assert result["verified"] is False
    assert result["findings"][0]["ok"] is False
    assert result["findings"][0]["step"] == "parse"


def test_sign_binary_content_uses_exact_bytes(api: Api) -> None:
    data = bytes(range(256))
    body = sign_body() | {"contentType": "application/octet-stream"}
    del body["content"]
    body["contentBase64"] = base64.b64encode(data).decode()
    response = api.client.post("/v1/sign", json=body, headers=api.keys.header("sign"))
    assert response.status_code == 200, response.text
    signed = response.json()
    assert signed["canonicalization"] == "none"
    check = {"contentBase64": body["contentBase64"], "bundle": signed["bundle"]}
    response = api.client.post("/v1/verify", json=check, headers=api.keys.header("verify"))
    assert response.json()["verified"] is True


def test_verify_batch_returns_results_in_order(api: Api) -> None:
    signed = _sign(api)
    items = [
        {"content": REVIEW, "bundle": signed["bundle"]},
        {"content": TAMPERED, "bundle": signed["bundle"]},
    ]
    response = api.client.post(
        "/v1/verify/batch", json={"items": items}, headers=api.keys.header("verify")
    )
    assert response.status_code == 200, response.text
    assert [r["verified"] for r in response.json()["results"]] == [True, False]


def test_verify_batch_refuses_more_items_than_configured(api: Api) -> None:
    limit = api.service.settings.max_batch_items
    item = {"content": REVIEW, "bundle": {}}
    response = api.client.post(
        "/v1/verify/batch", json={"items": [item] * (limit + 1)}, headers=api.keys.header("verify")
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "batch.too_large"


def test_sign_with_same_idempotency_key_returns_the_first_bundle(api: Api) -> None:
    headers = api.keys.header("sign") | {"Idempotency-Key": "review-77"}
    first = api.client.post("/v1/sign", json=sign_body(), headers=headers)
    again = api.client.post("/v1/sign", json=sign_body(), headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    other = api.client.post("/v1/sign", json=sign_body(content="Other.\n"), headers=headers)
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency.conflict"


def test_sign_refuses_non_utf8_text(api: Api) -> None:
    body = sign_body()
    del body["content"]
    body["contentBase64"] = base64.b64encode(b"\xff\xfe bad").decode()
    response = api.client.post("/v1/sign", json=body, headers=api.keys.header("sign"))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "content.not_canonicalizable"
