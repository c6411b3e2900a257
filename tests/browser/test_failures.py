"""htmx failures in Chromium: an ended session, a stale token, a lost connection, a slow
answer. Each says so where the user acted, and the typed text stays."""

import re

from playwright.sync_api import expect

from tests.browser.test_desk import expand, open_queue
from tests.browser.test_login import sign_in
from tests.world import PASSWORD


def sign_in_here(page, email):
    """Fill in the sign-in form the browser was sent to (keeping its ``next``)."""
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Sign in").click()


def test_reply_after_the_session_ended_signs_in_and_comes_back(page, world, live_server):
    """Cookies gone, the reply is sent: the sign-in page, then the queue with the same
    ticket open again and the reply as it was typed."""
    open_queue(page, world)
    ticket_id = world.tickets["bob"]
    box = expand(page, ticket_id).locator("form.reply-box")
    box.locator("textarea").fill("Typed while the session ran out")
    box.get_by_label("Internal note").check()
    page.context.clear_cookies()
    box.locator("button.primary").click()
    expect(page).to_have_url(re.compile(r"/login\?next=/tickets$"))
    sign_in_here(page, "agent@test.example")
    expect(page).to_have_url(live_server + "/tickets")
    box = page.locator(f"#expand-{ticket_id} form.reply-box")
    expect(box.locator("textarea")).to_have_value("Typed while the session ran out")
    expect(box.get_by_label("Internal note")).to_be_checked()
    expect(box.locator(".draft-note")).to_contain_text("Draft restored")


def test_reply_with_a_stale_token_says_what_to_do_and_keeps_the_text(page, world, live_server):
    """The token the page carries no longer matches: a message under the box, nothing lost."""
    sign_in(page, "agent@test.example", PASSWORD)
    ticket_id = world.tickets["bob"]
    page.goto(f"/tickets/{ticket_id}")
    page.evaluate("""() => {
        document.querySelector('meta[name=csrf-token]').content = 'stale';
        document.querySelectorAll('input[name=csrf_token]').forEach((i) => { i.value = 'stale'; });
    }""")
    box = page.locator("form.reply-box")
    box.locator("textarea").fill("An answer worth keeping")
    box.locator("button.primary").click()
    message = page.locator("form.reply-box + .request-error[role=alert]")
    expect(message).to_contain_text("Reload the page")
    expect(message).to_contain_text("Your text is kept.")
    expect(box.locator("textarea")).to_have_value("An answer worth keeping")
    expect(page.locator(f"#ticket-{ticket_id}")).to_be_visible()
    message.get_by_role("button", name="Dismiss this message").click()
    expect(message).to_have_count(0)
    page.reload()
    expect(page.locator("form.reply-box textarea")).to_have_value("An answer worth keeping")


def test_a_network_error_shows_a_message_and_keeps_the_draft(page, world, live_server):
    """The connection drops as the reply goes out: say so, keep the text, allow a retry."""
    open_queue(page, world)
    ticket_id = world.tickets["bob"]
    box = expand(page, ticket_id).locator("form.reply-box")
    box.locator("textarea").fill("Sent into the void")
    page.route("**/replies", lambda route: route.abort("internetdisconnected"))
    box.locator("button.primary").click()
    message = page.locator(f"#expand-{ticket_id} .request-error[role=alert]")
    expect(message).to_contain_text("Could not reach the help desk")
    expect(box.locator("textarea")).to_have_value("Sent into the void")
    expect(box.locator("button.primary")).to_be_enabled()
    page.unroute("**/replies")
    box.locator("button.primary").click()
    expect(page.locator(f"#ticket-{ticket_id} .timeline")).to_contain_text("Sent into the void")
    expect(message).to_have_count(0)


def test_a_server_error_on_an_inline_control_is_shown_beside_it(page, world, live_server):
    """A 500 from the status control: a message under the ticket's facts names it, the
    dropdown shows the saved status again, and no error page is swapped in."""
    sign_in(page, "agent@test.example", PASSWORD)
    ticket_id = world.tickets["bob"]
    page.goto(f"/tickets/{ticket_id}")
    page.route("**/status", lambda route: route.fulfill(
        status=500, content_type="text/html", body="<html><h1>Proxy error</h1></html>"))
    page.get_by_label("Status", exact=True).select_option("on_hold")
    message = page.locator("dl.facts + .request-error[role=alert]")
    expect(message).to_contain_text(
        "Status not changed. The help desk answered with an error (500).")
    expect(page.get_by_label("Status", exact=True)).to_have_value("open")
    expect(page.locator("h1", has_text="Proxy error")).to_have_count(0)


def test_live_poll_after_the_session_ended_pauses_quietly(app, page, world, live_server):
    """The poll gets 401: no sign-in page inside the ticket, no navigation, one notice."""
    app.config["TICKET_POLL_SECONDS"] = 1  # the poll comes sooner; nothing else changes
    sign_in(page, "agent@test.example", PASSWORD)
    ticket_id = world.tickets["bob"]
    page.goto(f"/tickets/{ticket_id}")
    page.locator("form.reply-box textarea").fill("Still typing")
    page.context.clear_cookies()
    notice = page.locator("#live-notice")
    expect(notice).to_contain_text("Live updates paused: you are signed out.", timeout=10_000)
    expect(notice.get_by_role("link", name="Sign in again")).to_have_attribute(
        "href", f"/login?next=/tickets/{ticket_id}")
    expect(page).to_have_url(live_server + f"/tickets/{ticket_id}")
    expect(page.locator(f"#ticket-{ticket_id} input[name=password]")).to_have_count(0)
    expect(page.locator(f"#live-{ticket_id} .timeline")).to_be_visible()
    expect(page.locator("form.reply-box textarea")).to_have_value("Still typing")
    expect(page.locator(".live-notice")).to_have_count(1)


def test_send_button_is_disabled_while_sending_and_a_double_click_sends_once(
        page, world, live_server):
    """The reply is held by the network: the button is disabled and says it is sending;
    a double click submits once, and one request reaches the server."""
    open_queue(page, world)
    ticket_id = world.tickets["bob"]
    box = expand(page, ticket_id).locator("form.reply-box")
    held = []
    page.route("**/replies", lambda route: held.append(route))
    box.evaluate("form => { window.submits = 0; "
                 "form.addEventListener('submit', () => window.submits++); }")
    box.locator("textarea").fill("Only once, please")
    box.locator("button.primary").dblclick()
    expect(box.locator("button.primary")).to_be_disabled()
    expect(box.locator(".progress")).to_be_visible()
    expect(box.locator(".progress")).to_have_css("opacity", "1")
    assert page.evaluate("window.submits") == 1
    assert len(held) == 1
    held[0].continue_()
    timeline = page.locator(f"#ticket-{ticket_id} .timeline")
    expect(timeline.locator(".entry", has_text="Only once, please")).to_have_count(1)
    assert len(held) == 1
    expect(page.locator(f"#ticket-{ticket_id} form.reply-box button.primary")).to_be_enabled()


def test_portal_comment_button_is_disabled_while_sending(page, world, live_server):
    sign_in(page, "alice@test.example", PASSWORD)
    page.goto(f"/portal/tickets/{world.tickets['alice']}")
    held = []
    page.route("**/comments", lambda route: held.append(route))
    page.get_by_label("Add a comment").fill("Slow line today")
    page.get_by_role("button", name="Send comment").click()
    expect(page.get_by_role("button", name="Send comment")).to_be_disabled()
    held[0].continue_()
    expect(page.locator(".timeline")).to_contain_text("Slow line today")
    expect(page.get_by_role("button", name="Send comment")).to_be_enabled()


def test_a_plain_post_disables_its_button(page, world, live_server):
    """The new-ticket form (no htmx) cannot be sent twice while the next page loads: its
    button is disabled on submit, and a double click posts once."""
    sign_in(page, "alice@test.example", PASSWORD)
    page.goto("/portal/tickets/new")
    posts = []
    page.on("request", lambda request: request.method == "POST" and posts.append(request))
    page.get_by_label("Subject").fill("Router")
    page.get_by_label("Description").fill("Lights off")
    # The page reports the moment its button is disabled, before the next page replaces it.
    page.evaluate("""() => {
        window.submits = 0;
        document.addEventListener('submit', (e) => { if (!e.defaultPrevented) window.submits++; });
        const button = document.querySelector('form[data-draft] button.primary');
        const say = () => console.log(`disabled=${button.disabled} sent=${window.submits}`);
        new MutationObserver(say).observe(button, {attributeFilter: ['disabled']});
    }""")
    with (page.expect_console_message(lambda m: m.text.startswith("disabled=")) as message,
          page.expect_navigation(wait_until="load")):
        page.get_by_role("button", name="Open ticket").dblclick()
    assert message.value.text == "disabled=true sent=1"
    expect(page).to_have_url(re.compile(r"/portal/tickets/\d+$"))
    assert len(posts) == 1
