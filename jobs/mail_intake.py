"""Fetching mail into tickets: ``fetch_mail`` runs every minute from ``jobs/cron.py`` when a
mailbox is configured (``IMAP_HOST``).

Safe to run twice, and at once: the fetch's lock keeps a second run out, and each message is
acted on once whatever happens to a run (``services.mail_fetch``).
"""

import logging

from helpdesk.services.mail_fetch import FetchBusy, fetch

log = logging.getLogger(__name__)


def fetch_mail():
    """One fetch of the mailbox's unseen messages; what it did, in words."""
    try:
        result = fetch()
    except FetchBusy:
        return "another mail fetch is under way"
    return result.summary()
