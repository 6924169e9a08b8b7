"""Evaluation: editable weights and grade bands (seeded from DOMAIN.md §6), append-only monthly snapshots

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# DOMAIN.md §6, one public implementation's weights; admins change the rows, not the code.
# department = volume (0–10) + 0.3 结案率 + 0.3 按时处置率 + 0.3 (100 − 返工率); the region
# kinds use the same counts with 按期结案率; acceptors have no published formula (an even split).
WEIGHTS = [
    *[(kind, term, w) for kind in ("department",) for term, w in
      (("volume", 0.1), ("close_rate", 0.3), ("on_time_handle_rate", 0.3), ("100-rework_rate", 0.3))],
    *[(kind, term, w) for kind in ("district", "street", "community", "grid") for term, w in
      (("volume", 0.1), ("close_rate", 0.3), ("on_time_close_rate", 0.3), ("100-rework_rate", 0.3))],
    ("supervisor", "valid_report_rate", 0.4), ("supervisor", "100-miss_rate", 0.2),
    ("supervisor", "on_time_verify_rate", 0.2), ("supervisor", "on_time_check_rate", 0.2),
    ("dispatcher", "volume", 0.2), ("dispatcher", "on_time_dispatch_rate", 0.4),
    ("dispatcher", "accurate_dispatch_rate", 0.4),
    ("shift_leader", "on_time_filing_rate", 0.25), ("shift_leader", "accurate_filing_rate", 0.4),
    ("shift_leader", "on_time_closing_rate", 0.35),
    ("acceptor", "on_time_accept_rate", 0.5), ("acceptor", "accept_accuracy_rate", 0.5),
]
GRADES = [("A", 90.0), ("B", 75.0), ("C", 60.0), ("D", 40.0), ("E", 0.0)]


def upgrade() -> None:
    weight = op.create_table(
        "evaluation_weight",
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("term", sa.String(40), primary_key=True),
        sa.Column("weight", sa.Float(), nullable=False),
    )
    grade = op.create_table(
        "evaluation_grade",
        sa.Column("grade", sa.String(4), primary_key=True),
        sa.Column("min_score", sa.Float(), nullable=False),
    )
    op.create_table(
        "evaluation_snapshot",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("month", sa.String(7), nullable=False, unique=True),
        sa.Column("period_start", sa.DateTime(), nullable=False),
        sa.Column("period_end", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
    )
    # The evaluation selects the cases active in a period by event time.
    op.create_index("ix_event_at", "event", ["at"])
    op.bulk_insert(weight, [{"kind": k, "term": t, "weight": w} for k, t, w in WEIGHTS])
    op.bulk_insert(grade, [{"grade": g, "min_score": m} for g, m in GRADES])
    # Snapshots are only ever inserted, like the history (migration 0004's function on PostgreSQL).
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE TRIGGER evaluation_snapshot_append_only BEFORE UPDATE OR DELETE ON evaluation_snapshot "
                   "FOR EACH ROW EXECUTE FUNCTION citycase_append_only()")
        op.execute("CREATE TRIGGER evaluation_snapshot_no_truncate BEFORE TRUNCATE ON evaluation_snapshot "
                   "FOR EACH STATEMENT EXECUTE FUNCTION citycase_append_only()")
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER evaluation_snapshot_no_{action.lower()} BEFORE {action} "
                       f"ON evaluation_snapshot BEGIN SELECT RAISE(ABORT, 'citycase: evaluation_snapshot rows "
                       f"are append-only ({action} refused)'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS evaluation_snapshot_append_only ON evaluation_snapshot")
        op.execute("DROP TRIGGER IF EXISTS evaluation_snapshot_no_truncate ON evaluation_snapshot")
    else:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS evaluation_snapshot_no_{action}")
    op.drop_index("ix_event_at", table_name="event")
    op.drop_table("evaluation_snapshot")
    op.drop_table("evaluation_grade")
    op.drop_table("evaluation_weight")
