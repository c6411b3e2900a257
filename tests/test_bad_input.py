"""Inputs that once answered 500, one test per class: each now answers 400/404 or is ignored,
keeps what the user typed and saves nothing it should not. (``test_fuzz`` covers every route.)
"""

import base64
import io
import json
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from flask import url_for
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.models import Attachment, Reply, SavedView, Ticket
from helpdesk.params import MAX_ID, parse_id, parse_int, parse_utc
from helpdesk.services.attachments import storage_root
from tests.conftest import csrf_token_from
from tests.world import PASSWORD, email

HTMX = {"HX-Request": "true"}
TOO_LARGE = "The files were too large (max 1 MB each, 1 MB in all); nothing was saved."
OUT_OF_RANGE = [str(2**31), str(2**63), str(2**64)]


def token(client):
    """A CSRF token from whichever page the signed-in user lands on."""
    return csrf_token_from(client.get("/login", follow_redirects=True).text)


def counts(app):
    """How many tickets, replies and attachments exist (the world may hold more than ours)."""
    with app.app_context():
        return tuple(db.session.scalar(select(func.count(model.id)))
                     for model in (Ticket, Reply, Attachment))


def cursor(values):
    """A cursor in the queue's format holding ``values``."""
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


# --- the parsers -----------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["²", "١٢", "\uff11", "-1", "+1", " 7", "1.0", "", None, True,
                                  str(MAX_ID + 1), "9" * 5000, "0x10"])
def test_parse_id_refuses_all_but_ascii_digits_in_range(text):
    """Unicode digits pass str.isdigit(); only ASCII digits from 1 to 2**31 - 1 are ids."""
    assert parse_id(text) is None


def test_parse_id_and_int_accept_what_they_should():
    """The edges of the range, leading zeros, and ints from form coercion."""
    assert parse_id("1") == 1 and parse_id(str(MAX_ID)) == MAX_ID and parse_id("007") == 7
    assert parse_id(42) == 42 and parse_id(0) is None
    assert parse_int("0") == 0 and parse_int("6", maximum=5) is None


def test_parse_utc_reads_naive_times_as_utc():
    """No zone means UTC; a zone is converted; junk and overflow are None."""
    assert parse_utc("2026-11-23T10:00:00") == datetime(2026, 11, 23, 10, tzinfo=UTC)
    assert parse_utc("2026-11-23T12:00:00+02:00") == datetime(2026, 11, 23, 10, tzinfo=UTC)
    assert parse_utc("9999-12-31T23:59:59-14:00") is None
    assert parse_utc("yesterday") is None and parse_utc(17) is None and parse_utc(None) is None


# --- path ids --------------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["agent", "alice"])
def test_unicode_and_out_of_range_path_ids_are_404(client, auth, world, key):
    """``/tickets/²``, ``/tickets/١٢`` and ids past the INTEGER range name nothing."""
    auth.login(email(key))
    ticket_id = world.tickets["alice"]
    for bad in ["²", "١٢", *OUT_OF_RANGE]:
        for path in (f"/tickets/{bad}", f"/portal/tickets/{bad}", f"/customers/{bad}",
                     f"/tickets/{ticket_id}/attachments/{bad}", f"/organisations/{bad}"):
            assert client.get(path).status_code == 404, path
        response = client.post(f"/tickets/{bad}/replies",
                                data={"body": "x", "csrf_token": token(client)})
        assert response.status_code == 404


def test_ids_still_build_and_route(app, client, auth, world):
    """The converter still builds URLs, and the largest id is a plain miss, not an error."""
    auth.login(email("agent"))
    with app.test_request_context():
        assert url_for("desk.ticket", ticket_id=12) == "/tickets/12"
    assert client.get(f"/tickets/{world.tickets['bob']}").status_code == 200
    assert client.get(f"/tickets/{MAX_ID}").status_code == 404


# --- filters, the audit page, cursors, times -------------------------------------------------

@pytest.mark.parametrize("name", ["customer", "organisation", "reseller", "category",
                                  "assignee", "page"])
def test_queue_ignores_unusable_numbers_in_filters(client, auth, world, name):
    """A filter that names nothing is dropped: the queue answers 200 with every ticket."""
    auth.login(email("agent"))
    everything = client.get("/tickets").text
    for bad in ["²", *OUT_OF_RANGE]:
        response = client.get("/tickets", query_string={name: bad})
        assert response.status_code == 200, bad
        assert "bob ticket<" in response.text and "bob ticket<" in everything
    hub = client.get(f"/customers/{world.users['alice']}", query_string={name: 2**63})
    assert hub.status_code == 200


def test_audit_page_explains_unusable_filters(client, auth, world):
    """Ticket and user filters past the range get a message; a bad ``before`` is a 404."""
    auth.login(email("admin"))
    for bad in ["²", *OUT_OF_RANGE]:
        ticket = client.get("/admin/audit", query_string={"ticket": f"TKT-{bad}"})
        assert ticket.status_code == 200 and "is not a ticket number" in ticket.text
        user = client.get("/admin/audit", query_string={"user": bad})
        assert user.status_code == 200 and "Nobody matches" in user.text
        assert user.text.count('value="' + bad + '"') == 1  # the typed text stays in the box
        assert client.get("/admin/audit", query_string={"before": bad}).status_code == 404


@pytest.mark.parametrize("values", [
    ["not a time", 1],
    [1, "2026-11-23T10:00:00"],
    [0, "2026-11-23T10:00:00+00:00", 2**63],
    [True, "2026-11-23T10:00:00+00:00", 1],
    [{"a": 1}, [1], None],
    [0, 17, 1],
    "not a list",
])
def test_forged_cursors_start_the_queue_from_the_top(client, auth, world, values):
    """A cursor with the wrong types for the sort's columns is ignored, not a database error."""
    auth.login(email("agent"))
    for sort in ("queue", "updated", "oldest"):
        for direction in ("after", "before"):
            response = client.get("/tickets", query_string={"sort": sort,
                                                            direction: cursor(values)})
            assert response.status_code == 200, (sort, direction)
            assert "bob ticket<" in response.text


def test_real_cursors_still_page(app, client, auth, world, monkeypatch):
    """Cursors the app made keep working: page two follows page one without overlap."""
    monkeypatch.setitem(app.config, "TICKETS_PER_PAGE", 2)
    auth.login(email("agent"))
    first = client.get("/tickets", query_string={"sort": "oldest"}).text
    after = re.search(r'after=([\w-]+)', first).group(1)
    second = client.get("/tickets", query_string={"sort": "oldest", "after": after}).text
    numbers = re.compile(r'id="row-(\d+)"')
    assert set(numbers.findall(first)).isdisjoint(numbers.findall(second))
    assert numbers.findall(second)


def test_live_queue_reads_a_naive_since_as_utc(app, client, auth, world):
    """``since`` without a zone is UTC; the answer matches the same time written with +00:00."""
    auth.login(email("agent"))
    with app.app_context():
        updated = db.session.get(Ticket, world.tickets["bob"]).updated_at
    just_before = updated - timedelta(seconds=1)
    ids = [("ids", world.tickets["bob"])]
    naive = client.get("/tickets/changes", query_string=[
        ("since", just_before.replace(tzinfo=None).isoformat()), *ids])
    aware = client.get("/tickets/changes", query_string=[("since", just_before.isoformat()), *ids])
    assert naive.status_code == aware.status_code == 200
    assert "bob ticket<" in naive.text and "bob ticket<" in aware.text
    # A time written in another zone is converted: nothing changed since an hour from now.
    elsewhere = datetime.now(UTC).astimezone(timezone(timedelta(hours=5))) + timedelta(hours=1)
    assert client.get("/tickets/changes", query_string=[
        ("since", elsewhere.isoformat()), *ids]).status_code == 204
    for junk in ["", "yesterday", "9999-12-31T23:59:59-14:00"]:
        assert client.get("/tickets/changes", query_string={"since": junk}).status_code == 400


# --- the portal pager ------------------------------------------------------------------------

def test_portal_pager_keeps_only_its_own_parameters(app, client, auth, world, monkeypatch):
    """``_external``, ``_scheme``, ``_anchor``, ``endpoint``, ``_method``: ignored, not copied."""
    monkeypatch.setitem(app.config, "TICKETS_PER_PAGE", 1)
    auth.login(email("carol"))  # a company admin: three tickets, so three pages
    response = client.get("/portal/tickets", query_string={
        "_external": "1", "_scheme": "https", "_anchor": "x", "endpoint": "auth.logout",
        "_method": "POST", "values": "1", "q": "ticket", "page": "2"})
    assert response.status_code == 200
    links = re.findall(r'<a href="([^"]+)" rel="(?:prev|next)"', response.text)
    # Page 1 is the top; page 3 also carries the cursor of page 2's last ticket.
    assert sorted(re.sub(r"after=[\w-]+", "after=C", link) for link in links) == [
        "/portal/tickets?page=1&amp;q=ticket", "/portal/tickets?page=3&amp;after=C&amp;q=ticket"]


# --- NUL bytes -------------------------------------------------------------------------------

def test_nul_in_the_login_email_is_dropped_not_an_error(client, world):
    """PostgreSQL refuses NUL in text: it never reaches a query, and the typed email stays."""
    login_token = csrf_token_from(client.get("/login").text)
    wrong = client.post("/login", data={"email": "nobody\x00@test.example",
                                        "password": "x", "csrf_token": login_token})
    assert wrong.status_code == 401
    assert 'value="nobody@test.example"' in wrong.text
    right = client.post("/login", data={"email": email("alice") + "\x00",
                                        "password": PASSWORD,
                                        "csrf_token": login_token})
    assert right.status_code == 302


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_nul_in_a_reply_is_saved_without_it(app, client, auth, world, headers):
    """The reply lands with the NUL removed and every other character kept."""
    auth.login(email("agent"))
    ticket_id = world.tickets["bob"]
    response = client.post(f"/tickets/{ticket_id}/replies", headers=headers, data={
        "body": "Line one\x00 and two", "time_note": "\x00", "csrf_token": token(client),
        "attachments": [(io.BytesIO(b"log"), "mo\x00dem.log", "text/plain\x00")]})
    assert response.status_code == (200 if headers else 303)
    with app.app_context():
        reply = db.session.scalars(select(Reply).where(Reply.ticket_id == ticket_id)
                                   .order_by(Reply.id.desc())).first()
        attachment = db.session.scalars(select(Attachment).where(
            Attachment.reply_id == reply.id)).one()
        assert reply.body == "Line one and two"
        assert attachment.filename == "modem.log" and "\x00" not in attachment.content_type


def test_nul_in_a_saved_view_and_a_search_is_dropped(app, client, auth, world):
    """A saved view's name and query, and a search, behave as without the NUL."""
    auth.login(email("agent"))
    response = client.post("/tickets/views", data={
        "name": "Mine\x00", "query": "assignee=me&q=bob%00", "csrf_token": token(client)})
    assert response.status_code == 303
    with app.app_context():
        view = db.session.scalars(select(SavedView).where(SavedView.name == "Mine")).one()
        assert "\x00" not in view.query
    assert "bob ticket<" in client.get("/tickets", query_string={"q": "bob\x00"}).text


# --- uploads past the cap: 413 with the form and the text kept --------------------------------

@pytest.fixture
def small_uploads(app, monkeypatch):
    """Caps of 1 MB (the hard ceiling stays where the config put it)."""
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 1)
    monkeypatch.setitem(app.config, "MAX_ATTACHMENT_MB", 1)
    return [(io.BytesIO(b"x" * (1024 * 1024 + 1)), "capture.pcap")]


def no_files_left(app):
    with app.app_context():
        root = storage_root()
    return not root.exists() or not any(path.is_file() for path in root.rglob("*"))


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_desk_reply_with_too_large_files_keeps_the_text(app, client, auth, world, small_uploads,
                                                        headers):
    """The reply box comes back with the text, the message and 413; nothing is saved."""
    auth.login(email("agent"))
    ticket_id = world.tickets["bob"]
    before = counts(app)
    response = client.post(f"/tickets/{ticket_id}/replies", headers=headers, data={
        "body": "Here is the capture you asked for", "minutes": "15", "internal": "1",
        "csrf_token": token(client), "attachments": small_uploads})
    assert response.status_code == 413
    assert TOO_LARGE in response.text
    assert "Here is the capture you asked for</textarea>" in response.text
    assert 'name="minutes" min="1" max="1440" step="1" value="15"' in response.text
    assert ("<html" in response.text) == (not headers)
    assert counts(app) == before and no_files_left(app)


def test_portal_comment_with_too_large_files_keeps_the_text(app, client, auth, world,
                                                            small_uploads):
    """The portal ticket page again, the comment in its box, 413, nothing saved."""
    auth.login(email("alice"))
    ticket_id = world.tickets["alice"]
    before = counts(app)
    response = client.post(f"/portal/tickets/{ticket_id}/comments", data={
        "body": "The router log is attached", "csrf_token": token(client),
        "attachments": small_uploads})
    assert response.status_code == 413
    assert TOO_LARGE in response.text
    assert re.search(r"<textarea[^>]*>\s*The router log is attached</textarea>", response.text)
    assert counts(app) == before and no_files_left(app)


def test_portal_new_ticket_with_too_large_files_keeps_the_text(app, client, auth, world,
                                                               small_uploads):
    """The new-ticket form again, subject and description kept, 413, no ticket opened."""
    auth.login(email("alice"))
    page = client.get("/portal/tickets/new").text
    category = re.search(r'<option[^>]*value="(\d+)"', page).group(1)
    before = counts(app)
    response = client.post("/portal/tickets/new", data={
        "subject": "Line drops every night", "category": category, "priority": "high",
        "description": "It drops at 2am, capture attached.", "csrf_token": token(client),
        "attachments": small_uploads})
    assert response.status_code == 413
    assert TOO_LARGE in response.text
    assert 'value="Line drops every night"' in response.text
    assert "It drops at 2am, capture attached.</textarea>" in response.text
    assert counts(app) == before and no_files_left(app)


def test_desk_new_ticket_with_too_large_files_keeps_the_text(app, client, auth, world,
                                                             small_uploads):
    """Staff opening a ticket for a subscriber get the same answer."""
    auth.login(email("agent"))
    page = client.get("/tickets/new").text
    category = re.search(r'<option[^>]*value="(\d+)"', page).group(1)
    before = counts(app)
    response = client.post("/tickets/new", data={
        "subscriber": email("alice"), "subject": "Opened by phone", "category": category,
        "priority": "normal", "body": "She called about the outage.",
        "csrf_token": token(client), "attachments": small_uploads})
    assert response.status_code == 413
    assert TOO_LARGE in response.text
    assert 'value="Opened by phone"' in response.text
    assert counts(app) == before and no_files_left(app)


def test_files_within_the_cap_still_arrive(app, client, auth, world, small_uploads):
    """Just under the cap the reply and its file are saved as before."""
    auth.login(email("agent"))
    ticket_id = world.tickets["bob"]
    response = client.post(f"/tickets/{ticket_id}/replies", data={
        "body": "Small enough", "csrf_token": token(client),
        "attachments": [(io.BytesIO(b"x" * (1024 * 1024 - 2048)), "fits.bin")]})
    assert response.status_code == 303
    with app.app_context():
        stored = db.session.scalars(select(Attachment).where(
            Attachment.filename == "fits.bin")).one()
        assert stored.size == 1024 * 1024 - 2048


def test_past_the_hard_ceiling_the_plain_413_page_answers(app, client, auth, world,
                                                         monkeypatch):
    """Far past the cap the request is not read at all: the bare 413 page."""
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 4096)
    auth.login(email("agent"))
    csrf = token(client)
    response = client.post(f"/tickets/{world.tickets['bob']}/replies", data={
        "body": "lost", "csrf_token": csrf,
        "attachments": [(io.BytesIO(b"x" * 8192), "big.bin")]})
    assert response.status_code == 413
    assert "larger than this help desk accepts" in response.text


# --- where signing in leads -----------------------------------------------------------------

@pytest.mark.parametrize("target", ["/\\evil.example", "/\\/evil.example", "/\x0b/evil.example",
                                    "//evil.example", "https://evil.example/"])
def test_sign_in_never_follows_next_off_the_site(client, world, target):
    """A backslash reads as a slash to browsers: ``/\\evil.example`` leaves the site too."""
    login_token = csrf_token_from(client.get("/login").text)
    response = client.post("/login", query_string={"next": target}, data={
        "email": email("agent"), "password": PASSWORD, "csrf_token": login_token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/tickets"


@pytest.mark.parametrize("taken, typed", [("Ⅻ", "Ⅻ"), ("ⅻ", "Ⅻ"), ("Éire", "éIRE")])
def test_a_name_taken_in_another_case_is_refused_in_words_on_every_database(
        app, client, auth, taken, typed):
    """Names are unique whatever their case, beyond ASCII too: the second is refused beside
    the field (SQLite's own lower() folds ASCII only, and the unique index would answer 500)."""
    from helpdesk.services import categories, organisations, teams

    with app.app_context():
        categories.add_category(taken, actor=None)
        organisations.create_reseller(taken)
        teams.create_team(taken, actor=None)
    auth.login(email("admin"))
    for page, action in (("/admin/categories", "/admin/categories"),
                         ("/admin/resellers", "/admin/resellers"),
                         ("/admin/teams", "/admin/teams")):
        token = csrf_token_from(client.get(page).text)
        answer = client.post(action, data={"csrf_token": token, "name": typed})
        assert answer.status_code == 400, (action, answer.status_code)
        assert typed in answer.text  # what was typed is kept
