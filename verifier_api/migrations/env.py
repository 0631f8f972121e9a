"""Alembic environment: migrations run on the connection the service hands over."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import verifier_api.models  # noqa: F401 (registers the tables on SQLModel.metadata)
from provenance.tlog import TLOG_TABLES

_ = TLOG_TABLES  # loading them registers the log's tables on SQLModel.metadata


def run_migrations_online() -> None:
    """Run the migrations on ``config.attributes["connection"]``."""
    connection = context.config.attributes["connection"]
    context.configure(connection=connection, target_metadata=SQLModel.metadata)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported; run them online")
run_migrations_online()
