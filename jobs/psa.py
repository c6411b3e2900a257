"""Sending the PSA outbox, and the sweep that finds writes left behind.

``send_writes`` is enqueued by dotted name from ``helpdesk.services.psa_outbox`` (after the
commit of a change the PSA should know, and for a retry's back-off); ``sweep_writes`` runs
every minute from ``jobs/cron.py``. Both are safe to run twice, and on two workers at once:
a row is claimed before it is sent, and a write whose outcome was unknown is looked up by
its marker before it is sent again (``services.psa_push``).
"""

from helpdesk.services import psa_push


def send_writes(connection_id, ticket_id):
    """Send one ticket's due writes to one connection, in order; returns how many went."""
    return psa_push.send_ticket(connection_id, ticket_id)


def sweep_writes():
    """Hand back writes a dead worker left ``sending`` and re-dispatch due writes whose job
    was lost; returns how many tickets got a job."""
    return psa_push.sweep()
