"""queue rank 2 for resolved and closed tickets: the live work leads every queue index

Revision ID: 0013_resolved_rank_last
Revises: 0012_active_users_by_role
Create Date: 2026-11-24 04:30:00

The default queue lists unresolved tickets only (resolved and closed are a filter away). With
resolved and closed tickets ranked after every unresolved one, that queue is the start of
each index in queue order (``queue_rank`` first), one range however many tickets are done.
"""

from alembic import op

revision = '0013_resolved_rank_last'
down_revision = '0012_active_users_by_role'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("UPDATE tickets SET queue_rank = 2 WHERE status IN ('resolved', 'closed')")


def downgrade():
    op.execute("UPDATE tickets SET queue_rank = 1 WHERE queue_rank = 2")
