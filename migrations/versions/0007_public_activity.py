"""the time of a ticket's last public activity, for the portal

Revision ID: 0007_public_activity
Revises: 0006_notification_claims
Create Date: 2026-11-24 10:00:00

Customers see only the time of the last public activity (DESIGN.md): an internal note, an
assignment or a priority change must not move a ticket in the portal. ``updated_at`` stays
the staff's clock; ``public_updated_at`` is filled from what customers could already see:
the opening, public replies and comments, public events (status changes) and the rating.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007_public_activity'
down_revision = '0006_notification_claims'
branch_labels = None
depends_on = None

BACKFILL = """
UPDATE tickets SET public_updated_at = {greatest}(
    created_at,
    COALESCE((SELECT max(replies.created_at) FROM replies
              WHERE replies.ticket_id = tickets.id AND NOT replies.internal), created_at),
    COALESCE((SELECT max(ticket_events.created_at) FROM ticket_events
              WHERE ticket_events.ticket_id = tickets.id AND NOT ticket_events.internal),
             created_at),
    COALESCE(rated_at, created_at)
)
"""


def upgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_updated_at', sa.DateTime(timezone=True),
                                      nullable=True))
    # GREATEST on PostgreSQL; SQLite's many-argument max() is the same function.
    op.execute(BACKFILL.format(greatest='max' if sqlite else 'GREATEST'))
    # SQLite cannot add NOT NULL in place: the batch rebuilds the table, and its reflection
    # drops the DESC of the queue indexes. Put each index back exactly as it was.
    indexes = _sqlite_indexes('tickets')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.alter_column('public_updated_at', existing_type=sa.DateTime(timezone=True),
                              nullable=False)
    _restore_sqlite_indexes(indexes)
    # Plain CREATE INDEX: the columns are DESC expressions, which batch mode cannot place.
    op.create_index(
        'ix_tickets_subscriber_public_updated', 'tickets',
        ['subscriber_id', sa.text('public_updated_at DESC'), sa.text('id DESC')], unique=False,
    )
    op.create_index(
        'ix_tickets_organisation_public_updated', 'tickets',
        ['organisation_id', sa.text('public_updated_at DESC'), sa.text('id DESC')],
        unique=False,
    )


def _sqlite_indexes(table):
    """The CREATE INDEX statements of ``table`` on SQLite, by index name (none elsewhere)."""
    if op.get_bind().dialect.name != 'sqlite':
        return {}
    rows = op.get_bind().execute(sa.text(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :table"
        " AND sql IS NOT NULL"), {'table': table})
    return dict(rows.all())


def _restore_sqlite_indexes(indexes):
    """Recreate indexes exactly as ``_sqlite_indexes`` saw them before a table rebuild."""
    for name, sql in indexes.items():
        op.execute(f'DROP INDEX IF EXISTS "{name}"')
        op.execute(sql)


def downgrade():
    op.drop_index('ix_tickets_organisation_public_updated', table_name='tickets')
    op.drop_index('ix_tickets_subscriber_public_updated', table_name='tickets')
    indexes = _sqlite_indexes('tickets')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('public_updated_at')
    _restore_sqlite_indexes(indexes)
