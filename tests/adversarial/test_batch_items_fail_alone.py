"""Attacker finding F5 (session 3): one bad item among three made `/v1/verify/batch` answer 422
for the whole request, so the good items got no verdict. Each item is now its own request: a bad
one gets the error a lone `/v1/verify` would get, in its place, and the others their verdicts.
These tests failed before the fix."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.api.conftest import Api, open_api
from tests.integration.api.support import REVIEW, make_home, sign_body


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    home = make_home(tmp_path_factory.mktemp("publisher") / "home")
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'provenance.db'}"
    yield from open_api(home, url, rate_limit_per_minute=100_000)


@pytest.fixture(scope="module")
def good(api: Api) -> dict[str, Any]:
    response = api.client.post("/v1/sign", json=sign_body(), headers=api.keys.header("sign"))
    assert response.status_code == 200, response.text
    return {"content": REVIEW, "bundle": response.json()["bundle"]}


def _bad_items(good: dict[str, Any]) -> dict[str, tuple[Any, str]]:
    return {
        "malformed policy": ({**good, "policy": {"identity": 5}}, "policy.malformed"),
        "five identity patterns": (
            {**good, "policy": {"anyOf": [{"identityRegex": f"a{i}"} for i in range(5)]}},
            "policy.malformed",
        ),
        "bundle not an object": ({"content": REVIEW, "bundle": ["x"]}, "request.invalid"),
        "non-canonical contentBase64": (
            {"contentBase64": "YQ", "bundle": good["bundle"]},
            "request.invalid",
        ),
        "item not an object": ("not an item", "request.invalid"),
    }


@pytest.mark.parametrize(
    "label",
    [
        "malformed policy",
        "five identity patterns",
        "bundle not an object",
        "non-canonical contentBase64",
        "item not an object",
    ],
)
def test_a_bad_batch_item_fails_alone(api: Api, good: dict[str, Any], label: str) -> None:
    bad, code = _bad_items(good)[label]
    body = {"items": [good, bad, good]}
    response = api.client.post("/v1/verify/batch", json=body, headers=api.keys.header("verify"))
    assert response.status_code == 200, response.text
    first, failed, last = response.json()["results"]
    assert first["verified"] is True and last["verified"] is True
    assert failed["verified"] is False
    assert failed["error"]["code"] == code
    alone = api.client.post("/v1/verify", json=bad, headers=api.keys.header("verify"))
    if isinstance(bad, dict):
        assert alone.status_code == 422
        assert alone.json()["error"]["code"] == code
    if code == "request.invalid":
        assert failed["error"]["message"].startswith("items.1")


def test_field_names_in_a_refusal_are_shown_printable(api: Api, good: dict[str, Any]) -> None:
    """Attacker note A5: a client's own field names were quoted raw (ESC, newlines)."""
    bad = {**good, "\x1b[31mred\nline": 1}
    body = {"items": [good, bad]}
    response = api.client.post("/v1/verify/batch", json=body, headers=api.keys.header("verify"))
    message = response.json()["results"][1]["error"]["message"]
    assert "\x1b" not in message and "\n" not in message
    assert "\\u001b[31mred\\u000aline" in message
    alone = api.client.post("/v1/verify", json=bad, headers=api.keys.header("verify"))
    assert "\x1b" not in alone.json()["error"]["message"]
