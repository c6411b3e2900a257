"""queue indexes in the queue's order (rank up, latest update first)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 17:35:00

The default queue orders by queue_rank ASC, updated_at DESC, id DESC. The indexes of 0002
were all ascending, which PostgreSQL cannot walk for that mixed order, so the first page
sorted every ticket (about 400 ms at 100,000 tickets, see docs/benchmarks.md). Same names and
columns, directions matching the query.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_queue')
        batch_op.drop_index('ix_tickets_reseller_queue')
        batch_op.create_index(
            'ix_tickets_queue',
            ['queue_rank', sa.text('updated_at DESC'), sa.text('id DESC')], unique=False,
        )
        batch_op.create_index(
            'ix_tickets_reseller_queue',
            ['reseller_id', 'queue_rank', sa.text('updated_at DESC'), sa.text('id DESC')],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_reseller_queue')
        batch_op.drop_index('ix_tickets_queue')
        batch_op.create_index('ix_tickets_queue', ['queue_rank', 'updated_at', 'id'], unique=False)
        batch_op.create_index(
            'ix_tickets_reseller_queue', ['reseller_id', 'queue_rank', 'updated_at', 'id'],
            unique=False,
        )
