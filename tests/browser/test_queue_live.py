"""The queue in Chromium keeps itself current: the changes poll and rows that redraw."""

from playwright.sync_api import expect

from helpdesk.extensions import db
from helpdesk.models import Ticket, User
from helpdesk.services import tickets
from tests.browser.test_login import sign_in
from tests.world import PASSWORD


def test_the_poll_redraws_the_rows_shown_and_counts_the_others(app, page, world, live_server):
    """The poll sends the ids of the rows on screen: a changed one is drawn again in place,
    a changed ticket elsewhere is counted in the notice."""
    app.config["QUEUE_POLL_SECONDS"] = 1  # the poll comes sooner; nothing else changes
    sign_in(page, "agent@test.example", PASSWORD)
    page.goto(f"/tickets?customer={world.users['alice']}")
    row = page.locator(f"#row-{world.tickets['alice']}")
    expect(page.locator("tr.ticket-row")).to_have_count(1)
    expect(row.locator(".badge.priority-normal")).to_be_visible()
    with app.app_context():
        admin = db.session.get(User, world.users["admin"])
        for key in ("alice", "bob"):
            tickets.change_priority(db.session.get(Ticket, world.tickets[key]), "urgent",
                                    actor=admin)
    expect(row.locator(".badge.priority-urgent")).to_be_visible(timeout=5_000)
    expect(page.locator("#queue-notice")).to_contain_text("1 other ticket changed")
    expect(row.get_by_label("Status of", exact=False)).to_have_attribute(
        "aria-label", f"Status of TKT-{world.tickets['alice']}: Open (change)")
    assert page.console_errors == []


def test_a_new_ticket_shows_as_a_bar_that_shows_it(app, page, world, live_server):
    """A ticket opened while the queue is open: "1 new ticket. Show", and Show lists it."""
    app.config["QUEUE_POLL_SECONDS"] = 1
    sign_in(page, "agent@test.example", PASSWORD)
    page.goto("/tickets")
    expect(page.locator("tr.ticket-row")).to_have_count(len(world.tickets))
    with app.app_context():
        subscriber = db.session.get(User, world.users["zed"])
        opened = tickets.open_ticket(subscriber=subscriber, subject="Fresh outage", body="b",
                                     category=db.session.get(Ticket, world.tickets["zed"])
                                     .category)
        opened_id = opened.id
    notice = page.locator("#queue-notice")
    expect(notice).to_contain_text("1 new ticket. Show", timeout=5_000)
    notice.get_by_role("link", name="Show").click()
    expect(page.locator(f"#row-{opened_id}")).to_contain_text("Fresh outage")
    assert page.console_errors == []
