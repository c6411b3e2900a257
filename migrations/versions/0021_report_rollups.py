"""report rollups: /reports sums days, not tickets

Revision ID: 0021_report_rollups
Revises: 0020_notification_channels
Create Date: 2026-11-25 12:00:00

``report_days`` (per UTC day, reseller, category and priority) and ``organisation_days`` (per
UTC day, reseller and organisation) count each ticket's opening, first response and
resolution on the day each happened (helpdesk/models/report_day.py), kept in step by the
tallies' flush listener from now on. Here they are filled from the existing tickets with one
grouped INSERT each, the SQL of ``helpdesk.services.tallies.report_rollup_statements`` at
this revision (written out, so this migration does not change when that module does).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0021_report_rollups'
down_revision = '0020_notification_channels'
branch_labels = None
depends_on = None

COUNTS = ("opened", "unresolved", "responded", "response_seconds", "resolved",
          "resolution_seconds")
UNRESOLVED = "'open', 'in_progress', 'waiting_on_customer', 'waiting_on_vendor', 'on_hold'"


def _fill_statements(dialect):
    if dialect == 'postgresql':
        def day(column):
            return f"CAST({column} AT TIME ZONE 'UTC' AS date)"

        def seconds(column):
            return (f"CAST(floor(extract(epoch FROM {column}))"
                    " - floor(extract(epoch FROM created_at)) AS bigint)")
    else:
        def day(column):
            return f"date({column})"

        def seconds(column):
            return (f"(CAST(strftime('%s', {column}) AS INTEGER)"
                    " - CAST(strftime('%s', created_at) AS INTEGER))")
    keys = ("coalesce(reseller_id, 0) AS reseller_id,"
            " coalesce(organisation_id, 0) AS organisation_id, category_id, priority")
    events = " UNION ALL ".join(
        f"SELECT {day(column)} AS day, {keys}, "
        + ", ".join(f"{count} AS {name}" for count, name in zip(counts, COUNTS))
        + f" FROM tickets WHERE deleted_at IS NULL{also}"
        for column, also, counts in (
            ("created_at", "",
             ("1", f"CASE WHEN status IN ({UNRESOLVED}) THEN 1 ELSE 0 END", "0", "0", "0",
              "0")),
            ("first_response_at", " AND first_response_at IS NOT NULL",
             ("0", "0", "1", seconds("first_response_at"), "0", "0")),
            ("resolved_at", " AND resolved_at IS NOT NULL",
             ("0", "0", "0", "0", "1", seconds("resolved_at"))),
        ))
    sums = ", ".join(f"sum({name})" for name in COUNTS)
    return [
        f"INSERT INTO {table} ({columns}, {', '.join(COUNTS)})"
        f" SELECT {columns}, {sums} FROM ({events}) events GROUP BY {columns}"
        for table, columns in (("report_days", "day, reseller_id, category_id, priority"),
                               ("organisation_days", "day, reseller_id, organisation_id"))
    ]


def _counts():
    return [
        sa.Column('opened', sa.Integer(), nullable=False),
        sa.Column('unresolved', sa.Integer(), nullable=False),
        sa.Column('responded', sa.Integer(), nullable=False),
        sa.Column('response_seconds', sa.BigInteger(), nullable=False),
        sa.Column('resolved', sa.Integer(), nullable=False),
        sa.Column('resolution_seconds', sa.BigInteger(), nullable=False),
    ]


def upgrade():
    op.create_table('report_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('reseller_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('category_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('priority', sa.String(length=16), nullable=False),
    *_counts(),
    sa.PrimaryKeyConstraint('day', 'reseller_id', 'category_id', 'priority',
                            name=op.f('pk_report_days'))
    )
    op.create_table('organisation_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('reseller_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('organisation_id', sa.Integer(), autoincrement=False, nullable=False),
    *_counts(),
    sa.PrimaryKeyConstraint('day', 'reseller_id', 'organisation_id',
                            name=op.f('pk_organisation_days'))
    )
    for table in ('report_days', 'organisation_days'):
        # The rows holding backlog: the backlog now, by any key, without reading all history.
        op.create_index(f'ix_{table}_backlog', table, ['reseller_id'], unique=False,
                        postgresql_where=sa.text('unresolved <> 0'),
                        sqlite_where=sa.text('unresolved <> 0'))
    for statement in _fill_statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade():
    op.drop_table('organisation_days')
    op.drop_table('report_days')
