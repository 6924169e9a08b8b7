"""Index for group inboxes: a role's unclaimed tasks in due order

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_task_role_assignee_due", "task", ["role", "assignee", "due_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_task_role_assignee_due", table_name="task")
