"""Signing in with a real browser."""

import re

from playwright.sync_api import expect

from helpdesk.demo_data import DEMO_PASSWORD, load_demo

DEMO_LOGINS = [
    ("admin@demo.test", "/tickets", "Queue"),
    ("agent@demo.test", "/tickets", "Queue"),
    ("north@demo.test", "/tickets", "Queue"),
    ("south@demo.test", "/tickets", "Queue"),
    ("alice@north.demo.test", "/portal/tickets", "My tickets"),
    ("bob@south.demo.test", "/portal/tickets", "My tickets"),
    ("carol@acme.demo.test", "/portal/tickets", "Acme tickets"),
    ("dave@acme.demo.test", "/portal/tickets", "My tickets"),
]


def sign_in(page, email, password):
    """Fill in the form and wait for the next page to finish loading (scripts included)."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Sign in").click()


def test_every_demo_login_lands_on_its_page(app, page, live_server):
    """Each README login signs in, lands on its page with tickets, and signs out."""
    with app.app_context():
        load_demo()
    for email, landing, heading in DEMO_LOGINS:
        sign_in(page, email, DEMO_PASSWORD)
        expect(page).to_have_url(live_server + landing)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        rows = page.locator("tr.ticket-row, ul.portal-tickets li")
        expect(rows.first).to_be_visible()
        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(live_server + "/login")
    assert page.console_errors == []


def test_wrong_password_shows_an_error_and_keeps_the_email(page, world, live_server):
    """The error is on the page and the email is still in its field."""
    sign_in(page, "alice@test.example", "not-the-password")
    expect(page.get_by_role("alert")).to_contain_text("do not match an active account")
    expect(page.get_by_label("Email")).to_have_value("alice@test.example")
    expect(page).to_have_url(re.compile(r"/login"))


def test_status_filter_swaps_the_table_and_pushes_the_url(page, world, live_server):
    """htmx (with the CSRF header hook loaded) filters the queue in place; Back restores it."""
    sign_in(page, "agent@test.example", "correct-horse-battery")
    expect(page.locator("tr.ticket-row")).to_have_count(6)
    page.get_by_label("Status", exact=True).select_option("closed")
    expect(page).to_have_url(re.compile(r"status=closed"))
    expect(page.locator("#queue-results")).to_contain_text("No tickets match.")
    page.go_back()
    expect(page.locator("tr.ticket-row")).to_have_count(6)
    assert page.console_errors == []
