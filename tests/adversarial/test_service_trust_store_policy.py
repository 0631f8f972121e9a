"""``/v1/verify`` with a trust store: the default policy (signed by this service) must never be
applied to another publisher's trust root. A publisher in the store may certify a signer with
this service's very identity (identities are names its own CA chose), so the default would answer
VERIFIED for a bundle this service never signed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from tests.integration.api.support import PASSPHRASE
from tests.integration.trust.support import Publisher, prov, served_publisher
from verifier_api import crud
from verifier_api.app import create_app
from verifier_api.scopes import Scope
from verifier_api.settings import Settings

TEXT = "A review the impostor signed.\n"


@pytest.fixture
def publishers(tmp_path: Path) -> Iterator[tuple[Publisher, Publisher]]:
    """This service's publisher and an impostor of the same name (so the same signing identity)."""
    with (
        served_publisher(tmp_path / "homes", "Alpha Reviews") as alpha,
        served_publisher(tmp_path / "impostor-homes", "Alpha Reviews") as impostor,
    ):
        yield alpha, impostor


def _post(home: Path, store: Path, path: str, body: dict[str, Any]) -> Any:
    app = create_app(Settings(home=home, passphrase=SecretStr(PASSPHRASE), trust_store=store))
    with TestClient(app) as client:
        _, key = crud.create_api_key(
            app.state.service.engine, "t", Scope.VERIFY, now=datetime.now(UTC)
        )
        return client.post(path, json=body, headers={"Authorization": f"Bearer {key}"})


def test_the_default_policy_is_not_applied_to_a_trust_store_publisher(
    publishers: tuple[Publisher, Publisher], tmp_path: Path
) -> None:
    alpha, impostor = publishers
    assert impostor.identity == alpha.identity
    store = tmp_path / "store"
    code, _, err = prov(
        "trust", "add", "impostor", impostor.url, "--root", impostor.root_json, "--store", store
    )
    assert code == 0, err
    foreign = {"content": TEXT, "bundle": impostor.sign(TEXT)}
    response = _post(alpha.home, store, "/v1/verify", foreign)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["verified"] is False
    assert "publisher" not in answer
    batch = {"items": [{"content": TEXT, "bundle": alpha.sign(TEXT)}, foreign]}
    response = _post(alpha.home, store, "/v1/verify/batch", batch)
    assert response.status_code == 200, response.text
    assert [r["verified"] for r in response.json()["results"]] == [True, False]
    explicit = foreign | {"policy": {"identity": impostor.identity}}
    answer = _post(alpha.home, store, "/v1/verify", explicit).json()
    assert (answer["verified"], answer["publisher"]) == (True, "impostor")
