"""A ticket opened on a subscriber's behalf (``tickets.opened_by_id``) says so.

The desk names both people ("Agent opened this for Dave") and shows the opener as the author
of the first message. The portal, which calls staff and resellers "Support", says "Support
opened this for you" to the subscriber and names the colleague to a company admin; the first
message is never presented as the subscriber's own words.
"""

import re

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Category, User
from tests.world import email

BODY = "Dave phoned in: the router in the meeting room is dead."


def open_for(app, world, *, opener, subscriber="dave"):
    """``opener`` opens a ticket for ``subscriber`` through the service; its id."""
    from helpdesk.services import tickets

    with app.app_context():
        ticket = tickets.open_ticket(
            subscriber=db.session.get(User, world.users[subscriber]), subject="Router dead",
            body=BODY, category=db.session.scalars(select(Category)).first(),
            opened_by=db.session.get(User, world.users[opener]))
        return ticket.id


def first_entry(html):
    """The timeline's first message (the ticket's body) as ``(classes, author)``."""
    found = re.search(r'<li class="entry ([\w -]+)">\s*<div class="entry-head">\s*'
                      r'<strong>([^<]+)</strong>', html)
    return found.group(1), found.group(2)


def on_behalf_line(html):
    """The text of the "opened this for" line, tags dropped, or None."""
    found = re.search(r'<li class="event opened-on-behalf">(.*?)<time', html, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split()) if found else None


@pytest.mark.parametrize(("opener", "name"), [("agent", "Agent"),
                                              ("north_reseller", "North Reseller")])
def test_the_desk_says_who_opened_it_for_whom(app, client, auth, world, opener, name):
    """Line and first message name the opener, for staff and for the reseller's own users."""
    ticket_id = open_for(app, world, opener=opener)
    auth.login(email("agent"))
    for headers in ({}, {"HX-Request": "true"}):  # the page, and the queue's inline expansion
        html = client.get(f"/tickets/{ticket_id}", headers=headers).text
        assert on_behalf_line(html) == f"{name} opened this for Dave"
        classes, author = first_entry(html)
        assert author == name and "from-support" in classes
        assert html.index("opened this for") < html.index(BODY)


def test_the_desk_shows_the_subscriber_as_author_of_their_own_ticket(client, auth, world):
    """No line, and the subscriber wrote the first message, when they opened it."""
    auth.login(email("agent"))
    html = client.get(f"/tickets/{world.tickets['dave']}").text
    assert on_behalf_line(html) is None
    assert first_entry(html) == ("from-customer", "Dave")


def test_the_subscriber_reads_that_support_opened_it_for_them(app, client, auth, world):
    """"Support opened this for you"; the first message is Support's, not "You"; no staff
    name on the page, in the page or the live fragment."""
    ticket_id = open_for(app, world, opener="agent")
    auth.login(email("dave"))
    html = client.get(f"/portal/tickets/{ticket_id}").text
    assert on_behalf_line(html) == "Support opened this for you"
    assert first_entry(html) == ("from-support", "Support")
    assert BODY in html
    live = client.get(f"/portal/tickets/{ticket_id}/live", headers={"HX-Request": "true"}).text
    assert on_behalf_line(live) == "Support opened this for you"
    for text in (html, live):
        assert "Agent" not in text


def test_a_company_admin_reads_whom_it_was_opened_for(app, client, auth, world):
    """Carol sees her colleague's name where Dave reads "you"."""
    ticket_id = open_for(app, world, opener="north_reseller")
    auth.login(email("carol"))
    html = client.get(f"/portal/tickets/{ticket_id}").text
    assert on_behalf_line(html) == "Support opened this for Dave"
    assert first_entry(html) == ("from-support", "Support")
    assert "North Reseller" not in html


def test_a_customers_own_ticket_has_no_line(client, auth, world):
    """Opened by the subscriber: their words, as "You" (or their name for Carol)."""
    auth.login(email("dave"))
    html = client.get(f"/portal/tickets/{world.tickets['dave']}").text
    assert on_behalf_line(html) is None
    assert first_entry(html) == ("from-customer", "You")
    auth.logout()
    auth.login(email("carol"))
    assert first_entry(client.get(f"/portal/tickets/{world.tickets['dave']}").text) == (
        "from-customer", "Dave")


def test_the_opener_costs_one_load_at_most(app, client, auth, world, count_queries):
    """The desk page loads the opener once (or finds them loaded); the portal never loads
    them ("Support" needs only the id)."""
    on_behalf = open_for(app, world, opener="north_reseller")
    own = world.tickets["dave"]

    def statements(key, path):
        auth.login(email(key))
        client.get(path)  # a first request warms what is kept between requests
        with count_queries() as counter:
            assert client.get(path).status_code == 200
        auth.logout()
        return counter.count

    desk = statements("agent", f"/tickets/{own}")
    assert desk <= statements("agent", f"/tickets/{on_behalf}") <= desk + 1
    assert statements("dave", f"/portal/tickets/{on_behalf}") == statements(
        "dave", f"/portal/tickets/{own}")
