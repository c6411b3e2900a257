"""Reading the received mail for /admin/mail/inbound: what came in, by state, newest first.

The page is where a message that could not be taken in waits for an admin (retry or
discard, ``services.mail_intake``), and where anyone checking why a customer's mail made no
ticket finds the reason it was ignored.
"""

from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.models import InboundMessage
from helpdesk.models.inbound_message import INBOUND_STATES

PER_PAGE = 50
# The page's tabs: the states an admin looks at, the ones needing them first.
TABS = ("failed", "processed", "ignored", "discarded", "received")


# Counted up to this many per state: a mailbox of years holds millions of messages taken in,
# and the tab only needs to say "many" (the count reads at most this many index entries).
COUNT_CAP = 9_999


def counts():
    """How many messages are in each state (every state, zero included), each counted up to
    ``COUNT_CAP + 1`` (shown as "9,999+"): one bounded statement per state, however many
    messages there are."""
    return {state: db.session.scalar(select(func.count()).select_from(
        select(InboundMessage.id).where(InboundMessage.state == state)
        .limit(COUNT_CAP + 1).subquery())) for state in INBOUND_STATES}


def page(*, state, before=None, per_page=PER_PAGE):
    """One page of messages in ``state`` (None: all), newest first, after the id ``before``;
    and the next page's ``before`` (None on the last page). The bytes are not loaded."""
    query = select(InboundMessage).order_by(InboundMessage.id.desc()).limit(per_page + 1)
    if state is not None:
        query = query.where(InboundMessage.state == state)
    if before is not None:
        query = query.where(InboundMessage.id < before)
    rows = db.session.scalars(query).all()
    more = len(rows) > per_page
    rows = rows[:per_page]
    return rows, (rows[-1].id if more else None)


def kept_ids(rows):
    """Of ``rows``, the ids whose bytes are still kept (without loading them)."""
    ids = [row.id for row in rows]
    if not ids:
        return set()
    return set(db.session.scalars(select(InboundMessage.id).where(
        InboundMessage.id.in_(ids), InboundMessage.raw.isnot(None))))


def raw_of(inbound_id):
    """``(row, bytes)`` of one message for download; bytes None when they were let go."""
    row = db.session.get(InboundMessage, inbound_id)
    return (row, row.raw) if row is not None else (None, None)
