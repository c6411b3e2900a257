"""How the server answers a request that cannot be served: signed out, stale token, error.

htmx requests get what the page can show in place (401 with HX-Redirect, a short text);
plain requests keep the redirect to sign in and the full error page.
"""

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Category, User
from helpdesk.models.timestamps import utcnow
from tests.conftest import csrf_token_from
from tests.world import email

HX = {"HX-Request": "true"}


def next_of(location):
    """The ``next`` parameter of a sign-in URL."""
    parts = urlsplit(location)
    assert parts.path == "/login"
    return parse_qs(parts.query).get("next", [None])[0]


def test_htmx_request_without_a_session_gets_401_and_a_way_back(client, world):
    """The live poll or an expansion asked after the session ended: sign in, then come back."""
    ticket_id = world.tickets["bob"]
    response = client.get(f"/tickets/{ticket_id}/live", headers={
        **HX, "HX-Current-URL": f"http://localhost/tickets/{ticket_id}?tab=all#reply"})
    assert response.status_code == 401
    assert next_of(response.headers["HX-Redirect"]) == f"/tickets/{ticket_id}?tab=all"
    assert "<html" not in response.text


@pytest.mark.parametrize("current", ["https://evil.example/tickets", "//evil.example/x",
                                     "javascript:alert(1)", ""])
def test_the_way_back_never_leaves_the_site(client, world, current):
    """``next`` comes only from a same-site HX-Current-URL."""
    response = client.get("/tickets", headers={**HX, "HX-Current-URL": current})
    assert response.status_code == 401
    assert next_of(response.headers["HX-Redirect"]) is None


def test_htmx_post_after_the_session_ended_gets_401_not_a_token_error(client, world):
    """No session means no CSRF token either; the answer is "sign in", not "bad token"."""
    ticket_id = world.tickets["bob"]
    response = client.post(f"/tickets/{ticket_id}/replies", data={"body": "Half a reply"},
                           headers={**HX, "X-CSRFToken": "stale",
                                    "HX-Current-URL": "http://localhost/tickets"})
    assert response.status_code == 401
    assert next_of(response.headers["HX-Redirect"]) == "/tickets"


def test_htmx_request_after_the_user_was_disabled_gets_401(app, client, auth, world):
    """A session that ends server-side (the user loader finds nobody) answers the same."""
    auth.login(email("agent"))
    token = csrf_token_from(client.get("/tickets").text)
    with app.app_context():
        db.session.get(User, world.users["agent"]).disabled_at = utcnow()
        db.session.commit()
    response = client.post(f"/tickets/{world.tickets['bob']}/replies", data={"body": "x"},
                           headers={**HX, "X-CSRFToken": token,
                                    "HX-Current-URL": "http://localhost/tickets/1"})
    assert response.status_code == 401
    assert next_of(response.headers["HX-Redirect"]) == "/tickets/1"


def test_admin_pages_answer_htmx_without_a_session_the_same_way(client, world):
    response = client.get("/admin/audit", headers={
        **HX, "HX-Current-URL": "http://localhost/admin/audit?user=x"})
    assert response.status_code == 401
    assert next_of(response.headers["HX-Redirect"]) == "/admin/audit?user=x"


def test_plain_requests_without_a_session_are_still_redirected(client, world):
    """Without htmx: 302 to sign in, back to the page asked for, or the page a post came from."""
    response = client.get("/tickets?status=open")
    assert response.status_code == 302
    assert next_of(response.headers["Location"]) == "/tickets?status=open"
    ticket_id = world.tickets["bob"]
    posted = client.post(f"/tickets/{ticket_id}/replies", data={"body": "x"},
                         headers={"Referer": f"http://localhost/tickets/{ticket_id}"})
    assert posted.status_code == 302
    assert next_of(posted.headers["Location"]) == f"/tickets/{ticket_id}"
    elsewhere = client.post(f"/tickets/{ticket_id}/replies", data={"body": "x"},
                            headers={"Referer": "https://evil.example/"})
    assert next_of(elsewhere.headers["Location"]) is None


def test_a_stale_token_on_an_htmx_request_gets_a_short_message(client, auth, world):
    """Signed in, token wrong: 400 and a sentence that says what to do, not a whole page."""
    auth.login(email("agent"))
    response = client.post(f"/tickets/{world.tickets['bob']}/replies", data={"body": "x"},
                           headers={**HX, "X-CSRFToken": "stale"})
    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    assert "<" not in response.text and len(response.text) < 400
    assert "Reload the page" in response.text


def test_a_stale_token_on_a_plain_post_still_gets_the_page(client, auth, world):
    auth.login(email("agent"))
    response = client.post(f"/tickets/{world.tickets['bob']}/replies",
                           data={"body": "x", "csrf_token": "stale"})
    assert response.status_code == 400
    assert "<html" in response.text and "Reload the page" in response.text


def test_other_errors_for_htmx_are_short_texts_too(client, auth, world):
    """404 for htmx: the message alone (the page shows it beside the control)."""
    auth.login(email("agent"))
    response = client.get("/tickets/999999", headers=HX)
    assert response.status_code == 404
    assert response.mimetype == "text/plain" and "<html" not in response.text
    assert "HX-Request" in response.headers["Vary"]


def test_an_accepted_plain_post_leaves_a_note_for_the_drafts(app, client, auth, world):
    """The page a successful plain post lands on names the address it was posted to."""
    with app.app_context():
        category = db.session.scalars(select(Category.id).where(Category.active)).first()
    auth.login(email("alice"))
    page = client.get("/portal/tickets/new").text
    assert 'data-sent=""' in page
    landed = client.post("/portal/tickets/new", follow_redirects=True, data={
        "csrf_token": csrf_token_from(page), "subject": "Modem", "category": category,
        "priority": "normal", "description": "It blinks."})
    assert landed.status_code == 200
    assert 'data-sent="/portal/tickets/new"' in landed.text
    assert 'data-sent=""' in client.get("/portal/tickets").text  # shown once


def test_a_refused_plain_post_leaves_no_note(client, auth, world):
    auth.login(email("alice"))
    page = client.get("/portal/tickets/new").text
    refused = client.post("/portal/tickets/new", data={
        "csrf_token": csrf_token_from(page), "subject": "", "description": "Kept text"})
    assert refused.status_code == 422
    assert 'data-sent=""' in refused.text
