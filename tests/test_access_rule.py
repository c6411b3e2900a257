"""The one visibility rule, over generated people and tickets rather than one fixed world.

For every combination Hypothesis generates (role, any set of tickets.* permissions, reseller
and organisation links or none, disabled or not; tickets with any subscriber, organisation,
reseller, status, deleted or not) the SQL scope, the Python check and DESIGN.md's table say
the same, and no action is ever allowed on a ticket its actor cannot see. Rows live in a
SAVEPOINT rolled back after each example, so nothing is left behind and nothing is assumed
about the rest of the database.
"""

from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from helpdesk.access import (
    ACTIONS,
    can_see,
    may,
    may_open_ticket_for,
    scope_of,
    visible_tickets,
)
from helpdesk.extensions import db
from helpdesk.models import PERMISSIONS, ROLES, STATUSES, Category, Organisation, Reseller, User
from helpdesk.models.ticket import Ticket
from helpdesk.models.timestamps import utcnow

LINKS = (None, 0, 1)  # no link, or one of the two resellers / organisations below
GENERATED = settings(
    max_examples=150, deadline=None, derandomize=True, database=None,
    # The fixtures are safe to share between examples: each example rolls back its rows.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

people = st.fixed_dictionaries({
    "role": st.sampled_from(ROLES),
    "permissions": st.frozensets(st.sampled_from(PERMISSIONS)),
    "reseller": st.sampled_from(LINKS),
    "organisation": st.sampled_from(LINKS),
    "disabled": st.booleans(),
})
ticket_rows = st.lists(st.fixed_dictionaries({
    "subscriber": st.sampled_from(("actor", 0, 1)),  # the generated person, or another one
    "organisation": st.sampled_from(LINKS),
    "reseller": st.sampled_from(LINKS),
    "status": st.sampled_from(STATUSES),
    "deleted": st.booleans(),
}), min_size=1, max_size=6)


@dataclass
class Places:
    """Resellers, organisations and two subscribers for generated rows to point at."""

    resellers: list
    organisations: list
    subscribers: list
    category: Category

    def reseller_id(self, index):
        return None if index is None else self.resellers[index].id

    def organisation_id(self, index):
        return None if index is None else self.organisations[index].id


@pytest.fixture
def places(app_context):
    """Flushed, never committed: the test's transaction is rolled back at teardown."""
    resellers = [Reseller(name=f"Generated reseller {n}") for n in range(2)]
    db.session.add_all(resellers)
    db.session.flush()
    organisations = [Organisation(name="Generated org 0", reseller_id=resellers[0].id),
                     Organisation(name="Generated org 1", reseller_id=None)]
    db.session.add_all(organisations)
    db.session.flush()
    subscribers = [
        _person(role="subscriber", reseller_id=resellers[0].id,
                organisation_id=organisations[0].id, tag="other-0"),
        _person(role="subscriber", reseller_id=resellers[1].id, organisation_id=None,
                tag="other-1"),
    ]
    db.session.add_all(subscribers)
    db.session.flush()
    category = db.session.scalars(select(Category).order_by(Category.position)).first()
    return Places(resellers, organisations, subscribers, category)


def _person(*, role, reseller_id, organisation_id, tag, permissions=(), disabled=False):
    person = User(email=f"generated-{tag}@rule.test", name=f"Generated {tag}",
                  password_hash="not-a-hash", role=role, reseller_id=reseller_id,
                  organisation_id=organisation_id, disabled_at=utcnow() if disabled else None)
    person.permissions = permissions
    return person


def expected_visibility(person, ticket):
    """DESIGN.md's table in plain words, written apart from ``helpdesk.access`` on purpose."""
    if person.disabled_at is not None or ticket.deleted_at is not None:
        return False
    if person.role in ("agent", "admin"):
        return True
    if person.role == "reseller":
        if "tickets.view_all" in person.permissions:
            return True
        return ("tickets.view" in person.permissions and person.reseller_id is not None
                and ticket.reseller_id == person.reseller_id)
    if person.role == "company_admin" and person.organisation_id is not None:
        return ticket.organisation_id == person.organisation_id
    return ticket.subscriber_id == person.id


@given(person=people, rows=ticket_rows)
@GENERATED
def test_sql_scope_python_check_and_design_agree(places, person, rows):
    """``ticket in visible_tickets(user)`` == ``can_see(user, ticket)`` == the table; ``may``
    implies ``can_see`` for every action; ``view`` is ``can_see`` itself."""
    savepoint = db.session.begin_nested()
    try:
        actor = _person(role=person["role"], permissions=person["permissions"],
                        reseller_id=places.reseller_id(person["reseller"]),
                        organisation_id=places.organisation_id(person["organisation"]),
                        disabled=person["disabled"], tag="actor")
        db.session.add(actor)
        db.session.flush()
        tickets = [Ticket(
            subject="Generated", body="", body_html="", status=row["status"],
            category_id=places.category.id,
            subscriber_id=actor.id if row["subscriber"] == "actor"
            else places.subscribers[row["subscriber"]].id,
            organisation_id=places.organisation_id(row["organisation"]),
            reseller_id=places.reseller_id(row["reseller"]),
            deleted_at=utcnow() if row["deleted"] else None,
        ) for row in rows]
        db.session.add_all(tickets)
        db.session.flush()
        by_sql = set(db.session.scalars(visible_tickets(actor).with_only_columns(Ticket.id)
                                        .where(Ticket.id.in_([t.id for t in tickets]))))
        for ticket in tickets:
            seen = can_see(actor, ticket)
            assert (ticket.id in by_sql) == seen, (scope_of(actor), row_of(ticket))
            assert seen == expected_visibility(actor, ticket), (scope_of(actor), row_of(ticket))
            assert may(actor, "view", ticket) == seen
            for action in ACTIONS:
                assert seen or not may(actor, action, ticket), (action, row_of(ticket))
    finally:
        savepoint.rollback()


@given(person=people)
@GENERATED
def test_whoever_opens_a_ticket_for_someone_can_see_it(places, person):
    """``may_open_ticket_for`` never lets anyone open a ticket they could not then see."""
    savepoint = db.session.begin_nested()
    try:
        actor = _person(role=person["role"], permissions=person["permissions"],
                        reseller_id=places.reseller_id(person["reseller"]),
                        organisation_id=places.organisation_id(person["organisation"]),
                        disabled=person["disabled"], tag="opener")
        db.session.add(actor)
        db.session.flush()
        for subscriber in [actor, *places.subscribers]:
            if may_open_ticket_for(actor, subscriber):
                opened = Ticket(subscriber_id=subscriber.id,
                                organisation_id=subscriber.organisation_id,
                                reseller_id=subscriber.reseller_id)
                assert can_see(actor, opened), (actor.role, subscriber.email)
    finally:
        savepoint.rollback()


def test_signed_out_visitors_see_nothing(places):
    """An anonymous user (Flask-Login's stand-in) has an empty scope."""
    from flask_login import AnonymousUserMixin

    visitor = AnonymousUserMixin()
    assert db.session.scalars(visible_tickets(visitor).limit(1)).all() == []
    ticket = Ticket(subscriber_id=places.subscribers[0].id,
                    reseller_id=places.resellers[0].id)
    assert not can_see(visitor, ticket)


def row_of(ticket):
    """A ticket's scope columns, for assertion messages."""
    return {"subscriber_id": ticket.subscriber_id, "organisation_id": ticket.organisation_id,
            "reseller_id": ticket.reseller_id, "deleted": ticket.deleted_at is not None,
            "status": ticket.status}
