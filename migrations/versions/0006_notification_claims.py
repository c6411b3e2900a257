"""notification claims: when a worker last claimed a notification for sending

Revision ID: 0006_notification_claims
Revises: 0005
Create Date: 2026-11-24 10:00:00

A worker claims a row (``state = 'sending'``, ``claimed_at = now``) before talking to the mail
server; the sweep hands rows claimed long ago back to the queue. The new states (``sending``,
``withheld``) fit the existing ``String(16)`` column.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006_notification_claims'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    # The states before this revision: an interrupted send waits again, a withheld one was
    # not sent either.
    op.execute("UPDATE notifications SET state = 'queued' WHERE state = 'sending'")
    op.execute("UPDATE notifications SET state = 'skipped' WHERE state = 'withheld'")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('claimed_at')
