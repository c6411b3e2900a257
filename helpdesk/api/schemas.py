"""The API's request and answer shapes, as marshmallow schemas.

One definition serves twice: flask-smorest validates each request against its schema (a
failing field answers 422 naming it) and writes the OpenAPI document from the same schemas,
so the document cannot drift from what the code accepts. The values offered (statuses,
priorities, sorts) come from the models and the queue's own definitions.
"""

from marshmallow import EXCLUDE, RAISE, Schema, fields, validate

from helpdesk.desk.queue_filters import ANY_STATUS, SORTS
from helpdesk.keyset import MAX_CURSOR_LENGTH
from helpdesk.models import PRIORITIES, STATUSES
from helpdesk.models.ticket import SLA_STATES
from helpdesk.params import MAX_ID
from helpdesk.services.replies import MAX_BODY_LENGTH
from helpdesk.services.tickets import MAX_SUBJECT_LENGTH

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50
TICKET_ID = validate.Range(min=1, max=MAX_ID)


def _id(*, strict=True, **options):
    """A row id; in a JSON body a number, not a string of digits (``strict``)."""
    return fields.Integer(validate=TICKET_ID, strict=strict, **options)


class Body(Schema):
    """A request body: a field it does not know is refused (a typo answers 422)."""

    class Meta:
        unknown = RAISE


class Query(Schema):
    """Query parameters: others are ignored, as the desk's queue ignores them."""

    class Meta:
        unknown = EXCLUDE


# Answers ----------------------------------------------------------------------------------

class ProblemSchema(Schema):
    """``application/problem+json`` (RFC 9457): every error answer of the API."""

    type = fields.String(required=True, metadata={"example": "about:blank"})
    title = fields.String(required=True, metadata={"example": "Unprocessable Content"})
    status = fields.Integer(required=True, metadata={"example": 422})
    detail = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": "The failing fields (400, 422), each with what is wrong with it."})


class NamedSchema(Schema):
    """A person, category, organisation or reseller: its id and name."""

    id = fields.Integer(required=True, allow_none=True, metadata={
        "description": "None for staff shown to a customer as Support."})
    name = fields.String(required=True)


class AttachmentSchema(Schema):
    id = fields.Integer(required=True)
    filename = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True, metadata={"description": "bytes"})
    created_at = fields.DateTime(required=True)


class TicketSchema(Schema):
    """A ticket as its viewer may see it. A customer (subscriber or company admin) reads the
    status in their own words (``in_progress`` also for waiting on a vendor and on hold), the
    time of the last public activity as ``updated_at``, and no assignee or SLA."""

    id = fields.Integer(required=True)
    number = fields.String(required=True, metadata={"example": "TKT-1042"})
    subject = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    priority = fields.String(required=True, validate=validate.OneOf(PRIORITIES))
    category = fields.Nested(NamedSchema, required=True)
    subscriber = fields.Nested(NamedSchema, required=True)
    organisation = fields.Nested(NamedSchema, required=True, allow_none=True)
    reseller = fields.Nested(NamedSchema, required=True, allow_none=True)
    assignee = fields.Nested(NamedSchema, required=True, allow_none=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    first_response_at = fields.DateTime(required=True, allow_none=True)
    resolved_at = fields.DateTime(required=True, allow_none=True)
    closed_at = fields.DateTime(required=True, allow_none=True)
    sla_state = fields.String(required=True, allow_none=True,
                              validate=validate.OneOf(SLA_STATES))
    sla_due_at = fields.DateTime(required=True, allow_none=True)


class ReplySchema(Schema):
    """One message of the thread; ``internal``: an internal note (never shown to customers)."""

    id = fields.Integer(required=True)
    author = fields.Nested(NamedSchema, required=True)
    internal = fields.Boolean(required=True)
    body = fields.String(required=True, metadata={"description": "Markdown, as written"})
    body_html = fields.String(required=True, metadata={"description": "sanitised HTML"})
    created_at = fields.DateTime(required=True)
    attachments = fields.List(fields.Nested(AttachmentSchema), required=True)


class AllowedSchema(Schema):
    """What the caller may do to the ticket (the same rule the answers to those requests
    follow)."""

    reply = fields.Boolean(required=True, metadata={"description": "staff and resellers"})
    comment = fields.Boolean(required=True, metadata={
        "description": "the customer's reply (not on a closed ticket)"})
    internal_note = fields.Boolean(required=True)
    edit = fields.Boolean(required=True)
    delete = fields.Boolean(required=True)


class TicketDetailSchema(TicketSchema):
    """A ticket with its opening message, its files and its thread, oldest first."""

    body = fields.String(required=True)
    body_html = fields.String(required=True)
    attachments = fields.List(fields.Nested(AttachmentSchema), required=True, metadata={
        "description": "The files of the opening message"})
    replies = fields.List(fields.Nested(ReplySchema), required=True)
    may = fields.Nested(AllowedSchema, required=True)


class TicketPageSchema(Schema):
    tickets = fields.List(fields.Nested(TicketSchema), required=True)
    next_cursor = fields.String(required=True, allow_none=True, metadata={
        "description": "Pass as `cursor` for the next page; null on the last page."})


class CategoryCountSchema(Schema):
    id = fields.Integer(required=True, allow_none=True)
    name = fields.String(required=True)
    tickets = fields.Integer(required=True)


class StatsSchema(Schema):
    """Numbers of the caller's scope. Customers count their tickets by the statuses they
    read (``in_progress`` also counts those waiting on a vendor and on hold)."""

    by_status = fields.Dict(keys=fields.String(validate=validate.OneOf(STATUSES)),
                            values=fields.Integer(), required=True)
    unresolved = fields.Integer(required=True)
    first_response_hours = fields.Float(required=True, allow_none=True, metadata={
        "description": "Mean first response of the tickets opened in the last "
                       "`average_days` days, in hours"})
    resolution_hours = fields.Float(required=True, allow_none=True)
    average_days = fields.Integer(required=True)
    backlog_by_priority = fields.Dict(keys=fields.String(validate=validate.OneOf(PRIORITIES)),
                                      values=fields.Integer(), required=True)
    backlog_by_category = fields.List(fields.Nested(CategoryCountSchema), required=True)


# Requests ---------------------------------------------------------------------------------

class TicketListQuery(Query):
    """The desk queue's filters and sorts, with the same meaning (``desk.queue_filters``):
    without ``status`` the unresolved tickets, ``status=any`` every one."""

    status = fields.List(fields.String(validate=validate.OneOf([*STATUSES, ANY_STATUS])),
                         metadata={"description": "repeatable; `any`: every status"})
    priority = fields.List(fields.String(validate=validate.OneOf(PRIORITIES)),
                           metadata={"description": "repeatable"})
    category = fields.List(_id(strict=False),
                           metadata={"description": "category ids, repeatable"})
    assignee = fields.String(validate=validate.Regexp(r"^(me|unassigned|[1-9][0-9]{0,9})$"),
                             metadata={"description": "`me`, `unassigned` or a user id"})
    customer = _id(strict=False, metadata={"description": "a subscriber's user id"})
    q = fields.String(validate=validate.Length(max=200), metadata={
        "description": "words, a phrase in quotes, a name or an email address"})
    sort = fields.String(validate=validate.OneOf(list(SORTS)), load_default="queue")
    cursor = fields.String(validate=validate.Length(min=1, max=MAX_CURSOR_LENGTH), metadata={
        "description": "`next_cursor` of the page before"})
    limit = fields.Integer(validate=validate.Range(min=1, max=MAX_PAGE_SIZE),
                           load_default=DEFAULT_PAGE_SIZE)


class TicketCreateBody(Body):
    """A new ticket. A customer's token opens it for themselves (``subscriber`` is ignored);
    staff, and resellers with ``tickets.create``, name the subscriber."""

    subject = fields.String(required=True,
                            validate=validate.Length(min=1, max=MAX_SUBJECT_LENGTH))
    body = fields.String(load_default="", validate=validate.Length(max=MAX_BODY_LENGTH))
    category = _id(required=True, metadata={"description": "a category id"})
    priority = fields.String(load_default="normal", validate=validate.OneOf(PRIORITIES))
    subscriber = _id(metadata={"description": "the subscriber's user id (staff, resellers)"})


class TicketChangeBody(Body):
    """The fields to change; those left out stay as they are. Applied in this order, each
    through its service: a refusal answers 422 naming its field, the ones before it stay."""

    status = fields.String(validate=validate.OneOf(STATUSES))
    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    category = _id(metadata={"description": "a category id"})
    assignee = _id(allow_none=True, metadata={"description": "a user id; null unassigns"})


class ReplyBody(Body):
    body = fields.String(required=True, validate=validate.Length(min=1, max=MAX_BODY_LENGTH))
    internal = fields.Boolean(load_default=False, metadata={
        "description": "an internal note (staff and resellers)"})
    status = fields.String(validate=validate.OneOf(STATUSES), metadata={
        "description": "the status to move to (else the reply's usual one)"})


class HandoffBody(Body):
    assignee = _id(required=True, metadata={"description": "who takes the ticket over"})
    body = fields.String(required=True, validate=validate.Length(min=1, max=MAX_BODY_LENGTH),
                         metadata={"description": "the internal note for them"})
