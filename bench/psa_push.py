"""PSA push throughput (issue 11): outbox rows sent per second to a loopback HaloPSA.

A loopback HaloPSA (``tests/halo_server.py``: real HTTP on 127.0.0.1, every body checked
against the vendor's schema) and a connection to it are set up beside the bench's data;
``TICKETS`` of the bench's tickets get ``PER_TICKET`` writes each through the outbox
(``services.psa_outbox.record``: each ticket's creation, then its notes and status changes);
then every write is sent as the jobs send them (``services.psa_push.send_ticket``, one
adapter reused, its token fetched once), and timed whole: claims, requests, links, audit
entries and commits. Nothing is injected: this is the healthy rate. Everything it wrote
(the connection, its rows, links and audit entries) is deleted afterwards, so the bench's
database stays as seeded.
"""

import time
from dataclasses import dataclass, replace

from sqlalchemy import delete, select

from helpdesk.extensions import db

TICKETS = 40
PER_TICKET = 10  # its creation, 6 notes and 3 status changes
STATUSES = ("in_progress", "on_hold", "waiting_on_customer")
HALO_STATUSES = {"open": "1", "in_progress": "2", "waiting_on_customer": "4",
                 "waiting_on_vendor": "3", "on_hold": "3", "resolved": "8", "closed": "9"}
HALO_PRIORITIES = {"low": "4", "normal": "3", "high": "2", "urgent": "1"}


@dataclass
class Push:
    """One timed push: how many rows went, in how long, with how many HTTP requests."""

    rows: int
    sent: int
    seconds: float
    requests: int

    @property
    def per_second(self):
        return self.sent / self.seconds if self.seconds else 0.0


def push_throughput(app):
    """Set up, time the push of ``TICKETS * PER_TICKET`` rows, clean up: a ``Push``."""
    from helpdesk.models import AuditEntry, PsaConnection, PsaLink, PsaMapping, PsaWrite
    from helpdesk.psa.connector import UnlimitedBudget, connector_for
    from helpdesk.psa.secrets import seal
    from helpdesk.services import psa_push
    from helpdesk.services.psa_connector import settings_of
    from tests.halo_server import HaloServer

    with HaloServer() as halo, app.app_context():
        connection = PsaConnection(
            name="bench loopback", kind="halopsa", base_url=halo.url, auth_url=halo.auth_url,
            client_id=halo.client_id, client_secret_encrypted=seal(halo.client_secret),
            default_client_id="1", request_budget=300)
        db.session.add(connection)
        db.session.flush()
        for kind, table in (("status", HALO_STATUSES), ("priority", HALO_PRIORITIES)):
            db.session.add_all(PsaMapping(connection_id=connection.id, kind=kind, ours=ours,
                                          theirs=theirs) for ours, theirs in table.items())
        db.session.commit()
        connection_id = connection.id
        try:
            rows = _record(connection_id)
            connector = connector_for("halopsa", replace(settings_of(connection), timeout=10),
                                      budget=UnlimitedBudget())
            started = time.perf_counter()
            try:
                for _, ticket_id in psa_push.due_tickets(connection_id=connection_id):
                    psa_push.send_ticket(connection_id, ticket_id, connector=connector,
                                         schedule=False)
            finally:
                connector.close()
            seconds = time.perf_counter() - started
            sent = db.session.scalar(select(db.func.count()).select_from(PsaWrite).where(
                PsaWrite.connection_id == connection_id, PsaWrite.state == "sent"))
            return Push(rows=rows, sent=sent, seconds=seconds, requests=len(halo.received))
        finally:
            db.session.rollback()
            ticket_ids = select(PsaWrite.ticket_id).where(
                PsaWrite.connection_id == connection_id)
            db.session.execute(delete(AuditEntry).where(
                AuditEntry.action == "psa.write", AuditEntry.ticket_id.in_(ticket_ids)))
            for model in (PsaWrite, PsaLink, PsaMapping):
                db.session.execute(delete(model).where(model.connection_id == connection_id))
            db.session.execute(delete(PsaConnection).where(PsaConnection.id == connection_id))
            db.session.commit()
            db.session.remove()


def _record(connection_id):
    """The writes to send, through the outbox as the services record them (a reply of each
    ticket, if it has one, stands for its notes); returns how many."""
    from helpdesk.models import Reply, Ticket
    from helpdesk.services import psa_outbox

    tickets = db.session.scalars(select(Ticket).where(Ticket.deleted_at.is_(None))
                                 .order_by(Ticket.id.desc()).limit(TICKETS)).all()
    for ticket in tickets:
        reply_id = db.session.scalar(select(Reply.id).where(Reply.ticket_id == ticket.id)
                                     .limit(1))
        for number in range(PER_TICKET - 1):
            if number % 3 == 2 or reply_id is None:
                psa_outbox.record(ticket, kind="update_ticket",
                                  key=f"bench-{ticket.id}-{number}",
                                  change={"status": STATUSES[number // 3 % len(STATUSES)]})
            else:
                psa_outbox.record(ticket, kind="add_action", key=f"bench-{ticket.id}-{number}",
                                  change={"reply_id": reply_id, "minutes": 0})
    db.session.commit()
    return len(tickets) * PER_TICKET


def push_table(push):
    """The push's figures as a Markdown table."""
    if push is None:
        return "(not measured in this run)"
    return "\n".join([
        "| rows | sent | seconds | rows per second | HTTP requests |",
        "|--:|--:|--:|--:|--:|",
        f"| {push.rows:,} | {push.sent:,} | {push.seconds:,.2f} | {push.per_second:,.1f} "
        f"| {push.requests:,} |"])
