"""Log submissions: the log index of each bundle submitted to ``POST /v1/log/entries``.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``log_submissions``."""
    op.create_table(
        "log_submissions",
        sa.Column("envelope_sha256", sa.String(64), primary_key=True),
        sa.Column("signer_sha256", sa.String(64), primary_key=True),
        sa.Column("log_index", sa.BigInteger(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    """Drop ``log_submissions``."""
    op.drop_table("log_submissions")
