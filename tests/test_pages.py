"""The queue, the portal and the ticket pages, as each role sees them."""

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Category, User
from helpdesk.services import replies, tickets
from tests.test_access import ALL, VISIBLE
from tests.world import email

DESK_ROLES = ("admin", "agent", "north_reseller", "north_viewer", "north_all", "north_none",
              "south_reseller")
CUSTOMER_ROLES = ("alice", "bob", "carol", "dave", "zed")


def subjects_in(html, world):
    """Which world tickets a page lists, by their subjects."""
    return {key for key in world.tickets if f"{key} ticket<" in html}


@pytest.mark.parametrize("key", DESK_ROLES)
def test_queue_lists_exactly_the_scope(client, auth, world, key):
    """The queue shows what the access module allows, nothing more."""
    auth.login(email(key))
    html = client.get("/tickets").text
    assert subjects_in(html, world) == VISIBLE[key]
    if not VISIBLE[key]:
        assert "No tickets match." in html


@pytest.mark.parametrize("key", CUSTOMER_ROLES)
def test_portal_lists_exactly_the_scope(client, auth, world, key):
    """The portal shows a subscriber's own tickets, a company admin's organisation's."""
    auth.login(email(key))
    html = client.get("/portal/tickets").text
    assert subjects_in(html, world) == VISIBLE[key]


def test_customers_are_sent_from_the_queue_to_the_portal(client, auth, world):
    """A subscriber asking for /tickets lands in the portal; staff the other way round."""
    auth.login(email("alice"))
    assert client.get("/tickets").headers["Location"] == "/portal/tickets"
    own = world.tickets["alice"]
    assert client.get(f"/tickets/{own}").headers["Location"] == f"/portal/tickets/{own}"
    auth.logout()
    auth.login(email("agent"))
    assert client.get("/portal/tickets").headers["Location"] == "/tickets"


@pytest.mark.parametrize("key", DESK_ROLES + CUSTOMER_ROLES)
def test_every_out_of_scope_ticket_answers_404_everywhere(client, auth, world, key):
    """Full pages and htmx fragments, desk and portal URLs: 404, never 403 or a redirect."""
    auth.login(email(key))
    for ticket_key in sorted(ALL - VISIBLE[key]):
        ticket_id = world.tickets[ticket_key]
        for path in (f"/tickets/{ticket_id}", f"/portal/tickets/{ticket_id}"):
            assert client.get(path).status_code == 404, path
            assert client.get(path, headers={"HX-Request": "true"}).status_code == 404, path
    assert client.get("/tickets/999999").status_code == 404


def test_staff_see_internal_notes_marked_as_such(client, auth, world):
    """An internal note is in the staff thread, labelled and on its own background."""
    auth.login(email("agent"))
    html = client.get(f"/tickets/{world.tickets['dave']}").text
    assert world.internal_note_text in html
    assert "Internal note" in html
    assert "internal-note" in html


@pytest.mark.parametrize("key", ["dave", "carol"])
def test_customers_never_see_internal_notes(client, auth, world, key):
    """Not on the ticket page, not in the fragment, not in the list."""
    auth.login(email(key))
    ticket_id = world.tickets["dave"]
    pages = [
        client.get(f"/portal/tickets/{ticket_id}"),
        client.get(f"/portal/tickets/{ticket_id}", headers={"HX-Request": "true"}),
        client.get("/portal/tickets"),
    ]
    for response in pages:
        assert response.status_code == 200
        assert world.internal_note_text not in response.text
        assert "Internal note" not in response.text
    assert "Public answer from support" in pages[0].text
    assert "Support" in pages[0].text


def test_portal_thread_says_you_and_support(client, auth, world):
    """The subscriber's own messages are "You", staff messages "Support"."""
    auth.login(email("alice"))
    html = client.get(f"/portal/tickets/{world.tickets['alice']}").text
    assert ">You<" in html
    assert ">Support<" in html
    assert "Agent" not in html  # staff names stay behind "Support"


def test_htmx_gets_the_fragment_and_browsers_the_page(client, auth, world):
    """Same URL: fragment for htmx, full page otherwise (boosted too); Vary says so."""
    auth.login(email("agent"))
    path = f"/tickets/{world.tickets['alice']}"
    page = client.get(path)
    fragment = client.get(path, headers={"HX-Request": "true"})
    boosted = client.get(path, headers={"HX-Request": "true", "HX-Boosted": "true"})
    restore = client.get(path, headers={"HX-Request": "true",
                                        "HX-History-Restore-Request": "true"})
    assert "<html" in page.text and 'name="csrf-token"' in page.text
    assert "<html" not in fragment.text
    assert f'id="ticket-{world.tickets["alice"]}"' in fragment.text
    assert "<html" in boosted.text and "<html" in restore.text
    for response in (page, fragment):
        assert "HX-Request" in response.headers["Vary"]


def test_queue_filters_by_status(app, client, auth, world):
    """``status`` narrows the queue; an unknown status is ignored."""
    with app.app_context():
        from helpdesk.models import Ticket

        db.session.get(Ticket, world.tickets["bob"]).status = "on_hold"
        db.session.commit()
    auth.login(email("agent"))
    assert subjects_in(client.get("/tickets?status=on_hold").text, world) == {"bob"}
    assert subjects_in(client.get("/tickets?status=bogus").text, world) == ALL


def test_queue_pages_through_tickets(app, client, auth, world):
    """Next/Previous links page by cursor; every ticket appears on exactly one page."""
    import html as html_lib
    import re

    app.config["TICKETS_PER_PAGE"] = 4
    auth.login(email("agent"))
    first = client.get("/tickets").text
    next_link = html_lib.unescape(re.search(r'<a href="([^"]+)" rel="next"', first).group(1))
    second = client.get("/tickets" + next_link).text
    assert 'rel="prev"' in second and 'rel="next"' not in second
    assert subjects_in(first, world) | subjects_in(second, world) == ALL
    assert not subjects_in(first, world) & subjects_in(second, world)
    prev_link = html_lib.unescape(re.search(r'<a href="([^"]+)" rel="prev"', second).group(1))
    assert subjects_in(client.get("/tickets" + prev_link).text, world) == subjects_in(first, world)
    # Junk paging values are ignored like any other unknown filter value.
    for junk in ("page=0", "page=abc", "after=not-a-cursor"):
        assert subjects_in(client.get(f"/tickets?{junk}").text, world) == subjects_in(first, world)


def test_queue_query_count_does_not_grow_with_the_page(app, client, auth, world,
                                                       count_queries):
    """Page: user, the page (its ids joined to its rows), and the filter choices with the
    saved views in one statement (3; 2 once the choices are kept, helpdesk.desk.choices). An
    htmx filter or paging request only swaps the results: user and page (2). The same at any
    page size."""
    auth.login(email("agent"))
    counts = []
    for per_page in (2, 6):
        app.config["TICKETS_PER_PAGE"] = per_page
        with count_queries() as page:
            assert client.get("/tickets").status_code == 200
        with count_queries() as fragment:
            assert client.get("/tickets?priority=normal",
                              headers={"HX-Request": "true"}).status_code == 200
        counts.append((page.count, fragment.count))
    assert counts == [(3, 2), (2, 2)]


def test_ticket_page_query_count_is_fixed(client, auth, world, count_queries):
    """User, ticket, replies, events, time entries, files, assignees, categories, teams (the
    team control), the enabled PSA connections (the sync chip: none here, so nothing more),
    what the mail intake noted of it (the email panel: nothing here), and the bell's
    notifications of it marked read: 12, always."""
    auth.login(email("agent"))
    with count_queries() as counter:
        client.get(f"/tickets/{world.tickets['dave']}")
    assert counter.count == 12


def test_script_in_user_text_is_inert(app, client, auth, world):
    """Script in a subject, body, reply or name is shown as text, never run."""
    script = "<script>alert('x')</script>"
    with app.app_context():
        alice = db.session.get(User, world.users["alice"])
        alice.name = f"Alice {script}"
        category = db.session.scalars(select(Category)).first()
        ticket = tickets.open_ticket(subscriber=alice, subject=f"Subject {script}",
                                     body=f"Body {script} [x](javascript:alert(1))",
                                     category=category)
        replies.add_reply(ticket, author=db.session.get(User, world.users["agent"]),
                          body=f"Reply {script}")
        ticket_id = ticket.id
    auth.login(email("agent"))
    for path in ("/tickets", f"/tickets/{ticket_id}"):
        html = client.get(path).text
        assert script not in html
        assert "href=\"javascript:" not in html
        assert "&lt;script&gt;" in html


def test_unknown_route_gets_a_clear_404_page(client):
    """A page for people, JSON for API callers."""
    page = client.get("/no/such/page")
    assert page.status_code == 404
    assert "Not found" in page.text and "<html" in page.text
    api = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert api.status_code == 404
    assert api.json["status"] == 404


def test_wrong_method_gets_405_with_allow(client):
    """A PUT to the login form is refused politely."""
    response = client.put("/login")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert "Not allowed" in response.text


def test_oversized_request_gets_413(app, client):
    """Anything above the upload cap is refused before it is read."""
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post("/login", data={"email": "a" * 4096, "password": "x"})
    assert response.status_code == 413
    assert "larger than this help desk accepts" in response.text


def test_every_page_sends_security_headers(client):
    """A strict content security policy and friends on every answer."""
    response = client.get("/login")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_htmx_is_vendored_with_safe_settings(client):
    """htmx 2.x from our own origin, eval off, no history cache."""
    html = client.get("/login").text
    assert '/static/htmx-2.0.11.min.js' in html
    assert '"allowEval": false' in html and '"historyCacheSize": 0' in html
    assert client.get("/static/htmx-2.0.11.min.js").status_code == 200


def test_company_admin_sees_who_opened_a_colleagues_ticket(client, auth, world):
    """"You" is only for the viewer's own messages."""
    auth.login(email("carol"))
    html = client.get(f"/portal/tickets/{world.tickets['dave']}").text
    assert ">Dave<" in html
    assert ">You<" not in html
