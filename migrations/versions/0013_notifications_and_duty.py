"""Notifications to people: 24/7 duty flag, each user's channels and quiet hours, in-page notices

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("user_account", sa.Column("on_duty", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "notification_setting",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user_account.id"), primary_key=True),
        sa.Column("email", sa.String(255), nullable=True),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("email_on", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("webhook_on", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("quiet_from", sa.String(5), nullable=True),
        sa.Column("quiet_to", sa.String(5), nullable=True),
    )
    op.create_table(
        "notice",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("case_number", sa.String(20), nullable=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("message_id", "username", name="uq_notice_message_user"),
    )
    op.create_index("ix_notice_user_created", "notice", ["username", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_notice_user_created", "notice")
    op.drop_table("notice")
    op.drop_table("notification_setting")
    op.drop_column("user_account", "on_duty")
