"""The profile's name and time zone: changed by a plain form post that redirects with a
message, each change audited, bad input answered 400 beside its field with what was typed
kept; a new name reaches the queue's staff list at once."""

import html
import re

import pytest
import redis as redis_lib
from sqlalchemy import select

from helpdesk.desk import choices
from helpdesk.extensions import db
from helpdesk.models import AuditEntry, User
from helpdesk.services import profiles
from helpdesk.services.accounts import AccountError
from tests.conftest import csrf_token_from
from tests.sign_ins import post_form
from tests.world import email


def save(client, **data):
    """Post the profile's name and time zone form, with the page's CSRF token."""
    return post_form(client, "/profile", "/profile/details", data)


def stored(app, user_id):
    with app.app_context():
        user = db.session.get(User, user_id)
        return user.name, user.time_zone


def audited(app, user_id):
    """(action, field, old, new, actor) of the profile changes about a user, oldest first."""
    with app.app_context():
        return [(e.action, e.field, e.old_value, e.new_value, e.actor_id)
                for e in db.session.scalars(
                    select(AuditEntry).where(
                        AuditEntry.subject_user_id == user_id,
                        AuditEntry.action.in_(("user.name_change", "user.time_zone_change")))
                    .order_by(AuditEntry.id))]


def selected_zone(page):
    """The value of the time zone select's selected option ("" for the browser's)."""
    select_html = re.search(r'<select id="time_zone".*?</select>', page, re.S).group(0)
    chosen = re.findall(r'<option value="([^"]*)" selected>', select_html)
    return chosen[0] if chosen else ""


def name_input(page):
    return html.unescape(re.search(r'<input[^>]*id="name"[^>]*value="([^"]*)"', page).group(1))


@pytest.mark.parametrize("key", ["agent", "alice", "north_reseller", "admin"])
def test_every_role_changes_name_and_zone(app, client, auth, world, key):
    auth.login(email(key))
    user_id = world.users[key]
    old_name, _ = stored(app, user_id)
    response = save(client, name="  Ada   Lovelace ", time_zone="America/New_York")
    assert response.status_code == 302 and response.headers["Location"] == "/profile"
    page = client.get("/profile").text
    assert "Your name and time zone are changed: times show in America/New_York." in page
    assert stored(app, user_id) == ("Ada Lovelace", "America/New_York")
    assert name_input(page) == "Ada Lovelace" and selected_zone(page) == "America/New_York"
    assert 'data-time-zone="America/New_York"' in page
    assert '<span class="who-name">Ada Lovelace</span>' in page
    assert audited(app, user_id) == [
        ("user.name_change", "name", old_name, "Ada Lovelace", user_id),
        ("user.time_zone_change", "time_zone", None, "America/New_York", user_id),
    ]


def test_back_to_the_browsers_zone_is_stored_as_none(app, client, auth, world):
    user_id = world.users["agent"]
    client.set_cookie("tz", "Europe/Dublin")
    auth.login(email("agent"))
    save(client, name="Agent", time_zone="Asia/Tokyo")
    page = client.get("/profile").text
    assert "Browser's zone (detected: Europe/Dublin)" in page
    assert 'data-time-zone="Asia/Tokyo"' in page
    response = save(client, name="Agent", time_zone="")
    assert response.status_code == 302
    page = client.get("/profile").text
    assert "Your time zone is changed: times show in your browser&#39;s zone." in page
    assert stored(app, user_id) == ("Agent", None)
    assert selected_zone(page) == "" and 'data-time-zone="Europe/Dublin"' in page
    assert audited(app, user_id)[-1] == (
        "user.time_zone_change", "time_zone", "Asia/Tokyo", None, user_id)


def test_saving_what_is_there_changes_and_audits_nothing(app, client, auth, world):
    auth.login(email("agent"))
    name, zone = stored(app, world.users["agent"])
    save(client, name=name, time_zone=zone or "")
    assert "Nothing to change." in client.get("/profile").text
    assert audited(app, world.users["agent"]) == []


def test_the_browser_option_says_what_was_detected(client, auth, world):
    auth.login(email("agent"))
    assert "Browser's zone (not detected yet: UTC until it is)" in client.get("/profile").text
    client.set_cookie("tz", "Europe/Dublin")
    page = client.get("/profile").text
    assert """<option value="">Browser's zone (detected: Europe/Dublin)</option>""" in page
    assert "Times show in <strong>Europe/Dublin</strong> now." in page


def test_a_zone_outside_the_list_is_kept_and_shown(app, client, auth, world):
    """Any zone the database knows may be chosen (an older name such as ``US/Eastern``);
    the select then shows it under "Other"."""
    auth.login(email("agent"))
    assert save(client, name="Agent", time_zone="US/Eastern").status_code == 302
    page = client.get("/profile").text
    assert selected_zone(page) == "US/Eastern"
    assert '<optgroup label="Other">' in page


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"name": "", "time_zone": "Asia/Tokyo"}, "name", "Enter your name."),
    ({"name": " \t\n ", "time_zone": "Asia/Tokyo"}, "name", "Enter your name."),
    ({"time_zone": "Asia/Tokyo"}, "name", "Enter your name."),
    ({"name": "x" * 201, "time_zone": "Asia/Tokyo"}, "name",
     "A name has at most 200 characters (this one has 201)."),
    ({"name": "Ada", "time_zone": "Mars/Olympus"}, "time_zone",
     "“Mars/Olympus” is not a time zone: choose one from the list."),
    ({"name": "Ada", "time_zone": "../../etc/passwd"}, "time_zone", "is not a time zone"),
    ({"name": "Ada", "time_zone": "localtime"}, "time_zone", "is not a time zone"),
    ({"name": "Ada", "time_zone": "asia/tokyo"}, "time_zone", "is not a time zone"),
    ({"name": "Ada", "time_zone": "Asia/Tokyo/"}, "time_zone", "is not a time zone"),
    ({"name": "Ada", "time_zone": "posix/Asia/Tokyo"}, "time_zone", "is not a time zone"),
    ({"name": "Ada", "time_zone": "E" * 100_000}, "time_zone", "is not a time zone"),
])
def test_bad_input_is_refused_beside_its_field_and_kept(app, client, auth, world, data, field,
                                                        message):
    """400, the message beside the field, what was typed still there, nothing stored."""
    auth.login(email("agent"))
    before = stored(app, world.users["agent"])
    response = save(client, **data)
    assert response.status_code == 400
    page = response.text
    block = re.search(rf'<div class="field has-error">\s*<label for="{field}".*?</div>', page,
                      re.S)
    assert block and message in html.unescape(block.group(0))
    assert page.count("has-error") == 1
    if field == "time_zone":
        assert name_input(page) == data["name"]
        assert selected_zone(page) == ""
    else:
        assert name_input(page) == data.get("name", "")
        assert selected_zone(page) == "Asia/Tokyo"  # the other field's input, kept
    assert stored(app, world.users["agent"]) == before
    assert audited(app, world.users["agent"]) == []


def test_the_form_needs_csrf_and_a_sign_in(app, client, auth, world):
    response = client.post("/profile/details", data={"name": "Mallory", "time_zone": ""})
    assert response.headers["Location"].startswith("/login")
    auth.login(email("agent"))
    assert client.post("/profile/details",
                       data={"name": "Mallory", "time_zone": ""}).status_code == 400
    assert client.get("/profile/details").status_code == 405
    assert stored(app, world.users["agent"])[0] != "Mallory"


def test_a_new_staff_name_reaches_the_queues_staff_list(app, client, auth, world, redis_url):
    """The staff list is kept under a Redis token (desk/choices.py): a name change renews
    it, so the filter shows the new name on the next page."""
    auth.login(email("agent"))

    def staff_names():
        page = client.get("/tickets").text
        options = re.search(r'<select id="filter-assignee".*?</select>', page, re.S).group(0)
        return re.findall(r">([^<]+)</option>", options)

    assert "Agent" in staff_names()
    token = redis_lib.Redis.from_url(redis_url).get(choices.REDIS_KEY)
    save(client, name="Agent Renamed", time_zone="")
    assert redis_lib.Redis.from_url(redis_url).get(choices.REDIS_KEY) != token
    names = staff_names()
    assert "Agent Renamed" in names and "Agent" not in names


def test_a_zone_change_alone_keeps_the_staff_list(app, client, auth, world, redis_url):
    """The list shows no zones: choosing one does not make every process read it again."""
    auth.login(email("agent"))
    client.get("/tickets")
    token = redis_lib.Redis.from_url(redis_url).get(choices.REDIS_KEY)
    save(client, name="Agent", time_zone="Asia/Tokyo")
    assert redis_lib.Redis.from_url(redis_url).get(choices.REDIS_KEY) == token


def test_the_service_checks_both_before_writing_either(app, world):
    """``update_profile`` is the one way in (the page, and anything else that calls it)."""
    with app.app_context():
        user = db.session.get(User, world.users["agent"])
        with pytest.raises(AccountError) as refused:
            profiles.update_profile(user, name="New name", time_zone="Nowhere/At_All",
                                    actor=user)
        assert refused.value.field == "time_zone"
        db.session.rollback()
        assert db.session.get(User, world.users["agent"]).name == "Agent"
        assert profiles.update_profile(user, name="Agent", time_zone=None, actor=user) == []


def test_the_profile_page_still_has_one_csrf_token_per_form(client, auth, world):
    auth.login(email("agent"))
    page = client.get("/profile").text
    assert csrf_token_from(page)
    assert page.count('name="csrf_token"') >= 3  # name and zone, password, and sign-outs
