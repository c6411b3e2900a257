"""psa sync: connections, the PSA's lookups, mappings, links and the outbox of writes

Revision ID: 0024_psa_sync
Revises: 0023_queue_by_team
Create Date: 2026-11-24 08:00:15

New tables only (helpdesk/models/psa_*.py); nothing existing changes.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0024_psa_sync'
down_revision = '0023_queue_by_team'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('psa_connections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('base_url', sa.String(length=500), nullable=False),
    sa.Column('auth_url', sa.String(length=500), nullable=False),
    sa.Column('tenant', sa.String(length=200), nullable=True),
    sa.Column('client_id', sa.String(length=200), nullable=False),
    sa.Column('client_secret_encrypted', sa.Text(), nullable=False),
    sa.Column('webhook_secret_encrypted', sa.Text(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('request_budget', sa.Integer(), nullable=False),
    sa.Column('pull_minutes', sa.Integer(), nullable=False),
    sa.Column('default_client_id', sa.String(length=64), nullable=True),
    sa.Column('pulled_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_pull_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_pull_finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_pull_error', sa.Text(), nullable=True),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('check_result', sa.Text(), nullable=True),
    sa.Column('lookups_fetched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_psa_connections')),
    sa.UniqueConstraint('name', name=op.f('uq_psa_connections_name'))
    )
    op.create_table('psa_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('local_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=True),
    sa.Column('remote_updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('synced_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['connection_id'], ['psa_connections.id'], name=op.f('fk_psa_links_connection_id_psa_connections')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_psa_links')),
    sa.UniqueConstraint('connection_id', 'kind', 'local_id', name='uq_psa_links_connection_id_kind_local_id')
    )
    with op.batch_alter_table('psa_links', schema=None) as batch_op:
        batch_op.create_index('ix_psa_links_connection_id_kind_external_id', ['connection_id', 'kind', 'external_id'], unique=False)
        batch_op.create_index('ix_psa_links_kind_local_id', ['kind', 'local_id'], unique=False)

    op.create_table('psa_lookups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['psa_connections.id'], name=op.f('fk_psa_lookups_connection_id_psa_connections')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_psa_lookups')),
    sa.UniqueConstraint('connection_id', 'kind', 'external_id', name='uq_psa_lookups_connection_id_kind_external_id')
    )
    op.create_table('psa_mappings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('ours', sa.String(length=64), nullable=False),
    sa.Column('theirs', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['psa_connections.id'], name=op.f('fk_psa_mappings_connection_id_psa_connections')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_psa_mappings')),
    sa.UniqueConstraint('connection_id', 'kind', 'ours', name='uq_psa_mappings_connection_id_kind_ours')
    )
    op.create_table('psa_writes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('marker', sa.String(length=64), nullable=False),
    sa.Column('change', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('request_payload', sa.JSON(), nullable=True),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('response_body', sa.Text(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('external_id', sa.String(length=64), nullable=True),
    sa.Column('discard_reason', sa.Text(), nullable=True),
    sa.Column('discarded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['connection_id'], ['psa_connections.id'], name=op.f('fk_psa_writes_connection_id_psa_connections')),
    sa.ForeignKeyConstraint(['discarded_by_id'], ['users.id'], name=op.f('fk_psa_writes_discarded_by_id_users')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_psa_writes_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_psa_writes')),
    sa.UniqueConstraint('connection_id', 'key', name='uq_psa_writes_connection_id_key')
    )
    with op.batch_alter_table('psa_writes', schema=None) as batch_op:
        batch_op.create_index('ix_psa_writes_state_next_attempt_at', ['state', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_psa_writes_ticket_id_id', ['ticket_id', 'id'], unique=False)



def downgrade():
    with op.batch_alter_table('psa_writes', schema=None) as batch_op:
        batch_op.drop_index('ix_psa_writes_ticket_id_id')
        batch_op.drop_index('ix_psa_writes_state_next_attempt_at')

    op.drop_table('psa_writes')
    op.drop_table('psa_mappings')
    op.drop_table('psa_lookups')
    with op.batch_alter_table('psa_links', schema=None) as batch_op:
        batch_op.drop_index('ix_psa_links_kind_local_id')
        batch_op.drop_index('ix_psa_links_connection_id_kind_external_id')

    op.drop_table('psa_links')
    op.drop_table('psa_connections')
