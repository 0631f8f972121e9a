"""The database engine: SQLite (WAL, busy timeout) by default, PostgreSQL through psycopg 3."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine

SQLITE_BUSY_TIMEOUT_MS = 30_000
POSTGRES_CONNECT_TIMEOUT_SECONDS = 5
POSTGRES_STATEMENT_TIMEOUT_MS = 30_000
POOL_TIMEOUT_SECONDS = 10


def make_engine(
    url: str,
    *,
    connect_timeout_seconds: int = POSTGRES_CONNECT_TIMEOUT_SECONDS,
    statement_timeout_ms: int = POSTGRES_STATEMENT_TIMEOUT_MS,
    pre_ping: bool = True,
    pool_size: int = 10,
) -> Engine:
    """An engine for ``url``; SQLite connections get WAL mode and a busy timeout.

    PostgreSQL connections get a connect timeout, a server-side statement timeout (which also
    bounds lock waits) and a TCP user timeout of the same length (a server that stops
    acknowledging is given up on the client side), and a request waits at most
    ``POOL_TIMEOUT_SECONDS`` for a pooled connection: each failure is a database error that the
    service answers with 503 (see specs/reliability.md), never a hanging request.

    Args:
        url: A SQLAlchemy URL, e.g. ``sqlite:///home/provenance.db`` or
            ``postgresql+psycopg://postgres@127.0.0.1:5432/provenance``.
        connect_timeout_seconds: PostgreSQL: the longest a new connection may take.
        statement_timeout_ms: PostgreSQL: the longest one statement may run or wait for a lock.
        pre_ping: PostgreSQL: test each pooled connection with a round trip before handing it
            out (off only for a user that retries a statement finding its connection dead).
        pool_size: PostgreSQL: the connections kept open (as many again may be opened beyond).
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    connect_args = {
        "connect_timeout": connect_timeout_seconds,
        "options": f"-c statement_timeout={statement_timeout_ms}",
        "tcp_user_timeout": statement_timeout_ms,
    }
    return create_engine(
        url,
        pool_pre_ping=pre_ping,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=POOL_TIMEOUT_SECONDS,
        connect_args=connect_args,
    )


def _configure_sqlite(connection: Any, _record: object) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def is_reachable(engine: Engine) -> bool:
    """Whether the database answers a trivial query."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # readiness reports any failure as not ready
        return False
    return True
