"""Attacker review (attack_parse), root path: behind ``uvicorn --root-path /api`` the scope's
``path`` is the root path and the app's path (``/api/v1/sign``). The request gate looked the path
up in its table of the app's own paths, found nothing, and so skipped strict JSON (the framework's
lenient parser read the body: duplicate ``claims`` keys were signed, the last one winning) and the
parse-after-the-key rule. Routing decisions now use the path below the root path (as Starlette
routes), and a JSON route the gate did not parse still gets strict JSON (fail closed).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI, params
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel
from starlette._utils import get_route_path

from tests.integration.api.conftest import Api, open_api
from tests.integration.api.support import make_home, sign_body
from verifier_api.errors import install_error_handlers
from verifier_api.limits import ParsedJsonRoute, route_path

ROOT = "/api"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    home = make_home(tmp_path_factory.mktemp("publisher") / "home")
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'provenance.db'}"
    yield from open_api(home, url, rate_limit_per_minute=100_000)


def _behind_root_path(app: Any) -> Any:
    """The app as uvicorn 0.55 calls it with ``--root-path /api``: ``path`` holds the prefix."""

    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            path = ROOT + scope["path"]
            scope = {**scope, "root_path": ROOT, "path": path, "raw_path": path.encode()}
        await app(scope, receive, send)

    return asgi


def _duplicate_claims_body() -> bytes:
    text = json.dumps(sign_body(claims={"verifiedPurchase": False}))
    return (text[:-1] + ', "claims": {"verifiedPurchase": true}}').encode()


def test_duplicate_keys_are_refused_behind_a_root_path(api: Api) -> None:
    client = TestClient(_behind_root_path(api.app))
    headers = api.keys.header("sign") | {"Content-Type": "application/json"}
    response = client.post("/v1/sign", content=_duplicate_claims_body(), headers=headers)
    assert response.status_code == 422, response.text[:300]
    assert response.json()["error"]["code"] == "request.invalid"
    assert "duplicate" in response.json()["error"]["message"]


def test_a_valid_sign_request_is_answered_behind_a_root_path(api: Api) -> None:
    client = TestClient(_behind_root_path(api.app))
    headers = api.keys.header("sign") | {"Content-Type": "application/json"}
    response = client.post("/v1/sign", json=sign_body(), headers=headers)
    assert response.status_code == 200, response.text[:300]


def test_a_body_without_a_key_is_not_parsed_behind_a_root_path(api: Api) -> None:
    client = TestClient(_behind_root_path(api.app))
    headers = {"Content-Type": "application/json"}
    response = client.post("/v1/sign", content=b"{not json", headers=headers)
    assert response.status_code == 401, response.text[:300]
    assert response.json()["error"]["code"] == "auth.required"


def test_an_unkeyed_json_route_is_strict_behind_a_root_path(api: Api) -> None:
    client = TestClient(_behind_root_path(api.app))
    body = b'{"bundle": {}, "bundle": {}, "content": "x"}'
    headers = api.keys.header("verify") | {"Content-Type": "application/json"}
    response = client.post("/v1/verify", content=body, headers=headers)
    assert response.status_code == 422, response.text[:300]
    assert response.json()["error"]["code"] == "request.invalid"


@pytest.mark.parametrize(
    ("path", "root"),
    [
        ("/v1/sign", ""),
        ("/api/v1/sign", "/api"),
        ("/api", "/api"),
        ("/apiv1/sign", "/api"),
        ("/v1/sign", "/api"),
        ("/api/", "/api"),
        ("", ""),
    ],
)
def test_the_route_path_is_the_one_starlette_routes_on(path: str, root: str) -> None:
    scope = {"type": "http", "path": path, "root_path": root}
    assert route_path(scope) == get_route_path(scope)


class _Body(BaseModel):
    value: int


def _app_with_a_route_the_gate_does_not_know() -> FastAPI:
    router = APIRouter(route_class=ParsedJsonRoute)

    @router.post("/unlisted")
    def unlisted(body: _Body) -> dict[str, int]:
        return {"value": body.value}

    app = FastAPI()
    app.include_router(router)
    install_error_handlers(app)
    return app


def test_a_json_route_the_gate_did_not_parse_refuses_duplicate_keys() -> None:
    client = TestClient(_app_with_a_route_the_gate_does_not_know())
    response = client.post(
        "/unlisted",
        content=b'{"value": 1, "value": 2}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text[:300]
    assert response.json()["error"]["code"] == "request.invalid"
    assert "duplicate" in response.json()["error"]["message"]


def test_a_json_route_the_gate_did_not_parse_still_takes_strict_json() -> None:
    client = TestClient(_app_with_a_route_the_gate_does_not_know())
    response = client.post(
        "/unlisted", content=b'{"value": 3}', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200
    assert response.json() == {"value": 3}


def _routes(routes: list[Any]) -> Iterator[Any]:
    """Every route, those of included routers too."""
    for route in routes:
        included = getattr(route, "original_router", None)
        yield from _routes(included.routes) if included is not None else (route,)


def test_every_json_route_of_the_app_parses_strictly(api: Api) -> None:
    json_routes = [
        route
        for route in _routes(api.app.routes)
        if isinstance(route, APIRoute)
        and route.body_field is not None
        and not isinstance(route.body_field.field_info, params.Form)
    ]
    assert json_routes
    assert all(isinstance(route, ParsedJsonRoute) for route in json_routes), [
        route.path for route in json_routes if not isinstance(route, ParsedJsonRoute)
    ]
