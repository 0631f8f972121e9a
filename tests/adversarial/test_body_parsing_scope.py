"""Attacker review 2026-12-03, F9: the strict JSON pass parsed any ``application/json`` body up to
the 1 MiB cap for any path, routes that do not exist and routes that take no JSON included, and
before the API key was checked (about 200 ms of CPU, then 404 or 401). It now parses only the
bodies of routes that exist and take JSON, and for routes that need a key only once the key passed;
the value it decodes is still the one the route uses (one parse per request).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import starlette.requests

from provenance.encoding import loads_strict
from tests.integration.api.conftest import Api, open_api
from tests.integration.api.support import make_home, sign_body
from verifier_api import limits as limits_module

LARGE_JSON = b"[" + b"0," * 200_000 + b"0]"
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    home = make_home(tmp_path_factory.mktemp("publisher") / "home")
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'provenance.db'}"
    yield from open_api(home, url, rate_limit_per_minute=100_000)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the bodies the strict JSON pass decodes."""
    seen: list[int] = []
    original = loads_strict

    def counted(data: bytes, *args: Any, **kwargs: Any) -> Any:
        seen.append(len(data))
        return original(data, *args, **kwargs)

    monkeypatch.setattr(limits_module, "loads_strict", counted)
    return seen


@pytest.mark.parametrize("path", ["/nowhere", "/v1/verify/nothing", "/healthz", "/verify"])
def test_a_json_body_to_a_route_that_takes_none_is_never_parsed(
    api: Api, parses: list[int], path: str
) -> None:
    response = api.client.post(path, content=LARGE_JSON, headers=JSON)
    assert response.status_code < 500
    assert parses == []


def test_a_json_body_sent_with_the_wrong_method_is_never_parsed(
    api: Api, parses: list[int]
) -> None:
    response = api.client.put("/v1/verify", content=LARGE_JSON, headers=JSON)
    assert response.status_code == 405
    assert parses == []


@pytest.mark.parametrize(
    "authorization", [None, "Bearer prov_nosuchkey_secret", "Bearer not-a-key", "Basic abc"]
)
@pytest.mark.parametrize("path", ["/v1/verify", "/v1/verify/batch", "/v1/sign"])
def test_a_json_body_without_a_valid_key_is_refused_before_it_is_parsed(
    api: Api, parses: list[int], path: str, authorization: str | None
) -> None:
    headers = JSON | ({"Authorization": authorization} if authorization else {})
    response = api.client.post(path, content=LARGE_JSON, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "auth.required"
    assert parses == []


def test_a_revoked_key_or_a_key_of_another_scope_gets_no_parse(api: Api, parses: list[int]) -> None:
    revoked = api.client.post(
        "/v1/verify", content=LARGE_JSON, headers=JSON | api.keys.header("revoked")
    )
    other_scope = api.client.post(
        "/v1/sign", content=LARGE_JSON, headers=JSON | api.keys.header("verify")
    )
    assert (revoked.status_code, other_scope.status_code) == (401, 403)
    assert parses == []


def test_a_keyed_request_is_parsed_once_and_strictly(api: Api, parses: list[int]) -> None:
    duplicate = b'{"content": "a", "content": "b"}'
    response = api.client.post(
        "/v1/sign", content=duplicate, headers=JSON | api.keys.header("sign")
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "request.invalid"
    signed = api.client.post("/v1/sign", json=sign_body(), headers=api.keys.header("sign"))
    assert signed.status_code == 200, signed.text
    assert len(parses) == 2


def test_the_route_uses_the_value_the_strict_pass_decoded(
    api: Api, parses: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One parse per request: the framework's own JSON decoding never runs on /v1/verify."""
    framework: list[int] = []
    original = starlette.requests.Request.json

    async def counted(self: starlette.requests.Request) -> Any:
        framework.append(1)
        return await original(self)

    monkeypatch.setattr(starlette.requests.Request, "json", counted)
    response = api.client.post(
        "/v1/verify", json={"content": "x", "bundle": {}}, headers=api.keys.header("verify")
    )
    assert response.status_code in {200, 422}
    assert (len(parses), framework) == (1, [])
