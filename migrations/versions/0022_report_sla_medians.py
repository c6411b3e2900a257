"""report rollups: SLA compliance and duration histograms, for the reports' medians

Revision ID: 0022_report_sla_medians
Revises: 0021_report_rollups
Create Date: 2026-11-27 09:00:00

On ``report_days`` and ``organisation_days`` (helpdesk/models/report_day.py):
``sla_responses`` and ``sla_responses_met`` (first responses with a due time, and those
made by it), ``sla_resolutions`` and ``sla_resolutions_met`` (the same for resolutions), and
24 ``response_bucket_NN`` and 24 ``resolution_bucket_NN`` columns: how many first responses
(resolutions) took a time within each bucket (under a minute, then up to 2, 5, 10, 15, 30
minutes, 1, 1.5, 2, 3, 4, 6, 8, 12, 18 hours, 1, 2, 3, 5, 7, 14, 30, 60 days, then more).

Columns are added in place with a default of 0 (on PostgreSQL without rewriting the table),
then both rollups are emptied and filled again from the tickets with one grouped INSERT each:
the SQL of ``helpdesk.services.tallies.report_rollup_statements`` at this revision, written
out so this migration does not change when that module does. Due times are compared as
stored; a ticket resolved from a waiting status before this revision has the due time from
before its wait (the clock settles it at the stop from now on, helpdesk/sla/clock.py), so it
may count as late though its clock was within target.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0022_report_sla_medians'
down_revision = '0021_report_rollups'
branch_labels = None
depends_on = None

TABLES = {'report_days': 'day, reseller_id, category_id, priority',
          'organisation_days': 'day, reseller_id, organisation_id'}
COUNTS = ("opened", "unresolved", "responded", "response_seconds", "resolved",
          "resolution_seconds")
SLA = ("sla_responses", "sla_responses_met", "sla_resolutions", "sla_resolutions_met")
MINUTE, HOUR, DAY = 60, 3600, 86400
EDGES = (MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR,
         90 * MINUTE, 2 * HOUR, 3 * HOUR, 4 * HOUR, 6 * HOUR, 8 * HOUR, 12 * HOUR, 18 * HOUR,
         DAY, 2 * DAY, 3 * DAY, 5 * DAY, 7 * DAY, 14 * DAY, 30 * DAY, 60 * DAY)
RESPONSE = tuple(f"response_bucket_{n:02d}" for n in range(len(EDGES) + 1))
RESOLUTION = tuple(f"resolution_bucket_{n:02d}" for n in range(len(EDGES) + 1))
NEW = (*SLA, *RESPONSE, *RESOLUTION)
UNRESOLVED = "'open', 'in_progress', 'waiting_on_customer', 'waiting_on_vendor', 'on_hold'"


def _fill_statements(dialect):
    if dialect == 'postgresql':
        def day(column):
            return f"CAST({column} AT TIME ZONE 'UTC' AS date)"

        def epoch(column):
            return f"floor(extract(epoch FROM {column}))"

        def seconds(column):
            return f"CAST({epoch(column)} - {epoch('created_at')} AS bigint)"
    else:
        def day(column):
            return f"date({column})"

        def epoch(column):
            return f"CAST(strftime('%s', {column}) AS INTEGER)"

        def seconds(column):
            return f"({epoch(column)} - {epoch('created_at')})"

    keys = ("coalesce(reseller_id, 0) AS reseller_id,"
            " coalesce(organisation_id, 0) AS organisation_id, category_id, priority")
    no_bucket = "CAST(NULL AS INTEGER)"
    bucket = ("CASE " + " ".join(f"WHEN took < {edge} THEN {n}" for n, edge in enumerate(EDGES))
              + f" ELSE {len(EDGES)} END")

    def columns(counts, response_bucket=no_bucket, resolution_bucket=no_bucket):
        return ", ".join([f"{counts.get(name, '0')} AS {name}" for name in (*COUNTS, *SLA)]
                         + [f"{response_bucket} AS response_bucket",
                            f"{resolution_bucket} AS resolution_bucket"])

    selects = [f"SELECT {day('created_at')} AS day, {keys}, "
               + columns({"opened": "1",
                          "unresolved": f"CASE WHEN status IN ({UNRESOLVED}) THEN 1 ELSE 0 END"})
               + " FROM tickets WHERE deleted_at IS NULL"]
    for at, due, count, total, sla, which in (
            ("first_response_at", "first_response_due_at", "responded", "response_seconds",
             "sla_responses", "response_bucket"),
            ("resolved_at", "resolution_due_at", "resolved", "resolution_seconds",
             "sla_resolutions", "resolution_bucket")):
        counts = {count: "1", total: "took",
                  sla: f"CASE WHEN {due} IS NULL THEN 0 ELSE 1 END",
                  f"{sla}_met": f"CASE WHEN {epoch(at)} <= {epoch(due)} THEN 1 ELSE 0 END"}
        selects.append(
            f"SELECT {day(at)} AS day, {keys}, " + columns(counts, **{which: bucket})
            + f" FROM (SELECT tickets.*, {seconds(at)} AS took FROM tickets"
            f" WHERE deleted_at IS NULL AND {at} IS NOT NULL) events_{count}")
    events = " UNION ALL ".join(selects)
    sums = ", ".join(
        [f"sum({name})" for name in (*COUNTS, *SLA)]
        + [f"sum(CASE WHEN {which}_bucket = {n} THEN 1 ELSE 0 END)"
           for which, names in (("response", RESPONSE), ("resolution", RESOLUTION))
           for n in range(len(names))])
    names = ", ".join((*COUNTS, *NEW))
    return [statement for table, keys in TABLES.items() for statement in (
        f"DELETE FROM {table}",
        f"INSERT INTO {table} ({keys}, {names})"
        f" SELECT {keys}, {sums} FROM ({events}) events GROUP BY {keys}")]


def upgrade():
    for table in TABLES:
        for name in NEW:
            op.add_column(table, sa.Column(name, sa.Integer(), nullable=False,
                                           server_default='0'))
    for statement in _fill_statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table in TABLES:
        for name in NEW:
            if sqlite:  # in place, as 0019: no batch rebuild of the table
                op.execute(f'ALTER TABLE {table} DROP COLUMN {name}')
            else:
                op.drop_column(table, name)
