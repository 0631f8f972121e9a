"""The service verifies bundles of other publishers through its trust store (a setting)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from provenance.bundle import Bundle
from tests.integration.api.support import PASSPHRASE
from tests.integration.trust.support import Publisher, prov
from verifier_api import crud
from verifier_api.app import create_app
from verifier_api.scopes import Scope
from verifier_api.settings import Settings


def _verify(
    home: Path, store: Path | None, text: str, bundle: dict[str, object], identity: str | None
) -> dict[str, object]:
    settings = Settings(home=home, passphrase=SecretStr(PASSPHRASE), trust_store=store)
    app = create_app(settings)
    with TestClient(app) as client:
        _, key = crud.create_api_key(
            app.state.service.engine, "t", Scope.VERIFY, now=datetime.now(UTC)
        )
        body: dict[str, object] = {"content": text, "bundle": bundle}
        if identity is not None:
            body["policy"] = {"identity": identity}
        response = client.post("/v1/verify", json=body, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    answer: dict[str, object] = response.json()
    return answer


def test_service_verifies_a_trust_store_publishers_review(
    alpha: Publisher, beta: Publisher, store: Path, tmp_path: Path
) -> None:
    code, _, err = prov(
        "trust", "add", "beta", beta.url, "--root", beta.root_json, "--store", store
    )
    assert code == 0, err
    text = "Reviewed at beta.\n"
    bundle = beta.sign(text)
    answer = _verify(alpha.home, store, text, bundle, beta.identity)
    assert answer["verified"] is True
    assert answer["publisher"] == "beta"


def test_service_without_a_trust_store_knows_only_its_own_publisher(
    alpha: Publisher, beta: Publisher
) -> None:
    text = "Reviewed at beta.\n"
    answer = _verify(alpha.home, None, text, beta.sign(text), beta.identity)
    assert answer["verified"] is False
    assert "publisher" not in answer


def test_service_builds_a_trust_store_publishers_bundle_once(
    alpha: Publisher, beta: Publisher, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = prov(
        "trust", "add", "beta", beta.url, "--root", beta.root_json, "--store", store
    )
    assert code == 0, err
    text = "Reviewed at beta, parsed once.\n"
    bundle = beta.sign(text)
    built: list[object] = []
    from_json = Bundle.from_json.__func__  # type: ignore[attr-defined]

    def counted(cls: type[Bundle], *args: Any, **kwargs: Any) -> Bundle:
        built.append(args[0])
        result: Bundle = from_json(cls, *args, **kwargs)
        return result

    monkeypatch.setattr(Bundle, "from_json", classmethod(counted))
    answer = _verify(alpha.home, store, text, bundle, beta.identity)
    assert (answer["verified"], answer["publisher"]) == (True, "beta")
    assert len(built) == 1


def test_without_a_policy_only_this_publisher_vouches(
    alpha: Publisher, beta: Publisher, store: Path
) -> None:
    code, _, err = prov(
        "trust", "add", "beta", beta.url, "--root", beta.root_json, "--store", store
    )
    assert code == 0, err
    text = "Reviewed at beta, no policy.\n"
    answer = _verify(alpha.home, store, text, beta.sign(text), None)
    assert answer["verified"] is False
    assert "publisher" not in answer
