"""Report receipts: an idempotency key per report, so a draft sent twice (a phone that lost its
network, a repeated tap) makes one case

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_receipt",
        sa.Column("reporter", sa.String(64), primary_key=True),
        sa.Column("idempotency_key", sa.String(64), primary_key=True),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  sa.ForeignKey("case_record.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),  # naive UTC, as engine.models.UTCDateTime
    )


def downgrade() -> None:
    op.drop_table("report_receipt")
