"""Full-text search: FTS5 on SQLite, tsvector on PostgreSQL, scoped, notes for staff only."""

from sqlalchemy import select

from helpdesk.access import visible_tickets
from helpdesk.extensions import db
from helpdesk.models import Ticket, User
from helpdesk.search import matching_ticket_ids, search_terms
from helpdesk.services import replies


def found(user, query):
    ids = matching_ticket_ids(query, include_internal=not user.is_customer)
    rows = db.session.scalars(visible_tickets(user).where(Ticket.id.in_(ids)))
    return {ticket.subject.removesuffix(" ticket") for ticket in rows}


def test_subject_body_and_reply_words_match(world, app_context):
    """Words from subject, body and public replies find the ticket; prefixes work."""
    agent = db.session.get(User, world.users["agent"])
    assert found(agent, "alice") == {"alice"}
    assert found(agent, "Body of bob") == {"bob"}
    assert "alice" in found(agent, "public answer")
    assert "dave" in found(agent, "answ")


def test_internal_notes_are_searchable_by_staff_only(world, app_context):
    """A word only in an internal note finds the ticket for staff, never for its customer."""
    agent, dave = (db.session.get(User, world.users[k]) for k in ("agent", "dave"))
    assert found(agent, "SECRET-INTERNAL-NOTE") == {"alice", "dave"}
    assert found(dave, "SECRET-INTERNAL-NOTE") == set()
    assert found(dave, "public answer") == {"dave"}


def test_search_is_scoped(world, app_context):
    """A reseller finds only what they may see."""
    south = db.session.get(User, world.users["south_reseller"])
    assert found(south, "ticket") == {"bob"}


def test_new_replies_are_indexed_and_syntax_is_harmless(world, app_context):
    """New text is searchable at once; quotes, colons and operators do no harm."""
    agent = db.session.get(User, world.users["agent"])
    ticket = db.session.get(Ticket, world.tickets["zed"])
    replies.add_reply(ticket, author=agent, body="Replaced the ONT (model HG8245)")
    assert found(agent, "hg8245") == {"zed"}
    for query in ['"unbalanced', "a:b OR -c*", "NEAR(x y)", "'; DROP TABLE tickets; --"]:
        found(agent, query)  # no error
    assert matching_ticket_ids("!!! ???", include_internal=True) is None
    assert search_terms("x " * 20) == ["x"] * 8
    assert db.session.scalar(select(Ticket).limit(1)) is not None
