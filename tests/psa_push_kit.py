"""The PSA push tests' kit: for the loopback HaloPSA of the ``halo`` fixture
(``tests/halo_fixtures.py``, real HTTP), a connection to it with every status and priority
mapped, and the send loop run in process with a real connector, its clock driven by the
test (retries' back-off passes in no time).

The loopback server is the only stand-in: the outbox, the send job's service, the adapter and
the audit are the desk's own code.
"""

import io
from dataclasses import replace

from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from helpdesk.extensions import db
from helpdesk.models import Organisation, PsaConnection, PsaLink, PsaMapping, PsaWrite, Ticket
from helpdesk.models.timestamps import utcnow
from helpdesk.psa.connector import UnlimitedBudget, connector_for
from helpdesk.psa.secrets import seal
from helpdesk.services import psa_push
from helpdesk.services.psa_connector import settings_of

CLIENT_TIMEOUT = 0.2  # seconds; a "timeout" fault holds its answer longer than this
# Ours to the loopback Halo's ids (tests/halo_store.py: statuses 1-9, priorities 1-4).
HALO_STATUSES = {"open": "1", "in_progress": "2", "waiting_on_customer": "4",
                 "waiting_on_vendor": "3", "on_hold": "3", "resolved": "8", "closed": "9"}
HALO_PRIORITIES = {"low": "4", "normal": "3", "high": "2", "urgent": "1"}
ACME_CLIENT = "2"


def connect(app, halo, *, name="Halo", default_client="1", mapped=True, acme=True):
    """A connection to ``halo`` (committed as an admin would save it); returns its id."""
    with app.app_context():
        connection = PsaConnection(
            name=name, kind="halopsa", base_url=halo.url, auth_url=halo.auth_url,
            client_id=halo.client_id, client_secret_encrypted=seal(halo.client_secret),
            default_client_id=default_client, request_budget=100_000)
        db.session.add(connection)
        db.session.flush()
        if mapped:
            for kind, table in (("status", HALO_STATUSES), ("priority", HALO_PRIORITIES)):
                db.session.add_all(PsaMapping(connection_id=connection.id, kind=kind,
                                              ours=ours, theirs=theirs)
                                   for ours, theirs in table.items())
        if acme:
            organisation = db.session.scalar(select(Organisation).where(
                Organisation.name == "Acme"))
            db.session.add(PsaLink(connection_id=connection.id, kind="organisation",
                                   local_id=organisation.id, external_id=ACME_CLIENT))
        db.session.commit()
        return connection.id


def connector(app, connection_id, *, timeout=CLIENT_TIMEOUT, budget=None):
    """A real HaloPSA adapter for the connection, with a short client timeout."""
    with app.app_context():
        connection = db.session.get(PsaConnection, connection_id)
        settings = replace(settings_of(connection), timeout=timeout)
        return connector_for(connection.kind, settings, budget=budget or UnlimitedBudget())


def push(app, connection_id, *, using=None, now=None, rounds=500):
    """Send every due write, as the jobs would, moving the clock on to the latest retry's
    time (so every waiting write is due) until nothing waits for a later time (or
    ``rounds`` passes); returns the clock it ended at."""
    made = using is None
    using = using or connector(app, connection_id)
    clock = now or utcnow()
    try:
        for _ in range(rounds):
            with app.app_context():
                for _, ticket_id in psa_push.due_tickets(now=clock,
                                                         connection_id=connection_id):
                    psa_push.send_ticket(connection_id, ticket_id, connector=using,
                                         now=clock, schedule=False)
                later = db.session.scalar(select(func.max(PsaWrite.next_attempt_at)).where(
                    PsaWrite.connection_id == connection_id, PsaWrite.state == "queued",
                    PsaWrite.next_attempt_at > clock))
            if later is None:  # nothing waits for a later time (the rest wait behind dead)
                return clock
            clock = later
        return clock
    finally:
        if made:
            using.close()


def writes(app, **where):
    """The outbox rows matching ``where`` (column=value), oldest first."""
    with app.app_context():
        return db.session.scalars(select(PsaWrite).filter_by(**where)
                                  .order_by(PsaWrite.id)).all()


def states(app, ticket_id):
    """``[(kind, state)]`` of a ticket's writes, oldest first."""
    return [(row.kind, row.state) for row in writes(app, ticket_id=ticket_id)]


def halo_ticket_of(app, halo, ticket_id):
    """The loopback Halo's record of our ticket (by its marker), asserting there is one."""
    [found] = halo.store.with_marker(f"hd-ticket-{ticket_id}")
    return found


def _carries(text, marker):
    """Does ``text`` hold our reference to ``marker`` (the adapter's ``[ref:...]``)?"""
    return f"[ref:{marker}]" in (text or "")


def actions_with_marker(halo, marker):
    """The loopback Halo's actions carrying our ``marker``."""
    with halo.store.lock:
        return [dict(action) for action in halo.store.actions.values()
                if _carries(action.get("note_html"), marker)]


def attachments_with_marker(halo, marker):
    """The loopback Halo's attachments carrying our ``marker``."""
    with halo.store.lock:
        return [dict(item) for item in halo.store.attachments.values()
                if _carries(item.get("note"), marker)]


def upload(filename, data, content_type="text/plain"):
    return FileStorage(stream=io.BytesIO(data), filename=filename, content_type=content_type)


def ticket(app, ticket_id):
    with app.app_context():
        return db.session.get(Ticket, ticket_id)
