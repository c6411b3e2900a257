"""The desk as a new user meets it in Chromium: live work first, counters that list what
they count, and a phone that never scrolls sideways."""

import re

import pytest
from playwright.sync_api import expect

from helpdesk.extensions import db
from helpdesk.models import Ticket, User
from helpdesk.services import replies
from tests.browser.test_login import sign_in
from tests.world import PASSWORD


@pytest.fixture
def some_done(app, world):
    """Alice's ticket resolved and Bob's closed; the others live."""
    with app.app_context():
        agent = db.session.get(User, world.users["agent"])
        for key, status in (("alice", "resolved"), ("bob", "closed")):
            replies.add_reply(db.session.get(Ticket, world.tickets[key]), author=agent,
                              body="Fixed.", status=status)
    return world


def test_the_queue_opens_on_live_work_and_counters_list_what_they_count(page, some_done,
                                                                        live_server):
    """No resolved or closed ticket in the queue as it opens; each counter, clicked, lists
    exactly as many tickets as it says."""
    sign_in(page, "agent@test.example", PASSWORD)
    live = len(some_done.tickets) - 2
    expect(page.locator("tr.ticket-row")).to_have_count(live)
    expect(page.locator("tr.ticket-row .badge[class*=status-closed]")).to_have_count(0)
    expect(page.locator("tr.ticket-row .badge[class*=status-resolved]")).to_have_count(0)
    for label in ("unresolved", "closed", "resolved", "open"):
        page.goto("/tickets")
        counter = page.locator("#counters a.counter", has_text=re.compile(rf"\d+ {label}$"))
        count = int(counter.locator(".count").inner_text())
        counter.click()
        expect(page.locator("tr.ticket-row")).to_have_count(count)
    expect(page.locator("tr.ticket-row .badge.status-open")).to_have_count(count)


def test_the_phone_queue_is_cards_and_the_send_button_is_reachable(browser, some_done,
                                                                    live_server):
    """At 390 px: no sideways scroll; each row a card showing subject, status, priority and
    assignee; an opened ticket's send button is on screen after scrolling to it."""
    context = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        sign_in(page, "agent@test.example", PASSWORD)
        row = page.locator(f"#row-{some_done.tickets['dave']}")
        expect(row).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        for part in ("td.subject", "a.control-badge[class*=status-]",
                     "a.control-badge[class*=priority-]", "a.control-badge.plain"):
            box = row.locator(part).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, part
        row.locator("td.subject").click()
        send = page.locator(f"#expand-{some_done.tickets['dave']} form.reply-box button.primary")
        send.scroll_into_view_if_needed()
        expect(send).to_be_in_viewport()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.goto(f"/tickets/{some_done.tickets['dave']}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
