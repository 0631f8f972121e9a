"""Alembic migrations, applied programmatically at start (see :func:`upgrade_database`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent
_ADVISORY_LOCK_ID = 0x70726F76  # "prov": serializes replicas migrating one PostgreSQL at once


def upgrade_database(engine: Engine) -> None:
    """Bring the database to the latest revision (safe when several replicas start together)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _ADVISORY_LOCK_ID})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        connection.commit()
