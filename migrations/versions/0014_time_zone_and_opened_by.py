"""each user's time zone; who opened a ticket on a subscriber's behalf

Revision ID: 0014_time_zone_and_opened_by
Revises: 0013_resolved_rank_last
Create Date: 2026-11-24 09:00:00

``users.time_zone`` is an IANA name ("Europe/Dublin"); empty means "the browser's". Times stay
stored in UTC and are shown in the viewer's zone.

``tickets.opened_by_id`` is the staff or reseller user who opened a ticket for a subscriber
(empty when the subscriber opened it). Tickets opened on behalf before this migration are
found by their ``ticket.open`` audit entry, whose actor is not the subscriber.
"""

import sqlalchemy as sa
from alembic import op

revision = '0014_time_zone_and_opened_by'
down_revision = '0013_resolved_rank_last'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('time_zone', sa.String(length=64), nullable=True))
    if op.get_bind().dialect.name == 'sqlite':
        # In place: a batch rebuild of tickets would drop the DESC of its queue indexes.
        op.execute("ALTER TABLE tickets ADD COLUMN opened_by_id INTEGER"
                   " CONSTRAINT fk_tickets_opened_by_id_users REFERENCES users (id)")
    else:
        op.add_column('tickets', sa.Column('opened_by_id', sa.Integer(), nullable=True))
        op.create_foreign_key('fk_tickets_opened_by_id_users', 'tickets', 'users',
                              ['opened_by_id'], ['id'])
    op.execute(
        "UPDATE tickets SET opened_by_id = (SELECT min(a.actor_id) FROM audit_entries a"
        "  WHERE a.action = 'ticket.open' AND a.ticket_id = tickets.id)"
        " WHERE id IN (SELECT a.ticket_id FROM audit_entries a"
        "  JOIN tickets t ON t.id = a.ticket_id"
        "  WHERE a.action = 'ticket.open' AND a.actor_id <> t.subscriber_id)"
    )


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("ALTER TABLE tickets DROP COLUMN opened_by_id")
    else:
        op.drop_constraint('fk_tickets_opened_by_id_users', 'tickets', type_='foreignkey')
        op.drop_column('tickets', 'opened_by_id')
    op.drop_column('users', 'time_zone')
