"""The bell in Chromium: a customer's comment, sent from the portal in another browser, shows in
the agent's unread count without a reload, and opening that ticket (inline in the queue, or its
page) reads what the bell said of it, and of it only."""

import re

from playwright.sync_api import expect

from helpdesk.extensions import db
from helpdesk.models import Ticket, User
from helpdesk.services import bell, tickets
from tests.browser.test_login import sign_in
from tests.world import PASSWORD, email


def comment_from_the_portal(browser, live_server, key, ticket_id, text):
    """``key`` signs in to the portal in a browser of their own and comments on the ticket."""
    context = browser.new_context(base_url=live_server)
    try:
        portal = context.new_page()
        sign_in(portal, email(key), PASSWORD)
        portal.goto(f"/portal/tickets/{ticket_id}")
        portal.get_by_label("Add a comment").fill(text)
        portal.get_by_role("button", name="Send comment").click()
        expect(portal.locator(".timeline")).to_contain_text(text)
    finally:
        context.close()


def test_the_bell_counts_customer_replies_live_and_opening_a_ticket_reads_them(
        app, browser, page, world, live_server):
    """Alice's and Dave's tickets are the agent's; each comments from the portal while the
    agent has the queue open: the bell goes to 1, then 2, by its own poll. The agent opens
    Alice's ticket in the queue and the bell says 1 at its next poll; Dave's ticket's page
    draws the bell with nothing unread."""
    app.config["BELL_POLL_SECONDS"] = 1  # the poll comes sooner; nothing else changes
    with app.app_context():
        agent = db.session.get(User, world.users["agent"])
        for key in ("alice", "dave"):  # taken by the agent: no notification of its own
            tickets.assign(db.session.get(Ticket, world.tickets[key]), agent, actor=agent)
        assert bell.unread_count(agent) == 0
    sign_in(page, email("agent"), PASSWORD)
    expect(page).to_have_url(re.compile(r"/tickets$"))
    count = page.locator("#bell .bell-count")
    expect(page.locator("#bell")).to_have_attribute("aria-label", "Notifications")
    expect(count).to_have_count(0)

    comment_from_the_portal(browser, live_server, "alice", world.tickets["alice"],
                            "The router blinks red again")
    expect(count).to_have_text("1", timeout=5_000)
    expect(page.locator("#bell")).to_have_attribute("aria-label", "Notifications: 1 unread")
    comment_from_the_portal(browser, live_server, "dave", world.tickets["dave"],
                            "Same here since noon")
    expect(count).to_have_text("2", timeout=5_000)

    page.locator(f"#row-{world.tickets['alice']} td.number a").click()  # opens it inline
    expect(page.locator(f"#expand-{world.tickets['alice']}")).to_contain_text(
        "The router blinks red again")
    expect(count).to_have_text("1", timeout=5_000)
    expect(page.locator("#bell")).to_have_attribute("aria-label", "Notifications: 1 unread")
    with app.app_context():
        assert bell.unread_count(db.session.get(User, world.users["agent"])) == 1

    page.goto(f"/tickets/{world.tickets['dave']}")  # its own page
    expect(page.locator(".timeline")).to_contain_text("Same here since noon")
    expect(page.locator("#bell")).to_have_attribute("aria-label", "Notifications")
    expect(count).to_have_count(0)
    assert page.console_errors == []
