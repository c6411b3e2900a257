"""Pulling from the PSAs: the scheduled runs, "Pull now", and the webhooks' hints.

``schedule_pulls`` runs every minute from ``jobs/cron.py`` and enqueues ``pull_connection``
for each enabled connection whose ``pull_minutes`` have passed since its last run began.
``pull_connection`` is also enqueued by the dashboard's "Pull now"
(``services.psa_pull_jobs.request_pull``), and ``pull_ticket`` by the webhook endpoint
(``services.psa_pull_jobs.hint_tickets``), by dotted name so services need not import
``jobs``.

Job ids and enqueueing are in ``services.psa_pull_jobs``: a job already waiting or running
under its id is not enqueued again, and the pull's own lock
(``services.psa_pull_progress.claim``) keeps two runs of one connection apart whatever
started them. Both jobs are safe to run twice: applying is idempotent.
"""

import logging
from datetime import timedelta

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import PsaConnection
from helpdesk.models.timestamps import utcnow
from helpdesk.services.psa_pull import PullBusy, pull, pull_one
from helpdesk.services.psa_pull_jobs import request_pull

log = logging.getLogger(__name__)
# The schedule looks every minute, and a run begins a moment after the look that started it:
# a connection due within half a minute is due now, or every interval would take one more.
SCHEDULE_SLACK = timedelta(seconds=30)


def pull_connection(connection_id):
    """One pull run of a connection; what it did, in words."""
    connection = db.session.get(PsaConnection, connection_id)
    if connection is None or not connection.enabled:
        return "no such enabled connection"
    try:
        result = pull(connection_id)
    except PullBusy:
        return "another run of this connection is under way"
    if result.error:
        log.warning("pull of %s stopped: %s", connection.name, result.error)
    return (f"read {result.read}: {result.created} new, {result.updated} updated, "
            f"{result.failed} failed; actions of {result.actions_read}, "
            f"{result.files_added} files"
            + ("; the budget is spent" if result.budget_spent else "")
            + (f"; stopped: {result.error}" if result.error else ""))


def pull_ticket(connection_id, external_id):
    """Read one PSA ticket with its actions and apply it (a webhook's hint)."""
    applied = pull_one(connection_id, external_id)
    return applied.outcome if applied else "not read (gone, or the budget is spent)"


def due_connection_ids(now=None):
    """The enabled connections whose ``pull_minutes`` have passed since their last run."""
    now = now or utcnow()
    due = []
    for connection in db.session.scalars(
            select(PsaConnection).where(PsaConnection.enabled.is_(True))
            .order_by(PsaConnection.id)):
        started = connection.last_pull_started_at
        interval = timedelta(minutes=connection.pull_minutes)
        if started is None or now - started >= interval - SCHEDULE_SLACK:
            due.append(connection.id)
    return due


def schedule_pulls():
    """Every minute (``jobs/cron.py``): a pull job for each connection that is due; returns
    how many were enqueued."""
    return sum(request_pull(connection_id) for connection_id in due_connection_ids())
