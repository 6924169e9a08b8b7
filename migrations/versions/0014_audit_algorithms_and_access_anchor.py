"""Audit: each history event records its chain hash; checkpoints anchor the auditor access log

event.hash_alg: the hash an event was chained with (AUDIT_HASH when it was written). Every
event before this migration was hashed with SHA-256, which the default gives them; a city
that switches to SM3 keeps its older chains verifiable.

audit_checkpoint.access_size / access_hash: the auditor access log's head (entries, hash of
the last one) when the checkpoint was signed, so truncating the log's tail is found.

Adding a column with a constant default rewrites no row (PostgreSQL 11+ keeps it in the
catalogue; SQLite appends it to the table definition), so the append-only triggers of 0004
and 0007 are neither fired nor touched.

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("event", sa.Column("hash_alg", sa.String(16), nullable=False, server_default="sha256"))
    op.add_column("audit_checkpoint", sa.Column("access_size", sa.BigInteger(), nullable=True))
    op.add_column("audit_checkpoint", sa.Column("access_hash", sa.String(64), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (PostgreSQL; SQLite 3.35+): a batch copy would drop the event table's triggers.
    op.execute("ALTER TABLE audit_checkpoint DROP COLUMN access_hash")
    op.execute("ALTER TABLE audit_checkpoint DROP COLUMN access_size")
    op.execute("ALTER TABLE event DROP COLUMN hash_alg")
