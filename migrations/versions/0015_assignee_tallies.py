"""assignee tallies: the counters of "My tickets" from maintained aggregates

Revision ID: 0015_assignee_tallies
Revises: 0014_time_zone_and_opened_by
Create Date: 2026-11-24 11:00:00

"My tickets" has its own counters. ``assignee_tallies`` holds the number of live tickets per
assignee, reseller (0: none), status, priority and category, moved by every ticket change in
its own transaction like ``ticket_tallies`` (helpdesk/models/ticket_tally.py); here it is
filled from the assigned tickets with one grouped INSERT (the SQL of
``helpdesk.services.tallies.rebuild`` at this revision, written out).
"""
import sqlalchemy as sa
from alembic import op

revision = '0015_assignee_tallies'
down_revision = '0014_time_zone_and_opened_by'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('assignee_tallies',
    sa.Column('assignee_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('reseller_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('priority', sa.String(length=16), nullable=False),
    sa.Column('category_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('tickets', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('assignee_id', 'reseller_id', 'status', 'priority', 'category_id',
                            name=op.f('pk_assignee_tallies'))
    )
    op.execute(
        "INSERT INTO assignee_tallies (assignee_id, reseller_id, status, priority, category_id,"
        " tickets)"
        " SELECT assignee_id, coalesce(reseller_id, 0), status, priority, category_id, count(*)"
        " FROM tickets WHERE deleted_at IS NULL AND assignee_id IS NOT NULL"
        " GROUP BY assignee_id, coalesce(reseller_id, 0), status, priority, category_id"
    )


def downgrade():
    op.drop_table('assignee_tallies')
