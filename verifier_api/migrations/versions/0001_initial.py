"""Initial schema: API keys, issued certificates, revocations, CRL, rate windows, idempotency, log.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _utc(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _create_service_tables() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("secret_sha256", sa.String(64), nullable=False),
        _utc("created_at"),
        _utc("revoked_at", nullable=True),
    )
    op.create_table(
        "issued_certificates",
        sa.Column("serial_hex", sa.String(64), primary_key=True),
        sa.Column("identity", sa.String(512), nullable=False),
        sa.Column("pem", sa.Text(), nullable=False),
        _utc("issued_at"),
        _utc("not_after"),
    )
    op.create_table(
        "revocations",
        sa.Column(
            "serial_hex",
            sa.String(64),
            sa.ForeignKey("issued_certificates.serial_hex"),
            primary_key=True,
        ),
        sa.Column("reason", sa.String(32), nullable=False),
        _utc("revoked_at"),
        _utc("invalidity_date", nullable=True),
    )
    op.create_table(
        "crl_state",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("crl_number", sa.BigInteger(), nullable=False),
        sa.Column("crl_der", sa.LargeBinary(), nullable=False),
        _utc("next_update"),
    )
    op.create_table(
        "rate_windows",
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("window_start", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("count", sa.Integer(), nullable=False),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("idempotency_key", sa.String(128), primary_key=True),
        sa.Column("request_sha256", sa.String(64), nullable=False),
        sa.Column("response_json", sa.Text(), nullable=False),
        _utc("created_at"),
    )


def _create_log_tables() -> None:
    """The ``tlog_*`` tables of provenance.tlog.sql, as they are at this revision."""
    op.create_table(
        "tlog_state",
        sa.Column("log", sa.String(255), primary_key=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(), nullable=False),
        sa.Column("checkpoint", sa.Text(), nullable=False),
    )
    op.create_table(
        "tlog_tiles",
        sa.Column("log", sa.String(255), primary_key=True),
        sa.Column("level", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("tile_index", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "tlog_entry_bundles",
        sa.Column("log", sa.String(255), primary_key=True),
        sa.Column("bundle_index", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "tlog_checkpoints",
        sa.Column("log", sa.String(255), primary_key=True),
        sa.Column("size", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("checkpoint", sa.Text(), nullable=False),
    )


def upgrade() -> None:
    """Create every table."""
    _create_service_tables()
    _create_log_tables()


def downgrade() -> None:
    """Drop every table."""
    for table in (
        "tlog_checkpoints",
        "tlog_entry_bundles",
        "tlog_tiles",
        "tlog_state",
        "idempotency_keys",
        "rate_windows",
        "crl_state",
        "revocations",
        "issued_certificates",
        "api_keys",
    ):
        op.drop_table(table)
