"""``/admin/sla`` and ``services.sla``: calendar, targets, contract tiers, escalation levels."""

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Organisation, SlaTarget
from helpdesk.sla import policy
from tests.admin_pages import audit_entries, post
from tests.world import email

PAGE = "/admin/sla"
WEEK = {"mon": "09:00-17:00", "tue": "09:00-17:00", "wed": "09:00-17:00",
        "thu": "09:00-17:00", "fri": "09:00-13:00", "sat": "", "sun": ""}


def calendar_form(**changes):
    return {"time_zone": "Europe/Dublin", "holidays": "2026-12-25\n2026-12-26",
            "at_risk_percent": "75", "auto_close_days": "7", **WEEK, **changes}


def targets_form(**changes):
    values = {}
    for priority, (first, resolution) in policy.DEFAULT_TARGETS.items():
        values[f"first_response-{priority}"] = first
        values[f"resolution-{priority}"] = resolution
    return values | changes


@pytest.mark.parametrize("who", ["agent", "north_reseller", "alice", "carol"])
def test_only_admins_see_it(client, auth, world, who):
    auth.login(email(who))
    assert client.get(PAGE).status_code == 404
    token_page = "/tickets" if who in ("agent", "north_reseller") else "/portal/tickets"
    for action in ("calendar", "targets", "escalation"):
        assert post(client, f"{PAGE}/{action}", calendar_form(),
                    page=token_page).status_code == 404


def test_signed_out_goes_to_sign_in(client):
    response = client.get(PAGE)
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]


def test_shows_the_defaults(client, auth, world):
    auth.login(email("admin"))
    page = client.get(PAGE).text
    assert 'value="Europe/London"' in page
    assert 'id="targets-first_response-urgent"' in page and 'value="1h"' in page
    assert 'value="5d"' in page  # low resolution, in business days
    assert 'name="percent-0" type="text" inputmode="numeric" size="4" value="70"' in page


def test_post_without_csrf_is_refused(client, auth, world):
    auth.login(email("admin"))
    response = client.post(f"{PAGE}/calendar", data=calendar_form())
    assert response.status_code == 400
    with client.application.app_context():
        assert policy.settings_row() is None


def test_saves_the_calendar_audited(app, client, auth, world):
    auth.login(email("admin"))
    response = post(client, f"{PAGE}/calendar", calendar_form(), page=PAGE)
    assert response.status_code == 303 and response.headers["Location"] == PAGE
    assert "Saved the calendar." in client.get(PAGE).text
    with app.app_context():
        loaded = policy.load()
        assert loaded.calendar.zone.key == "Europe/Dublin"
        assert loaded.at_risk_percent == 75 and loaded.auto_close_days == 7
        assert len(loaded.calendar.holidays) == 2
        assert loaded.calendar.hours[4][1].hour == 13
    [(actor, _, field, old, new)] = audit_entries(app, "sla.calendar")
    assert actor == world.users["admin"] and field == "calendar"
    assert "Europe/London" in old and "Europe/Dublin" in new
    # The same again: nothing to audit.
    post(client, f"{PAGE}/calendar", calendar_form(), page=PAGE)
    assert len(audit_entries(app, "sla.calendar")) == 1
    assert "changed the SLA business hours" in client.get("/admin/audit").text


@pytest.mark.parametrize("changes, message", [
    ({"time_zone": "Mars/Olympus_Mons"}, "Mars/Olympus_Mons is not a time zone"),
    ({"tue": "9 to 5"}, "Write opening hours as 09:00-17:00"),
    ({"wed": "17:00-09:00"}, "Closing comes after opening."),
    ({"holidays": "Christmas"}, "Christmas is not a date"),
    ({"at_risk_percent": "120"}, "At risk is a whole number from 1 to 99."),
    ({"auto_close_days": "-1"}, "Auto-close is a whole number"),
    (dict.fromkeys(WEEK, ""), "at least one weekday"),
])
def test_bad_calendar_input_is_400_with_the_text_kept(app, client, auth, world, changes,
                                                      message):
    auth.login(email("admin"))
    response = post(client, f"{PAGE}/calendar", calendar_form(**changes), page=PAGE)
    assert response.status_code == 400
    assert message in response.text
    for value in changes.values():
        if value:
            assert value.replace("\n", "") in response.text
    assert 'aria-invalid="true"' in response.text
    with app.app_context():
        assert policy.settings_row() is None


def test_saves_workspace_targets_and_refuses_bad_ones(app, client, auth, world):
    auth.login(email("admin"))
    response = post(client, f"{PAGE}/targets",
                    targets_form(**{"first_response-urgent": "30m"}), page=PAGE)
    assert response.status_code == 303
    with app.app_context():
        row = db.session.scalar(select(SlaTarget).where(SlaTarget.priority == "urgent"))
        assert row.first_response_minutes == 30 and row.organisation_id is None
    [(_, _, field, old, new)] = audit_entries(app, "sla.targets")
    assert field == "the workspace" and "urgent 1h / 4h" in old and "urgent 30m / 4h" in new
    for typed, message in (("soon", "Write a target as"), ("", "needs every target")):
        response = post(client, f"{PAGE}/targets",
                        targets_form(**{"resolution-high": typed}), page=PAGE)
        assert response.status_code == 400 and message in response.text
        assert f'value="{typed}"' in response.text
    response = post(client, f"{PAGE}/targets",
                    targets_form(**{"resolution-low": "1h"}), page=PAGE)
    assert response.status_code == 400 and "before the first response" in response.text


def test_contract_tier_for_an_organisation(app, client, auth, world):
    auth.login(email("admin"))
    with app.app_context():
        acme = db.session.scalar(select(Organisation).where(Organisation.name == "Acme")).id
    blank = dict.fromkeys(targets_form(), "")
    response = post(client, f"{PAGE}/targets",
                    blank | {"scope": f"organisation:{acme}", "first_response-normal": "2h"},
                    page=PAGE)
    assert response.status_code == 303
    page = client.get(PAGE).text
    assert "Acme</a> <span class=\"muted\">(organisation)</span>" in page
    assert 'value="2h"' in client.get(PAGE, query_string={"scope": f"organisation:{acme}"}).text
    with app.app_context():
        [row] = db.session.scalars(select(SlaTarget)).all()
        assert (row.organisation_id, row.first_response_minutes, row.resolution_minutes) == (
            acme, 120, None)
    assert audit_entries(app, "sla.targets")[0][2] == "Acme (organisation)"
    # A scope that names nothing; then clearing every target removes the override.
    response = post(client, f"{PAGE}/targets", blank | {"scope": "organisation:999999",
                                                        "first_response-low": "1d"}, page=PAGE)
    assert response.status_code == 400 and "Choose an organisation or a reseller." in response.text
    assert 'value="1d"' in response.text
    post(client, f"{PAGE}/targets", blank | {"scope": f"organisation:{acme}"}, page=PAGE)
    with app.app_context():
        assert db.session.scalars(select(SlaTarget)).all() == []


def test_escalation_levels(app, client, auth, world):
    auth.login(email("admin"))
    form = {"percent-0": "90", "notify-0": ["admins", "bogus"], "raise-0": "1",
            "percent-1": "50", "notify-1": "assignee",
            "reassign-1": str(world.users["agent"]), "percent-2": ""}
    assert post(client, f"{PAGE}/escalation", form, page=PAGE).status_code == 303
    with app.app_context():
        levels = policy.load().levels
        assert [(lv.percent, lv.notify, lv.raise_priority, lv.reassign_to) for lv in levels] == [
            (50, ("assignee",), False, world.users["agent"]), (90, ("admins",), True, None)]
    assert len(audit_entries(app, "sla.escalation")) == 1
    for bad, message in (({"percent-1": "90"}, "its own percentage"),
                         ({"percent-1": "x"}, "A level is a whole number"),
                         ({"reassign-1": str(world.users["alice"])}, "Reassign to an active")):
        response = post(client, f"{PAGE}/escalation", form | bad, page=PAGE)
        assert response.status_code == 400 and message in response.text
    assert len(audit_entries(app, "sla.escalation")) == 1
