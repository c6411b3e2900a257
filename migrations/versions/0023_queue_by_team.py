"""the queue by team: indexes for the ``team`` filter in queue order

Revision ID: 0023_queue_by_team
Revises: 0021_report_rollups
Create Date: 2026-11-27 09:00:00

The queue's ``team`` filter (a team's id, or ``none``) in queue order, like 0011's indexes over
the tickets not deleted, as two partial indexes that split the tickets between them (each
ticket is in one, so an update writes one entry, as one index would):

- ``ix_tickets_team_queue`` (team_id, queue_rank, updated_at DESC, id DESC, ...) where
  ``team_id IS NOT NULL``: a team's view is one range of it at any depth;
- ``ix_tickets_no_team_queue`` (queue_rank, updated_at DESC, id DESC, ...) where
  ``team_id IS NULL``: ``team=none``. One index with NULL leading does not do: PostgreSQL
  takes ``team_id = 3`` as a constant, so the index's order after it is the queue's, but not
  ``team_id IS NULL``, and it read every ticket of no team and sorted them (``team=none&page=200``
  at 200,000 tickets: 28 ms, 733 buffers; 1.3 ms, 106 buffers from its own index). (The
  assignee index has the same gap for ``assignee=unassigned`` deep down: 13-22 ms at 200,000.)

Both end in (created_at, status, priority, category_id, assignee_id), what a team's view is
narrowed by, checked inside the index: the age, as the category and assignee indexes do; the
statuses and priorities, which ``QueueFilters.partitions`` reads as one range per queue rank
of the team's index (so a rare team is not looked for in the table rows of every status and
priority slice); the team's unassigned tickets or one person's; a category.

Measured with EXPLAIN (ANALYZE, BUFFERS) on the bench's data at 200,000 tickets (PostgreSQL
15; three busy teams of 44,000-52,000 tickets, a rare one of 400, 59,000 tickets in none), the
page of ids of a 50-row page:

| view | ms | buffers |
|---|--:|--:|
| a busy team, the rare team, none (any status; live work) | 0.03-0.06 | 4-5 |
| a busy team, page 200; none, page 200; none, live, page 200 | 1.3-3.8 | 106-109 |
| busy / rare team and unassigned (the team's inbox), live | 0.08-0.12 | 6-8 |
| busy / rare team, on hold and low | 0.05-0.22 | 5-25 |
| a busy team, open and closed (two ranks) | 0.3 | 17 |
| rare team, sort updated / newest / oldest | 0.09-0.32 | 8-40 |
| a busy team and two categories it has no ticket of (an index walk) | 2.6 | 507 |

SQLite at 50,000 tickets: the same views in 0.04-0.6 ms, from these indexes (on hold and low
from the status-priority index, which SQLite prefers there). Left as it is: a busy team with live work by "newest" 200 pages deep (15-19 ms at 200,000: the team's live
tickets sorted by creation), a rare combination of a rare use.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0023_queue_by_team'
down_revision = '0021_report_rollups'
branch_labels = None
depends_on = None

CHECKED = ['queue_rank', sa.text('updated_at DESC'), sa.text('id DESC'), 'created_at', 'status',
           'priority', 'category_id', 'assignee_id']
INDEXES = {
    'ix_tickets_team_queue': (['team_id', *CHECKED],
                              sa.text('deleted_at IS NULL AND team_id IS NOT NULL')),
    'ix_tickets_no_team_queue': (CHECKED, sa.text('deleted_at IS NULL AND team_id IS NULL')),
}


def upgrade():
    # Plain CREATE INDEX, not batch mode: the columns are DESC expressions (see 0007).
    for name, (columns, where) in INDEXES.items():
        op.create_index(name, 'tickets', columns, unique=False,
                        postgresql_where=where, sqlite_where=where)
    op.execute('ANALYZE tickets')


def downgrade():
    for name in INDEXES:
        op.drop_index(name, table_name='tickets')
