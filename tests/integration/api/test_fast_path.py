"""The fast way of ``/v1/verify`` and ``/v1/sign`` answers as FastAPI's way does (issue 14).

Two apps over one database and one set of keys: one as served (the fast way on), one whose
requests all go FastAPI's way (the fast way's admission answering None). Each request of a matrix (keys, scopes, media types,
bodies valid, invalid and not strict, policies, the rate limit) gets the same status, headers and
body from both; the fast way is taken only where it applies, and verifies on the event loop only
when nothing in the verification can wait on I/O.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fastapi.routing
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from provenance import DecodedBundle
from provenance.bundle import Bundle
from tests.integration.api.conftest import Api, Keys, make_keys
from tests.integration.api.support import (
    PASSPHRASE,
    REVIEW,
    SERVICE_IDENTITY,
    TAMPERED,
    sign_body,
)
from verifier_api import fast_path, verification
from verifier_api.app import create_app
from verifier_api.routes import verify as verify_route
from verifier_api.settings import HTTP_LIMITS, Settings

JSON = "application/json"


class _FrameworkWay:
    """A client whose requests all go FastAPI's way (the routes are shared by every app, so the
    fast way is turned off around each request)."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def post(self, path: str, **kwargs: Any) -> Any:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(fast_path, "_admitted", lambda _request, _shape: None)
            return self.client.post(path, **kwargs)


@dataclasses.dataclass(frozen=True)
class Pair:
    """The app as served, and another over the same database answering FastAPI's way."""

    fast: TestClient
    general: _FrameworkWay
    keys: Keys
    fast_api: Api


def _app(home: Path, url: str, **limits: object) -> Any:
    settings = Settings(
        home=home,
        database_url=url,
        passphrase=SecretStr(PASSPHRASE),
        **limits,  # type: ignore[arg-type]
    )
    return create_app(settings)


def _pair(home: Path, url: str, **limits: object) -> Iterator[Pair]:
    fast_app, general_app = _app(home, url, **limits), _app(home, url, **limits)
    with TestClient(fast_app) as fast, TestClient(general_app) as general:
        keys = make_keys(fast_app.state.service)
        yield Pair(fast, _FrameworkWay(general), keys, Api(fast_app, fast, keys))


@pytest.fixture(scope="module")
def pair(home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    url = f"sqlite:///{tmp_path_factory.mktemp('fast') / 'provenance.db'}"
    yield from _pair(home, url, rate_limit_per_minute=100_000, crl_check_seconds=300)


@pytest.fixture(scope="module")
def bundle(pair: Pair) -> dict[str, Any]:
    response = pair.fast.post("/v1/sign", json=sign_body(), headers=pair.keys.header("sign"))
    assert response.status_code == 200, response.text
    signed: dict[str, Any] = response.json()["bundle"]
    return signed


def _same(pair: Pair, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """Send the request to both apps; assert the same status, headers and body; return them."""
    answers = [
        client.post(path, content=body, headers=headers) for client in (pair.fast, pair.general)
    ]
    fast, general = answers
    assert (fast.status_code, fast.content) == (general.status_code, general.content)
    assert sorted(fast.headers.items()) == sorted(general.headers.items())
    return fast.status_code, fast.content


def _verify_body(bundle: dict[str, Any], **fields: Any) -> bytes:
    return json.dumps({"content": REVIEW, "bundle": bundle, **fields}).encode()


BODIES: dict[str, Callable[[dict[str, Any]], bytes]] = {
    "plain": _verify_body,
    "service policy": lambda b: _verify_body(b, policy={"identity": SERVICE_IDENTITY}),
    "other identity": lambda b: _verify_body(b, policy={"identity": "https://else.example/u/1"}),
    "malformed policy": lambda b: _verify_body(b, policy={"identity": 5}),
    "unknown policy field": lambda b: _verify_body(b, policy={"nope": True}),
    "tampered": lambda b: json.dumps({"content": TAMPERED, "bundle": b}).encode(),
    "base64 content": lambda b: json.dumps(
        {"contentBase64": base64.b64encode(REVIEW.encode()).decode(), "bundle": b}
    ).encode(),
    "empty bundle": lambda _: _verify_body({}),
    "unknown media type": lambda _: _verify_body({"mediaType": "application/unknown"}),
    "missing bundle": lambda _: json.dumps({"content": REVIEW}).encode(),
    "extra field": lambda b: _verify_body(b, extra=1),
    "content not a string": lambda b: json.dumps({"content": 5, "bundle": b}).encode(),
    "a list": lambda _: b"[]",
    "a string": lambda _: b'"x"',
    "duplicate key": lambda b: _verify_body(b)[:-1] + b', "content": "x"}',
    "not json": lambda _: b"{",
    "NaN": lambda b: _verify_body(b)[:-1] + b', "n": NaN}',
    "empty": lambda _: b"",
    "lone surrogate": lambda b: json.dumps({"content": "\ud800", "bundle": b}).encode(),
}


@pytest.mark.parametrize("name", list(BODIES))
@pytest.mark.parametrize("media_type", [JSON, "application/json; charset=utf-8", "text/plain"])
def test_verify_answers_each_body_as_the_framework_does(
    pair: Pair, bundle: dict[str, Any], name: str, media_type: str
) -> None:
    headers = pair.keys.header("verify") | {"Content-Type": media_type}
    status, _ = _same(pair, "/v1/verify", BODIES[name](bundle), headers)
    assert status < 500


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer",
        "Bearer prov_nope_nope",
        "Basic dXNlcjpwYXNz",
        "revoked",
        "verify",
        "log",
        "sign",
        "admin",
        "bearer {verify}",
        "Bearer   {verify}  ",
        "BEARER {admin}",
    ],
)
def test_verify_answers_each_key_as_the_framework_does(
    pair: Pair, bundle: dict[str, Any], authorization: str | None
) -> None:
    headers = {"Content-Type": JSON}
    if authorization is not None:
        scopes = dataclasses.asdict(pair.keys)
        named = scopes.get(authorization)
        text = f"Bearer {named}" if named else authorization.format(**scopes)
        headers["Authorization"] = text
    _same(pair, "/v1/verify", _verify_body(bundle), headers)


@pytest.mark.parametrize(
    "media_type",
    [JSON, "application/json; charset=utf-8", "application/problem+json", "APPLICATION/JSON"],
)
def test_other_json_media_types_answer_as_the_framework_does(
    pair: Pair, bundle: dict[str, Any], media_type: str
) -> None:
    headers = pair.keys.header("verify") | {"Content-Type": media_type}
    status, content = _same(pair, "/v1/verify", _verify_body(bundle), headers)
    assert (status, json.loads(content)["verified"]) == (200, True)


@pytest.mark.parametrize("key", ["sign", "verify", "admin", "none"])
@pytest.mark.parametrize(
    "body",
    [
        sign_body(),
        sign_body(account="bad account!"),
        sign_body(contentType="nope"),
        {**sign_body(), "extra": 1},
        {"content": REVIEW},
    ],
)
def test_sign_answers_as_the_framework_does(pair: Pair, key: str, body: dict[str, Any]) -> None:
    headers = {"Content-Type": JSON} | ({} if key == "none" else pair.keys.header(key))
    answers = [
        client.post("/v1/sign", json=body, headers=headers) for client in (pair.fast, pair.general)
    ]
    fast, general = answers
    assert fast.status_code == general.status_code
    if fast.status_code != 200:
        assert fast.content == general.content
        return
    first, second = fast.json(), general.json()
    assert set(first) == set(second)
    signed = [Bundle.from_json(answer["bundle"]) for answer in (first, second)]
    assert [s.tlog_entries[0].log_index for s in signed] == [first["logIndex"], second["logIndex"]]
    for field in ("contentSha256", "canonicalization", "authorId"):
        assert first[field] == second[field]


def test_sign_with_an_idempotency_key_goes_the_framework_way(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    solved = _count_solved(monkeypatch)
    headers = pair.keys.header("sign") | {"Idempotency-Key": "fast-path-1"}
    first = pair.fast.post("/v1/sign", json=sign_body(), headers=headers)
    again = pair.fast.post("/v1/sign", json=sign_body(), headers=headers)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.json() == again.json()
    assert len(solved) == 2


def _count_solved(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The requests FastAPI solved the dependencies of (its way), from now on."""
    solved: list[object] = []
    original = fastapi.routing.solve_dependencies  # type: ignore[attr-defined]

    async def counted(*args: Any, **kwargs: Any) -> Any:
        solved.append(kwargs.get("request"))
        return await original(*args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counted)
    return solved


def test_the_common_request_takes_the_fast_way_and_others_the_framework_way(
    pair: Pair, bundle: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    solved = _count_solved(monkeypatch)
    headers = pair.keys.header("verify") | {"Content-Type": JSON}
    assert pair.fast.post("/v1/verify", content=_verify_body(bundle), headers=headers).json()[
        "verified"
    ]
    assert pair.fast.post("/v1/sign", json=sign_body(), headers=pair.keys.header("sign")).is_success
    assert solved == []
    pair.fast.post("/v1/verify", content=b"[]", headers=headers)  # invalid: FastAPI answers
    pair.fast.post("/v1/verify", content=_verify_body(bundle), headers={"Content-Type": JSON})
    pair.general.post("/v1/verify", content=_verify_body(bundle), headers=headers)
    assert len(solved) == 3


def test_the_rate_limit_counts_each_request_once_either_way(
    home: Path, tmp_path: Path, bundle: dict[str, Any]
) -> None:
    for pair in _pair(home, f"sqlite:///{tmp_path / 'provenance.db'}", rate_limit_per_minute=4):
        headers = pair.keys.header("verify") | {"Content-Type": JSON}
        bodies = [_verify_body(bundle), b"[]", _verify_body(bundle), _verify_body(bundle)]
        for body in [*bodies, _verify_body(bundle)]:
            statuses = [
                client.post("/v1/verify", content=body, headers=headers).status_code
                for client in (pair.fast, pair.general)
            ]
            assert statuses[0] == statuses[1]
        last = pair.fast.post("/v1/verify", content=_verify_body(bundle), headers=headers)
        assert (last.status_code, last.json()["error"]["code"]) == (429, "rate.limited")
        assert "Retry-After" in last.headers


def _record_loop(calls: list[tuple[str, bool]], name: str, real: Callable[..., Any]) -> Any:
    def recording(*args: Any, **kwargs: Any) -> Any:
        try:
            asyncio.get_running_loop()
            on_loop = True
        except RuntimeError:
            on_loop = False
        answer = real(*args, **kwargs)
        calls.append((name if answer is not None else f"{name}: none", on_loop))
        return answer

    return recording


def test_verification_runs_on_the_loop_only_when_nothing_waits_on_io(
    pair: Pair, bundle: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, bool]] = []
    held, general = verification.verify_bundle_held, verification.verify_bundle
    monkeypatch.setattr(verify_route, "verify_bundle_held", _record_loop(calls, "held", held))
    monkeypatch.setattr(verify_route, "verify_bundle", _record_loop(calls, "thread", general))
    headers = pair.keys.header("verify") | {"Content-Type": JSON}
    for _ in range(2):  # the first may read the CRL number (in the thread pool)
        calls.clear()
        pair.fast.post("/v1/verify", content=_verify_body(bundle), headers=headers)
    assert calls == [("held", True)]
    calls.clear()
    padding = "x" * HTTP_LIMITS.max_inline_verify_bytes
    large = pair.fast.post("/v1/verify", content=_verify_body(bundle, p=padding), headers=headers)
    assert large.status_code == 422  # an unknown field, refused by the model
    calls.clear()
    large_content = json.dumps({"content": REVIEW + padding, "bundle": bundle}).encode()
    answer = pair.fast.post("/v1/verify", content=large_content, headers=headers)
    assert (answer.status_code, answer.json()["verified"]) == (200, False)
    assert calls == [("thread", False)]


def test_a_trust_root_not_held_or_a_trust_store_to_read_is_verified_off_the_loop(
    pair: Pair, bundle: dict[str, Any], tmp_path: Path
) -> None:
    service = pair.fast_api.service
    content, decoded = REVIEW.encode(), DecodedBundle(bundle)
    policy = verification.request_policy({"identity": SERVICE_IDENTITY})
    held = verification.verify_bundle_held(service, content, decoded, policy)
    assert held is not None and held.verified
    with_store = dataclasses.replace(
        service, settings=service.settings.model_copy(update={"trust_store": tmp_path})
    )
    assert verification.verify_bundle_held(with_store, content, decoded, policy) is None
    unpoliced = verification.verify_bundle_held(with_store, content, decoded, None)
    assert unpoliced is not None and unpoliced.verified
    authority = dataclasses.replace(service, authority=_NotHeld())  # type: ignore[arg-type]
    assert verification.verify_bundle_held(authority, content, decoded, None) is None


class _NotHeld:
    """An authority whose trust root is never held in memory."""

    def held_trust_root(self) -> None:
        return None
