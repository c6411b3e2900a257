"""What one outbox row asks of the PSA, built at send time from the row and current data.

A row holds our words (``change``: ids and values of ours); ``build`` turns it into the
connector call (a ``TicketDraft``, ``TicketChanges``, ``ActionDraft`` or
``AttachmentDraft``), the lookup that finds the write again by its marker, the links to
keep once it is in, and the payload the audit log and the dead letters show. Statuses and
priorities go through the connection's mappings (``psa_mappings``); a value without one
is ``NotSendable`` (the row is dead at once, the message naming what to map). A category
maps to a ticket type, sent with a new ticket (with the fields that type requires, as the
admin filled them in); Halo's own categories are free-text trees, so ours is not sent as
one, and a later category change is not sent (``TicketChanges`` has no ticket type).
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import (
    Attachment,
    Category,
    PsaLink,
    PsaMapping,
    Reply,
    Ticket,
    TimeEntry,
    User,
)
from helpdesk.models.ticket import number_prefix
from helpdesk.psa.connector import ActionDraft, AttachmentDraft, TicketChanges, TicketDraft
from helpdesk.services.attachments import open_attachment
from helpdesk.services.psa_mappings import new_ticket_fields_for
from helpdesk.services.psa_outbox import psa_label
from helpdesk.template_filters import status_label


class NotSendable(Exception):
    """The row cannot become a request (a mapping is missing, the ticket is not in the PSA,
    the file is gone): retrying will not help until an admin acts. The message says what."""


@dataclass
class PsaRequest:
    """One write as the connector takes it.

    ``send(connector)`` makes it and returns the PSA's id of what it made (None for an
    update); ``find(connector)`` looks for it by its marker (None: nothing to look for, a
    field update is safe to repeat). ``links``: ``(kind, local_id)`` of ours that the id
    stands for. ``payload``: the request in JSON, for the audit log and the dead letters.
    ``fields``: the PSA's status and priority ids the write sets, which the ticket's link
    then keeps as the PSA's values (a pull tells the PSA's own changes from them).
    """

    send: Callable
    payload: dict
    find: Callable | None = None
    links: list = field(default_factory=list)
    ticket_link: bool = False  # the id is a ticket's (the link keeps its URL too)
    fields: dict = field(default_factory=dict)


def payload_text(payload):
    """The payload as the audit log keeps it: indented JSON."""
    return json.dumps(payload, indent=2, sort_keys=True, default=str)


def build(row, connection):
    """The ``PsaRequest`` of an outbox ``row`` on ``connection``; ``NotSendable`` if none.
    (Only a new ticket loads the ticket: the others need its PSA id and their own row.)"""
    builder = {"create_ticket": _create_ticket, "update_ticket": _update_ticket,
               "add_action": _add_action, "upload_attachment": _upload_attachment}[row.kind]
    return builder(row, connection)


def _create_ticket(row, connection):
    ticket = db.session.get(Ticket, row.ticket_id)
    change = row.change or {}
    status, priority = change.get("status", ticket.status), change.get("priority",
                                                                        ticket.priority)
    category = db.session.get(Category, change.get("category_id") or ticket.category_id)
    ticket_type_id = _mapped(connection, "category", str(category.id), category.name,
                             required=False)
    draft = TicketDraft(
        marker=row.marker, summary=ticket.subject, details_html=ticket.body_html,
        client_id=_client_id(connection, ticket),
        user_id=_external_id(connection, "user", ticket.subscriber_id),
        status_id=_mapped(connection, "status", status, status_label(status)),
        priority_id=_mapped(connection, "priority", priority, priority.capitalize()),
        ticket_type_id=ticket_type_id,
        extra_fields=new_ticket_fields_for(connection, ticket_type_id),
    )
    return PsaRequest(send=lambda connector: connector.create_ticket(draft),
                      find=lambda connector: connector.find_ticket(row.marker),
                      payload={"create_ticket": asdict(draft)},
                      links=[("ticket", ticket.id)], ticket_link=True,
                      fields=_fields(status=draft.status_id, priority=draft.priority_id))


def _update_ticket(row, connection):
    external_id = _ticket_external_id(connection, row.ticket_id)
    change = row.change or {}
    if "status" in change:
        changes = TicketChanges(status_id=_mapped(connection, "status", change["status"],
                                                  status_label(change["status"])))
    elif "priority" in change:
        changes = TicketChanges(priority_id=_mapped(connection, "priority", change["priority"],
                                                    change["priority"].capitalize()))
    else:
        raise NotSendable(f"the update names no field the PSA keeps: {change}")
    sent = {name: value for name, value in asdict(changes).items() if value is not None}
    return PsaRequest(send=lambda connector: connector.update_ticket(external_id, changes),
                      payload={"update_ticket": {"ticket_id": external_id, **sent}},
                      fields=_fields(status=changes.status_id, priority=changes.priority_id))


def _fields(**values):
    """The PSA ids a write sets, as text (as a pull compares them)."""
    return {name: str(value) for name, value in values.items() if value not in (None, "")}


def _add_action(row, connection):
    external_id = _ticket_external_id(connection, row.ticket_id)
    reply = db.session.execute(
        select(Reply.id, Reply.body_html, Reply.internal, User.name.label("who"))
        .join(User, User.id == Reply.author_id)
        .where(Reply.id == row.change.get("reply_id"))).first()
    if reply is None:
        raise NotSendable("the reply is gone from the desk")
    minutes = int(row.change.get("minutes") or 0)
    draft = ActionDraft(marker=row.marker, note_html=reply.body_html, internal=reply.internal,
                        minutes=minutes, who=reply.who)
    links = [("reply", reply.id)]
    if minutes:
        entry = db.session.scalar(select(TimeEntry.id).where(TimeEntry.reply_id == reply.id))
        if entry is not None:
            links.append(("time_entry", entry))
    return PsaRequest(send=lambda connector: connector.add_action(external_id, draft),
                      find=lambda connector: connector.find_action(external_id, row.marker),
                      payload={"add_action": {"ticket_id": external_id, **asdict(draft)}},
                      links=links)


def _upload_attachment(row, connection):
    external_id = _ticket_external_id(connection, row.ticket_id)
    attachment = db.session.get(Attachment, row.change.get("attachment_id"))
    if attachment is None:
        raise NotSendable("the attachment is gone from the desk")
    try:
        with open_attachment(attachment) as stored:
            content = stored.read()
    except FileNotFoundError:
        raise NotSendable(f"{attachment.filename} is missing from the desk's file storage "
                          "(ATTACHMENTS_PATH)") from None
    reply = attachment.reply
    draft = AttachmentDraft(
        marker=row.marker, filename=attachment.filename, content=content,
        content_type=attachment.content_type, internal=bool(reply and reply.internal),
        action_external_id=_external_id(connection, "reply", attachment.reply_id))
    shown = {**asdict(draft), "content": {"bytes": len(content),
                                          "sha256": hashlib.sha256(content).hexdigest()}}
    return PsaRequest(
        send=lambda connector: connector.upload_attachment(external_id, draft),
        find=lambda connector: connector.find_attachment(external_id, row.marker),
        payload={"upload_attachment": {"ticket_id": external_id, **shown}},
        links=[("attachment", attachment.id)])


def _external_id(connection, kind, local_id):
    """The PSA's id of our ``kind`` row ``local_id`` on ``connection``, or None."""
    if local_id is None:
        return None
    return db.session.scalar(select(PsaLink.external_id).where(
        PsaLink.connection_id == connection.id, PsaLink.kind == kind,
        PsaLink.local_id == local_id))


def _ticket_external_id(connection, ticket_id):
    external_id = _external_id(connection, "ticket", ticket_id)
    if external_id is None:
        raise NotSendable(f"{number_prefix()}{ticket_id} is not in {psa_label(connection.kind)} "
                          "yet: its new-ticket write has to go first (retry that one, or "
                          "discard this)")
    return external_id


def _client_id(connection, ticket):
    """The PSA client of a new ticket: its organisation's, else the connection's default."""
    client_id = _external_id(connection, "organisation", ticket.organisation_id)
    client_id = client_id or connection.default_client_id
    if not client_id:
        whose = ticket.organisation.name if ticket.organisation else "its subscriber"
        raise NotSendable(f"{whose} is not mapped to a {psa_label(connection.kind)} client "
                          f"and {connection.name} has no default client")
    return client_id


def _mapped(connection, kind, ours, label, *, required=True):
    """The PSA's id standing for our ``kind`` value ``ours`` (``label``: how people read it)."""
    theirs = db.session.scalar(select(PsaMapping.theirs).where(
        PsaMapping.connection_id == connection.id, PsaMapping.kind == kind,
        PsaMapping.ours == ours))
    if theirs is None and required:
        raise NotSendable(f"no {psa_label(connection.kind)} {kind} is mapped to {label} on "
                          f"{connection.name}: map it on the connection's page, then retry")
    return theirs
