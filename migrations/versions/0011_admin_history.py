"""Admin history (append-only, hash-chained) and departments that can be deactivated

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

from engine.models import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("department", sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.create_table(
        "admin_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False, unique=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("target", sa.String(100), nullable=False),
        sa.Column("before", sa.Text(), nullable=False),
        sa.Column("after", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_admin_event_at", "admin_event", ["at"])
    op.create_index("ix_admin_event_actor", "admin_event", ["actor"])
    # Append-only like the case history (0004's trigger function on PostgreSQL).
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE TRIGGER admin_event_append_only BEFORE UPDATE OR DELETE ON admin_event "
                   "FOR EACH ROW EXECUTE FUNCTION citycase_append_only()")
        op.execute("CREATE TRIGGER admin_event_no_truncate BEFORE TRUNCATE ON admin_event "
                   "FOR EACH STATEMENT EXECUTE FUNCTION citycase_append_only()")
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER admin_event_no_{action.lower()} BEFORE {action} ON admin_event "
                       f"BEGIN SELECT RAISE(ABORT, 'citycase: admin_event rows are append-only "
                       f"({action} refused)'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS admin_event_append_only ON admin_event")
        op.execute("DROP TRIGGER IF EXISTS admin_event_no_truncate ON admin_event")
    else:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS admin_event_no_{action}")
    op.drop_index("ix_admin_event_actor", table_name="admin_event")
    op.drop_index("ix_admin_event_at", table_name="admin_event")
    op.drop_table("admin_event")
    op.drop_column("department", "active")
