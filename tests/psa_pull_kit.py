"""The PSA pull tests' kit: a connection (to the loopback HaloPSA of ``tests/halo_server.py``
when one is given), with Halo's statuses and priorities mapped to ours, and helpers to read
what the pull left on the desk.

The loopback server is the only stand-in: the pull, its jobs, the adapter, the services and
the audit are the desk's own code.
"""

from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.models import (
    AuditEntry,
    PsaConnection,
    PsaLink,
    PsaLookup,
    PsaMapping,
    Reply,
    Ticket,
)
from helpdesk.psa.secrets import seal
from helpdesk.services.psa_pull import pull

# Ours to the loopback Halo's ids (tests/halo_store.py: statuses 1-9, priorities 1-4).
HALO_STATUSES = {"open": "1", "in_progress": "2", "waiting_on_vendor": "3",
                 "waiting_on_customer": "4", "resolved": "8", "closed": "9"}
HALO_PRIORITIES = {"urgent": "1", "high": "2", "normal": "3", "low": "4"}
WEBHOOK_SECRET = "hook-secret-for-tests"


def connect(app, halo=None, *, name="Halo", budget=150, mapped=True, enabled=True,
            webhook_secret=WEBHOOK_SECRET):
    """A connection (committed as an admin would save it); returns its id."""
    with app.app_context():
        connection = PsaConnection(
            name=name, kind="halopsa",
            base_url=halo.url if halo else "https://halo.example.test",
            auth_url=halo.auth_url if halo else "https://halo.example.test/auth",
            client_id=halo.client_id if halo else "client",
            client_secret_encrypted=seal(halo.client_secret if halo else "secret"),
            webhook_secret_encrypted=seal(webhook_secret), request_budget=budget,
            enabled=enabled)
        db.session.add(connection)
        db.session.flush()
        if mapped:
            for kind, table in (("status", HALO_STATUSES), ("priority", HALO_PRIORITIES)):
                db.session.add_all(PsaMapping(connection_id=connection.id, kind=kind,
                                              ours=ours, theirs=theirs)
                                   for ours, theirs in table.items())
        db.session.commit()
        return connection.id


def link(app, connection_id, kind, local_id, external_id):
    """Map one of ours to one of the PSA's (as an admin's mapping does)."""
    with app.app_context():
        db.session.add(PsaLink(connection_id=connection_id, kind=kind, local_id=local_id,
                               external_id=str(external_id)))
        db.session.commit()


def ticket_of(app, connection_id, external_id):
    """Our ticket linked to the PSA's ``external_id`` (None if there is none), detached."""
    with app.app_context():
        local = db.session.scalar(select(PsaLink.local_id).where(
            PsaLink.connection_id == connection_id, PsaLink.kind == "ticket",
            PsaLink.external_id == str(external_id)))
        ticket = db.session.get(Ticket, local) if local else None
        if ticket is not None:
            db.session.expunge(ticket)
        return ticket


def linked_tickets(app, connection_id):
    """How many tickets the connection has linked."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(PsaLink).where(
            PsaLink.connection_id == connection_id, PsaLink.kind == "ticket"))


def thread(app, ticket_id):
    """(body, internal, author name) of a ticket's replies, oldest first."""
    with app.app_context():
        return [(r.body, r.internal, r.author.name) for r in db.session.scalars(
            select(Reply).where(Reply.ticket_id == ticket_id)
            .order_by(Reply.created_at, Reply.id))]


def audit_of(app, action, ticket_id=None):
    """(field, old, new) of every audit entry of ``action`` (on the ticket), oldest first."""
    with app.app_context():
        query = select(AuditEntry).where(AuditEntry.action == action)
        if ticket_id is not None:
            query = query.where(AuditEntry.ticket_id == ticket_id)
        return [(e.field, e.old_value, e.new_value)
                for e in db.session.scalars(query.order_by(AuditEntry.id))]


def cache_lookups(app, connection_id, halo):
    """The PSA's statuses, users and agents (with their emails) cached, as "Refresh
    lookups" does."""
    with app.app_context():
        for status in halo.store.statuses:
            db.session.add(PsaLookup(connection_id=connection_id, kind="status",
                                     external_id=str(status["id"]), name=status["name"]))
        for user in halo.store.users:
            db.session.add(PsaLookup(connection_id=connection_id, kind="user",
                                     external_id=str(user["id"]), name=user["name"],
                                     extra={"client_id": str(user["client_id"]),
                                            "email": user["emailaddress"]}))
        for agent in halo.store.agents:
            db.session.add(PsaLookup(connection_id=connection_id, kind="agent",
                                     external_id=str(agent["id"]), name=agent["name"],
                                     extra={"email": agent["email"]}))
        db.session.commit()


def run_pull(app, connection_id, **options):
    """One pull run, as the job does; its ``PullResult``."""
    with app.app_context():
        return pull(connection_id, **options)


def new_halo_ticket(halo, *, client_id=1, user_id=None, **fields):
    """A ticket logged in HaloPSA (by a technician or its portal); its id."""
    item = {"summary": "Router keeps rebooting", "details_html": "<p>Since <b>Monday</b></p>",
            "client_id": client_id, **({"user_id": user_id} if user_id else {}), **fields}
    return halo.store.save_tickets([item])[0]["id"]
