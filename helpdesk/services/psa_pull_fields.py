"""A PSA ticket's status and priority, brought to the desk's ticket; the later change wins.

Values come back through the connection's mappings (``psa_mappings``: a PSA value stands for
the first of ours that names it); a value with no mapping is skipped and noted. Each field
is set through the desk's own ticket services, as the connection's desk user, so the
timeline, audit log, tallies, SLA clocks and notifications follow as for a person's change.

Who changed what. The link keeps the PSA's value as last read (``remote_fields``): the PSA
changed a field when its value differs from that; we changed it when the ticket has an event
of that kind since the last sync by anyone but the PSA's desk user. When both did, the later
update wins (the PSA ticket's ``updated_at`` against our event's time), and both versions go
in the audit log (``psa.kept_ours`` or ``psa.took_theirs``: ours as the old value, theirs as
the new). When only we did, ours stands: the outbox carries it to the PSA.
"""

from sqlalchemy import or_, select

from helpdesk.extensions import db
from helpdesk.models import PRIORITIES, STATUSES, PsaLookup, PsaMapping, Reply, TicketEvent
from helpdesk.services import audit, tickets
from helpdesk.services.errors import TicketError
from helpdesk.services.permissions import require
from helpdesk.services.psa_linking import FROM_PSA, remembered

CLOSING_STATUSES = tickets.CLOSING_STATUSES
# field, the RemoteTicket attribute, the lookup kind, what may come back.
FIELDS = (("priority", "priority_id", "priority", PRIORITIES),
          ("status", "status_id", "status", STATUSES))


def ours_for(connection_id, kind, theirs):
    """Our value the PSA's ``theirs`` stands for (a status, a priority, a category id as
    text), or None when no mapping names it. The connection's mappings are read once per
    run."""
    def read():
        back = {}
        for mapping in db.session.scalars(select(PsaMapping).where(
                PsaMapping.connection_id == connection_id).order_by(PsaMapping.id)):
            back.setdefault((mapping.kind, mapping.theirs), mapping.ours)
        return back

    return remembered(("mappings", connection_id), read).get((kind, str(theirs)))


def _their_name(connection_id, kind, theirs):
    name = db.session.scalar(select(PsaLookup.name).where(
        PsaLookup.connection_id == connection_id, PsaLookup.kind == kind,
        PsaLookup.external_id == str(theirs)))
    return f"{name!r} ({theirs})" if name else str(theirs)


def _our_last_change(ticket, field, *, since, psa_user):
    """Our latest event changing ``field`` after ``since`` (not the PSA's own), or None."""
    query = select(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.kind == field,
        or_(TicketEvent.actor_id.is_(None), TicketEvent.actor_id != psa_user.id))
    if since is not None:
        query = query.where(TicketEvent.created_at > since)
    return db.session.scalar(query.order_by(TicketEvent.created_at.desc()).limit(1))


def _set(ticket, field, value, *, actor):
    """Change one field through the ticket services (one commit)."""
    if field == "priority":
        tickets.change_priority(ticket, value, actor=actor, **FROM_PSA)
        return
    require(actor, "edit", ticket)
    resolution = None
    if value in CLOSING_STATUSES and ticket.resolution_reply_id is None:
        # The PSA's closing note came in as the latest public reply: it is the resolution.
        resolution = db.session.scalar(
            select(Reply).where(Reply.ticket_id == ticket.id, Reply.internal.is_(False))
            .order_by(Reply.created_at.desc(), Reply.id.desc()).limit(1))
    tickets.apply_status(ticket, value, actor=actor, resolution_reply=resolution, **FROM_PSA)
    db.session.commit()


def apply_fields(connection, ticket, link, remote, *, psa_user, closing, notes):
    """Bring the PSA's status and priority to ``ticket`` (see the module docstring); returns
    whether anything changed. ``closing`` False: a status that resolves or closes waits
    until the ticket's actions are read (its resolution is among them). Updates
    ``link.remote_fields`` (no commit of its own)."""
    seen = dict(link.remote_fields or {})
    changed = False
    for field, attribute, kind, known in FIELDS:
        theirs = getattr(remote, attribute)
        if theirs in (None, ""):
            continue
        theirs = str(theirs)
        ours = ours_for(connection.id, kind, theirs)
        if ours not in known:
            notes.append(f"PSA ticket {remote.external_id}: its {field} "
                         f"{_their_name(connection.id, kind, theirs)} has no mapping: skipped")
            continue
        current = getattr(ticket, field)
        if ours == current or seen.get(field) == theirs:
            # Already alike, or the PSA kept what it had: ours, if newer, is on its way.
            seen[field] = theirs
            continue
        if field == "status" and ours in CLOSING_STATUSES and not closing:
            continue  # read again with the actions
        mine = _our_last_change(ticket, field, since=link.synced_at, psa_user=psa_user)
        if mine is not None:
            ours_wins = remote.updated_at is None or mine.created_at > remote.updated_at
            audit.record("psa.kept_ours" if ours_wins else "psa.took_theirs", actor=psa_user,
                         ticket=ticket, field=field, old=current, new=ours)
            if ours_wins:
                db.session.commit()
                seen[field] = theirs
                continue
        try:
            _set(ticket, field, ours, actor=psa_user)
        except TicketError as error:
            db.session.rollback()
            notes.append(f"{remote.external_id}: {field} {ours} not set: {error}")
            continue
        seen[field] = theirs
        changed = True
    link.remote_fields = {**seen, "client": remote.client_id, "user": remote.user_id}
    return changed
