"""teams, routing rules, and each ticket's team and pending routing

Revision ID: 0018_teams_routing
Revises: 0016_outgoing_mail
Create Date: 2026-11-26 10:00:00

``teams`` and ``team_members`` (staff in teams); ``routing_rules``, tried in ``position``
order, first enabled match wins (``services.routing``). ``tickets.team_id`` is the team
working a ticket; ``tickets.routing_due_at`` is set while a routing decision is pending
(opened, or moved to another category) and cleared by the routing job, with a partial index
so the sweep reads only the pending few. Existing tickets are not routed: their column is
empty.
"""

import sqlalchemy as sa
from alembic import op

revision = '0018_teams_routing'
down_revision = '0016_outgoing_mail'
branch_labels = None
depends_on = None

PENDING = sa.text('routing_due_at IS NOT NULL')


def upgrade():
    op.create_table('teams',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_teams')),
    sa.UniqueConstraint('name', name=op.f('uq_teams_name'))
    )
    op.create_table('team_members',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_team_members_team_id_teams')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_team_members_user_id_users')),
    sa.PrimaryKeyConstraint('team_id', 'user_id', name=op.f('pk_team_members'))
    )
    op.create_index(op.f('ix_team_members_user_id'), 'team_members', ['user_id'], unique=False)
    op.create_table('routing_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('priority', sa.String(length=16), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('reseller_id', sa.Integer(), nullable=True),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('team_id IS NOT NULL OR assignee_id IS NOT NULL', name=op.f('ck_routing_rules_does_something')),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_routing_rules_assignee_id_users')),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_routing_rules_category_id_categories')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_routing_rules_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'], name=op.f('fk_routing_rules_reseller_id_resellers')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_routing_rules_team_id_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_rules')),
    sa.UniqueConstraint('name', name=op.f('uq_routing_rules_name'))
    )
    if op.get_bind().dialect.name == 'sqlite':
        # In place: a batch rebuild of tickets would drop the DESC of its queue indexes.
        op.execute("ALTER TABLE tickets ADD COLUMN team_id INTEGER"
                   " CONSTRAINT fk_tickets_team_id_teams REFERENCES teams (id)")
        op.execute("ALTER TABLE tickets ADD COLUMN routing_due_at DATETIME")
    else:
        op.add_column('tickets', sa.Column('team_id', sa.Integer(), nullable=True))
        op.add_column('tickets', sa.Column('routing_due_at', sa.DateTime(timezone=True),
                                           nullable=True))
        op.create_foreign_key('fk_tickets_team_id_teams', 'tickets', 'teams',
                              ['team_id'], ['id'])
    op.create_index('ix_tickets_routing_due', 'tickets', ['routing_due_at'], unique=False,
                    postgresql_where=PENDING, sqlite_where=PENDING)


def downgrade():
    op.drop_index('ix_tickets_routing_due', table_name='tickets')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("ALTER TABLE tickets DROP COLUMN routing_due_at")
        op.execute("ALTER TABLE tickets DROP COLUMN team_id")
    else:
        op.drop_constraint('fk_tickets_team_id_teams', 'tickets', type_='foreignkey')
        op.drop_column('tickets', 'routing_due_at')
        op.drop_column('tickets', 'team_id')
    op.drop_table('routing_rules')
    op.drop_index(op.f('ix_team_members_user_id'), table_name='team_members')
    op.drop_table('team_members')
    op.drop_table('teams')
