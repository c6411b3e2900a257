"""Signing out in a real browser, with "Keep me signed in" ticked."""

import re

from playwright.sync_api import expect

from tests.world import PASSWORD, email


def cookie_names(page):
    """The names of the cookies the browser holds for the site."""
    return {cookie["name"] for cookie in page.context.cookies()}


def test_kept_signed_in_then_signed_out_stays_signed_out(page, world, live_server):
    """After sign-out the remember cookie is gone: reloading and revisiting stay signed out."""
    page.goto("/login")
    page.get_by_label("Email").fill(email("agent"))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Keep me signed in on this device").check()
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live_server + "/tickets")
    assert "remember_token" in cookie_names(page)

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(live_server + "/login")
    assert "remember_token" not in cookie_names(page)
    page.reload()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.goto("/tickets")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    assert page.console_errors == []


def test_profile_signs_out_everywhere(page, world, live_server):
    """The profile's button signs this browser out and says how many sign-ins ended."""
    page.goto("/login")
    page.get_by_label("Email").fill(email("alice"))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Profile").click()
    expect(page.get_by_text("This device")).to_be_visible()
    page.get_by_role("button", name="Sign out everywhere").click()
    expect(page).to_have_url(live_server + "/login")
    expect(page.get_by_role("status")).to_contain_text("signed out everywhere")
    page.goto("/portal/tickets")
    expect(page).to_have_url(re.compile(r"/login\?next="))
