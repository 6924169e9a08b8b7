"""Sessions that end: a per-user session version

Every signed-in session carries the version its user had at sign-in; signing out, disabling the
user, a role/department/district change or a new password bump the version, which ends every
session of that user at once.

Revision ID: 0006
Revises: 0005 by the plan; here chained after 0008 (report receipts), the head of main when
this branch was last rebased (0005 and 0007 had not landed; 0009 revises 0004, 0008 revises 0009):
one head, whatever the numbers. Whoever merges 0005 re-chains the numbers in order.
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"  # re-chained at the merge
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("session_version")
