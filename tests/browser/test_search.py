"""The search boxes in Chromium: the live search filters while typing and never jumps; a
submitted ticket number opens the ticket."""

import re

from playwright.sync_api import expect

from tests.browser.test_login import sign_in
from tests.world import PASSWORD


def test_typing_filters_and_enter_jumps_to_the_ticket(page, world, live_server):
    """A pause in typing runs the search, the last word as a prefix (the URL says so); a
    number typed is searched, not jumped to; Enter opens that ticket."""
    sign_in(page, "agent@test.example", PASSWORD)
    expect(page.locator("tr.ticket-row")).to_have_count(len(world.tickets))
    box = page.locator("#filter-q")
    box.press_sequentially("answ", delay=30)
    expect(page.locator("tr.ticket-row")).to_have_count(2)
    expect(page).to_have_url(re.compile(r"/tickets\?.*\bq=answ\*($|&)"))

    ticket_id = world.tickets["erin"]
    box.fill("")
    box.press_sequentially(str(ticket_id), delay=30)
    expect(page.locator(f"#row-{ticket_id}")).to_be_visible()
    # The live search answered (the URL is pushed with its answer) and did not jump.
    expect(page).to_have_url(re.compile(rf"/tickets\?.*\bq={ticket_id}\*($|&)"))

    with page.expect_navigation(url=f"{live_server}/tickets/{ticket_id}"):
        box.press("Enter")
    expect(page.locator("article.ticket")).to_contain_text("Body of erin")
    assert page.console_errors == []


def test_the_portal_jumps_to_the_customers_own_ticket(page, world, live_server):
    sign_in(page, "dave@test.example", PASSWORD)
    own, other = world.tickets["dave"], world.tickets["erin"]
    box = page.locator("#portal-q")
    box.fill(f"TKT-{other}")
    box.press("Enter")
    expect(page.locator("#ticket-list")).not_to_contain_text("erin")
    expect(page).to_have_url(re.compile(r"/portal/tickets\?q=TKT-"))
    box.fill(f"tkt-{own}")
    with page.expect_navigation(url=f"{live_server}/portal/tickets/{own}"):
        page.get_by_role("button", name="Search").click()
    assert page.console_errors == []
