"""psa admin: a connection's defaults for the fields the PSA requires on a new ticket

Revision ID: 0025_psa_admin
Revises: 0024_psa_sync
Create Date: 2026-11-24 09:00:00

One nullable JSON column on ``psa_connections`` (helpdesk/models/psa_connection.py); nothing
existing changes.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0025_psa_admin'
down_revision = '0024_psa_sync'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('psa_connections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('new_ticket_fields', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('psa_connections', schema=None) as batch_op:
        batch_op.drop_column('new_ticket_fields')
