"""Log submissions are keyed on the signature, not on the serialized envelope (finding A1), and
record the ``keyid`` of the envelope their leaf binds.

``log_submissions.envelope_sha256`` (the envelope hash, which covers the unsigned ``keyid``)
becomes ``signature_sha256`` (``Envelope.signature_sha256``: the same hash without key ids). Rows
are kept: a row of an envelope submitted without a key id already holds its signature hash; a row
of one submitted with a key id holds a value no signature hash can equal (other bytes hashed), so
it is never found again (such a signature, submitted again, is logged a second time once).
``keyid`` is "" on the rows kept, which is right for every row that can still be found.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Rename ``envelope_sha256`` to ``signature_sha256``; add ``keyid``."""
    with op.batch_alter_table("log_submissions") as batch:
        batch.alter_column("envelope_sha256", new_column_name="signature_sha256")
        batch.add_column(sa.Column("keyid", sa.String(128), nullable=False, server_default=""))


def downgrade() -> None:
    """Drop ``keyid``; rename ``signature_sha256`` back to ``envelope_sha256``."""
    with op.batch_alter_table("log_submissions") as batch:
        batch.drop_column("keyid")
        batch.alter_column("signature_sha256", new_column_name="envelope_sha256")
