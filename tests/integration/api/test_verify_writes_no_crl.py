"""``POST /v1/verify`` writes no CRL, not even in the stored CRL's last day (attack 7, 2026-12-03).

reliability.md F3: "``/v1/verify`` writes nothing" (and the public reads go on with a read-only
database). The verify path took this publisher's trust root through ``StoredAuthority.trust_root``,
which published a new CRL once the stored one was within ``CRL_REFRESH_MARGIN`` (a day) of its
nextUpdate: the first verify request then wrote to the database, and with the database read-only
at that moment a verify of a genuine bundle got 503 ``database.read_only`` instead of its verdict.
Verify now uses the stored CRL as it is (reported ``certificate.crl.stale`` once past its
nextUpdate, as the library reports any stale CRL); the service's CRL refresher re-issues it.
Time is moved with the clock the verify route reads (``verifier_api.verification.utc_now``), as a
service running for days reaches it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from tests.integration.api.conftest import Api, open_api
from tests.integration.api.support import REVIEW, SERVICE_IDENTITY, make_home, sign_body
from verifier_api import crud, verification


@pytest.fixture
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    home = make_home(tmp_path_factory.mktemp("publisher") / "home")
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'provenance.db'}"
    yield from open_api(home, url, rate_limit_per_minute=100_000)


def _signed(api: Api) -> dict[str, Any]:
    response = api.client.post("/v1/sign", json=sign_body(), headers=api.keys.header("sign"))
    assert response.status_code == 200, response.text
    bundle: dict[str, Any] = response.json()["bundle"]
    return bundle


def _crl_number(api: Api) -> int:
    state = crud.read_crl(api.service.engine)
    assert state is not None
    return state.crl_number


def _verify_at(
    api: Api, monkeypatch: pytest.MonkeyPatch, bundle: dict[str, Any], **body: Any
) -> Any:
    """``POST /v1/verify`` of ``bundle`` with the verify route's clock at ``at``."""
    at: datetime = body.pop("at")
    monkeypatch.setattr(verification, "utc_now", lambda: at)
    document = {"content": REVIEW, "bundle": bundle, **body}
    return api.client.post("/v1/verify", json=document, headers=api.keys.header("verify"))


def _next_update(api: Api) -> datetime:
    state = crud.read_crl(api.service.engine)
    assert state is not None
    return crud.utc(state.next_update)


def _query_only(dbapi_connection: Any, _record: object) -> None:
    dbapi_connection.execute("PRAGMA query_only=ON")


def _failed(answer: dict[str, Any]) -> list[str]:
    return [finding["code"] for finding in answer["findings"] if not finding["ok"]]


def _advisories(answer: dict[str, Any]) -> list[str]:
    return [
        f["code"] for f in answer["findings"] if f["ok"] and f["code"].startswith("certificate.crl")
    ]


def test_verify_in_the_crls_last_day_publishes_no_crl(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = _signed(api)
    before = _crl_number(api)
    late = _next_update(api) - timedelta(hours=12)
    response = _verify_at(api, monkeypatch, bundle, at=late)
    assert response.status_code == 200, response.text
    assert response.json()["verified"] is True, response.json()["findings"]
    assert _crl_number(api) == before, "a /v1/verify request published a new CRL"


def test_verify_in_the_crls_last_day_answers_with_a_read_only_database(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = _signed(api)
    late = _next_update(api) - timedelta(hours=12)
    engine = api.service.engine
    event.listen(engine, "connect", _query_only)
    engine.dispose()
    try:
        response = _verify_at(api, monkeypatch, bundle, at=late)
    finally:
        event.remove(engine, "connect", _query_only)
        engine.dispose()
    assert response.status_code == 200, response.text
    assert response.json()["verified"] is True, response.json()["findings"]


def test_verify_past_the_crls_next_update_reports_it_stale_and_publishes_none(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CRL nobody re-issued is not silently extended: verify uses it and the library reports it
    ``certificate.crl.stale`` (advisory; fatal under ``requireFreshCrl``)."""
    bundle = _signed(api)
    before = _crl_number(api)
    past = _next_update(api) + timedelta(hours=1)
    answer = _verify_at(api, monkeypatch, bundle, at=past)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["verified"], _failed(answer.json())) == (True, [])
    assert _advisories(answer.json()) == ["certificate.crl.stale"]
    policy = {"identity": SERVICE_IDENTITY, "requireFreshCrl": True}
    strict = _verify_at(api, monkeypatch, bundle, at=past, policy=policy)
    assert strict.status_code == 200, strict.text
    assert (strict.json()["verified"], _failed(strict.json())) == (False, ["certificate.crl.stale"])
    assert _crl_number(api) == before
