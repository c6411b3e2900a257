"""The access module as a matrix: every role against every kind of ticket."""

import pytest
from sqlalchemy import select

from helpdesk.access import (
    can_see,
    get_visible_ticket,
    may,
    may_open_ticket_for,
    sees_internal_notes,
    visible_replies,
    visible_tickets,
)
from helpdesk.extensions import db
from helpdesk.models import Reply, Ticket, User
from helpdesk.models.timestamps import utcnow

ALL = {"alice", "bob", "carol", "dave", "erin", "zed"}
NORTH = {"alice", "carol", "dave", "erin"}  # North's subscribers, Acme included

# Who sees which ticket. Ticket keys name their subscriber: alice (North, no organisation),
# bob (South), carol/dave/erin (Acme, a North customer; carol is its company admin),
# zed (Zeta, an operator customer).
VISIBLE = {
    "admin": ALL,
    "agent": ALL,
    "north_reseller": NORTH,
    "north_viewer": NORTH,
    "north_all": ALL,            # tickets.view_all: beyond their own subscribers
    "north_none": set(),         # a reseller without tickets.view sees nothing
    "south_reseller": {"bob"},
    "alice": {"alice"},          # own ticket only
    "bob": {"bob"},
    "carol": {"carol", "dave", "erin"},  # company admin: the whole organisation
    "dave": {"dave"},            # a regular user does not see a colleague's ticket
    "zed": {"zed"},
}


def _user(world, key):
    return db.session.get(User, world.users[key])


def _ticket(world, key):
    return db.session.get(Ticket, world.tickets[key])


@pytest.mark.parametrize("role_key", sorted(VISIBLE))
def test_scope_query_and_check_agree_with_the_matrix(world, app_context, role_key):
    """The SQL filter and the per-ticket check give exactly the expected tickets."""
    user = _user(world, role_key)
    by_query = {
        key for key, ticket_id in world.tickets.items()
        if ticket_id in set(db.session.scalars(visible_tickets(user).with_only_columns(Ticket.id)))
    }
    by_check = {key for key in world.tickets if can_see(user, _ticket(world, key))}
    assert by_query == VISIBLE[role_key]
    assert by_check == VISIBLE[role_key]


@pytest.mark.parametrize("role_key", sorted(VISIBLE))
def test_out_of_scope_ticket_is_not_found(world, app_context, role_key):
    """Loading a ticket outside the scope raises 404, never 403."""
    from werkzeug.exceptions import NotFound

    user = _user(world, role_key)
    for key in sorted(ALL - VISIBLE[role_key]):
        with pytest.raises(NotFound):
            get_visible_ticket(user, world.tickets[key])
    for key in VISIBLE[role_key]:
        assert get_visible_ticket(user, world.tickets[key]).id == world.tickets[key]


def test_deleted_tickets_leave_every_scope(world, app_context):
    """A soft-deleted ticket is invisible, to admins too."""
    ticket = _ticket(world, "alice")
    ticket.deleted_at = utcnow()
    db.session.commit()
    for role_key in ("admin", "north_reseller", "alice"):
        assert not can_see(_user(world, role_key), ticket)
        ids = db.session.scalars(visible_tickets(_user(world, role_key))).all()
        assert ticket not in ids


def test_disabled_user_sees_nothing(world, app_context):
    """Disabling a user empties their scope even before the session is gone."""
    agent = _user(world, "agent")
    agent.disabled_at = utcnow()
    assert db.session.scalars(visible_tickets(agent)).all() == []
    assert not can_see(agent, _ticket(world, "alice"))


ACTIONS = {
    # role: (reply, internal_note, edit, delete, comment, rate, set_team) on a ticket they see
    "admin": (True, True, True, True, False, False, True),
    "agent": (True, True, True, True, False, False, True),
    "north_reseller": (True, True, True, False, False, False, False),  # view, create, edit, reply
    "north_viewer": (False, False, False, False, False, False, False),  # view only
    "north_all": (True, True, False, False, False, False, False),
    "carol": (False, False, False, False, True, False, False),
    "dave": (False, False, False, False, True, False, False),
}
ACTION_NAMES = ("reply", "internal_note", "edit", "delete", "comment", "rate", "set_team")


@pytest.mark.parametrize("role_key", sorted(ACTIONS))
def test_actions_on_a_visible_open_ticket(world, app_context, role_key):
    """What each role may do to an open ticket it can see (dave's, in Acme under North)."""
    user, ticket = _user(world, role_key), _ticket(world, "dave")
    got = tuple(may(user, action, ticket) for action in ACTION_NAMES)
    assert got == ACTIONS[role_key]


def test_no_action_on_an_invisible_ticket(world, app_context):
    """Permissions never reach beyond the scope: South's staff cannot reply to North's."""
    south, ticket = _user(world, "south_reseller"), _ticket(world, "alice")
    assert not any(may(south, action, ticket) for action in ACTION_NAMES)


def test_customers_comment_until_closed_and_rate_after_resolution(world, app_context):
    """Comments stop at closed; a rating needs resolved or closed."""
    alice, ticket = _user(world, "alice"), _ticket(world, "alice")
    for status, comment, rate in [("open", True, False), ("resolved", True, True),
                                  ("closed", False, True)]:
        ticket.status = status
        assert may(alice, "comment", ticket) is comment
        assert may(alice, "rate", ticket) is rate


def test_delete_needs_the_delete_permission(world, app_context):
    """A reseller with tickets.delete may delete their subscribers' tickets."""
    reseller = _user(world, "north_reseller")
    reseller.permissions = [*reseller.permissions, "tickets.delete"]
    assert may(reseller, "delete", _ticket(world, "alice"))


def test_unknown_action_is_a_programming_error(world, app_context):
    """A typo in an action name fails loudly instead of silently denying."""
    with pytest.raises(ValueError, match="unknown action"):
        may(_user(world, "admin"), "veiw", _ticket(world, "alice"))


def test_internal_notes_only_for_staff_and_resellers(world, app_context):
    """Customers never get internal notes from the thread query."""
    ticket = _ticket(world, "dave")
    for role_key in ("admin", "agent", "north_reseller"):
        user = _user(world, role_key)
        assert sees_internal_notes(user)
        assert any(r.internal for r in db.session.scalars(visible_replies(user, ticket)))
    for role_key in ("carol", "dave"):
        user = _user(world, role_key)
        assert not sees_internal_notes(user)
        replies = db.session.scalars(visible_replies(user, ticket)).all()
        assert replies, "the public reply is still there"
        assert not any(r.internal for r in replies)
    all_replies = db.session.scalars(select(Reply).where(Reply.ticket_id == ticket.id)).all()
    assert any(r.internal for r in all_replies)


@pytest.mark.parametrize(("role_key", "subscriber_key", "allowed"), [
    ("agent", "bob", True),
    ("north_reseller", "alice", True),
    ("north_reseller", "dave", True),
    ("north_reseller", "bob", False),        # another reseller's subscriber
    ("north_viewer", "alice", False),        # no tickets.create
    ("alice", "alice", True),
    ("alice", "bob", False),
    ("agent", "agent", False),               # tickets are for customers
])
def test_who_may_open_a_ticket_for_whom(world, app_context, role_key, subscriber_key, allowed):
    """Opening a ticket on someone's behalf follows scope and tickets.create."""
    assert may_open_ticket_for(_user(world, role_key), _user(world, subscriber_key)) is allowed
