"""The queue's ``team`` filter: a team, or ``none``; a select beside the assignee's for staff,
kept in links, saved views and the changes poll, read from ``ix_tickets_team_queue`` (or
``ix_tickets_no_team_queue``) in queue order. Resellers neither see it nor can use it: teams are
the operator's own people."""

import re

import pytest
from sqlalchemy import select

from helpdesk.desk.queue_filters import QueueFilters
from helpdesk.desk.views import queue_page
from helpdesk.extensions import db
from helpdesk.models import PRIORITIES, STATUSES, Category, Team, Ticket, User
from helpdesk.models.timestamps import utcnow
from helpdesk.services import teams, tickets
from tests.conftest import csrf_token_from
from tests.test_keyset import SUBSCRIBERS, add_tickets, page_statement
from tests.world import email

ROW = re.compile(r'<tr id="row-(\d+)"')


@pytest.fixture
def team_ids(app, world):
    """Billing has Alice's and Bob's tickets, Network Dave's; the others have no team."""
    with app.app_context():
        billing, network = teams.create_team("Billing"), teams.create_team("Network")
        for key, team in (("alice", billing), ("bob", billing), ("dave", network)):
            db.session.get(Ticket, world.tickets[key]).team = team
        db.session.commit()
        return {"Billing": billing.id, "Network": network.id}


def listed(client, query):
    return {int(found) for found in ROW.findall(client.get(f"/tickets?{query}").text)}


def keys(world, *names):
    return {world.tickets[name] for name in names}


def team_options(html):
    found = re.search(r'<select id="filter-team".*?</select>', html, re.S)
    return found and re.findall(r'<option value="([^"]*)"\s*(selected)?>([^<]+)</option>',
                                found.group(0))


def test_staff_list_a_teams_tickets_or_those_of_no_team(client, auth, world, team_ids):
    auth.login(email("agent"))
    billing = team_ids["Billing"]
    assert listed(client, f"team={billing}") == keys(world, "alice", "bob")
    assert listed(client, f"team={team_ids['Network']}&status=any") == keys(world, "dave")
    assert listed(client, "team=none") == keys(world, "carol", "erin", "zed")
    assert listed(client, f"team={billing}&status=open&priority=normal") == keys(
        world, "alice", "bob")
    assert listed(client, f"team={billing}&status=closed") == set()
    assert listed(client, "team=junk") == listed(client, "") == set(world.tickets.values())


def test_the_select_offers_every_team_and_shows_the_one_chosen(client, auth, world, team_ids):
    auth.login(email("agent"))
    assert team_options(client.get("/tickets").text) == [
        ("", "", "Any team"), ("none", "", "No team"),
        (str(team_ids["Billing"]), "", "Billing"), (str(team_ids["Network"]), "", "Network")]
    chosen = team_options(client.get(f"/tickets?team={team_ids['Network']}").text)
    assert [option for option in chosen if option[1]] == [
        (str(team_ids["Network"]), "selected", "Network")]
    chosen = team_options(client.get("/tickets?team=none").text)
    assert [option for option in chosen if option[1]] == [("none", "selected", "No team")]


def test_a_new_team_or_a_new_name_shows_at_once(app, client, auth, world, team_ids):
    """Teams are among the kept choices (helpdesk.desk.choices): a change is a new token."""
    auth.login(email("agent"))
    client.get("/tickets")
    with app.app_context():
        teams.rename_team(db.session.get(Team, team_ids["Network"]), "Field",
                          actor=db.session.get(User, world.users["admin"]))
        teams.create_team("Support")
    names = [name for _, _, name in team_options(client.get("/tickets").text)]
    assert names[2:] == ["Billing", "Field", "Support"]


def test_links_and_saved_views_keep_the_team(app, client, auth, world, team_ids):
    """The pager's links, the changes poll and a saved view carry ``team``."""
    app.config["TICKETS_PER_PAGE"] = 1
    auth.login(email("agent"))
    billing = team_ids["Billing"]
    html = client.get(f"/tickets?team={billing}").text
    assert re.search(rf'href="\?team={billing}&amp;after=[^"]+" rel="next"', html)
    assert f'name="query" form="save-view" value="team={billing}"' in html
    assert re.search(rf'hx-get="/tickets/changes\?team={billing}', html)
    response = client.post("/tickets/views", data={
        "csrf_token": csrf_token_from(html), "name": "Billing's", "query": f"team={billing}"})
    assert response.headers["Location"] == f"/tickets?team={billing}"
    assert re.search(rf'<a[^>]*href="/tickets\?team={billing}"[^>]*>Billing&#39;s</a>',
                     client.get("/tickets").text)


def test_the_changes_poll_counts_new_tickets_of_the_team_only(app, client, auth, world,
                                                             team_ids):
    auth.login(email("agent"))
    since = utcnow().isoformat()
    with app.app_context():
        alice = db.session.get(User, world.users["alice"])
        category = db.session.get(Ticket, world.tickets["alice"]).category
        for n in range(2):
            opened = tickets.open_ticket(subscriber=alice, subject=f"New {n}", body="b",
                                         category=category)
            opened.team_id = team_ids["Billing"] if n == 0 else None
        db.session.commit()
    poll = client.get("/tickets/changes", query_string={
        "since": since, "team": team_ids["Billing"]}, headers={"HX-Request": "true"}).text
    assert "1 new ticket" in poll


@pytest.mark.parametrize("key", ["north_reseller", "north_all"])
def test_resellers_have_no_team_filter(client, auth, world, team_ids, key):
    """No select, and ``team=`` ignored as an unknown value is: the same tickets, and links
    and views without it."""
    auth.login(email(key))
    html = client.get(f"/tickets?team={team_ids['Network']}").text
    assert team_options(html) is None and "Any team" not in html
    assert {int(found) for found in ROW.findall(html)} == listed(client, "")
    assert "team=" not in html
    assert listed(client, "team=none") == listed(client, "")


@pytest.fixture
def generated(app_context, world):
    """120 tickets over every status and priority: one in twelve with a rare team, one in
    twelve with no team, the others with a busy team; the agent; the teams' ids (rare, busy)."""
    team_ids = [teams.create_team(name).id for name in ("Generated A", "Generated B")]
    categories = db.session.scalars(select(Category.id).order_by(Category.position)).all()[:3]
    people = {key: db.session.get(User, world.users[key]) for key in (*SUBSCRIBERS, "agent")}
    rows = [{"status": STATUSES[n % 7], "priority": PRIORITIES[n % 4], "category": n % 3,
             "assigned": n % 5 == 0, "subscriber": SUBSCRIBERS[n % 3], "updated": n % 5,
             "created": 1, "deleted": n % 11 == 0,
             "team": {0: 0, 6: None}.get(n // 5 % 12, 1)}
            for n in range(120)]
    add_tickets(rows, categories=categories, people=people, now=utcnow(), team_ids=team_ids)
    return people["agent"], team_ids


def test_the_filter_is_read_from_the_team_index_in_queue_order(app, generated):
    """EXPLAIN, on the tiny test data (analyzed) with PostgreSQL told to prefer indexes in
    order: a
    rare team (or no team), alone, with live work, with statuses and with priorities, is
    read from ``ix_tickets_team_queue`` (``ix_tickets_no_team_queue``) and nothing else, not
    looked for in table rows."""
    user, team_ids = generated
    team = str(team_ids[0])
    views = [QueueFilters(team=team), QueueFilters(team="none", live=True),
             QueueFilters(team=team, statuses=["open", "on_hold", "closed"]),
             QueueFilters(team="none", priorities=["urgent", "low"], live=True),
             QueueFilters(team=team, sort="updated"), QueueFilters(team="none", page=3)]
    app.config["TICKETS_PER_PAGE"] = 5
    connection = db.session.connection()
    connection.exec_driver_sql("ANALYZE tickets")  # rolled back with the test
    for filters in views:
        index = "ix_tickets_no_team_queue" if filters.team == "none" else "ix_tickets_team_queue"
        statement, parameters = page_statement(app, user, filters)
        if connection.dialect.name == "postgresql":
            # Tiny data: sorting a few rows costs less than any index, so PostgreSQL is told
            # to avoid sorts too; it then reads an index that is in the queue's order.
            for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
                connection.exec_driver_sql(f"SET LOCAL {setting} = off")
            plan = "\n".join(row[0] for row in connection.exec_driver_sql(
                "EXPLAIN " + statement, parameters))
            for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
                connection.exec_driver_sql(f"RESET {setting}")
            scans = re.findall(r"Index (?:Only )?Scan using (\w+)", plan)
            assert scans and set(scans) == {index}, (filters, plan)
        else:
            plan = [row[3] for row in connection.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + statement, parameters)]
            ranges = [line for line in plan if "tickets" in line]
            assert ranges and all(re.fullmatch(rf"(SEARCH|SCAN) tickets USING (COVERING )?INDEX"
                                               rf" {index}( \(.*\))?", line)
                                  for line in ranges), (filters, plan)
        assert queue_page(user, filters)["tickets"] is not None


def test_every_team_view_lists_what_the_plain_query_lists(app, generated):
    """The team's slices per queue rank (QueueFilters.partitions) miss no ticket and list
    none twice, against the view's plain ORDER BY."""
    user, team_ids = generated
    app.config["TICKETS_PER_PAGE"] = 200
    for team in (str(team_ids[0]), "none"):
        for extra in ({}, {"statuses": ["open", "closed"]}, {"priorities": ["high"]},
                      {"live": True, "priorities": ["urgent", "low"]}):
            filters = QueueFilters(team=team, **extra)
            expected = list(db.session.scalars(
                select(Ticket.id).where(Ticket.deleted_at.is_(None),
                                        *filters.conditions(user))
                .order_by(*(c.desc() if d else c.asc() for c, d in filters.order))))
            assert expected, (team, extra)
            assert [row.id for row in queue_page(user, filters)["tickets"]] == expected
