"""Who a PSA's tickets and actions belong to on the desk.

Two people per connection, made on first need:
- the connection's **desk user** ("HaloPSA (Main)", an agent): the author of what the PSA
  changes and of actions by technicians we cannot match to our staff. It is an active agent
  so the desk's services accept its changes, and it cannot sign in (no usable password, an
  address under the reserved ``.invalid`` domain);
- the **unmapped contact** ("Unmapped HaloPSA contact (Main)", a disabled subscriber): the
  subscriber of a new PSA ticket whose PSA user is neither mapped to a subscriber nor known
  by email. That is the flag "waiting for a mapping": the queue shows the name on the row
  and lists them all with ``/tickets?customer=<its id>`` (the dashboard links there), and
  notifications to it are withheld (it is disabled), so no message goes to nobody. Once an
  admin maps the PSA user or client, the next pull moves the ticket to its subscriber
  (``rehome_flagged``). We chose a person over a flag column: every page, filter, count and
  access rule already knows subscribers, and nothing new can forget to check a flag.

Technicians map to our staff by email when the PSA's agent lookups carry one.
"""

from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.models import Organisation, PsaLookup, User
from helpdesk.models.user import CUSTOMER_ROLES, STAFF_ROLES
from helpdesk.services import accounts
from helpdesk.services.psa_linking import local_id_of, remembered

KIND_LABELS = {"halopsa": "HaloPSA"}


def kind_label(connection):
    """The PSA's name as people know it (``HaloPSA``)."""
    return KIND_LABELS.get(connection.kind, connection.kind)


def _system_person(*, email, name, role, disabled):
    """``accounts.system_person``, its id remembered for the run (one lookup per pull)."""
    user_id = remembered(("person", email), lambda: accounts.system_person(
        email=email, name=name, role=role, disabled=disabled).id)
    return db.session.get(User, user_id)


def desk_user_of(connection):
    """The agent who authors the PSA's changes on the desk."""
    return _system_person(email=f"{connection.kind}-{connection.id}@psa.invalid",
                          name=f"{kind_label(connection)} ({connection.name})",
                          role="agent", disabled=False)


def unmapped_contact_of(connection):
    """The placeholder subscriber of PSA tickets waiting for a mapping."""
    return _system_person(email=f"{connection.kind}-{connection.id}-unmapped@psa.invalid",
                          name=f"Unmapped {kind_label(connection)} contact ({connection.name})",
                          role="subscriber", disabled=True)


def unmapped_contact_id(connection):
    """The placeholder's id without creating it (None: no ticket was ever flagged)."""
    return db.session.scalar(select(User.id).where(
        User.email == f"{connection.kind}-{connection.id}-unmapped@psa.invalid"))


def _lookup_email(connection, kind, external_id):
    """The email the PSA's cached lookup gives for one of its users or agents, or None."""
    if external_id in (None, ""):
        return None
    lookup = db.session.scalar(select(PsaLookup).where(
        PsaLookup.connection_id == connection.id, PsaLookup.kind == kind,
        PsaLookup.external_id == str(external_id)))
    email = (lookup.extra or {}).get("email") if lookup is not None else None
    return email.strip().lower() if isinstance(email, str) and "@" in email else None


def _active_user(email, roles):
    if not email:
        return None
    return db.session.scalar(select(User).where(
        func.lower(User.email) == email, User.role.in_(roles), User.disabled_at.is_(None)))


def author_of(connection, who):
    """Our staff member who wrote a PSA action (by the agent lookup's email), else the
    connection's desk user. ``who``: the PSA's name for the technician."""
    if who:
        agent = db.session.scalar(select(PsaLookup).where(
            PsaLookup.connection_id == connection.id, PsaLookup.kind == "agent",
            PsaLookup.name == who).limit(1))
        staff = agent and _active_user(_lookup_email(connection, "agent", agent.external_id),
                                       STAFF_ROLES)
        if staff:
            return staff
    return desk_user_of(connection)


def subscriber_of(connection, *, user_id, client_id):
    """``(subscriber, organisation)`` of a PSA ticket's user and client.

    The subscriber is the one mapped to the PSA user, else the active customer with the PSA
    user's email, else the unmapped contact. The organisation is the one mapped to the PSA
    client (else the subscriber's own). Read once per run for each user and client.
    """
    def read():
        organisation_id = local_id_of(connection.id, "organisation", client_id)
        subscriber_id = local_id_of(connection.id, "user", user_id)
        subscriber = db.session.get(User, subscriber_id) if subscriber_id else None
        if subscriber is None or not subscriber.is_customer:
            subscriber = _active_user(_lookup_email(connection, "user", user_id),
                                      CUSTOMER_ROLES)
        return (subscriber.id if subscriber else None), organisation_id

    subscriber_id, organisation_id = remembered(
        ("subscriber", connection.id, user_id, client_id), read)
    organisation = db.session.get(Organisation, organisation_id) if organisation_id else None
    if subscriber_id is None:
        return unmapped_contact_of(connection), organisation
    subscriber = db.session.get(User, subscriber_id)
    return subscriber, organisation or subscriber.organisation


def is_flagged(connection, ticket):
    """Is the ticket waiting for a mapping (its subscriber the unmapped contact)?"""
    return ticket.subscriber.email == f"{connection.kind}-{connection.id}-unmapped@psa.invalid"
