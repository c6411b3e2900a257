"""The queue page is light: per-page work done once, rows that need no per-row htmx, the
number a real href to the ticket (the rest of a row is text that static/app.js makes work),
and a row drawn alone the same as in the list."""

import re

import pytest
from flask import url_for
from sqlalchemy import select

from helpdesk import template_filters
from helpdesk.desk import rows
from helpdesk.extensions import db
from helpdesk.models import Category, Ticket, User
from helpdesk.services import tickets
from tests.world import email

ROW = re.compile(r'<tr id="row-(\d+)"[^>]*>.*?</tr>', re.S)


def rows_of(html):
    """``{ticket id: row markup}`` of a page or fragment."""
    return {int(match.group(1)): match.group(0) for match in ROW.finditer(html)}


@pytest.mark.parametrize(("key", "controls"), [("agent", True), ("north_viewer", False)])
def test_a_row_alone_is_the_row_in_the_list(client, auth, world, key, controls):
    """What the list works out once per page (link prefixes, may edit) gives each row the
    same markup as when it is drawn alone: the row refresh and the list cannot drift."""
    auth.login(email(key))
    listed = rows_of(client.get("/tickets").text)
    assert listed
    for ticket_id, row in listed.items():
        alone = client.get(f"/tickets/{ticket_id}/row", headers={"HX-Request": "true"}).text
        assert rows_of(alone) == {ticket_id: row}
        assert ("control-badge" in row) is controls


def test_row_links_are_real_and_rows_carry_no_htmx(app, client, auth, world):
    """A row's hrefs are built as url_for builds them: its number to the ticket (the one
    link a row needs without JavaScript), the customer to their hub; the badges carry none
    (the clicks, the menus, the row refresh and the poll's ids are static/app.js's, once
    for the whole table)."""
    auth.login(email("agent"))
    html = client.get("/tickets").text
    listed = rows_of(html)
    with app.test_request_context():
        for ticket_id, row in listed.items():
            ticket_url = url_for("desk.ticket", ticket_id=ticket_id)
            hrefs = re.findall(r'href="([^"]*)"', row)
            assert hrefs.count(ticket_url) == 1  # the number
            assert f'<td class="number"><a href="{ticket_url}">' in row
            assert set(hrefs) - {ticket_url} <= {
                url_for("desk.customer", user_id=user_id) for user_id in world.users.values()}
            assert len(set(hrefs) - {ticket_url}) == 1
            assert "hx-" not in row and "<a " in row
    assert 'name="ids"' not in html and 'id="expand-' not in html


def test_the_page_works_out_links_and_permissions_once(app, client, auth, world,
                                                       monkeypatch):
    """url_for and may() run a fixed number of times, whatever the number of rows."""
    calls = {"url_for": 0, "may": 0}
    url_for_of_app, may_of_app = app.jinja_env.globals["url_for"], template_filters.may

    def counted(name, function):
        def call(*args, **kwargs):
            calls[name] += 1
            return function(*args, **kwargs)
        return call

    monkeypatch.setitem(app.jinja_env.globals, "url_for", counted("url_for", url_for_of_app))
    monkeypatch.setitem(app.jinja_env.globals, "may", counted("may", may_of_app))
    # An imported template (the rows' macros) keeps the globals it was first loaded with:
    # load every template afresh, so the counting ones are the ones called.
    app.jinja_env.cache.clear()
    auth.login(email("agent"))

    def page_calls():
        calls.update(url_for=0, may=0)
        html = client.get("/tickets", headers={"HX-Request": "true"}).text
        return len(rows_of(html)), dict(calls)

    few_rows, few = page_calls()
    with app.app_context():
        alice = db.session.get(User, world.users["alice"])
        category = db.session.scalars(select(Category)).first()
        for n in range(20):
            tickets.open_ticket(subscriber=alice, subject=f"Row {n}", body="b",
                                category=category)
    many_rows, many = page_calls()
    assert many_rows == few_rows + 20
    assert many == few and few["may"] == 1


def test_a_row_kept_is_drawn_again_when_anything_it_shows_changes(app, client, auth, world):
    """Rows are kept once drawn (helpdesk.desk.rows.drawn_rows), keyed by what they show: a
    new status or assignee, a renamed category or subscriber each give a new row."""
    auth.login(email("agent"))
    ticket_id = world.tickets["alice"]

    def row():
        return rows_of(client.get("/tickets", headers={"HX-Request": "true"}).text)[ticket_id]

    before = row()
    assert row() == before  # the kept row: the same markup
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        agent = db.session.get(User, world.users["agent"])
        ticket.category.name = "Renamed category"
        ticket.subscriber.name = "Alice Renamed"
        tickets.change_status(ticket, "on_hold", actor=agent)
        tickets.assign(ticket, agent, actor=agent)
    after = row()
    for shown in ("Renamed category", "Alice Renamed", "On hold", agent_name(app, world)):
        assert shown in after and shown not in before, shown


def agent_name(app, world):
    with app.app_context():
        return db.session.get(User, world.users["agent"]).name


def test_the_shared_row_statement_is_built_before_any_request(app):
    """Built while the app is made (one thread), with its aliases joined: two first requests
    at once once raced to build it and one kept a statement with a bare ``users`` FROM (a
    cartesian product), for as long as the process lived."""
    assert rows._row_columns.cache_info().currsize == 1
    with app.app_context():
        sql = str(rows._row_columns().compile(db.engine))
    assert "JOIN users AS row_subscriber ON row_subscriber.id = tickets.subscriber_id" in sql
    assert "users AS row_assignee" in sql
    from_clause = sql.split("FROM", 1)[1]
    assert ", users" not in from_clause and "users.name" not in sql
