"""Definition versions: proposed → active → retired, four-eyes approval, hash-chained history

Existing versions: the newest of each process becomes active (it is what new cases started on),
the others retired.

The definition history is append-only like the case history (0004's trigger function on
PostgreSQL, RAISE(ABORT) triggers on SQLite).

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

from engine.models import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("definition_version") as batch:
        batch.add_column(sa.Column("state", sa.String(12), nullable=False, server_default="proposed"))
        batch.add_column(sa.Column("approved_by", sa.String(64), nullable=True))
        batch.add_column(sa.Column("approved_at", UTCDateTime(), nullable=True))
    op.execute("UPDATE definition_version SET state = 'retired'")
    op.execute("UPDATE definition_version SET state = 'active', approved_by = deployed_by, "
               "approved_at = deployed_at WHERE id IN (SELECT d.id FROM definition_version d WHERE d.version = "
               "(SELECT max(e.version) FROM definition_version e WHERE e.process_id = d.process_id))")
    op.create_table(
        "definition_event",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("seq", sa.Integer(), nullable=False, unique=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("definition_id", sa.Integer(), sa.ForeignKey("definition_version.id"), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_definition_event_definition_id", "definition_event", ["definition_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE TRIGGER definition_event_append_only BEFORE UPDATE OR DELETE ON definition_event "
                   "FOR EACH ROW EXECUTE FUNCTION citycase_append_only()")
        op.execute("CREATE TRIGGER definition_event_no_truncate BEFORE TRUNCATE ON definition_event "
                   "FOR EACH STATEMENT EXECUTE FUNCTION citycase_append_only()")
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER definition_event_no_{action.lower()} BEFORE {action} ON definition_event "
                       f"BEGIN SELECT RAISE(ABORT, 'citycase: definition_event rows are append-only "
                       f"({action} refused)'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS definition_event_append_only ON definition_event")
        op.execute("DROP TRIGGER IF EXISTS definition_event_no_truncate ON definition_event")
    else:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS definition_event_no_{action}")
    op.drop_index("ix_definition_event_definition_id", table_name="definition_event")
    op.drop_table("definition_event")
    with op.batch_alter_table("definition_version") as batch:
        batch.drop_column("approved_at")
        batch.drop_column("approved_by")
        batch.drop_column("state")
