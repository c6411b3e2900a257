"""index for the queue filtered by status and category, in queue order

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 17:50:00

At 100,000 tickets the queue filtered by status and category walked the whole queue index
(docs/benchmarks.md); with this index PostgreSQL reads just the matching rows in order.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index(
            'ix_tickets_status_category_queue',
            ['status', 'category_id', 'queue_rank', sa.text('updated_at DESC'),
             sa.text('id DESC')],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_status_category_queue')
