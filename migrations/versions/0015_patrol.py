"""Supervisors on patrol: roster, duty periods and positions (issue 16)

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "patrol_roster",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("shift_start", sa.DateTime(), nullable=False),
        sa.Column("shift_end", sa.DateTime(), nullable=False),
        sa.Column("grid_codes", sa.Text(), nullable=False),
        sa.UniqueConstraint("username", "day"),
    )
    op.create_index("ix_patrol_roster_day", "patrol_roster", ["day"])
    op.create_table(
        "patrol_duty",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_patrol_duty_user_start", "patrol_duty", ["username", "started_at"])
    op.create_table(
        "patrol_position",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("accuracy", sa.Float(), nullable=True),
        sa.Column("grid_code", sa.String(15), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("username", "at"),
    )
    op.create_index("ix_patrol_position_at", "patrol_position", ["at"])


def downgrade() -> None:
    op.drop_index("ix_patrol_position_at", table_name="patrol_position")
    op.drop_table("patrol_position")
    op.drop_index("ix_patrol_duty_user_start", table_name="patrol_duty")
    op.drop_table("patrol_duty")
    op.drop_index("ix_patrol_roster_day", table_name="patrol_roster")
    op.drop_table("patrol_roster")
