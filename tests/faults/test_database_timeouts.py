"""A PostgreSQL that stops answering gives a database error (503), not a hanging request.

The engine's connect timeout covers a server that accepts TCP and never speaks; its statement
timeout covers a statement that runs or waits for a lock too long (issue 14.6).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from tests.integration.api.support import postgres_database
from verifier_api.db import make_engine
from verifier_api.errors import DATABASE_UNAVAILABLE, database_fault

pytestmark = pytest.mark.postgres


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that completes TCP handshakes and never sends a byte."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield listener.getsockname()[1]
    listener.close()


def test_server_that_never_answers_the_connection_fails_with_a_database_error(
    silent_port: int,
) -> None:
    engine = make_engine(
        f"postgresql+psycopg://postgres@127.0.0.1:{silent_port}/test", connect_timeout_seconds=1
    )
    with pytest.raises(OperationalError) as caught:
        engine.connect()
    engine.dispose()
    assert isinstance(caught.value, DATABASE_UNAVAILABLE)
    assert database_fault(caught.value)[0] == "database.unreachable"


def test_statement_past_the_timeout_is_cancelled_with_a_database_error() -> None:
    with postgres_database() as url:
        engine = make_engine(url, statement_timeout_ms=200)
        with pytest.raises(OperationalError) as caught, engine.connect() as connection:
            connection.execute(text("SELECT pg_sleep(5)"))
        engine.dispose()
    assert "statement timeout" in str(caught.value.orig)
    assert database_fault(caught.value)[0] == "database.unreachable"
