"""index of the active users by role and name: the staff list and the assignable people

Revision ID: 0012_active_users_by_role
Revises: 0011_queue_indexes
Create Date: 2026-11-24 02:30:00

Subscribers are users too, so ``users`` grows with the customers (an ISP's can pass a
million), while every full queue page lists the active staff for its assignee filter and
every assignee control lists the active staff and the ticket's reseller users
(``services.tickets.assignable_users``). Without an index both read the whole table; with
``(role, name) WHERE disabled_at IS NULL`` each is a range per role, already in name order.
"""

import sqlalchemy as sa
from alembic import op

revision = '0012_active_users_by_role'
down_revision = '0011_queue_indexes'
branch_labels = None
depends_on = None

ACTIVE = sa.text('disabled_at IS NULL')


def upgrade():
    op.create_index('ix_users_active_role', 'users', ['role', 'name'], unique=False,
                    postgresql_where=ACTIVE, sqlite_where=ACTIVE)


def downgrade():
    op.drop_index('ix_users_active_role', table_name='users')
