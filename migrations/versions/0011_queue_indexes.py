"""indexes for every filter and sort of the queue, read in order

Revision ID: 0011_queue_indexes
Revises: 0008_sign_ins
Create Date: 2026-11-25 10:00:00

TODO: reasons
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011_queue_indexes'
down_revision = '0008_sign_ins'
branch_labels = None
depends_on = None

LIVE = sa.text('deleted_at IS NULL')
QUEUE_ORDER = ['queue_rank', sa.text('updated_at DESC'), sa.text('id DESC')]
FILTERED = ['priority', 'category_id', 'assignee_id', 'reseller_id']

# name: columns; every one over the tickets not deleted (WHERE deleted_at IS NULL).
NEW = {
    'ix_tickets_queue': [*QUEUE_ORDER, 'created_at'],
    'ix_tickets_reseller_queue': ['reseller_id', *QUEUE_ORDER, 'created_at'],
    'ix_tickets_category_queue': ['category_id', *QUEUE_ORDER],
    'ix_tickets_assignee_queue': ['assignee_id', *QUEUE_ORDER],
    'ix_tickets_subscriber_queue': ['subscriber_id', *QUEUE_ORDER],
    'ix_tickets_organisation_queue': ['organisation_id', *QUEUE_ORDER],
    'ix_tickets_status_priority_queue': [
        'status', 'priority', sa.text('updated_at DESC'), sa.text('id DESC'),
        'created_at', 'category_id', 'assignee_id', 'reseller_id'],
    'ix_tickets_created': ['created_at', 'id', *FILTERED],
    'ix_tickets_status_created': ['status', 'created_at', 'id', *FILTERED],
}
# PostgreSQL's planner assumes columns independent; these are not (see above).
STATISTICS = {
    'st_tickets_status_assignee': 'status, assignee_id',
    'st_tickets_organisation_reseller': 'organisation_id, reseller_id',
}
# The indexes of 0001-0004 these replace, as they were.
OLD = {
    'ix_tickets_queue': QUEUE_ORDER,
    'ix_tickets_reseller_queue': ['reseller_id', *QUEUE_ORDER],
    'ix_tickets_status_category_queue': ['status', 'category_id', *QUEUE_ORDER],
    'ix_tickets_status_priority': ['status', 'priority'],
    'ix_tickets_subscriber_updated': ['subscriber_id', 'updated_at'],
    'ix_tickets_organisation_updated': ['organisation_id', 'updated_at'],
    'ix_tickets_category_id': ['category_id'],
    'ix_tickets_subscriber_id': ['subscriber_id'],
    'ix_tickets_organisation_id': ['organisation_id'],
    'ix_tickets_reseller_id': ['reseller_id'],
    'ix_tickets_assignee_id': ['assignee_id'],
}


def upgrade():
    # Plain CREATE INDEX, not batch mode: the columns are DESC expressions (see 0007).
    for name in OLD:
        op.drop_index(name, table_name='tickets')
    for name, columns in NEW.items():
        op.create_index(name, 'tickets', columns, unique=False,
                        postgresql_where=LIVE, sqlite_where=LIVE)
    if op.get_bind().dialect.name == 'postgresql':
        for name, columns in STATISTICS.items():
            op.execute(f'CREATE STATISTICS {name} (mcv) ON {columns} FROM tickets')
    # Fresh statistics, so the planner weighs the new indexes from the start.
    op.execute('ANALYZE tickets')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for name in STATISTICS:
            op.execute(f'DROP STATISTICS {name}')
    for name in NEW:
        op.drop_index(name, table_name='tickets')
    for name, columns in OLD.items():
        op.create_index(name, 'tickets', columns, unique=False)
