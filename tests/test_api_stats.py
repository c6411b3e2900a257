"""``GET /api/v1/stats``: the numbers of the caller's scope, from the tallies for the desk."""

import pytest
from sqlalchemy import func, select

from helpdesk.access import ticket_scope
from helpdesk.extensions import db
from helpdesk.models import Ticket, User
from helpdesk.models.ticket import UNRESOLVED_STATUSES, customer_status
from helpdesk.services import tickets


@pytest.mark.parametrize("key", ["agent", "north_reseller", "south_reseller", "north_none",
                                 "alice", "carol"])
def test_stats_count_exactly_the_callers_scope(app, api_as, world, key):
    with app.app_context():
        agent = db.session.get(User, world.users["agent"])
        tickets.change_status(db.session.get(Ticket, world.tickets["carol"]), "on_hold",
                              actor=agent)
    response = api_as(key).get("/api/v1/stats")
    assert response.status_code == 200, response.get_json()
    stats = response.get_json()
    with app.app_context():
        user = db.session.get(User, world.users[key])
        rows = db.session.execute(select(Ticket.status, Ticket.priority, func.count())
                                  .where(ticket_scope(user))
                                  .group_by(Ticket.status, Ticket.priority)).all()
    expected, backlog = {}, {}
    for status, priority, count in rows:
        shown = customer_status(status).key if user.is_customer else status
        expected[shown] = expected.get(shown, 0) + count
        if status in UNRESOLVED_STATUSES:
            backlog[priority] = backlog.get(priority, 0) + count
    assert {k: v for k, v in stats["by_status"].items() if v} == expected
    assert {k: v for k, v in stats["backlog_by_priority"].items() if v} == backlog
    assert stats["unresolved"] == sum(backlog.values())
    assert sum(row["tickets"] for row in stats["backlog_by_category"]) == stats["unresolved"]


def test_stats_for_staff_read_the_tallies_in_a_few_queries(api_as, count_queries):
    api = api_as("agent")
    api.get("/api/v1/stats")
    with count_queries() as counter:
        api.get("/api/v1/stats")
    assert counter.count <= 3  # the token, the tallies, the averages
