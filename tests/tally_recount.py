"""A recount of the ticket tallies and report rollups, written apart from
``helpdesk.models.ticket_tally``: what they must hold, counted in Python from every ticket
(``recount``), what they hold (``stored``), and what ``tallies.rebuild``'s SQL makes of the
tickets (``rebuilt``). ``tests/test_tallies.py`` and ``tests/test_counters.py`` check against it.
"""

import calendar
from collections import Counter
from datetime import UTC

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import AssigneeTally, Ticket, TicketDay, TicketTally
from helpdesk.models.report_day import REPORT_COUNTS, OrganisationDay, ReportDay
from helpdesk.models.ticket import UNRESOLVED_STATUSES
from helpdesk.services import tallies


def epoch_second(moment):
    return calendar.timegm(moment.astimezone(UTC).timetuple())


# Where each duration bucket of the report histograms ends, in minutes, written out here
# apart from ``models.report_day.DURATION_EDGES``: 1, 2, 5, 10, 15, 30 minutes, 1, 1.5, 2, 3,
# 4, 6, 8, 12, 18 hours, 1, 2, 3, 5, 7, 14, 30, 60 days.
BUCKET_ENDS_MINUTES = (1, 2, 5, 10, 15, 30, 60, 90, 120, 180, 240, 360, 480, 720, 1080,
                       1440, 2880, 4320, 7200, 10080, 20160, 43200, 86400)
# The report counts' places: the six counts, the four SLA counts, the two histograms.
RESPONDED, RESOLVED, SLA = 2, 4, 6
RESPONSE_HISTOGRAM, RESOLUTION_HISTOGRAM = 10, 10 + len(BUCKET_ENDS_MINUTES) + 1


def bucket(seconds):
    """The histogram bucket of a duration: how many bucket ends it has reached."""
    return sum(1 for minutes in BUCKET_ENDS_MINUTES if seconds >= minutes * 60)


def recount():
    """What the tallies must hold, counted from every ticket: (tallies, days, assignee
    tallies, report days, organisation days), zeros left out."""
    counted, days, assigned = Counter(), {}, Counter()
    report_days, organisation_days = {}, {}
    for ticket in db.session.execute(select(
            Ticket.reseller_id, Ticket.status, Ticket.priority, Ticket.category_id,
            Ticket.deleted_at, Ticket.created_at, Ticket.first_response_at, Ticket.resolved_at,
            Ticket.assignee_id, Ticket.organisation_id, Ticket.first_response_due_at,
            Ticket.resolution_due_at)):
        if ticket.deleted_at is not None:
            continue
        reseller = ticket.reseller_id or 0
        counted[(reseller, ticket.status, ticket.priority, ticket.category_id)] += 1
        if ticket.assignee_id is not None:
            assigned[(ticket.assignee_id, reseller, ticket.status, ticket.priority,
                      ticket.category_id)] += 1
        day = days.setdefault((ticket.created_at.astimezone(UTC).date(), reseller), [0] * 5)
        day[0] += 1
        for index, moment in ((1, ticket.first_response_at), (3, ticket.resolved_at)):
            if moment is not None:
                day[index] += 1
                day[index + 1] += epoch_second(moment) - epoch_second(ticket.created_at)
        # Report rollups: each event on its own UTC day.
        events = [(ticket.created_at, 0, 1), (ticket.created_at, 1,
                                              int(ticket.status in UNRESOLVED_STATUSES))]
        for index, sla, histogram, moment, due in (
                (RESPONDED, SLA, RESPONSE_HISTOGRAM, ticket.first_response_at,
                 ticket.first_response_due_at),
                (RESOLVED, SLA + 2, RESOLUTION_HISTOGRAM, ticket.resolved_at,
                 ticket.resolution_due_at)):
            if moment is None:
                continue
            took = epoch_second(moment) - epoch_second(ticket.created_at)
            events += [(moment, index, 1), (moment, index + 1, took),
                       (moment, histogram + bucket(took), 1)]
            if due is not None:  # with an SLA target: met when not a second late
                events += [(moment, sla, 1),
                           (moment, sla + 1, int(epoch_second(moment) <= epoch_second(due)))]
        for moment, index, amount in events:
            on = moment.astimezone(UTC).date()
            for rows, key in ((report_days, (on, reseller, ticket.category_id, ticket.priority)),
                              (organisation_days, (on, reseller, ticket.organisation_id or 0))):
                rows.setdefault(key, [0] * len(REPORT_COUNTS))[index] += amount
    return (dict(counted), {key: tuple(value) for key, value in days.items()}, dict(assigned),
            *({key: tuple(value) for key, value in rows.items() if any(value)}
              for rows in (report_days, organisation_days)))


def stored():
    """What the tallies hold, zeros left out, in the shape of ``recount``."""
    counted = {(row.reseller_id, row.status, row.priority, row.category_id): row.tickets
               for row in db.session.scalars(select(TicketTally)) if row.tickets}
    days = {(row.day, row.reseller_id): (row.opened, row.responded, row.response_seconds,
                                         row.resolved, row.resolution_seconds)
            for row in db.session.scalars(select(TicketDay))
            if any((row.opened, row.responded, row.response_seconds, row.resolved,
                    row.resolution_seconds))}
    assigned = {(row.assignee_id, row.reseller_id, row.status, row.priority, row.category_id):
                row.tickets for row in db.session.scalars(select(AssigneeTally)) if row.tickets}
    report_days = {(row.day, row.reseller_id, row.category_id, row.priority): _counts(row)
                   for row in db.session.scalars(select(ReportDay)) if any(_counts(row))}
    organisation_days = {(row.day, row.reseller_id, row.organisation_id): _counts(row)
                         for row in db.session.scalars(select(OrganisationDay))
                         if any(_counts(row))}
    return counted, days, assigned, report_days, organisation_days


def _counts(row):
    return tuple(getattr(row, name) for name in REPORT_COUNTS)


def rebuilt():
    """What ``tallies.rebuild`` makes of the tickets (in a savepoint, rolled back)."""
    savepoint = db.session.begin_nested()
    try:
        tallies.rebuild(db.session.connection())
        db.session.expire_all()
        return stored()
    finally:
        savepoint.rollback()

