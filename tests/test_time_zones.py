"""Times in the viewer's zone (helpdesk/time_zones.py): the one chosen on the profile, else
the browser's (the ``tz`` cookie), else UTC; on every page that shows times, in the queue's
kept rows, in the live poll's ETag and in mail. Stored times stay UTC."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from helpdesk.desk import rows
from helpdesk.extensions import db
from helpdesk.models import Reply, Ticket, User
from helpdesk.template_filters import when
from helpdesk.time_zones import exact_time, zone_groups
from jobs.notifications import send_notification
from tests.outbox import customer_writes
from tests.sign_ins import new_client
from tests.world import email

# 23:30 UTC on the 23rd is already the 24th in Tokyo, and still mid-afternoon in Los Angeles.
LATE_EVENING_UTC = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
TIME = re.compile(r'<time[^>]*\bdatetime="([^"]+)"[^>]*>([^<]*)</time>')
ROW = re.compile(r'<tr id="row-(\d+)"[^>]*>.*?</tr>', re.S)


@pytest.mark.parametrize(("moment", "zone", "shown"), [
    (LATE_EVENING_UTC, "UTC", "23 Nov 2026, 23:30 UTC"),
    # the day is the viewer's: the next one east, the same one west
    (LATE_EVENING_UTC, "Asia/Tokyo", "24 Nov 2026, 08:30 JST"),
    (LATE_EVENING_UTC, "America/Los_Angeles", "23 Nov 2026, 15:30 PST"),
    (datetime(2026, 11, 24, 4, 59, tzinfo=UTC), "America/New_York", "23 Nov 2026, 23:59 EST"),
    (datetime(2026, 11, 24, 5, 0, tzinfo=UTC), "America/New_York", "24 Nov 2026, 00:00 EST"),
    # half and three-quarter hours; a zone without an abbreviation gives its offset
    (LATE_EVENING_UTC, "Asia/Kolkata", "24 Nov 2026, 05:00 IST"),
    (LATE_EVENING_UTC, "Asia/Kathmandu", "24 Nov 2026, 05:15 +0545"),
    # Dublin: IST (Irish Standard Time) in summer, GMT in winter
    (datetime(2026, 7, 1, 12, 0, tzinfo=UTC), "Europe/Dublin", "01 Jul 2026, 13:00 IST"),
    (datetime(2026, 1, 15, 12, 0, tzinfo=UTC), "Europe/Dublin", "15 Jan 2026, 12:00 GMT"),
    # New York springs forward on 8 March 2026: 01:59 EST, then 03:00 EDT
    (datetime(2026, 3, 8, 6, 59, tzinfo=UTC), "America/New_York", "08 Mar 2026, 01:59 EST"),
    (datetime(2026, 3, 8, 7, 0, tzinfo=UTC), "America/New_York", "08 Mar 2026, 03:00 EDT"),
    # and falls back on 1 November 2026: 01:30 comes twice, told apart by the abbreviation
    (datetime(2026, 11, 1, 5, 30, tzinfo=UTC), "America/New_York", "01 Nov 2026, 01:30 EDT"),
    (datetime(2026, 11, 1, 6, 30, tzinfo=UTC), "America/New_York", "01 Nov 2026, 01:30 EST"),
    # Europe changes at 01:00 UTC on the last Sunday of March (29 March 2026)
    (datetime(2026, 3, 29, 0, 59, tzinfo=UTC), "Europe/Berlin", "29 Mar 2026, 01:59 CET"),
    (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "Europe/Berlin", "29 Mar 2026, 03:00 CEST"),
    # Sydney's summer: the next day, and UTC+11
    (datetime(2026, 12, 31, 13, 0, tzinfo=UTC), "Australia/Sydney", "01 Jan 2027, 00:00 AEDT"),
    # an aware time in another zone is the same moment
    (datetime(2026, 11, 24, 8, 30, tzinfo=ZoneInfo("Asia/Tokyo")), "UTC", "23 Nov 2026, 23:30 UTC"),
])
def test_when_converts_to_the_zone(moment, zone, shown):
    assert when(moment, ZoneInfo(zone)) == shown


def test_when_outside_a_request_is_utc_and_naive_times_are_utc():
    """Mail and the CLI pass a zone; without one and outside a request it is UTC. A naive
    time (none is stored so) is read as UTC, never as the server's local time."""
    assert when(LATE_EVENING_UTC) == "23 Nov 2026, 23:30 UTC"
    assert when(LATE_EVENING_UTC.replace(tzinfo=None), ZoneInfo("Asia/Tokyo")) == \
        "24 Nov 2026, 08:30 JST"
    assert when(None) == ""


def at_a_known_time(app, ticket_id, moment=LATE_EVENING_UTC):
    """Give a ticket fixed times (opened, updated, last public activity)."""
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        ticket.created_at = ticket.updated_at = ticket.public_updated_at = moment
        db.session.commit()


def choose_zone(app, user_id, zone):
    with app.app_context():
        db.session.get(User, user_id).time_zone = zone
        db.session.commit()


def times_shown(html):
    """``[(moment, text)]`` of every ``<time>`` of a page."""
    return [(datetime.fromisoformat(iso), shown) for iso, shown in TIME.findall(html)]


def assert_times_in(html, zone):
    """Every time on the page says its moment in ``zone``, and the page says it is drawn in
    ``zone`` (for static/app.js's days)."""
    shown = times_shown(html)
    assert shown
    for moment, said in shown:
        assert said == exact_time(moment, ZoneInfo(zone)), (moment, said)
    assert f'data-time-zone="{zone}"' in html


def row_of(html, ticket_id):
    return {int(m.group(1)): m.group(0) for m in ROW.finditer(html)}[ticket_id]


PAGES = [
    ("agent", "/tickets"),
    ("agent", "/tickets/{ticket}"),
    ("agent", "/customers/{alice}"),
    ("alice", "/portal/tickets"),
    ("alice", "/portal/tickets/{ticket}"),
    ("admin", "/admin/audit?ticket={ticket}"),
    ("agent", "/profile"),
]


@pytest.mark.parametrize(("key", "path"), PAGES)
def test_a_chosen_zone_is_used_on_every_page(app, client, auth, world, key, path):
    """Staff, customers and admins alike; the browser's zone does not override the choice."""
    ticket = world.tickets["alice"]
    at_a_known_time(app, ticket)
    choose_zone(app, world.users[key], "Asia/Tokyo")
    client.set_cookie("tz", "America/Los_Angeles")
    auth.login(email(key))
    html = client.get(path.format(ticket=ticket, alice=world.users["alice"])).text
    assert_times_in(html, "Asia/Tokyo")
    if "audit" not in path and "profile" not in path:
        assert "24 Nov 2026, 08:30 JST" in html  # the ticket's own time, on Tokyo's day


def test_the_ticket_header_says_when_it_was_opened_in_the_zone(app, client, auth, world):
    ticket = world.tickets["alice"]
    at_a_known_time(app, ticket)
    choose_zone(app, world.users["agent"], "America/Los_Angeles")
    auth.login(email("agent"))
    html = client.get(f"/tickets/{ticket}").text
    assert "<dt>Opened</dt><dd>23 Nov 2026, 15:30 PST</dd>" in html
    assert 'datetime="2026-11-23T23:30Z">23 Nov 2026, 15:30 PST<' in client.get("/tickets").text


@pytest.mark.parametrize(("key", "path"), PAGES)
def test_without_a_choice_the_browsers_zone_is_used(app, client, auth, world, key, path):
    at_a_known_time(app, world.tickets["alice"])
    client.set_cookie("tz", "America/Los_Angeles")
    auth.login(email(key))
    html = client.get(path.format(ticket=world.tickets["alice"], alice=world.users["alice"])).text
    assert_times_in(html, "America/Los_Angeles")


@pytest.mark.parametrize("cookie", [
    "Mars/Olympus", "../../../../etc/passwd", "/usr/share/zoneinfo/Asia/Tokyo", "localtime",
    "Factory", "posix/Asia/Tokyo", "Asia%2FTokyo", "asia/tokyo", "", "Asia/Tokyo ",
    "x" * 300,
])
def test_a_cookie_naming_no_zone_means_utc(app, client, auth, world, cookie):
    at_a_known_time(app, world.tickets["alice"])
    client.set_cookie("tz", cookie)
    auth.login(email("agent"))
    for path in ("/tickets", f"/tickets/{world.tickets['alice']}", "/profile"):
        response = client.get(path)
        assert response.status_code == 200
        assert_times_in(response.text, "UTC")
    assert "23 Nov 2026, 23:30 UTC" in client.get("/tickets").text


def test_a_browser_zone_link_name_is_accepted(app, client, auth, world):
    """Some browsers send older names (``Asia/Calcutta``): the database knows them."""
    client.set_cookie("tz", "Asia/Calcutta")
    auth.login(email("agent"))
    assert_times_in(client.get("/tickets").text, "Asia/Calcutta")


def test_kept_rows_never_show_one_viewers_zone_to_another(app, world):
    """The same row for two staff (same links, same permissions), one in Tokyo by choice,
    one in New York by their browser, asked in turn: each gets it in their own zone, the
    kept copy included; the browser moving to Dublin draws it again for Dublin."""
    ticket = world.tickets["alice"]
    at_a_known_time(app, ticket)
    choose_zone(app, world.users["agent"], "Asia/Tokyo")
    tokyo, tokyo_auth = new_client(app)
    tokyo_auth.login(email("agent"))
    new_york, new_york_auth = new_client(app)
    new_york.set_cookie("tz", "America/New_York")
    new_york_auth.login(email("admin"))
    for _ in range(2):  # the second round is served from what the first kept
        assert "24 Nov 2026, 08:30 JST" in row_of(tokyo.get("/tickets").text, ticket)
        assert "23 Nov 2026, 18:30 EST" in row_of(new_york.get("/tickets").text, ticket)
    kept_zones = {key[2][5].key for key in rows._kept if key[1][0] == ticket}
    assert {"Asia/Tokyo", "America/New_York"} <= kept_zones
    new_york.set_cookie("tz", "Europe/Dublin")
    assert "23 Nov 2026, 23:30 GMT" in row_of(new_york.get("/tickets").text, ticket)
    assert "24 Nov 2026, 08:30 JST" in row_of(tokyo.get("/tickets").text, ticket)


def test_a_row_drawn_alone_and_the_live_poll_use_the_zone(app, client, auth, world):
    ticket = world.tickets["alice"]
    at_a_known_time(app, ticket)
    client.set_cookie("tz", "Asia/Tokyo")
    auth.login(email("agent"))
    alone = client.get(f"/tickets/{ticket}/row", headers={"HX-Request": "true"}).text
    assert "24 Nov 2026, 08:30 JST" in alone
    since = (LATE_EVENING_UTC - timedelta(minutes=1)).isoformat()
    changes = client.get("/tickets/changes", query_string={"since": since, "ids": ticket},
                         headers={"HX-Request": "true"}).text
    assert "24 Nov 2026, 08:30 JST" in row_of(changes, ticket)


def test_the_live_tickets_etag_names_the_zone(app, client, auth, world):
    """A version drawn in one zone is not "not modified" for a viewer now in another."""
    ticket = world.tickets["alice"]
    auth.login(email("agent"))
    first = client.get(f"/tickets/{ticket}/live", headers={"HX-Request": "true"})
    assert first.status_code == 200 and "UTC" in first.headers["ETag"]
    client.set_cookie("tz", "Asia/Tokyo")
    again = client.get(f"/tickets/{ticket}/live", headers={
        "HX-Request": "true", "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200 and "Asia/Tokyo" in again.headers["ETag"]
    for moment, said in times_shown(again.text):
        assert said == exact_time(moment, ZoneInfo("Asia/Tokyo"))


def test_mail_says_when_in_the_recipients_zone(app, world, assigned, inbox):
    """The assignee chose New York: the mail says when the customer wrote, there. Mail to
    someone who chose no zone says UTC (no browser to ask outside a request)."""
    choose_zone(app, world.users["agent"], "America/New_York")
    notification_id = customer_writes(app, world, assigned)
    with app.app_context():
        send_notification(notification_id)
        reply = db.session.scalars(select(Reply).order_by(Reply.id.desc())).first()
        written = exact_time(reply.created_at, ZoneInfo("America/New_York"))
    assert written.endswith(("EST", "EDT"))
    # The text part: a greeting, a blank line, then who wrote when.
    first_line = inbox.messages[0].get_body(("plain",)).get_content().splitlines()[2]
    assert first_line == f"Alice wrote on TKT-{assigned} at {written}:"

    choose_zone(app, world.users["agent"], None)
    notification_id = customer_writes(app, world, assigned, body="Again")
    with app.app_context():
        send_notification(notification_id)
    assert inbox.messages[1].get_body(("plain",)).get_content().splitlines()[2].endswith(
        " UTC:")


def test_times_read_back_are_utc_whatever_the_sessions_zone(app, world):
    """PostgreSQL hands timestamptz values back in the session's TimeZone; they come back
    in UTC all the same, so what is written out with a Z is UTC."""
    at_a_known_time(app, world.tickets["alice"])
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("SET LOCAL TimeZone = 'Asia/Tokyo'"))
        updated = db.session.scalar(
            select(Ticket.updated_at).where(Ticket.id == world.tickets["alice"]))
        db.session.rollback()
    assert updated == LATE_EVENING_UTC and updated.utcoffset() == timedelta(0)
    assert updated.strftime("%H:%MZ") == "23:30Z"


def test_the_profiles_zones_are_grouped_and_labelled_with_their_offset():
    groups = dict(zone_groups(now=datetime(2026, 1, 15, tzinfo=UTC)))
    assert groups["UTC"] == [("UTC", "UTC")]
    assert ("America/New_York", "New York (UTC-05:00)") in groups["America"]
    assert ("Asia/Kolkata", "Kolkata (UTC+05:30)") in groups["Asia"]
    assert ("America/Argentina/Buenos_Aires", "Argentina / Buenos Aires (UTC-03:00)") \
        in groups["America"]
    assert "Other" not in groups and sum(len(zones) for zones in groups.values()) > 300
    other = dict(zone_groups("US/Eastern", now=datetime(2026, 1, 15, tzinfo=UTC)))["Other"]
    assert other == [("US/Eastern", "US/Eastern (UTC-05:00)")]
