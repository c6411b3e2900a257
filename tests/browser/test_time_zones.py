"""Times in a real browser's zone: a browser in Tokyo with no zone chosen sees Tokyo times
from the first page after signing in (the sign-in page recorded its zone); after choosing
New York on the profile it sees New York times, whatever the browser says."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from helpdesk.extensions import db
from helpdesk.models import Ticket
from helpdesk.time_zones import exact_time
from tests.world import PASSWORD, email


def ten_days_ago_late_evening_utc():
    """23:30 UTC ten days ago: the next day in Tokyo, the same day in New York."""
    day = datetime.now(UTC) - timedelta(days=10)
    return day.replace(hour=23, minute=30, second=0, microsecond=0)


def shown_date(moment, zone):
    """What static/app.js says of a time over a week old: its date in ``zone`` (en-US)."""
    local, now = moment.astimezone(zone), datetime.now(zone)
    said = f"{local:%b} {local.day}"
    return said if local.year == now.year else f"{said}, {local.year}"


def test_tokyo_browser_then_new_york_chosen(browser, live_server, app, world):
    moment = ten_days_ago_late_evening_utc()
    with app.app_context():
        ticket = db.session.get(Ticket, world.tickets["alice"])
        ticket.created_at = ticket.updated_at = ticket.public_updated_at = moment
        db.session.commit()
    tokyo, new_york = ZoneInfo("Asia/Tokyo"), ZoneInfo("America/New_York")
    context = browser.new_context(base_url=live_server, timezone_id="Asia/Tokyo")
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    row_time = page.locator(f"#row-{world.tickets['alice']} time")

    page.goto("/login")
    page.get_by_label("Email").fill(email("agent"))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live_server + "/tickets")
    assert {c["name"]: c["value"] for c in context.cookies()}["tz"] == "Asia/Tokyo"
    # As drawn by the server (now the hover text), and as counted in days by the script.
    expect(row_time).to_have_attribute("title", exact_time(moment, tokyo))
    expect(row_time).to_have_text(shown_date(moment, tokyo))
    assert exact_time(moment, tokyo).endswith(" JST")
    page.goto(f"/tickets/{world.tickets['alice']}")
    expect(page.locator("dt:text('Opened') + dd")).to_have_text(exact_time(moment, tokyo))

    page.get_by_role("link", name="Profile").click()
    expect(page.get_by_label("Time zone", exact=True)).to_have_value("")
    expect(page.get_by_label("Time zone", exact=True).locator("option").first).to_have_text(
        "Browser's zone (detected: Asia/Tokyo)")
    page.get_by_label("Time zone", exact=True).select_option("America/New_York")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("times show in America/New_York")
    expect(page.get_by_label("Time zone", exact=True)).to_have_value("America/New_York")

    page.get_by_role("link", name="Queue").click()
    expect(row_time).to_have_attribute("title", exact_time(moment, new_york))
    expect(row_time).to_have_text(shown_date(moment, new_york))
    assert exact_time(moment, new_york).endswith((" EST", " EDT"))
    assert shown_date(moment, new_york) != shown_date(moment, tokyo)
    assert errors == []
    context.close()
