"""Accounts in a real browser: a password reset mail that works once, and an admin who
creates a reseller user who then sees only that reseller's tickets."""

import re

from playwright.sync_api import expect

from tests.browser.test_login import sign_in
from tests.outbox import run_worker
from tests.world import PASSWORD, email

NEW_PASSWORD = "fresh-password-2026"


def test_a_reset_mail_arrives_and_its_link_works_once(app, page, world, inbox, live_server):
    page.goto("/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill(email("bob"))
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Mail me a link").click()
    expect(page.get_by_role("status")).to_contain_text("If an account uses bob@test.example")
    run_worker(app)
    [message] = inbox.messages
    assert message["To"] == "Bob <bob@test.example>"
    link = re.search(r"https://desk\.test\.example(/password/reset/\S+)",
                     message.get_content()).group(1)
    page.goto(link)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is set")
    sign_in(page, email("bob"), NEW_PASSWORD)
    expect(page).to_have_url(live_server + "/portal/tickets")
    page.get_by_role("button", name="Sign out").click()
    page.goto(link)  # the second use is refused
    expect(page.get_by_role("alert")).to_contain_text("already been used")
    expect(page.get_by_label("New password", exact=True)).to_have_count(0)
    sign_in(page, email("bob"), PASSWORD)
    expect(page.get_by_role("alert")).to_contain_text("do not match")
    # The refused link (400) and the old password (401) are logged as failed loads, no more.
    assert [e for e in page.console_errors if "Failed to load resource" not in e] == []


def test_admin_creates_a_reseller_user_who_sees_only_their_tickets(page, world, live_server):
    sign_in(page, email("admin"), PASSWORD)
    users = page.get_by_role("link", name="Users")
    expect(users).to_be_hidden()  # in the Admin menu, closed until asked
    page.locator("summary", has_text="Admin").click()
    page.keyboard.press("Escape")
    expect(users).to_be_hidden()
    page.locator("summary", has_text="Admin").click()
    users.click()
    page.get_by_role("link", name="New user").click()
    page.get_by_label("Name").fill("Nora North")
    page.get_by_label("Email").fill("nora@north.example")
    page.get_by_label("Role").select_option("reseller")
    page.get_by_label("Reseller", exact=True).select_option(label="North")
    page.get_by_label("Password", exact=True).fill("nora-password-2026")
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Create user").click()
    expect(page.get_by_role("status")).to_contain_text("Created Nora North")
    expect(page.get_by_role("heading", level=1)).to_have_text("Nora North")
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "nora@north.example", "nora-password-2026")
    expect(page).to_have_url(live_server + "/tickets")
    rows = page.locator("tr.ticket-row")
    expect(rows).to_have_count(4)  # Alice's, and Acme's three (North's customers)
    for key in ("alice", "carol", "dave", "erin"):
        expect(page.locator(f'tr#row-{world.tickets[key]}')
               ).to_have_count(1)
    for key in ("bob", "zed"):
        expect(page.locator(f'tr#row-{world.tickets[key]}')
               ).to_have_count(0)
        response = page.goto(f"/tickets/{world.tickets[key]}")
        assert response.status == 404
    assert [e for e in page.console_errors if "404" not in e] == []
