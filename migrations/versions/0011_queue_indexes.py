"""indexes for every filter and sort of the queue, read in order

Revision ID: 0011_queue_indexes
Revises: 0010_ticket_tallies
Create Date: 2026-11-25 10:00:00

Every list of tickets pages by keyset (helpdesk/keyset.py): a page is a few index ranges, read
in the list's order, so each filter and sort needs an index whose leading columns are the
filter's equality and whose next columns are the sort. One index per filter x sort would be
about thirty indexes, and every ticket update writes an entry in each (``updated_at`` is in
most of them, so no update is HOT). This set has 13 indexes on tickets where there were 15,
and serves every filter alone, the common pairs and every sort with a range of one index.

The set (each new index over ``WHERE deleted_at IS NULL``):

- ``ix_tickets_queue`` (queue_rank, updated_at DESC, id DESC, created_at): the queue order,
  unfiltered; "updated" (one slice per rank, see QueueFilters.partitions); ``age``, which the
  trailing ``created_at`` checks inside the index (over-month in queue order: 124 ms with the
  check on the table, 0.7 ms in the index: recent tickets come first and all fail it).
- ``ix_tickets_reseller_queue``: the same per reseller, the reseller role's scope and the
  ``reseller`` filter. Replaces ``ix_tickets_reseller_id``.
- ``ix_tickets_category_queue``, ``ix_tickets_assignee_queue`` (a person, ``me``,
  ``unassigned`` = NULL), both with ``created_at`` last for the age; and
  ``ix_tickets_subscriber_queue`` (``customer``, the customer hub),
  ``ix_tickets_organisation_queue`` (the organisation hub): a filter's column, then the queue
  order. They replace the single-column foreign key indexes (whose lookups they serve too)
  and ``ix_tickets_subscriber_updated``, ``ix_tickets_organisation_updated``. A customer's
  or an organisation's view with more filters is read from its own index (a few thousand
  tickets), not sliced.
- ``ix_tickets_status_priority_queue`` (status, priority, updated_at DESC, id DESC,
  created_at, category_id, assignee_id, reseller_id): one status and priority have one queue
  rank, so the queue and "updated" read ``status`` (4 ranges), ``priority`` (7), several
  statuses, and status+priority (1) as ranges of it. The trailing columns check the common
  pairs inside the index: status+category, status+assignee, unassigned+closed, reseller+status,
  status+age. Replaces ``ix_tickets_status_priority`` and ``ix_tickets_status_category_queue``
  (one pair, one index; now one index for all of them).
- ``ix_tickets_created`` and ``ix_tickets_status_created`` (status, created_at, id, then
  priority, category_id, assignee_id, reseller_id): "newest" and "oldest", alone, per status
  (status=on_hold&sort=oldest walked 650,000 older tickets: 1.6 s), and with the other filters
  checked in the index, so a rare or empty combination costs an index walk, not a table walk.
- kept: ``ix_tickets_updated_at`` (the queue's live poll, ``updated_at > since``) and the
  portal's two ``public_updated_at`` indexes.

Partial indexes: every list is scoped with ``deleted_at IS NULL``, so these indexes leave the
deleted tickets out and PostgreSQL answers a page of ids from the index alone (an index-only
scan), which makes an offset page (``page=200``) skip index entries, not table rows.

PostgreSQL assumes columns independent; two pairs are not, and the planner picked table walks
of seconds for combinations it thought common: an agent's open tickets (open tickets are
unassigned) and a reseller filtering another reseller's organisation (an organisation has one
reseller: 3 s for an empty page by "newest"). Extended statistics (mcv) on those pairs fix the
estimates; they cost an ANALYZE, not a write.

Measured with EXPLAIN (ANALYZE, BUFFERS) at 1,000,000 tickets (the bench data, PostgreSQL 15,
warm cache), the page-of-ids statement of a 25-row page:

| view | before (issue 8: whole page) | after (the ids) |
|---|--:|--:|
| queue after position 500,000 / 900,000 | 2.8 s / 4.5 s | 0.04 / 0.03 ms (23 / 17 buffers) |
| ``sort=newest`` / ``oldest`` (top; after 900,000 / 500,000) | 1.7 s | 0.01; 0.02 ms |
| ``sort=updated`` after 900,000 | | 0.03 ms |
| ``page=200`` (queue; ``sort=newest``; five statuses) | 80-103 ms | 0.7; 0.8; 8.6 ms |
| ``status=on_hold&priority=low`` | 286 ms | 0.02 ms |
| ``assignee=unassigned&status=closed`` | 337 ms | 0.08 ms |
| each status / each priority / five statuses at once | | 0.06-0.10 / 0.08-0.12 / 0.30 ms |
| category, assignee (me, a person, unassigned), customer, organisation, reseller | | 0.01-0.03 ms |
| status+category, status+assignee, reseller+status | | 0.10-0.13 ms |
| age today / week / over-week / over-month | | 0.01 / 0.01 / 0.09 / 0.49 ms |
| ``status=on_hold&sort=oldest`` | | 0.02 ms |
| as reseller: queue top; after 90,000; ``status=on_hold``; ``priority=urgent`` | | 0.02; 0.04; 0.13; 0.14 ms |
| as reseller: unassigned+closed; newest; oldest after 100,000; ``page=200`` | | 0.22; 0.02; 0.02; 0.72 ms |

Then the page's rows are loaded by id with what a row shows (1.4-2.3 ms for 50 rows).
Every filter alone and every pair of them (139 views), under each of the four sorts, at the
top and deep, as an agent and as a reseller (2,224 pages): the slowest page of ids took 16 ms
(an organisation's view with two statuses), 218 took over 5 ms. SQLite at 100,000 tickets
with statistics: the slowest 27 ms; the views above under 1.1 ms, but for offset pages
(``page=200``: 0.3 ms in one range, 18 ms over five statuses' twenty slices, which SQLite
reads to the offset each instead of merging). Without statistics SQLite's
planner guesses (status=closed&age=over-month took 112 ms, ranging over creation times and
sorting), so the upgrade runs ANALYZE; a database that grows from empty should be analyzed
again (``PRAGMA optimize``).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011_queue_indexes'
down_revision = '0010_ticket_tallies'
branch_labels = None
depends_on = None

LIVE = sa.text('deleted_at IS NULL')
QUEUE_ORDER = ['queue_rank', sa.text('updated_at DESC'), sa.text('id DESC')]
FILTERED = ['priority', 'category_id', 'assignee_id', 'reseller_id']

# name: columns; every one over the tickets not deleted (WHERE deleted_at IS NULL).
NEW = {
    'ix_tickets_queue': [*QUEUE_ORDER, 'created_at'],
    'ix_tickets_reseller_queue': ['reseller_id', *QUEUE_ORDER, 'created_at'],
    'ix_tickets_category_queue': ['category_id', *QUEUE_ORDER, 'created_at'],
    'ix_tickets_assignee_queue': ['assignee_id', *QUEUE_ORDER, 'created_at'],
    'ix_tickets_subscriber_queue': ['subscriber_id', *QUEUE_ORDER],
    'ix_tickets_organisation_queue': ['organisation_id', *QUEUE_ORDER],
    'ix_tickets_status_priority_queue': [
        'status', 'priority', sa.text('updated_at DESC'), sa.text('id DESC'),
        'created_at', 'category_id', 'assignee_id', 'reseller_id'],
    'ix_tickets_created': ['created_at', 'id', *FILTERED],
    'ix_tickets_status_created': ['status', 'created_at', 'id', *FILTERED],
}
# PostgreSQL's planner assumes columns independent; these are not (see above).
STATISTICS = {
    'st_tickets_status_assignee': 'status, assignee_id',
    'st_tickets_organisation_reseller': 'organisation_id, reseller_id',
}
# The indexes of 0001-0004 these replace, as they were.
OLD = {
    'ix_tickets_queue': QUEUE_ORDER,
    'ix_tickets_reseller_queue': ['reseller_id', *QUEUE_ORDER],
    'ix_tickets_status_category_queue': ['status', 'category_id', *QUEUE_ORDER],
    'ix_tickets_status_priority': ['status', 'priority'],
    'ix_tickets_subscriber_updated': ['subscriber_id', 'updated_at'],
    'ix_tickets_organisation_updated': ['organisation_id', 'updated_at'],
    'ix_tickets_category_id': ['category_id'],
    'ix_tickets_subscriber_id': ['subscriber_id'],
    'ix_tickets_organisation_id': ['organisation_id'],
    'ix_tickets_reseller_id': ['reseller_id'],
    'ix_tickets_assignee_id': ['assignee_id'],
}


def upgrade():
    # Plain CREATE INDEX, not batch mode: the columns are DESC expressions (see 0007).
    for name in OLD:
        op.drop_index(name, table_name='tickets')
    for name, columns in NEW.items():
        op.create_index(name, 'tickets', columns, unique=False,
                        postgresql_where=LIVE, sqlite_where=LIVE)
    if op.get_bind().dialect.name == 'postgresql':
        for name, columns in STATISTICS.items():
            op.execute(f'CREATE STATISTICS {name} (mcv) ON {columns} FROM tickets')
    # Fresh statistics, so the planner weighs the new indexes from the start.
    op.execute('ANALYZE tickets')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for name in STATISTICS:
            op.execute(f'DROP STATISTICS {name}')
    for name in NEW:
        op.drop_index(name, table_name='tickets')
    for name, columns in OLD.items():
        op.create_index(name, 'tickets', columns, unique=False)
