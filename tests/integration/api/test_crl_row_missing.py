"""A CRL row that disappears under a running service (an operator's DELETE, a restore of an
older dump) is a 503 with a code, never a 500: the reads that need the CRL say so."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import delete

from tests.integration.api.conftest import Api, open_api
from tests.integration.api.support import REVIEW, make_home, sign_body
from verifier_api.models import CrlState


@pytest.fixture
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    home = make_home(tmp_path_factory.mktemp("publisher") / "home")
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'provenance.db'}"
    yield from open_api(home, url, rate_limit_per_minute=100_000)


def _without_crl(api: Api) -> dict[str, Any]:
    signed = api.client.post("/v1/sign", json=sign_body(), headers=api.keys.header("sign"))
    assert signed.status_code == 200, signed.text
    with api.service.engine.begin() as connection:
        connection.execute(delete(CrlState))
    api.service.authority._version = None  # the next read asks the database at once
    api.service.authority._cached = None
    bundle: dict[str, Any] = signed.json()["bundle"]
    return bundle


def test_verify_without_a_stored_crl_is_503_crl_unavailable(api: Api) -> None:
    bundle = _without_crl(api)
    document = {"content": REVIEW, "bundle": bundle}
    response = api.client.post("/v1/verify", json=document, headers=api.keys.header("verify"))
    assert (response.status_code, response.json()["error"]["code"]) == (503, "crl.unavailable")


def test_the_crl_route_without_a_stored_crl_is_503_crl_unavailable(api: Api) -> None:
    _without_crl(api)
    response = api.client.get("/v1/crl")
    assert (response.status_code, response.json()["error"]["code"]) == (503, "crl.unavailable")
