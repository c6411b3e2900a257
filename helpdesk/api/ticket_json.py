"""A ticket as the API answers it, for one viewer: the list's rows and the detail.

A list page is one statement: ``read_page`` pages the ids by keyset and joins the page's rows
to ``listed_columns`` (the ticket's own columns and the names it shows), so its query count
is the same for 5 tickets or 100. The detail adds the thread and its files through
``helpdesk.access`` (internal notes and their files only for those who read them): three
queries, however long the thread.

Customers read what the portal shows them: the status in their own words, the last public
activity as ``updated_at``, no assignee and no SLA, and "Support" for staff and resellers.
"""

from functools import lru_cache
from types import SimpleNamespace

from sqlalchemy import select
from sqlalchemy.orm import aliased

from helpdesk.access import may, visible_attachments, visible_replies
from helpdesk.extensions import db
from helpdesk.models import Category, Organisation, Reseller, Ticket, User
from helpdesk.models.ticket import customer_status, number_prefix
from helpdesk.services.attachments import thread_attachments
from helpdesk.timeline import customer_ticket_version, ticket_version

SUPPORT = {"id": None, "name": "Support"}
_subscriber = aliased(User, name="api_subscriber")
_assignee = aliased(User, name="api_assignee")


def listed_columns(scope):
    """``select`` of what a listed ticket shows, limited to ``scope``
    (``access.ticket_scope``): pass it to ``keyset.read_page(rows=...)``."""
    return _listed_columns().where(scope)


@lru_cache(maxsize=1)
def _listed_columns():
    """Built once (see ``desk.rows._row_columns``)."""
    return (
        select(
            Ticket.id, Ticket.subject, Ticket.status, Ticket.priority, Ticket.created_at,
            Ticket.updated_at, Ticket.public_updated_at, Ticket.first_response_at,
            Ticket.resolved_at, Ticket.closed_at, Ticket.sla_state, Ticket.sla_due_at,
            Ticket.category_id, Category.name.label("category_name"),
            Ticket.subscriber_id, _subscriber.name.label("subscriber_name"),
            Ticket.organisation_id, Organisation.name.label("organisation_name"),
            Ticket.reseller_id, Reseller.name.label("reseller_name"),
            Ticket.assignee_id, _assignee.name.label("assignee_name"),
        )
        .join(_subscriber, _subscriber.id == Ticket.subscriber_id)
        .join(Category, Category.id == Ticket.category_id)
        .outerjoin(Organisation, Organisation.id == Ticket.organisation_id)
        .outerjoin(Reseller, Reseller.id == Ticket.reseller_id)
        .outerjoin(_assignee, _assignee.id == Ticket.assignee_id)
    )


def prepare():
    """Build the shared statement before any request (see ``desk.rows.prepare``)."""
    for alias in (_subscriber, _assignee):
        alias.id  # noqa: B018 - the alias's columns made now, on one thread
    _listed_columns().compile()


def _named(id_, name):
    return None if id_ is None else {"id": id_, "name": name}


def summary(viewer, row):
    """A listed ticket (a row of ``listed_columns``, or ``row_of`` a loaded ticket) as
    ``viewer`` may read it."""
    customer = viewer.is_customer
    return {
        "id": row.id,
        "number": f"{number_prefix()}{row.id}",
        "subject": row.subject,
        "status": customer_status(row.status).key if customer else row.status,
        "priority": row.priority,
        "category": _named(row.category_id, row.category_name),
        "subscriber": _named(row.subscriber_id, row.subscriber_name),
        "organisation": _named(row.organisation_id, row.organisation_name),
        "reseller": _named(row.reseller_id, row.reseller_name),
        "assignee": None if customer else _named(row.assignee_id, row.assignee_name),
        "created_at": row.created_at,
        "updated_at": row.public_updated_at if customer else row.updated_at,
        "first_response_at": row.first_response_at,
        "resolved_at": row.resolved_at,
        "closed_at": row.closed_at,
        "sla_state": None if customer else row.sla_state,
        "sla_due_at": None if customer else row.sla_due_at,
    }


def row_of(ticket):
    """A loaded ticket in the shape of a ``listed_columns`` row (its relations are joined
    when it is loaded, so this reads no more rows)."""
    names = {
        "category_name": ticket.category.name,
        "subscriber_name": ticket.subscriber.name,
        "organisation_name": ticket.organisation.name if ticket.organisation else None,
        "reseller_name": ticket.reseller.name if ticket.reseller else None,
        "assignee_name": ticket.assignee.name if ticket.assignee else None,
    }
    columns = {column.key: getattr(ticket, column.key)
               for column in Ticket.__table__.columns}
    return SimpleNamespace(**columns, **names)


def detail(viewer, ticket):
    """The ticket, its opening message and thread and their files, as ``viewer`` may read
    them (``access.visible_replies`` and ``visible_attachments``)."""
    replies = db.session.scalars(visible_replies(viewer, ticket)).all()
    files = thread_attachments(db.session.scalars(visible_attachments(viewer, ticket)).all())
    return summary(viewer, row_of(ticket)) | {
        "body": ticket.body,
        "body_html": ticket.body_html,
        "attachments": [attachment(file) for file in files.get(None, ())],
        "replies": [reply(viewer, item, files.get(item.id, ())) for item in replies],
        "may": {action: may(viewer, action, ticket)
                for action in ("reply", "comment", "internal_note", "edit", "delete")},
    }


def reply(viewer, item, files=()):
    """One message of the thread; a customer reads staff and resellers as "Support"."""
    author = item.author
    shown = SUPPORT if viewer.is_customer and not author.is_customer else {
        "id": author.id, "name": author.name}
    return {"id": item.id, "author": shown, "internal": item.internal, "body": item.body,
            "body_html": item.body_html, "created_at": item.created_at,
            "attachments": [attachment(file) for file in files]}


def attachment(file):
    """A file's metadata (its bytes are downloaded from the ticket's page)."""
    return {"id": file.id, "filename": file.filename, "content_type": file.content_type,
            "size": file.size, "created_at": file.created_at}


def etag(viewer, ticket):
    """The ticket's version as ``viewer`` reads it, quoted for ``ETag``: every change for
    staff and resellers (``ticket_version``), only public activity for customers (so internal
    work never changes what a customer's script sees)."""
    version = customer_ticket_version(ticket) if viewer.is_customer else ticket_version(ticket)
    return f'"{version}"'
