"""The portal in the customer's words, in a real browser; and a ticket opened on behalf.

Pills and badges never show an internal status name; a search that finds nothing says so and
clears; a resolved ticket's comment box warns that a comment reopens it; a ticket opened by
staff for a subscriber says so in the desk and in the portal, and its first message is not
presented as the subscriber's.
"""

import re

from playwright.sync_api import expect
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Category, Ticket, User
from helpdesk.services import replies, tickets
from tests.browser.test_login import sign_in
from tests.world import PASSWORD, email

INTERNAL_NAMES = re.compile(r"Waiting on (customer|vendor)|On hold|_")
READ_ALOUD_INTERNAL = re.compile(r"Waiting on (customer|vendor)|On hold|on_hold|in_progress")
OPENING = "Dave phoned in: the router in the meeting room is dead."


def put_statuses(app, world, **statuses):
    """Put world tickets straight into the given statuses."""
    with app.app_context():
        for key, status in statuses.items():
            db.session.get(Ticket, world.tickets[key]).status = status
        db.session.commit()


def row(page, key):
    """The portal list's row of world ticket ``key``."""
    return page.locator("ul.portal-tickets li", has_text=f"{key} ticket")


def test_pills_and_badges_never_show_an_internal_status(app, page, world, live_server):
    """Vendor and on hold read "In progress", waiting on customer "Waiting on you", in the
    list, its pills, the count above it and the ticket's badge."""
    put_statuses(app, world, carol="waiting_on_vendor", dave="waiting_on_customer",
                 erin="on_hold")
    sign_in(page, email("carol"), PASSWORD)
    expect(row(page, "carol").locator(".badge")).to_have_text("In progress")
    expect(row(page, "erin").locator(".badge")).to_have_text("In progress")
    expect(row(page, "dave").locator(".badge")).to_have_text("Waiting on you")
    expect(row(page, "dave")).to_have_class("waiting-on-you")
    expect(page.locator("nav.pills")).to_have_text(
        re.compile(r"^\s*All\s+Open\s+In progress\s+Waiting on you\s+Resolved\s+Closed\s*$"))
    for badge in page.locator(".portal-tickets .badge").all_inner_texts():
        assert not INTERNAL_NAMES.search(badge), badge
    assert not READ_ALOUD_INTERNAL.search(page.locator("body").inner_text())

    note = page.locator(".waiting-on-you-note")
    expect(note).to_contain_text("1 ticket is waiting on your reply.")
    note.get_by_role("link", name="Show it").click()
    expect(page).to_have_url(re.compile(r"status=waiting_on_customer"))
    expect(page.locator("ul.portal-tickets li")).to_have_count(1)
    expect(note).to_have_count(0)

    page.get_by_role("link", name="In progress", exact=True).click()
    expect(page.locator("ul.portal-tickets li")).to_have_count(2)
    row(page, "carol").get_by_role("link").click()
    expect(page.locator(".facts .badge").first).to_have_text("In progress")
    assert not READ_ALOUD_INTERNAL.search(page.locator("body").inner_text())
    assert page.console_errors == []


def test_a_search_without_results_says_so_and_clears(page, world, live_server):
    """Typed into the box: "No tickets match", not "You have no tickets yet"; Clear the
    search brings the list back, box emptied."""
    sign_in(page, email("dave"), PASSWORD)
    expect(row(page, "dave")).to_be_visible()
    page.get_by_label("Search your tickets").press_sequentially("zebra")
    empty = page.locator("#ticket-list .empty")
    expect(empty).to_contain_text("No tickets match “zebra”.")
    expect(page.locator("#ticket-list")).not_to_contain_text("You have no tickets yet")
    page.get_by_role("link", name="Clear the search").click()
    expect(row(page, "dave")).to_be_visible()
    expect(page.get_by_label("Search your tickets")).to_have_value("")
    assert page.console_errors == []


def test_a_resolved_ticket_warns_that_a_comment_reopens_it(app, page, world, live_server):
    """The warning sits in the comment box; sending the comment does what it said."""
    with app.app_context():
        replies.add_reply(db.session.get(Ticket, world.tickets["alice"]),
                          author=db.session.get(User, world.users["agent"]),
                          body="We replaced the line card.", status="resolved")
    sign_in(page, email("alice"), PASSWORD)
    page.goto(f"/portal/tickets/{world.tickets['alice']}")
    warning = page.locator(".comment-box .reopen-note")
    expect(warning).to_contain_text("This ticket is resolved. Sending a comment reopens it: "
                                    "its status goes back to Open")
    page.get_by_label("Add a comment").fill("It dropped again tonight.")
    page.get_by_role("button", name="Send comment").click()
    expect(page.locator(".timeline")).to_contain_text("It dropped again tonight.")
    expect(page.locator(".facts .badge").first).to_have_text("Open")
    expect(warning).to_have_count(0)
    assert page.console_errors == []


def test_a_ticket_opened_on_behalf_says_so_in_desk_and_portal(app, page, world, live_server):
    """Desk: "Agent opened this for Dave", the first message by Agent. Portal: "Support
    opened this for you" (Carol reads Dave's name), the first message by Support, not You."""
    with app.app_context():
        ticket = tickets.open_ticket(
            subscriber=db.session.get(User, world.users["dave"]), subject="Router dead",
            body=OPENING, category=db.session.scalars(select(Category)).first(),
            opened_by=db.session.get(User, world.users["agent"]))
        ticket_id = ticket.id
    first_message = page.locator(".timeline .entry", has_text=OPENING)

    sign_in(page, email("agent"), PASSWORD)
    page.goto(f"/tickets/{ticket_id}")
    expect(page.locator(".opened-on-behalf")).to_contain_text("Agent opened this for Dave")
    expect(first_message.locator(".entry-head strong")).to_have_text("Agent")
    expect(first_message).to_have_class(re.compile(r"\bfrom-support\b"))
    page.context.clear_cookies()

    sign_in(page, email("dave"), PASSWORD)
    page.goto(f"/portal/tickets/{ticket_id}")
    expect(page.locator(".opened-on-behalf")).to_contain_text("Support opened this for you")
    expect(first_message.locator(".entry-head strong")).to_have_text("Support")
    expect(page.locator(".ticket")).not_to_contain_text("Agent")
    page.context.clear_cookies()

    sign_in(page, email("carol"), PASSWORD)
    page.goto(f"/portal/tickets/{ticket_id}")
    expect(page.locator(".opened-on-behalf")).to_contain_text("Support opened this for Dave")
    expect(first_message.locator(".entry-head strong")).to_have_text("Support")
    assert page.console_errors == []
