"""psa pull: the PSA's field values as last read, and the actions still to be read, per link

Revision ID: 0027_psa_pull
Revises: 0025_psa_admin
Create Date: 2026-11-24 12:00:00

Two nullable columns on ``psa_links`` (tickets only; helpdesk/models/psa_link.py):
``remote_fields``, what the PSA said of a ticket's status, priority, client and user when
last read, so a pull tells the PSA's changes from ours (the later one wins) and re-homes a
ticket flagged for mapping; ``actions_due_at``, a change whose actions are still to be read,
with a small partial index for the pull's backlog, newest first. Existing rows need nothing.
"""

import sqlalchemy as sa
from alembic import op

revision = '0027_psa_pull'
down_revision = '0025_psa_admin'
branch_labels = None
depends_on = None

DUE = sa.text('actions_due_at IS NOT NULL')


def upgrade():
    with op.batch_alter_table('psa_links', schema=None) as batch_op:
        batch_op.add_column(sa.Column('remote_fields', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('actions_due_at', sa.DateTime(timezone=True),
                                      nullable=True))
    op.create_index('ix_psa_links_connection_id_actions_due_at', 'psa_links',
                    ['connection_id', 'actions_due_at'], unique=False,
                    postgresql_where=DUE, sqlite_where=DUE)


def downgrade():
    op.drop_index('ix_psa_links_connection_id_actions_due_at', table_name='psa_links')
    with op.batch_alter_table('psa_links', schema=None) as batch_op:
        batch_op.drop_column('actions_due_at')
        batch_op.drop_column('remote_fields')
