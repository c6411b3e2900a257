"""``/api/v1/tickets``: list, read, open, change and delete tickets, as the token's user.

Thin views: parse (the schemas), authorise (``helpdesk.access``, and the services' own
``require``), call the same services as the desk and the portal, answer. The list is the
desk queue's code: ``QueueFilters`` reads the filters and sorts, ``keyset.read_page`` pages
them inside ``access.ticket_scope``; a page is one statement whatever its size.
"""

from flask import abort, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from helpdesk.access import get_visible_ticket, may_open_ticket_for, ticket_scope
from helpdesk.api import schemas, ticket_json
from helpdesk.api.blueprints import ApiBlueprint, etag_header
from helpdesk.desk.queue_filters import QueueFilters
from helpdesk.extensions import db
from helpdesk.keyset import decode_cursor, read_page
from helpdesk.models import Category, User
from helpdesk.models.ticket import CUSTOMER_STATUSES
from helpdesk.services import tickets
from helpdesk.services.errors import NotAllowed, TicketError

bp = ApiBlueprint("tickets", __name__, url_prefix="/api/v1/tickets",
                  description="Tickets in the token user's scope")
ETAG = {"ETag": etag_header()}


@bp.get("")
@bp.arguments(schemas.TicketListQuery, location="query", as_kwargs=True)
@bp.response(200, schemas.TicketPageSchema)
@bp.problems(401, 429)
def list_tickets(**query):
    """List tickets, filtered and sorted as the desk's queue, a page at a time.

    Customers list their own (or, company admins, their organisation's) tickets, their
    statuses in their own words. Follow `next_cursor` until it is null.
    """
    filters = QueueFilters.from_args(_queue_args(query), staff=current_user.is_staff)
    cursor = None
    if query.get("cursor") is not None:
        cursor = decode_cursor(query["cursor"], filters.order)
        if cursor is None:
            raise TicketError("This cursor is not one of this list's; start without it.",
                              field="cursor")
    scope = ticket_scope(current_user)
    page = read_page([scope, *filters.conditions(current_user)], filters.order,
                     per_page=query["limit"], after=cursor, partitions=filters.partitions(),
                     rows=ticket_json.listed_columns(scope))
    return {"tickets": [ticket_json.summary(current_user, row) for row in page.rows],
            "next_cursor": page.next_cursor}


def _queue_args(query):
    """The validated query as the queue's parameters. A customer's statuses are theirs:
    ``in_progress`` also lists the waiting and on-hold tickets, as the portal's pill does."""
    args = MultiDict()
    for name in ("status", "priority", "category", "assignee", "customer", "q", "sort"):
        value = query.get(name)
        for item in value if isinstance(value, list) else [value]:
            if item is not None:
                args.add(name, str(item))
    if current_user.is_customer and "status" in args:
        wanted = set(args.getlist("status"))
        args.setlist("status", [status for shown in CUSTOMER_STATUSES if shown.key in wanted
                                for status in shown.statuses] + sorted(wanted & {"any"}))
    return args


@bp.get("/<int:ticket_id>")
@bp.response(200, schemas.TicketDetailSchema, headers=ETAG)
@bp.problems(401, 404, 429)
def get_ticket(ticket_id):
    """A ticket with its thread: internal notes (and their files) only for those who may
    read them. `ETag` is its version, for `If-Match` on a change."""
    ticket = get_visible_ticket(current_user, ticket_id)
    return with_etag(ticket_json.detail(current_user, ticket), ticket)


@bp.post("")
@bp.arguments(schemas.TicketCreateBody, as_kwargs=True)
@bp.response(201, schemas.TicketDetailSchema, headers=ETAG)
@bp.problems(401, 403, 422, 429)
def open_ticket(subject, body, category, priority, subscriber=None):
    """Open a ticket. A customer's token opens it for themselves; staff, and resellers with
    `tickets.create`, for the subscriber named (in their scope, else 422 on it). The
    organisation and reseller always come from the subscriber."""
    ticket = tickets.open_ticket(
        subscriber=_subscriber_for(subscriber), subject=subject, body=body,
        category=_category(category), priority=priority,
        opened_by=None if current_user.is_customer else current_user._get_current_object())
    answer = with_etag(ticket_json.detail(current_user, ticket), ticket)
    answer[2]["Location"] = url_for("tickets.get_ticket", ticket_id=ticket.id)
    return answer[0], 201, answer[2]


def _subscriber_for(subscriber_id):
    """Who the new ticket is for: the customer themselves, or the subscriber named, when the
    user may open tickets for them (never saying whether someone out of scope exists)."""
    user = current_user._get_current_object()
    if user.is_customer:
        return user
    if user.role == "reseller" and "tickets.create" not in user.permissions:
        raise NotAllowed("You may not open tickets.")
    if subscriber_id is None:
        raise TicketError("Name the subscriber the ticket is for.", field="subscriber")
    subscriber = db.session.get(User, subscriber_id)
    if subscriber is None or not may_open_ticket_for(user, subscriber):
        raise TicketError("No subscriber you may open a ticket for has this id.",
                          field="subscriber")
    return subscriber


def _category(category_id):
    category = db.session.get(Category, category_id)
    if category is None or not category.active:
        raise TicketError("No category in use has this id.", field="category")
    return category


@bp.patch("/<int:ticket_id>")
@bp.arguments(schemas.TicketChangeBody)
@bp.response(200, schemas.TicketDetailSchema, headers=ETAG)
@bp.problems(401, 403, 404, 409, 422, 429, if_match=True)
def change_ticket(changes, ticket_id):
    """Change status, priority, category and assignee (`tickets.edit`), in that order.

    Send `If-Match` with the `ETag` read: if the ticket changed since, nothing is
    changed and the answer is 409.
    """
    ticket = get_visible_ticket(current_user, ticket_id)
    _check_if_match(ticket)
    actor = current_user._get_current_object()
    if "status" in changes:
        tickets.change_status(ticket, changes["status"], actor=actor)
    if "priority" in changes:
        tickets.change_priority(ticket, changes["priority"], actor=actor)
    if "category" in changes:
        tickets.change_category(ticket, _category_or_refuse(changes["category"]), actor=actor)
    if "assignee" in changes:
        tickets.assign(ticket, _assignee(changes["assignee"]), actor=actor)
    return with_etag(ticket_json.detail(current_user, ticket), ticket)


def _category_or_refuse(category_id):
    """The category named (a retired one is refused by the service, saying so)."""
    category = db.session.get(Category, category_id)
    if category is None:
        raise TicketError("No category has this id.", field="category")
    return category


def _assignee(user_id):
    """The user named, or None to unassign; whether they may take it is the service's
    question (``assignable_users``), answered without naming anyone."""
    if user_id is None:
        return None
    user = db.session.get(User, user_id)
    if user is None:
        raise TicketError("That person cannot be assigned this ticket.", field="assignee")
    return user


def _check_if_match(ticket):
    """409 when ``If-Match`` names another version than the ticket's current one (``*``
    matches any)."""
    current = ticket_json.etag(current_user, ticket).strip('"')
    if request.if_match and not request.if_match.contains(current):
        abort(409, description="The ticket changed since you read it: read it again "
                               "(its ETag is new) and send the change with that ETag.")


@bp.delete("/<int:ticket_id>")
@bp.response(204)
@bp.problems(401, 403, 404, 429)
def delete_ticket(ticket_id):
    """Soft-delete a ticket (`tickets.delete`): it leaves every list and scope."""
    ticket = get_visible_ticket(current_user, ticket_id)
    tickets.delete_ticket(ticket, actor=current_user._get_current_object())


def with_etag(data, ticket):
    """A view's answer: ``data`` with the ticket's ``ETag`` as the caller reads it."""
    return data, 200, {"ETag": ticket_json.etag(current_user, ticket)}
