"""SLA: the workspace calendar and targets, and each ticket's clock and due times

Revision ID: 0019_sla
Revises: 0018_teams_routing
Create Date: 2026-11-26 09:00:00

``sla_settings`` (one row: time zone, business hours, holidays, at-risk share, escalation
levels, auto-close days) and ``sla_targets`` (per priority, for the workspace, a reseller or an
organisation; blank inherits). Without rows the built-in defaults apply (helpdesk/sla/policy.py).

On ``tickets``, the clock (helpdesk/sla/clock.py): ``first_response_due_at``,
``resolution_due_at``, ``sla_due_at`` (the running clock's due time, the queue's "SLA due"
sort), ``sla_state``, ``sla_paused_at``, ``sla_running_since``, ``sla_elapsed_seconds``
(business seconds run before the current run), ``sla_next_check_at`` (the sweep reads only the
rows whose time has come) and ``sla_escalation_level``.

Indexes, like 0011's over the tickets not deleted: ``ix_tickets_sla_state_queue`` (the ``sla``
filter in queue order), ``ix_tickets_sla_due`` (the sort, with the filters checked in the
index); and ``ix_tickets_sla_next_check`` (partial: rows with a next check) and
``ix_tickets_resolved_auto_close`` (partial: resolved tickets by resolution time) for the
sweep. Columns are added in place, not by a batch rebuild, which on SQLite would drop the DESC
of the queue's indexes (see 0014). Tickets opened before this revision have no clock until
``flask --app wsgi sla recompute`` gives their live ones one.
"""

import sqlalchemy as sa
from alembic import op

revision = '0019_sla'
down_revision = '0018_teams_routing'
branch_labels = None
depends_on = None

LIVE = sa.text('deleted_at IS NULL')
QUEUE_ORDER = ['queue_rank', sa.text('updated_at DESC'), sa.text('id DESC')]
FILTERED = ['priority', 'category_id', 'assignee_id', 'reseller_id']
COLUMNS = [
    ('first_response_due_at', sa.DateTime(timezone=True)),
    ('resolution_due_at', sa.DateTime(timezone=True)),
    ('sla_due_at', sa.DateTime(timezone=True)),
    ('sla_state', sa.String(length=16)),
    ('sla_paused_at', sa.DateTime(timezone=True)),
    ('sla_running_since', sa.DateTime(timezone=True)),
    ('sla_next_check_at', sa.DateTime(timezone=True)),
]
INDEXES = {
    'ix_tickets_sla_state_queue': (['sla_state', *QUEUE_ORDER], LIVE),
    'ix_tickets_sla_due': (['sla_due_at', 'id', 'status', *FILTERED], LIVE),
    'ix_tickets_sla_next_check': (['sla_next_check_at'],
                                  sa.text('sla_next_check_at IS NOT NULL')),
    'ix_tickets_resolved_auto_close': (['resolved_at'], sa.text("status = 'resolved'")),
}


def upgrade():
    op.create_table('sla_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('hours', sa.Text(), nullable=False),
    sa.Column('holidays', sa.Text(), nullable=False),
    sa.Column('at_risk_percent', sa.SmallInteger(), nullable=False),
    sa.Column('escalation_levels', sa.Text(), nullable=False),
    sa.Column('auto_close_days', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_settings'))
    )
    op.create_table('sla_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('reseller_id', sa.Integer(), nullable=True),
    sa.Column('priority', sa.String(length=16), nullable=False),
    sa.Column('first_response_minutes', sa.Integer(), nullable=True),
    sa.Column('resolution_minutes', sa.Integer(), nullable=True),
    sa.CheckConstraint('reseller_id IS NULL OR organisation_id IS NULL',
                       name=op.f('ck_sla_targets_one_scope')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                            name=op.f('fk_sla_targets_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'],
                            name=op.f('fk_sla_targets_reseller_id_resellers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_targets'))
    )
    op.create_index('ix_sla_targets_scope', 'sla_targets',
                    ['organisation_id', 'reseller_id', 'priority'], unique=False)
    for name, type_ in COLUMNS:
        op.add_column('tickets', sa.Column(name, type_, nullable=True))
    op.add_column('tickets', sa.Column('sla_elapsed_seconds', sa.Integer(), nullable=False,
                                       server_default='0'))
    op.add_column('tickets', sa.Column('sla_escalation_level', sa.SmallInteger(),
                                       nullable=False, server_default='0'))
    for name, (columns, where) in INDEXES.items():
        op.create_index(name, 'tickets', columns, unique=False,
                        postgresql_where=where, sqlite_where=where)


def downgrade():
    for name in INDEXES:
        op.drop_index(name, table_name='tickets')
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for name in [name for name, _ in COLUMNS] + ['sla_elapsed_seconds', 'sla_escalation_level']:
        if sqlite:  # in place, as 0014: a batch rebuild would drop the queue indexes' DESC
            op.execute(f'ALTER TABLE tickets DROP COLUMN {name}')
        else:
            op.drop_column('tickets', name)
    op.drop_index('ix_sla_targets_scope', table_name='sla_targets')
    op.drop_table('sla_targets')
    op.drop_table('sla_settings')
