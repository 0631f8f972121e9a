"""The authorization matrix, the rate limit, the body cap, health and metrics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.api.conftest import Api, open_api
from tests.integration.api.support import REVIEW, sign_body

ANY_KEY = {"verify", "sign", "admin"}
PROTECTED = [
    ("/v1/verify", {"content": REVIEW, "bundle": {}}, ANY_KEY),
    ("/v1/verify/batch", {"items": [{"content": REVIEW, "bundle": {}}]}, ANY_KEY),
    ("/v1/sign", sign_body(), {"sign"}),
    ("/v1/certificates", {"csr": "x", "identity": "https://reviews.example/u/1"}, {"admin"}),
    ("/v1/revocations", {"serialNumber": "abc"}, {"admin"}),
]
PUBLIC = [
    "/healthz",
    "/readyz",
    "/metrics",
    "/v1/crl",
    "/.well-known/provenance/trust-root.json",
    "/v1/log/checkpoint",
    "/openapi.json",
]


@pytest.mark.parametrize(("path", "body", "allowed"), PROTECTED, ids=[p for p, _, _ in PROTECTED])
@pytest.mark.parametrize("key", ["none", "verify", "sign", "admin", "revoked", "garbage"])
def test_route_authorization(
    api: Api, path: str, body: dict[str, object], allowed: set[str], key: str
) -> None:
    headers = (
        {}
        if key == "none"
        else api.keys.header(key)
        if key != "garbage"
        else {"Authorization": "Bearer prov_nope_nope"}
    )
    response = api.client.post(path, json=body, headers=headers)
    if key in {"none", "revoked", "garbage"}:
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "auth.required"
        assert response.headers["WWW-Authenticate"] == "Bearer"
    elif key not in allowed:
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "auth.forbidden"
    else:
        assert response.status_code not in {401, 403, 500}, response.text


@pytest.mark.parametrize("path", PUBLIC)
def test_public_routes_need_no_key(api: Api, path: str) -> None:
    assert api.client.get(path).status_code == 200


@pytest.fixture(scope="module")
def tight(home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """An app with a rate limit of 3 per minute and a 4 KiB body cap."""
    url = f"sqlite:///{tmp_path_factory.mktemp('tight') / 'provenance.db'}"
    yield from open_api(home, url, rate_limit_per_minute=3, max_body_bytes=4096)


def test_rate_limit_answers_429_with_retry_after(tight: Api) -> None:
    headers = tight.keys.header("verify")
    statuses = [
        tight.client.post("/v1/verify", json={"content": "x", "bundle": {}}, headers=headers)
        for _ in range(4)
    ]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    assert statuses[-1].json()["error"]["code"] == "rate.limited"
    assert 1 <= int(statuses[-1].headers["Retry-After"]) <= 60
    other = tight.client.post(
        "/v1/verify", json={"content": "x", "bundle": {}}, headers=tight.keys.header("admin")
    )
    assert other.status_code == 200


def test_oversized_body_is_refused_before_parsing(tight: Api) -> None:
    body = b'{"content": "' + b"a" * 5000 + b'", "bundle": {}}'
    response = tight.client.post(
        "/v1/verify",
        content=body,
        headers=tight.keys.header("sign") | {"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request.too_large"


def test_oversized_streamed_body_is_refused(tight: Api) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"content": "'
        for _ in range(10):
            yield b"a" * 1000
        yield b'", "bundle": {}}'

    response = tight.client.post(
        "/v1/verify",
        content=chunks(),
        headers=tight.keys.header("sign") | {"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request.too_large"


def test_metrics_count_requests_by_route_template(api: Api) -> None:
    api.client.get("/v1/log/entries/0")
    text = api.client.get("/metrics").text
    assert 'route="/v1/log/entries/{index}"' in text
    assert "provenance_http_requests_total" in text


def test_logs_never_hold_full_api_keys(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    for _ in range(2):
        api.client.post("/v1/sign", json=sign_body(), headers=api.keys.header("sign"))
        api.client.post("/v1/sign", json=sign_body(), headers=api.keys.header("revoked"))
    secrets = [key.split("_")[2] for key in (api.keys.sign, api.keys.revoked)]
    assert not any(secret in caplog.text for secret in secrets)
