"""ticket tallies: the queue's counters from maintained aggregates

Revision ID: 0010_ticket_tallies
Revises: 0009_ticket_search
Create Date: 2026-11-24 12:00:00

The counters on every queue view counted every ticket in scope (0.8-1.0 s at 1,000,000
tickets). ``ticket_tallies`` holds the number of live tickets per reseller (0: none),
status, priority and category; ``ticket_days`` the tickets opened per UTC day and reseller
with their first-response and resolution times in whole seconds. From now on every ticket
change moves them in its own transaction (helpdesk/models/ticket_tally.py); here they are
filled from the existing tickets with one grouped INSERT each, the same SQL as
``helpdesk.services.tallies.rebuild`` at this revision (written out, so this migration
does not change when that module does).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010_ticket_tallies'
down_revision = '0009_ticket_search'
branch_labels = None
depends_on = None

RESELLER = "coalesce(reseller_id, 0)"


def _fill_statements(dialect):
    if dialect == 'postgresql':
        day = "CAST(created_at AT TIME ZONE 'UTC' AS date)"

        def seconds(column):
            return (f"CAST(floor(extract(epoch FROM {column}))"
                    " - floor(extract(epoch FROM created_at)) AS bigint)")
    else:
        day = "date(created_at)"

        def seconds(column):
            return (f"(CAST(strftime('%s', {column}) AS INTEGER)"
                    " - CAST(strftime('%s', created_at) AS INTEGER))")
    return [
        "INSERT INTO ticket_tallies (reseller_id, status, priority, category_id, tickets)"
        f" SELECT {RESELLER}, status, priority, category_id, count(*)"
        " FROM tickets WHERE deleted_at IS NULL"
        f" GROUP BY {RESELLER}, status, priority, category_id",
        "INSERT INTO ticket_days (day, reseller_id, opened, responded, response_seconds,"
        " resolved, resolution_seconds)"
        f" SELECT {day}, {RESELLER}, count(*), count(first_response_at),"
        f" coalesce(sum({seconds('first_response_at')}), 0), count(resolved_at),"
        f" coalesce(sum({seconds('resolved_at')}), 0)"
        f" FROM tickets WHERE deleted_at IS NULL GROUP BY {day}, {RESELLER}",
    ]


def upgrade():
    op.create_table('ticket_tallies',
    sa.Column('reseller_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('priority', sa.String(length=16), nullable=False),
    sa.Column('category_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('tickets', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('reseller_id', 'status', 'priority', 'category_id',
                            name=op.f('pk_ticket_tallies'))
    )
    op.create_table('ticket_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('reseller_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('opened', sa.Integer(), nullable=False),
    sa.Column('responded', sa.Integer(), nullable=False),
    sa.Column('response_seconds', sa.BigInteger(), nullable=False),
    sa.Column('resolved', sa.Integer(), nullable=False),
    sa.Column('resolution_seconds', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'reseller_id', name=op.f('pk_ticket_days'))
    )
    for statement in _fill_statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade():
    op.drop_table('ticket_days')
    op.drop_table('ticket_tallies')
