"""POST /v1/verify decodes its body once and builds each bundle once (issue 14.2)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from provenance import encoding
from provenance.bundle import Bundle
from tests.integration.api.conftest import Api, open_api
from tests.integration.api.support import REVIEW, sign_body


@pytest.fixture(scope="module")
def api_once(home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """An app on SQLite with a generous rate limit."""
    url = f"sqlite:///{tmp_path_factory.mktemp('once') / 'provenance.db'}"
    yield from open_api(home, url, rate_limit_per_minute=10_000)


def _bundle(api: Api) -> dict[str, Any]:
    response = api.client.post("/v1/sign", json=sign_body(), headers=api.keys.header("sign"))
    assert response.status_code == 200, response.text
    bundle: dict[str, Any] = response.json()["bundle"]
    return bundle


def _counting(calls: list[Any], original: Callable[..., Any]) -> Callable[..., Any]:
    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[1] if len(args) > 1 else args[0])
        return original(*args, **kwargs)

    return counted


def test_verify_decodes_the_body_once_and_builds_the_bundle_once(
    api_once: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = json.dumps({"content": REVIEW, "bundle": _bundle(api_once)})
    decoded: list[Any] = []
    built: list[Any] = []
    from_bytes: list[Any] = []
    monkeypatch.setattr(json, "loads", _counting(decoded, json.loads))
    monkeypatch.setattr(encoding, "decode_json", _counting(decoded, encoding.decode_json))
    from_json = Bundle.from_json.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(Bundle, "from_json", classmethod(_counting(built, from_json)))
    bytes_parse = Bundle.from_bytes.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(Bundle, "from_bytes", classmethod(_counting(from_bytes, bytes_parse)))
    response = api_once.client.post(
        "/v1/verify",
        content=body,
        headers=api_once.keys.header("verify") | {"Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["verified"] is True
    assert [text for text in decoded if text in (body, body.encode())] in ([body], [body.encode()])
    assert len(built) == 1
    assert from_bytes == []


def test_verify_holds_a_decoded_bundle_to_the_bundle_size_cap(api_once: Api) -> None:
    bundle = _bundle(api_once)
    bundle["dsseEnvelope"]["padding"] = "a" * (300 * 1024)  # over 256 KiB, under the body cap
    response = api_once.client.post(
        "/v1/verify",
        json={"content": REVIEW, "bundle": bundle},
        headers=api_once.keys.header("verify"),
    )
    assert response.status_code == 200, response.text
    assert response.json()["verified"] is False
    assert response.json()["findings"][0]["code"] == "bundle.too_large"


def test_verify_holds_a_decoded_bundle_to_the_bundle_depth_cap(api_once: Api) -> None:
    bundle = _bundle(api_once)
    nested: Any = "x"
    for _ in range(20):
        nested = [nested]
    bundle["dsseEnvelope"]["deep"] = nested
    response = api_once.client.post(
        "/v1/verify",
        json={"content": REVIEW, "bundle": bundle},
        headers=api_once.keys.header("verify"),
    )
    assert response.status_code == 200, response.text
    finding = response.json()["findings"][0]
    assert (finding["code"], "nested deeper than 16" in finding["message"]) == (
        "bundle.malformed",
        True,
    )
