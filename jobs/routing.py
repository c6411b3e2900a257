"""Routing tickets by the rules, and the sweep that routes the ones whose job never ran.

``route_ticket`` is enqueued by dotted name from ``helpdesk.services.routing_requests``
(after a ticket is opened or moved to another category); ``route_left_behind`` runs from
``jobs/cron.py``. Both are safe to run twice: ``services.routing.route_ticket`` claims the
pending decision before it writes anything.
"""

import logging
from datetime import timedelta

from helpdesk.extensions import db
from helpdesk.models.timestamps import utcnow
from helpdesk.services import routing

log = logging.getLogger(__name__)

LEFT_BEHIND_AFTER = timedelta(minutes=2)  # a queued job has had time to run
SWEEP_WINDOW = timedelta(hours=6)  # older requests are not routed any more: people took over
SWEEP_LIMIT = 500  # tickets per run; the next run takes the rest


def route_ticket(ticket_id):
    """Route one ticket if its routing is due; returns what happened, in words."""
    return routing.route_ticket(ticket_id)


def route_left_behind():
    """Periodic sweep: route the tickets asked for between ``SWEEP_WINDOW`` and
    ``LEFT_BEHIND_AFTER`` ago that are still due (the enqueue never reached Redis, or the
    job was lost). Returns how many it routed; one ticket's failure does not stop the rest."""
    now = utcnow()
    routed = 0
    for ticket_id in routing.due_ticket_ids(due_after=now - SWEEP_WINDOW,
                                            due_before=now - LEFT_BEHIND_AFTER,
                                            limit=SWEEP_LIMIT):
        try:
            routing.route_ticket(ticket_id)
            routed += 1
        except Exception:
            db.session.rollback()
            log.exception("routing ticket %s failed in the sweep", ticket_id)
    return routed
