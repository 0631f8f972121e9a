"""The CRL is re-issued before its nextUpdate by the service's CRL refresher, not by a read.

``POST /v1/verify`` and the other reads use the stored CRL as it is
(``test_verify_writes_no_crl.py``); each process's refresher re-publishes it once it is within a day
(``CRL_REFRESH_MARGIN``) of its nextUpdate, deciding that under the CRL row's lock so that of
every worker and replica one publishes. Time is moved with the clock the refresher reads
(``verifier_api.service.utc_now``), as a service running for days reaches it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from sqlalchemy import event
from sqlalchemy.engine import Engine

from provenance.identity import TrustRoot, crl_number
from tests.integration.api.conftest import Api, open_api
from tests.integration.api.support import (
    PASSPHRASE,
    REVIEW,
    make_home,
    postgres_database,
    sign_body,
)
from verifier_api import crud, service, verification
from verifier_api.publisher import load_publisher
from verifier_api.stored_authority import CRL_REFRESH_MARGIN, StoredAuthority


@pytest.fixture
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_home(tmp_path_factory.mktemp("publisher") / "home")


@pytest.fixture
def api(home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'provenance.db'}"
    yield from open_api(home, url, rate_limit_per_minute=100_000)


def _stored(engine: Engine) -> tuple[int, datetime]:
    version = crud.read_crl_version(engine)
    assert version is not None
    return version


def _move_the_refreshers_clock(monkeypatch: pytest.MonkeyPatch, at: datetime) -> None:
    monkeypatch.setattr(service, "utc_now", lambda: at)


def _served_crl_number(api: Api) -> int:
    trust = TrustRoot.from_json(api.client.get("/.well-known/provenance/trust-root.json").content)
    return crl_number(trust.crls[0])


def test_refresher_does_nothing_before_the_crls_last_day(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    number, next_update = _stored(api.service.engine)
    _move_the_refreshers_clock(monkeypatch, next_update - CRL_REFRESH_MARGIN - timedelta(hours=1))
    assert api.service.crl_refresher.refresh() is None
    assert _stored(api.service.engine) == (number, next_update)


def test_refresher_reissues_the_crl_in_its_last_day_and_reads_serve_it(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed = api.client.post("/v1/sign", json=sign_body(), headers=api.keys.header("sign"))
    assert signed.status_code == 200, signed.text
    number, next_update = _stored(api.service.engine)
    late = next_update - timedelta(hours=12)
    _move_the_refreshers_clock(monkeypatch, late)
    state = api.service.crl_refresher.refresh()
    assert state is not None
    assert _stored(api.service.engine) == (number + 1, late + timedelta(days=7))
    assert crl_number(x509.load_der_x509_crl(api.client.get("/v1/crl").content)) == number + 1
    assert _served_crl_number(api) == number + 1
    monkeypatch.setattr(verification, "utc_now", lambda: next_update + timedelta(hours=1))
    body = {"content": REVIEW, "bundle": signed.json()["bundle"]}
    answer = api.client.post("/v1/verify", json=body, headers=api.keys.header("verify")).json()
    assert answer["verified"] is True
    assert [f["code"] for f in answer["findings"] if f["code"].startswith("certificate.crl")] == []


def test_running_service_refreshes_the_crl_on_its_own_once(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The refresher thread started by the app's lifespan re-issues a CRL that became due, once:
    its next wake-ups find the new CRL not due."""
    url = f"sqlite:///{tmp_path / 'provenance.db'}"
    for api in open_api(home, url, crl_refresh_seconds=0.05):
        number, next_update = _stored(api.service.engine)
        _move_the_refreshers_clock(monkeypatch, next_update - timedelta(hours=12))
        deadline = time.monotonic() + 20
        while _stored(api.service.engine)[0] == number and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # about ten more wake-ups
        assert _stored(api.service.engine)[0] == number + 1
        assert _served_crl_number(api) == number + 1


def _query_only(dbapi_connection: Any, _record: object) -> None:
    dbapi_connection.execute("PRAGMA query_only=ON")


def test_refresh_with_a_read_only_database_fails_and_the_next_one_publishes(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    engine = api.service.engine
    number, next_update = _stored(engine)
    _move_the_refreshers_clock(monkeypatch, next_update - timedelta(hours=12))
    event.listen(engine, "connect", _query_only)
    engine.dispose()
    try:
        assert api.service.crl_refresher.refresh() is None
    finally:
        event.remove(engine, "connect", _query_only)
        engine.dispose()
    (record,) = [r for r in caplog.records if "the CRL refresh failed" in r.getMessage()]
    assert "database.read_only" in record.getMessage()
    assert record.exc_info is None and "\n" not in record.getMessage()  # one line, no traceback
    assert _stored(engine)[0] == number
    assert api.service.crl_refresher.refresh() is not None
    assert _stored(engine)[0] == number + 1


def test_worker_that_found_the_crl_due_before_another_published_publishes_none(
    api: Api, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Worker B read the stored CRL as due just before worker A re-issued it: B decides again
    under the CRL row's lock, finds A's CRL not due, and publishes nothing."""
    engine = api.service.engine
    publisher = load_publisher(home, PASSPHRASE.encode())
    worker_a, worker_b = StoredAuthority(engine, publisher), StoredAuthority(engine, publisher)
    number, next_update = _stored(engine)
    late = next_update - timedelta(hours=12)
    assert worker_a.refresh_crl(late) is not None
    with monkeypatch.context() as patch:
        patch.setattr(crud, "read_crl_version", lambda _: (number, next_update))
        assert worker_b.refresh_crl(late) is None
    assert _stored(engine)[0] == number + 1


def _refresh_at_once(workers: list[StoredAuthority], at: datetime) -> list[int]:
    """Each worker's ``refresh_crl(at)`` in its own thread, all started together; the numbers of
    the CRLs they published."""
    start = threading.Barrier(len(workers))
    published: list[int] = []

    def refresh(worker: StoredAuthority) -> None:
        start.wait()
        state = worker.refresh_crl(at)
        if state is not None:
            published.append(state.crl_number)

    threads = [threading.Thread(target=refresh, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return published


@pytest.fixture
def postgres_api(home: Path) -> Iterator[Api]:
    with postgres_database() as url:
        yield from open_api(home, url)


@pytest.mark.postgres
def test_workers_refreshing_at_once_publish_one_crl(
    postgres_api: Api, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eight workers on one PostgreSQL database, all having read the stored CRL as due, refresh
    at the same moment: one publishes, and the CRL number goes up by one."""
    engine = postgres_api.service.engine
    publisher = load_publisher(home, PASSPHRASE.encode())
    number, next_update = _stored(engine)
    workers = [StoredAuthority(engine, publisher) for _ in range(8)]
    with monkeypatch.context() as patch:
        patch.setattr(crud, "read_crl_version", lambda _: (number, next_update))
        published = _refresh_at_once(workers, next_update - timedelta(hours=12))
    assert published == [number + 1]
    assert _stored(engine)[0] == number + 1
