"""The portal's comments, ratings and files: what customers add to their tickets."""

import io
import re

import pytest

from tests.conftest import csrf_token_from
from tests.test_portal import HTMX, load, staff_reply, token
from tests.world import email

# --- comments -------------------------------------------------------------------------------

def test_plain_comment_redirects_and_reopens(app, client, auth, world):
    """A form post adds the reply, moves the ticket to open and answers 303."""
    staff_reply(app, world, "alice", status="waiting_on_customer")
    auth.login(email("alice"))
    ticket_id = world.tickets["alice"]
    response = client.post(f"/portal/tickets/{ticket_id}/comments",
                           data={"body": "It works *now*", "csrf_token": token(client)})
    assert response.status_code == 303
    assert re.fullmatch(rf"/portal/tickets/{ticket_id}#reply-\d+", response.headers["Location"])
    assert load(app, ticket_id)["status"] == "open"
    html = client.get(response.headers["Location"]).text
    assert "It works <em>now</em>" in html
    assert "Status changed to Open" in html


def test_htmx_comment_swaps_the_thread_with_an_empty_box(app, client, auth, world):
    """htmx gets the refreshed ticket fragment: the new reply in, the box empty again."""
    staff_reply(app, world, "alice", status="resolved")
    auth.login(email("alice"))
    ticket_id = world.tickets["alice"]
    response = client.post(f"/portal/tickets/{ticket_id}/comments", headers=HTMX,
                           data={"body": "Broken again", "csrf_token": token(client)})
    assert response.status_code == 200
    html = response.text
    assert "<html" not in html and f'id="ticket-{ticket_id}"' in html
    assert "<p>Broken again</p>" in html
    assert re.search(r'<textarea[^>]*name="body"[^>]*>\s*</textarea>', html)
    assert load(app, ticket_id)["status"] == "open"


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_failed_comment_keeps_the_text_and_shows_the_error(app, client, auth, world, headers):
    """422 with the error beside the box; a too-long comment stays in the box."""
    auth.login(email("alice"))
    ticket_id = world.tickets["alice"]
    before = load(app, ticket_id)["replies"]
    empty = client.post(f"/portal/tickets/{ticket_id}/comments", headers=headers,
                        data={"body": "   ", "csrf_token": token(client)})
    assert empty.status_code == 422
    assert re.search(r'class="field has-error">.*Write a comment first\.', empty.text, re.S)
    long_text = "word " * 20_001
    too_long = client.post(f"/portal/tickets/{ticket_id}/comments", headers=headers,
                           data={"body": long_text, "csrf_token": token(client)})
    assert too_long.status_code == 422
    assert "at most 100,000 characters" in too_long.text
    assert long_text.strip() in too_long.text
    assert load(app, ticket_id)["replies"] == before


def test_comment_needs_a_csrf_token(app, client, auth, world):
    """No token, no reply."""
    auth.login(email("alice"))
    ticket_id = world.tickets["alice"]
    before = load(app, ticket_id)["replies"]
    assert client.post(f"/portal/tickets/{ticket_id}/comments",
                       data={"body": "hi"}).status_code == 400
    assert load(app, ticket_id)["replies"] == before


def test_closed_ticket_is_read_only(app, client, auth, world):
    """No comment box, an explanation instead; a post is refused with a clear 409."""
    staff_reply(app, world, "alice", status="closed")
    auth.login(email("alice"))
    ticket_id = world.tickets["alice"]
    page = client.get(f"/portal/tickets/{ticket_id}").text
    assert 'name="body"' not in page
    assert "This ticket is closed and can no longer take comments." in page
    before = load(app, ticket_id)
    for headers in ({}, HTMX):
        response = client.post(f"/portal/tickets/{ticket_id}/comments", headers=headers,
                               data={"body": "Hello?", "csrf_token": token(client)})
        assert response.status_code == 409
        assert "This ticket is closed, so it can no longer take comments." in response.text
    assert load(app, ticket_id) == before


# --- ratings --------------------------------------------------------------------------------

def test_rating_waits_for_resolution(app, client, auth, world):
    """No form on an open ticket, and a post is refused."""
    auth.login(email("alice"))
    ticket_id = world.tickets["alice"]
    assert 'name="rating"' not in client.get(f"/portal/tickets/{ticket_id}").text
    response = client.post(f"/portal/tickets/{ticket_id}/rating",
                           data={"rating": "5", "csrf_token": token(client)})
    assert response.status_code == 409
    assert "You can rate a ticket once it is resolved." in response.text
    assert load(app, ticket_id)["rating"] is None


@pytest.mark.parametrize("status", ["resolved", "closed"])
def test_rating_once(app, client, auth, world, status):
    """Rate after resolution, see it shown, and a second rating is refused."""
    staff_reply(app, world, "alice", status=status)
    auth.login(email("alice"))
    ticket_id = world.tickets["alice"]
    assert 'name="rating"' in client.get(f"/portal/tickets/{ticket_id}").text
    response = client.post(f"/portal/tickets/{ticket_id}/rating", data={
        "rating": "4", "comment": "Quick fix", "csrf_token": token(client)})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/portal/tickets/{ticket_id}#rating"
    page = client.get(f"/portal/tickets/{ticket_id}").text
    assert "Your rating" in page and "4 out of 5" in page and "Quick fix" in page
    assert 'name="rating"' not in page
    again = client.post(f"/portal/tickets/{ticket_id}/rating",
                        data={"rating": "1", "csrf_token": token(client)})
    assert again.status_code == 409
    assert "rated already" in again.text
    assert load(app, ticket_id)["rating"] == 4
    assert load(app, ticket_id)["comment"] == "Quick fix"


@pytest.mark.parametrize("score", ["", "0", "6", "abc"])
def test_bad_rating_says_why(app, client, auth, world, score):
    """A missing or out-of-range score: 422, the message beside the choices, nothing saved."""
    staff_reply(app, world, "alice", status="resolved")
    auth.login(email("alice"))
    ticket_id = world.tickets["alice"]
    response = client.post(f"/portal/tickets/{ticket_id}/rating", headers=HTMX, data={
        "rating": score, "comment": "kept comment", "csrf_token": token(client)})
    assert response.status_code == 422
    assert re.search(r'has-error">\s*<legend>.*Choose a rating from 1 to 5\.', response.text,
                     re.S)
    assert "kept comment</textarea>" in response.text
    assert load(app, ticket_id)["rating"] is None


def test_htmx_rating_shows_it_in_place(app, client, auth, world):
    """htmx gets the ticket fragment with the rating shown instead of the form."""
    staff_reply(app, world, "dave", status="resolved")
    auth.login(email("carol"))
    ticket_id = world.tickets["dave"]
    response = client.post(f"/portal/tickets/{ticket_id}/rating", headers=HTMX,
                           data={"rating": "5", "csrf_token": token(client)})
    assert response.status_code == 200
    assert "<html" not in response.text and "5 out of 5" in response.text
    assert ">Rating<" in response.text  # carol rated dave's ticket: not "Your rating"
    assert load(app, ticket_id)["rating"] == 5


def test_new_ticket_with_a_file_and_a_comment_with_one(app, client, auth, world):
    """Customers attach files when opening and commenting; they appear in the thread."""


    auth.login(email("alice"))
    token = csrf_token_from(client.get("/portal/tickets/new").text)
    created = client.post("/portal/tickets/new", data={
        "csrf_token": token, "subject": "Photo of the router", "category": "1",
        "priority": "normal", "description": "Lights attached",
        "attachments": [(io.BytesIO(b"\x89PNG fake"), "lights.png")]})
    assert created.status_code == 303
    page = client.get(created.headers["Location"]).text
    assert "lights.png" in page
    ticket_id = int(re.search(r"/portal/tickets/(\d+)", created.headers["Location"]).group(1))
    client.post(f"/portal/tickets/{ticket_id}/comments", data={
        "csrf_token": token, "body": "And the log",
        "attachments": [(io.BytesIO(b"log"), "router.log")]})
    assert "router.log" in client.get(f"/portal/tickets/{ticket_id}").text
