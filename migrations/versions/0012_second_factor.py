"""A second sign-in factor (TOTP, RFC 6238) for the roles that change the platform; the exchange with
outside platforms (provincial/national upward reporting, the 12345 hotline)

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("user_account", sa.Column("totp_secret", sa.String(64), nullable=True))
    op.add_column("user_account", sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    op.create_table(
        "exchange_cursor",
        sa.Column("peer", sa.String(20), primary_key=True),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_sent_at", sa.DateTime(), nullable=True),
    )
    op.create_table(
        "exchange_link",
        sa.Column("peer", sa.String(20), primary_key=True),
        sa.Column("external_id", sa.String(64), primary_key=True),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  sa.ForeignKey("case_record.id"), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("exchange_link")
    op.drop_table("exchange_cursor")
    op.drop_column("user_account", "totp_last_step")
    op.drop_column("user_account", "totp_secret")
