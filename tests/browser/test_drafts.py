"""Drafts in Chromium: typed text survives closing a ticket, a reload and signing in again,
and is gone once the server took it."""

import re

from playwright.sync_api import expect

from tests.browser.test_desk import expand, open_queue
from tests.browser.test_failures import sign_in_here
from tests.browser.test_login import sign_in
from tests.world import PASSWORD, email


def stored_drafts(page):
    """The draft keys in this browser's localStorage."""
    return page.evaluate(
        "() => Object.keys(localStorage).filter((k) => k.startsWith('helpdesk-draft:'))")


def test_reply_draft_survives_escape_and_reload(page, world, live_server):
    """Esc closes the ticket; opening it again (also after a reload) brings every field back."""
    open_queue(page, world)
    ticket_id = world.tickets["bob"]
    expansion = expand(page, ticket_id)
    box = expansion.locator("form.reply-box")
    box.locator("textarea").fill("Half a reply about the **router**")
    box.get_by_label("Internal note").check()
    box.get_by_label("Status after sending").select_option("on_hold")
    box.get_by_label("Time spent").fill("15")
    box.get_by_label("Time note").fill("Line test")
    page.keyboard.press("Escape")
    expect(expansion).to_be_hidden()
    expect(page.locator(f"#row-{ticket_id} .draft-mark")).to_have_text("Draft")

    for reopen in ("again", "after a reload"):
        if reopen == "after a reload":
            page.reload()
        box = expand(page, ticket_id).locator("form.reply-box")
        expect(box.locator("textarea")).to_have_value("Half a reply about the **router**")
        expect(box.get_by_label("Internal note")).to_be_checked()
        expect(box.get_by_label("Status after sending")).to_have_value("on_hold")
        expect(box.get_by_label("Time spent")).to_have_value("15")
        expect(box.get_by_label("Time note")).to_have_value("Line test")
        expect(box.locator(".draft-note")).to_contain_text("Draft restored")
        page.locator(f"#row-{ticket_id} td.number a").click()  # a second click closes it
        expect(page.locator(f"#expand-{ticket_id}")).to_be_hidden()


def test_handoff_note_draft_survives_closing_the_ticket(page, world, live_server):
    open_queue(page, world)
    ticket_id = world.tickets["alice"]
    expansion = expand(page, ticket_id)
    expansion.locator("details.handoff summary").click()
    expansion.get_by_label("Hand over to").select_option(label="Admin")
    expansion.get_by_label("Note for the next shift (internal)").fill("Call back at 17:00")
    page.keyboard.press("Escape")
    expansion = expand(page, ticket_id)
    expect(expansion.get_by_label("Note for the next shift (internal)")).to_have_value(
        "Call back at 17:00")
    expect(expansion.get_by_label("Hand over to")).to_have_value(str(world.users["admin"]))


def test_draft_is_gone_after_it_was_sent(page, world, live_server):
    """A reply the server accepted leaves no draft behind, in the box or in storage."""
    open_queue(page, world)
    ticket_id = world.tickets["bob"]
    box = expand(page, ticket_id).locator("form.reply-box")
    box.locator("textarea").fill("Final answer")
    assert len(stored_drafts(page)) == 1
    box.locator("button.primary").click()
    expect(page.locator(f"#ticket-{ticket_id} .timeline")).to_contain_text("Final answer")
    assert stored_drafts(page) == []
    row = page.locator(f"#row-{ticket_id}")
    expect(row).to_contain_text("Waiting on customer")  # the row has refreshed itself
    expect(row.locator(".draft-mark")).to_have_count(0)
    page.keyboard.press("Escape")
    box = expand(page, ticket_id).locator("form.reply-box")
    expect(box.locator("textarea")).to_have_value("")
    expect(box.locator(".draft-note")).to_have_count(0)


def test_a_refused_reply_keeps_the_servers_copy_as_the_draft(page, world, live_server):
    """A 422 answer already holds the text as sent: it stays, and stays the draft."""
    open_queue(page, world)
    ticket_id = world.tickets["bob"]
    box = expand(page, ticket_id).locator("form.reply-box")
    box.get_by_label("Internal note").check()
    box.locator("textarea").fill("Resolving from a note")
    box.get_by_label("Status after sending").select_option("resolved")
    box.locator("button.primary").click()
    box = page.locator(f"#expand-{ticket_id} form.reply-box")
    expect(box.locator("[role=alert]")).to_contain_text("public reply")
    expect(box.locator("textarea")).to_have_value("Resolving from a note")
    expect(box.locator(".draft-note")).to_have_count(0)
    page.reload()
    box = expand(page, ticket_id).locator("form.reply-box")
    expect(box.locator("textarea")).to_have_value("Resolving from a note")


def test_portal_comment_draft_survives_a_reload(page, world, live_server):
    """A half-written comment is back after a reload; the files could not be kept, and it
    says so by the file field."""
    sign_in(page, email("alice"), PASSWORD)
    page.goto(f"/portal/tickets/{world.tickets['alice']}")
    page.get_by_label("Add a comment").fill("The modem restarts every hour")
    page.get_by_label("Attach files (optional)").set_input_files(
        {"name": "modem.log", "mimeType": "text/plain", "buffer": b"reboot\n"})
    page.reload()
    expect(page.get_by_label("Add a comment")).to_have_value("The modem restarts every hour")
    expect(page.locator("form.comment-box .draft-note")).to_contain_text("Draft restored")
    expect(page.locator("form.comment-box .draft-files")).to_contain_text(
        "attach modem.log again")
    page.get_by_role("button", name="Discard draft").click()
    expect(page.get_by_label("Add a comment")).to_have_value("")
    page.reload()
    expect(page.get_by_label("Add a comment")).to_have_value("")


def test_new_ticket_draft_outlives_an_ended_session_and_goes_once_sent(page, world, live_server):
    """The portal's new-ticket form (a plain post): the session ends before it is sent; after
    signing in again the form is back as typed; once the ticket is opened the draft is gone."""
    sign_in(page, email("alice"), PASSWORD)
    page.goto("/portal/tickets/new")
    page.get_by_label("Subject").fill("Wi-Fi drops at night")
    page.get_by_label("Priority").select_option("high")
    page.get_by_label("Description").fill("Every night at 2 am.")
    page.context.clear_cookies()
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Open ticket").click()
    expect(page).to_have_url(re.compile(r"/login\?next=/portal/tickets/new$"))
    sign_in_here(page, email("alice"))
    expect(page).to_have_url(live_server + "/portal/tickets/new")
    expect(page.get_by_label("Subject")).to_have_value("Wi-Fi drops at night")
    expect(page.get_by_label("Priority")).to_have_value("high")
    expect(page.get_by_label("Description")).to_have_value("Every night at 2 am.")
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Open ticket").click()
    expect(page).to_have_url(re.compile(r"/portal/tickets/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Wi-Fi drops at night")
    assert stored_drafts(page) == []
    page.goto("/portal/tickets/new")
    expect(page.get_by_label("Subject")).to_have_value("")


def test_desk_new_ticket_draft_survives_a_reload(page, world, live_server):
    sign_in(page, "agent@test.example", PASSWORD)
    page.goto("/tickets/new")
    page.get_by_label("Subscriber's email").fill(email("bob"))
    page.get_by_label("Subject").fill("Called in: no dial tone")
    page.reload()
    expect(page.get_by_label("Subscriber's email")).to_have_value(email("bob"))
    expect(page.get_by_label("Subject")).to_have_value("Called in: no dial tone")


def test_drafts_do_not_show_for_another_user_of_the_browser(page, world, live_server):
    """One browser, two people: the second never sees the first one's draft."""
    sign_in(page, "agent@test.example", PASSWORD)
    ticket_id = world.tickets["bob"]
    page.goto(f"/tickets/{ticket_id}")
    page.locator("form.reply-box textarea").fill("Agent's private draft")
    page.context.clear_cookies()
    sign_in(page, "admin@test.example", PASSWORD)
    page.goto(f"/tickets/{ticket_id}")
    expect(page.locator("form.reply-box textarea")).to_have_value("")
    expect(page.locator("form.reply-box .draft-note")).to_have_count(0)


def test_signing_out_forgets_the_drafts(page, world, live_server):
    sign_in(page, "agent@test.example", PASSWORD)
    page.goto(f"/tickets/{world.tickets['bob']}")
    page.locator("form.reply-box textarea").fill("Not for the next person")
    assert len(stored_drafts(page)) == 1
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Sign out").click()
    assert stored_drafts(page) == []


def test_signing_out_everywhere_forgets_this_browsers_drafts(page, world, live_server):
    """The profile's "Sign out everywhere" signs this browser out too: its drafts go."""
    sign_in(page, "agent@test.example", PASSWORD)
    page.goto(f"/tickets/{world.tickets['bob']}")
    page.locator("form.reply-box textarea").fill("Not for the next person either")
    assert len(stored_drafts(page)) == 1
    page.goto("/profile")
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Sign out everywhere").click()
    assert stored_drafts(page) == []
