"""PostgreSQL going away mid-request: 503 JSON (never 500), and recovery when it returns.

The server reaches its own fresh database through a TCP proxy that the test cuts and restores;
the machine's PostgreSQL server keeps running for everyone else. To be sure requests are in
flight when the database goes away, the test holds the log's row lock from a direct connection
so that signing requests wait inside their log append, then cuts the proxy.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection

from tests.faults.support import (
    LoopbackProxy,
    Signed,
    audit_served_log,
    running_server,
    server_errors,
    sign_key,
)
from tests.integration.api.support import make_home, postgres_database, sign_body

pytestmark = pytest.mark.postgres
POSTGRES_PORT = 5432
IN_FLIGHT_SIGNS = 4


def _via_proxy(url: str, proxy: LoopbackProxy) -> str:
    return url.replace(f":{POSTGRES_PORT}/", f":{proxy.port}/")


def _sign(base: str, key: str, content: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"}
    return httpx.post(
        f"{base}/v1/sign", json=sign_body(content=content), headers=headers, timeout=60
    )


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] == "database.unreachable"


@pytest.fixture
def log_lock(database_url: str) -> Iterator[Connection]:
    """A direct connection (not through the proxy) that can lock the log's state row."""
    engine = create_engine(database_url)
    with engine.connect() as connection:
        yield connection
    engine.dispose()


@pytest.fixture
def database_url() -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards."""
    with postgres_database() as url:
        yield url


def _wait_for_lock_waiters(connection: Connection, database: str) -> None:
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = :db AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with connection.engine.connect() as probe:
            if probe.execute(query, {"db": database}).scalar_one() > 0:
                return
        time.sleep(0.05)
    raise AssertionError("no signing request waited on the log's lock")


def _cut_while_signing(
    base: str, key: str, proxy: LoopbackProxy, lock: Connection, database: str
) -> list[httpx.Response]:
    lock.execute(text("SELECT size FROM tlog_state FOR UPDATE"))
    with ThreadPoolExecutor(IN_FLIGHT_SIGNS) as pool:
        pending: list[Future[httpx.Response]] = [
            pool.submit(_sign, base, key, f"In flight {n}.\n") for n in range(IN_FLIGHT_SIGNS)
        ]
        _wait_for_lock_waiters(lock, database)
        proxy.stop()
        lock.rollback()
        return [future.result() for future in pending]


def test_database_going_away_mid_request_gives_503_json_and_recovers(
    tmp_path: Path, database_url: str, log_lock: Connection
) -> None:
    home = make_home(tmp_path / "home")
    key = sign_key(database_url)
    proxy = LoopbackProxy(POSTGRES_PORT)
    proxy.start()
    with ExitStack() as stack:
        stack.callback(proxy.stop)
        server = stack.enter_context(running_server(home, _via_proxy(database_url, proxy)))
        first = _sign(server.base, key, "Before the outage.\n")
        assert first.status_code == 200, first.text
        database = database_url.rsplit("/", 1)[1]
        for response in _cut_while_signing(server.base, key, proxy, log_lock, database):
            _assert_unavailable(response)
        _assert_unavailable(httpx.get(f"{server.base}/readyz"))
        _assert_unavailable(_sign(server.base, key, "During the outage.\n"))
        _assert_unavailable(httpx.get(f"{server.base}/v1/log/checkpoint"))
        proxy.start()
        assert httpx.get(f"{server.base}/readyz").status_code == 200
        after = _sign(server.base, key, "After the outage.\n")
        assert after.status_code == 200, after.text
        acknowledged: list[Signed] = [("", first.json()), ("", after.json())]
        with httpx.Client(base_url=server.base, timeout=30) as client:
            latest = audit_served_log(client, acknowledged, [])
        assert latest.size == after.json()["logIndex"] + 1
        assert server_errors(server.log_text()) == []
