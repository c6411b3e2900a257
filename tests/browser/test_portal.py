"""The subscriber portal in a real browser: open a ticket, comment, filter, rate."""

import re

from playwright.sync_api import expect

from helpdesk.extensions import db
from helpdesk.models import Ticket, User
from helpdesk.services import replies
from tests.browser.test_login import sign_in
from tests.world import PASSWORD, email


def resource_errors_only(errors):
    """Console errors other than the browser's own note about a 4xx answer."""
    return [e for e in errors if "Failed to load resource" not in e]


def test_subscriber_opens_a_ticket_and_comments(page, world, live_server):
    """The form opens the ticket; comments are added in place by htmx, errors shown beside."""
    sign_in(page, email("alice"), PASSWORD)
    page.get_by_role("link", name="Open a ticket").click()
    page.get_by_label("Subject").fill("No internet since this morning")
    page.get_by_label("Category").select_option(label="Connectivity")
    page.get_by_label("Priority").select_option("urgent")
    page.get_by_label("Description").fill("The **DSL** light blinks.")
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Open ticket").click()
    expect(page).to_have_url(re.compile(r"/portal/tickets/\d+$"))
    ticket_url = page.url
    expect(page.get_by_role("heading", level=1)).to_contain_text("No internet since this morning")
    expect(page.locator(".timeline strong", has_text="DSL")).to_be_visible()

    page.get_by_role("button", name="Send comment").click()
    expect(page.locator(".field-error")).to_have_text("Write a comment first.")

    page.get_by_label("Add a comment").fill("Restarted the modem, no change.")
    page.get_by_role("button", name="Send comment").click()
    expect(page.locator(".timeline")).to_contain_text("Restarted the modem, no change.")
    expect(page.get_by_label("Add a comment")).to_have_value("")
    expect(page.locator(".field-error")).to_have_count(0)
    assert page.url == ticket_url  # swapped in place, no navigation
    page.reload()
    expect(page.locator(".timeline")).to_contain_text("Restarted the modem, no change.")
    assert resource_errors_only(page.console_errors) == []


def test_status_pills_swap_the_list_and_push_the_url(app, page, world, live_server):
    """A pill narrows the list in place and the URL follows; Back restores the list."""
    with app.app_context():
        db.session.get(Ticket, world.tickets["dave"]).status = "closed"
        db.session.commit()
    sign_in(page, email("carol"), PASSWORD)
    rows = page.locator("ul.portal-tickets li")
    expect(rows).to_have_count(3)
    page.get_by_role("link", name="Closed", exact=True).click()
    expect(page).to_have_url(re.compile(r"status=closed"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("dave ticket")
    closed = page.get_by_role("link", name="Closed", exact=True)
    expect(closed).to_have_attribute("aria-current", "page")
    page.get_by_role("link", name="Waiting on you", exact=True).click()
    expect(page).to_have_url(re.compile(r"status=waiting_on_customer"))
    expect(page.locator("#ticket-list")).to_contain_text("No tickets under “Waiting on you”.")
    page.go_back()
    expect(rows).to_have_count(1)
    page.go_back()
    expect(rows).to_have_count(3)
    assert page.console_errors == []


def test_subscriber_rates_a_resolved_ticket(app, page, world, live_server):
    """The rating form replaces itself with the rating given."""
    with app.app_context():
        replies.add_reply(db.session.get(Ticket, world.tickets["alice"]),
                          author=db.session.get(User, world.users["agent"]),
                          body="We replaced the line card.", status="resolved")
    sign_in(page, email("alice"), PASSWORD)
    page.goto(f"/portal/tickets/{world.tickets['alice']}")
    expect(page.locator(".timeline")).to_contain_text("Status changed to Resolved")
    page.get_by_label("4 · Good").check()
    page.get_by_label("Anything to add? (optional)").fill("Fast and friendly")
    page.get_by_role("button", name="Send rating").click()
    expect(page.locator(".rating-given")).to_contain_text("4 out of 5")
    expect(page.locator(".rating-given")).to_contain_text("Fast and friendly")
    expect(page.get_by_role("button", name="Send rating")).to_have_count(0)
    page.reload()
    expect(page.locator(".rating-given")).to_contain_text("4 out of 5")
    assert page.console_errors == []
