"""Malformed requests get 4xx JSON with a code, never 500."""

from __future__ import annotations

import pytest

from tests.integration.api.conftest import Api
from tests.integration.api.support import REVIEW, sign_body

VALID_SIGN = sign_body()
CASES = [
    ("/v1/sign", b"{not json", "request.invalid"),
    ("/v1/sign", b"[1, 2]", "request.invalid"),
    ("/v1/sign", b"", "request.invalid"),
    ("/v1/verify", b'{"content": 5, "bundle": {}}', "request.invalid"),
    ("/v1/verify", b'{"content": "x", "bundle": "not an object"}', "request.invalid"),
    ("/v1/verify", b'{"contentBase64": "%%%", "bundle": {}}', "request.invalid"),
    ("/v1/verify", b'{"contentBase64": "YQ", "bundle": {}}', "request.invalid"),
    ("/v1/verify", b'{"content": "x", "contentBase64": "eA==", "bundle": {}}', "request.invalid"),
    ("/v1/verify", b'{"content": "x", "bundle": {}, "extra": 1}', "request.invalid"),
    ("/v1/verify", b'{"content": "x", "bundle": {}, "policy": {"nope": 1}}', "policy.malformed"),
    (
        "/v1/verify",
        b'{"content": "x", "bundle": {}, "policy": {"identity": 7}}',
        "policy.malformed",
    ),
    ("/v1/verify", b'{"content": "x", "content": "y", "bundle": {}}', "request.invalid"),
    (
        "/v1/verify",
        b'{"content": "x", "bundle": {"mediaType": 1, "mediaType": 2}}',
        "request.invalid",
    ),
    ("/v1/verify", b'{"content": "x", "bundle": {"n": NaN}}', "request.invalid"),
    (
        "/v1/verify",
        b'{"content": "x", "bundle": ' + b"[" * 200 + b"]" * 200 + b"}",
        "request.invalid",
    ),
    (
        "/v1/sign",
        b'{"content": "x", "contentType": "text/plain", "contentType": "image/png"}',
        "request.invalid",
    ),
    ("/v1/verify/batch", b'{"items": []}', "request.invalid"),
    ("/v1/verify/batch", b'{"items": {"a": 1}}', "request.invalid"),
]


@pytest.mark.parametrize(("path", "body", "code"), CASES)
def test_malformed_request_gets_4xx_json_with_a_code(
    api: Api, path: str, body: bytes, code: str
) -> None:
    response = api.client.post(
        path,
        content=body,
        headers=api.keys.header("admin" if path != "/v1/sign" else "sign")
        | {"Content-Type": "application/json"},
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["code"] == code


@pytest.mark.parametrize(
    "change",
    [
        {"author": {"accountId": "has space", "displayName": "D"}},
        {"author": {"accountId": "a" * 65, "displayName": "D"}},
        {"author": {"accountId": "ok", "displayName": ""}},
        {"author": {"accountId": "ok"}},
        {"contentType": "not a type"},
        {"claims": {"bad name!": True}},
        {"claims": {"nested": {"a": 1}}},
        {"claims": {"ok": "x" * 2000}},
        {"unknownField": 1},
    ],
)
def test_sign_refuses_invalid_submissions(api: Api, change: dict[str, object]) -> None:
    response = api.client.post(
        "/v1/sign", json=VALID_SIGN | change, headers=api.keys.header("sign")
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] in {"request.invalid", "statement.malformed"}


def test_bad_idempotency_key_is_refused(api: Api) -> None:
    headers = api.keys.header("sign") | {"Idempotency-Key": "spaces are not allowed"}
    response = api.client.post("/v1/sign", json=VALID_SIGN, headers=headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "request.invalid"


def test_unknown_route_and_method_are_json(api: Api) -> None:
    missing = api.client.get("/v1/nothing")
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "route.not_found")
    wrong = api.client.get("/v1/sign")
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (405, "method.not_allowed")


def test_malformed_content_length_is_refused(api: Api) -> None:
    response = api.client.post(
        "/v1/verify",
        content=b'{"content": "x", "bundle": {}}',
        headers=api.keys.header("verify") | {"Content-Length": "abc"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "request.malformed"


def test_verify_keeps_review_text_exact(api: Api) -> None:
    body = {"content": REVIEW, "bundle": {}}
    response = api.client.post("/v1/verify", json=body, headers=api.keys.header("verify"))
    assert response.status_code == 200


JSON_ROUTES = ["/v1/verify", "/v1/verify/batch", "/v1/sign", "/v1/certificates", "/v1/revocations"]


@pytest.mark.parametrize("path", JSON_ROUTES)
@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", None]
)
def test_wrong_content_type_is_415_naming_application_json(
    api: Api, path: str, content_type: str | None
) -> None:
    headers = api.keys.header("admin" if path not in {"/v1/sign"} else "sign")
    if content_type is not None:
        headers |= {"Content-Type": content_type}
    response = api.client.post(path, content=b'{"content": "x", "bundle": {}}', headers=headers)
    assert response.status_code == 415, response.text
    error = response.json()["error"]
    assert error["code"] == "request.unsupported_media_type"
    assert "application/json" in error["message"]


@pytest.mark.parametrize("path", JSON_ROUTES)
@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b'{"content": "x", "content": "y", "bundle": {}}', "application/json"),
        (b'{"n": NaN}', "application/json"),
        (b"[1, 2]", "application/json"),
        (b"", "application/json"),
        (b'{"content": "x"}', "text/plain"),
    ],
)
@pytest.mark.parametrize("key", ["none", "revoked", "garbage"])
def test_the_api_key_is_checked_before_the_body(
    api: Api, path: str, body: bytes, content_type: str, key: str
) -> None:
    headers = {"Content-Type": content_type}
    if key == "revoked":
        headers |= api.keys.header("revoked")
    elif key == "garbage":
        headers |= {"Authorization": "Bearer prov_nope_nope"}
    response = api.client.post(path, content=body, headers=headers)
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "auth.required"


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "Application/JSON", "application/x+json"]
)
def test_json_media_types_with_parameters_or_a_json_suffix_are_accepted(
    api: Api, content_type: str
) -> None:
    response = api.client.post(
        "/v1/verify",
        content=b'{"content": "x", "bundle": {}}',
        headers=api.keys.header("verify") | {"Content-Type": content_type},
    )
    assert response.status_code == 200, response.text
