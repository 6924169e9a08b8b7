"""Reporter salt on case_record: the start event carries sha256(salt ‖ reporter), never the reporter

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: cases filed before 0003 have no commitment in their start event. Erasing a
    # reporter's personal data clears both reporter and salt; the chain stays verifiable.
    with op.batch_alter_table("case_record") as batch:
        batch.add_column(sa.Column("reporter_salt", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("case_record") as batch:
        batch.drop_column("reporter_salt")
