"""Attacker review (attack_parse), media claims: ``POST /v1/sign/media`` read its ``claims`` form
field as ``_form_json(...) or {}``, so ``"[]"``, ``"false"``, ``"0"``, ``"null"`` and ``""`` (which
FastAPI reads as an absent field) all counted as "no claims" and the media was signed. A ``claims``
field that is sent must be a JSON object (else 422 ``request.invalid``); only an absent one means
no claims.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.api.conftest import Api, open_api
from tests.integration.api.support import make_home
from tests.media_samples import tiny_png


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    home = make_home(tmp_path_factory.mktemp("publisher") / "home")
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'provenance.db'}"
    yield from open_api(home, url, rate_limit_per_minute=100_000)


def _sign(api: Api, form: dict[str, str]) -> object:
    return api.client.post(
        "/v1/sign/media",
        files={"file": ("photo.png", tiny_png(), "image/png")},
        data={"accountId": "8841", **form},
        headers=api.keys.header("sign"),
    )


@pytest.mark.parametrize(
    ("claims", "found"),
    [
        ("[]", "an array"),
        ("false", "a boolean"),
        ("0", "an integer"),
        ("null", "null"),
        ('"x"', "a string"),
        ("", "an empty field"),
    ],
)
def test_media_claims_that_are_not_a_json_object_are_refused(
    api: Api, claims: str, found: str
) -> None:
    response = _sign(api, {"claims": claims})
    assert response.status_code == 422, response.text[:300]  # type: ignore[attr-defined]
    error = response.json()["error"]  # type: ignore[attr-defined]
    assert error["code"] == "request.invalid"
    assert error["message"] == f"claims must be a JSON object, found {found}"


def test_media_claims_that_are_not_json_are_refused(api: Api) -> None:
    response = _sign(api, {"claims": "{"})
    assert response.status_code == 422, response.text[:300]  # type: ignore[attr-defined]
    assert response.json()["error"]["code"] == "request.invalid"  # type: ignore[attr-defined]


@pytest.mark.parametrize("form", [{}, {"claims": "{}"}, {"claims": '{"aiGenerated": false}'}])
def test_media_without_claims_or_with_an_object_is_signed(api: Api, form: dict[str, str]) -> None:
    response = _sign(api, form)
    assert response.status_code == 200, response.text[:300]  # type: ignore[attr-defined]
