"""One PSA ticket brought to the desk: a new ticket, or the changes to one we know.

``apply_ticket`` is the one entry for the scheduled pull, ``flask psa sync`` and the webhook's
jobs alike. It is idempotent: a ticket read twice (an overlapping page, a redelivered
webhook, a run cut short and started again) changes nothing the second time. Its steps
commit through the desk's own services, each safe to repeat; the link's bookkeeping
(``remote_updated_at``, ``remote_fields``, ``actions_due_at``) commits last, so a run cut
short reads the ticket again.

Actions cost a request each (``fetch_ticket``), so a page of changes is applied without them
(``actions_read`` False): the link then notes the change in ``actions_due_at`` and the pull
reads them as its budget allows, newest first (``services.psa_pull``). A status that
resolves or closes waits for the actions, which hold its resolution. The ticket's files come
with its actions (``services.psa_pull_files``), each downloaded with a request of its own.

Echoes. A PSA ticket carrying the marker of a ticket we created is that ticket (linked if the
outbox did not get to it), never a second one.
"""

from contextlib import suppress
from dataclasses import dataclass, field

from flask import current_app
from redis.exceptions import LockError
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Category, PsaLink, PsaWrite, Ticket
from helpdesk.models.timestamps import utcnow
from helpdesk.psa.note_text import note_text
from helpdesk.queues import get_redis
from helpdesk.services import notifications, tickets
from helpdesk.services.psa_linking import (
    FROM_PSA,
    is_history,
    link_by_external,
    linked_on_commit,
    remembered,
)
from helpdesk.services.psa_people import desk_user_of, is_flagged, subscriber_of
from helpdesk.services.psa_pull_actions import add_actions
from helpdesk.services.psa_pull_fields import CLOSING_STATUSES, apply_fields, ours_for
from helpdesk.services.psa_pull_files import add_files
from helpdesk.services.replies import MAX_BODY_LENGTH
from helpdesk.services.tickets import MAX_SUBJECT_LENGTH

OUTCOMES = ("created", "updated", "unchanged", "skipped")
LOCK_SECONDS = 120  # far longer than applying one ticket takes


@dataclass
class Applied:
    """What applying one PSA ticket did; ``notes``: what was skipped, and why."""

    outcome: str
    ticket_id: int | None = None
    actions_added: int = 0
    files_added: int = 0
    notes: list = field(default_factory=list)


class ApplyBusy(Exception):
    """Another worker kept applying the same PSA ticket for longer than we wait."""


def apply_ticket(connection, remote, *, actions_read, connector=None):
    """Bring one ``RemoteTicket`` to the desk (see the module docstring). ``connector``: the
    PSA to download the ticket's new files from (without one, files are not brought in).

    One worker at a time per PSA ticket (a lock in Redis): a webhook's job and a scheduled
    run reading the same new ticket must not both open it. Each download renews the lock,
    so a ticket with many files keeps it for as long as they take.
    """
    lock = get_redis().lock(f"helpdesk:psa-apply:{connection.id}:{remote.external_id}",
                            timeout=LOCK_SECONDS,
                            blocking_timeout=current_app.config["PSA_APPLY_WAIT_SECONDS"])
    if not lock.acquire():
        raise ApplyBusy(f"{remote.external_id} is being applied by another worker")

    def download(external_id):
        lock.reacquire()
        return connector.download_attachment(external_id)

    download = download if connector is not None else None
    try:
        # Read afresh: another worker may have committed it while we waited.
        link = link_by_external(connection.id, "ticket", remote.external_id, fresh=True)
        if link is None and remote.marker:
            link = _link_our_echo(connection, remote)
        if link is None:
            return _new_ticket(connection, remote, actions_read=actions_read,
                               download=download)
        return _known_ticket(connection, link, remote, actions_read=actions_read,
                             download=download)
    finally:
        with suppress(LockError):  # held past its timeout: another worker may have it now
            lock.release()


def is_news(connection, remote):
    """Would applying this page's ``remote`` (without actions) change anything? False for a
    ticket read before at this update time: an overlapping page costs no work."""
    link = link_by_external(connection.id, "ticket", remote.external_id)
    return (link is None or link.remote_updated_at is None or remote.updated_at is None
            or remote.updated_at > link.remote_updated_at)


def _link_our_echo(connection, remote):
    """The link of the ticket we created with ``remote.marker``, made if missing; None when
    no write of ours has that marker."""
    write = db.session.scalar(select(PsaWrite).where(
        PsaWrite.connection_id == connection.id, PsaWrite.marker == remote.marker,
        PsaWrite.kind == "create_ticket").limit(1))
    if write is None:
        return None
    link = db.session.scalar(select(PsaLink).where(
        PsaLink.connection_id == connection.id, PsaLink.kind == "ticket",
        PsaLink.local_id == write.ticket_id))
    if link is None:
        link = PsaLink(connection_id=connection.id, kind="ticket", local_id=write.ticket_id,
                       external_id=str(remote.external_id), url=remote.url)
        db.session.add(link)
        db.session.commit()
    return link


def _opened_at(remote):
    """When the PSA says the ticket was opened (never in the future, whatever its clock
    says): its thread, whose actions keep the PSA's times, then reads in order, and its SLA
    clock and the reports count from then. None: now."""
    opened = remote.created_at
    return None if opened is None else min(opened, utcnow())


def _category(connection, remote):
    """The category the PSA's ticket type maps to, else the first active one."""
    ours = ours_for(connection.id, "category", remote.ticket_type_id) \
        if remote.ticket_type_id not in (None, "") else None
    category = db.session.get(Category, int(ours)) if ours and ours.isdigit() else None
    if category is None or not category.active:
        category = db.session.get(Category, remembered("first category", lambda: db.session.scalar(
            select(Category.id).where(Category.active.is_(True))
            .order_by(Category.position).limit(1))))
    return category


def _new_ticket(connection, remote, *, actions_read, download):
    """Open the PSA's ticket on the desk (unless the PSA resolved or closed it already)."""
    status = ours_for(connection.id, "status", remote.status_id) if remote.status_id else None
    if status in CLOSING_STATUSES:
        return Applied("skipped", notes=[
            f"{remote.external_id}: {status} in the PSA before the desk knew it: not imported"])
    psa_user = desk_user_of(connection)
    subscriber, organisation = subscriber_of(connection, user_id=remote.user_id,
                                             client_id=remote.client_id)
    priority = ours_for(connection.id, "priority", remote.priority_id) \
        if remote.priority_id else None
    subject = " ".join((remote.summary or "").split())[:MAX_SUBJECT_LENGTH] or \
        f"{connection.name} ticket {remote.external_id}"
    body = note_text(remote.details_html)[:MAX_BODY_LENGTH]
    # What the ticket opens with is what the PSA said: the link records it in the same
    # commit, so a ticket that needs nothing more costs one commit.
    seen = {"client": remote.client_id, "user": remote.user_id}
    if priority in tickets.PRIORITIES:
        seen["priority"] = str(remote.priority_id)
    if status == "open":
        seen["status"] = str(remote.status_id)
    bookkeeping = {"url": remote.url, "remote_updated_at": remote.updated_at,
                   "remote_fields": seen,
                   "actions_due_at": None if actions_read else remote.updated_at}
    with linked_on_commit(connection.id, "ticket", Ticket, remote.external_id,
                          **bookkeeping) as made, \
            notifications.held_back(is_history(connection, remote.created_at)):
        ticket = tickets.open_ticket(
            subscriber=subscriber, subject=subject, body=body,
            category=_category(connection, remote),
            priority=priority if priority in tickets.PRIORITIES else "normal",
            opened_by=psa_user, created_at=_opened_at(remote), **FROM_PSA)
    [link] = made
    applied = Applied("created", ticket_id=ticket.id)
    if organisation is not None and organisation.id != ticket.organisation_id:
        tickets.move_to_customer(ticket, subscriber=subscriber, organisation=organisation,
                                 actor=psa_user, **FROM_PSA)
    more = actions_read or any(getattr(remote, attribute) not in (None, "")
                               and field not in seen
                               for field, attribute in (("status", "status_id"),
                                                        ("priority", "priority_id")))
    if more:
        _apply_changes(connection, ticket, link, remote, psa_user=psa_user,
                       actions_read=actions_read, applied=applied, download=download)
    return applied


def _known_ticket(connection, link, remote, *, actions_read, download):
    """Bring the PSA's changes to a ticket we know."""
    ticket = db.session.get(Ticket, link.local_id)
    if ticket is None or ticket.deleted_at is not None:
        link.actions_due_at = None
        link.remote_updated_at = remote.updated_at or link.remote_updated_at
        db.session.commit()
        return Applied("skipped", ticket_id=link.local_id, notes=[
            f"{remote.external_id}: its ticket was deleted on the desk: left alone"])
    newer = (link.remote_updated_at is None or remote.updated_at is None
             or remote.updated_at > link.remote_updated_at)
    due = link.actions_due_at is not None
    if not newer and not (actions_read and due):
        return Applied("unchanged", ticket_id=ticket.id)
    psa_user = desk_user_of(connection)
    applied = Applied("unchanged", ticket_id=ticket.id)
    if is_flagged(connection, ticket):
        rehome(connection, ticket, user_id=remote.user_id, client_id=remote.client_id)
    if remote.url and link.url != remote.url:
        link.url = remote.url
    updated_before = ticket.updated_at
    _apply_changes(connection, ticket, link, remote, psa_user=psa_user,
                   actions_read=actions_read, applied=applied, download=download)
    if ticket.updated_at != updated_before:
        applied.outcome = "updated"
    return applied


def _apply_changes(connection, ticket, link, remote, *, psa_user, actions_read, applied,
                   download):
    """Actions and files (when read), then status and priority; then the link's
    bookkeeping. Files left for the next run keep the ticket's actions due."""
    files_waiting = False
    if actions_read:
        applied.actions_added = add_actions(connection, ticket, remote.actions,
                                            notes=applied.notes)
        if download is not None and remote.attachments:
            files = add_files(connection, ticket, remote, download=download,
                              notes=applied.notes)
            applied.files_added, files_waiting = files.added, files.waiting
    apply_fields(connection, ticket, link, remote, psa_user=psa_user, closing=actions_read,
                 notes=applied.notes)
    if remote.updated_at is not None:
        link.remote_updated_at = max(link.remote_updated_at or remote.updated_at,
                                     remote.updated_at)
    if files_waiting:
        link.actions_due_at = link.actions_due_at or remote.updated_at or utcnow()
    elif actions_read:
        if link.actions_due_at is None or remote.updated_at is None \
                or remote.updated_at >= link.actions_due_at:
            link.actions_due_at = None
    elif remote.updated_at is not None:
        link.actions_due_at = max(link.actions_due_at or remote.updated_at, remote.updated_at)
    link.synced_at = utcnow()
    db.session.commit()


def rehome(connection, ticket, *, user_id, client_id):
    """Move a ticket flagged for mapping to the subscriber (or organisation) its PSA user
    and client map to now; returns whether it moved."""
    subscriber, organisation = subscriber_of(connection, user_id=user_id, client_id=client_id)
    if subscriber.id == ticket.subscriber_id and \
            getattr(organisation, "id", None) == ticket.organisation_id:
        return False
    tickets.move_to_customer(ticket, subscriber=subscriber, organisation=organisation,
                             actor=desk_user_of(connection), **FROM_PSA)
    return True


def rehome_flagged(connection, *, unmapped_id):
    """Move every ticket of the connection flagged for mapping whose PSA user or client has
    been mapped since (read from the link, no PSA request); returns how many moved."""
    if unmapped_id is None:
        return 0
    rows = db.session.execute(select(Ticket, PsaLink).join(
        PsaLink, (PsaLink.local_id == Ticket.id) & (PsaLink.kind == "ticket")
        & (PsaLink.connection_id == connection.id)).where(
        Ticket.subscriber_id == unmapped_id, Ticket.deleted_at.is_(None))).all()
    moved = 0
    for ticket, link in rows:
        seen = link.remote_fields or {}
        moved += rehome(connection, ticket, user_id=seen.get("user"),
                        client_id=seen.get("client"))
    return moved
