"""The desk in Chromium: inline expansion, the internal-note toggle, replying with a status."""

import re

from playwright.sync_api import expect

from tests.browser.test_login import sign_in
from tests.world import PASSWORD


def settled(locator):
    """Wait until htmx has finished swapping ``locator`` in (it wires up new content in its
    settle step, a few milliseconds after the swap): no person acts faster than that."""
    expect(locator).not_to_have_class(re.compile(r"\bhtmx-(added|settling)\b"))


def expand(page, ticket_id):
    """Open a ticket inline under its row and wait until htmx has settled it."""
    page.locator(f"#row-{ticket_id} td.number a").click()
    settled(page.locator(f"#ticket-{ticket_id}"))
    return page.locator(f"#expand-{ticket_id}")


def open_queue(page, world):
    sign_in(page, "agent@test.example", PASSWORD)
    expect(page.locator("tr.ticket-row")).to_have_count(len(world.tickets))


def test_row_expands_inline_and_collapses(page, world, live_server):
    """A click opens the ticket under its row without leaving the queue; a second closes it."""
    open_queue(page, world)
    ticket_id = world.tickets["dave"]
    page.locator(f"#row-{ticket_id} td.number a").click()
    expansion = page.locator(f"#expand-{ticket_id}")
    expect(expansion).to_be_visible()
    expect(expansion.locator("article.ticket")).to_contain_text("Body of dave")
    expect(expansion.locator(".internal-note")).to_contain_text("SECRET-INTERNAL-NOTE")
    expect(page).to_have_url(live_server + "/tickets")
    page.locator(f"#row-{ticket_id} td.number a").click()
    expect(expansion).to_be_hidden()
    assert page.console_errors == []


def test_a_click_anywhere_on_a_row_opens_it_and_times_read_relative(page, world, live_server):
    """The whole row opens the ticket (not only its number), and its time reads "… ago" with
    the exact time on hover."""
    open_queue(page, world)
    ticket_id = world.tickets["erin"]
    row = page.locator(f"#row-{ticket_id}")
    when = row.locator("time")
    expect(when).to_have_text(re.compile(r"^(just now|\d+ min ago)$"))
    expect(when).to_have_attribute("title", re.compile(r"\d{4}"))
    row.locator("td").nth(3).click()  # the category cell: no link there
    expect(page.locator(f"#expand-{ticket_id}")).to_be_visible()
    expect(page).to_have_url(live_server + "/tickets")


def test_keyboard_moves_opens_and_closes(page, world, live_server):
    """j/k select rows, o opens the selected one, r jumps to its reply box, Esc closes."""
    open_queue(page, world)
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    first = page.locator("tr.ticket-row").first
    expect(first).to_have_class(re.compile("is-selected"))
    page.keyboard.press("o")
    expansion = page.locator(f"#expand-{first.get_attribute('id').removeprefix('row-')}")
    expect(expansion).to_be_visible()
    page.keyboard.press("r")
    expect(expansion.locator("form.reply-box textarea")).to_be_focused()
    page.keyboard.press("Escape")
    expect(expansion).to_be_hidden()


def test_question_mark_lists_the_keys_and_a_s_n_slash_work(page, world, live_server):
    """? shows the shortcuts (Esc closes them); on the selected row a assigns it to me, s
    opens its status menu, n opens it with the reply turned into an internal note, and /
    goes to the search box."""
    open_queue(page, world)
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    for what in ("Assign the ticket to me", "Change the ticket's status",
                 "internal note", "Search"):
        expect(dialog).to_contain_text(what)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.keyboard.press("j")
    row = page.locator("tr.ticket-row.is-selected")
    ticket_id = row.get_attribute("id").removeprefix("row-")
    page.keyboard.press("a")
    expect(page.locator(f"#row-{ticket_id} a.control-badge.plain")).to_have_text("Agent")
    page.keyboard.press("s")
    expect(page.get_by_role("menu", name=re.compile(r"^Status of"))).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("menu")).to_have_count(0)
    page.locator("h1").click()  # the focus leaves the badge; the row stays selected
    page.keyboard.press("n")
    box = page.locator(f"#expand-{ticket_id} form.reply-box")
    expect(box.get_by_label("Internal note")).to_be_checked()
    expect(box.locator("textarea")).to_be_focused()
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    page.keyboard.press("/")
    expect(page.get_by_role("searchbox", name="Search")).to_be_focused()
    assert page.console_errors == []


def test_internal_note_toggle_changes_the_box_before_sending(page, world, live_server):
    """Ticking "Internal note" recolours the box and relabels the button."""
    open_queue(page, world)
    ticket_id = world.tickets["bob"]
    expand(page, ticket_id)
    box = page.locator(f"#expand-{ticket_id} form.reply-box")
    button = box.locator("button.primary")
    expect(button).to_have_text("Send reply", use_inner_text=True)
    public_colour = box.evaluate("el => getComputedStyle(el).backgroundColor")
    box.get_by_label("Internal note").check()
    expect(button).to_have_text("Add internal note", use_inner_text=True)
    assert box.evaluate("el => getComputedStyle(el).backgroundColor") != public_colour


def test_reply_with_a_status_change_updates_thread_and_row(page, world, live_server):
    """Send a reply choosing On hold: the thread shows it and the queue row follows."""
    open_queue(page, world)
    ticket_id = world.tickets["bob"]
    expand(page, ticket_id)
    box = page.locator(f"#expand-{ticket_id} form.reply-box")
    box.locator("textarea").fill("We are waiting for the vendor's **part**.")
    box.get_by_label("Status after sending").select_option("on_hold")
    box.locator("button.primary").click()
    ticket = page.locator(f"#ticket-{ticket_id}")
    expect(ticket.locator(".timeline")).to_contain_text("We are waiting for the vendor's part.")
    expect(ticket.locator(".timeline")).to_contain_text("set the status to On hold")
    expect(ticket.locator("form.reply-box textarea")).to_have_value("")
    expect(page.locator(f"#row-{ticket_id} a.control-badge[class*=status-]")).to_contain_text(
        "On hold")
    assert page.console_errors == []


def test_failed_reply_keeps_the_text_in_the_browser(page, world, live_server):
    """Resolving from an internal note is refused; the typed text stays in the box."""
    open_queue(page, world)
    ticket_id = world.tickets["bob"]
    expand(page, ticket_id)
    box = page.locator(f"#expand-{ticket_id} form.reply-box")
    box.get_by_label("Internal note").check()
    box.locator("textarea").fill("Half-written thoughts")
    box.get_by_label("Status after sending").select_option("resolved")
    box.locator("button.primary").click()
    expect(page.locator(f"#expand-{ticket_id} [role=alert]")).to_contain_text("public reply")
    expect(page.locator(f"#expand-{ticket_id} form.reply-box textarea")).to_have_value(
        "Half-written thoughts")


def _header_edges(page):
    return [box["x"] for box in (th.bounding_box() for th in page.locator("thead th").all())]


def test_row_status_changes_with_one_click_and_one_choice(page, world, live_server):
    """A click on the status badge opens its menu over the rows (no column moves), with the
    current status checked and focused; one click on a choice applies it in place."""
    open_queue(page, world)
    ticket_id = world.tickets["zed"]
    page.get_by_label(re.compile(r"^Status of TKT-\d+: Open")).first.wait_for()
    edges = _header_edges(page)
    page.locator(f"#row-{ticket_id} a.control-badge[class*=status-]").click()
    menu = page.get_by_role("menu", name=re.compile(r"^Status of TKT-"))
    expect(menu.get_by_role("menuitemradio", name="Open")).to_be_focused()
    expect(menu.get_by_role("menuitemradio", name="Open")).to_have_attribute("aria-checked",
                                                                            "true")
    assert _header_edges(page) == edges
    menu.get_by_role("menuitemradio", name="Waiting on vendor").click()
    expect(page.locator(f"#row-{ticket_id} a.control-badge[class*=status-]")).to_have_text(
        "Waiting on vendor")
    expect(page.get_by_role("menu")).to_have_count(0)
    expect(page).to_have_url(live_server + "/tickets")
    assert page.console_errors == []


def test_row_menus_close_on_escape_and_a_click_elsewhere(page, world, live_server):
    """Esc closes a menu (focus back on its badge), a click elsewhere closes it without
    opening the row; priority is one click and one choice too."""
    open_queue(page, world)
    ticket_id = world.tickets["zed"]
    badge = page.locator(f"#row-{ticket_id} a.control-badge[class*=priority-]")
    badge.click()
    expect(page.get_by_role("menu")).to_have_count(1)
    page.keyboard.press("Escape")
    expect(page.get_by_role("menu")).to_have_count(0)
    expect(badge).to_be_focused()
    badge.click()
    expect(page.get_by_role("menu")).to_have_count(1)
    page.locator(f"#row-{ticket_id} td").nth(3).click()  # the category cell of the same row
    expect(page.get_by_role("menu")).to_have_count(0)
    expect(page.locator(f"#expand-{ticket_id}")).to_have_count(0)
    badge.click()
    page.get_by_role("menuitemradio", name="Urgent").click()
    expect(badge).to_have_text("Urgent")
    assert page.console_errors == []


def test_row_assignee_menu_lists_staff_and_the_tickets_reseller_users(page, world, live_server):
    """Every person who can take the ticket: the staff and its reseller's users, no one else."""
    open_queue(page, world)
    ticket_id = world.tickets["alice"]  # a North reseller ticket
    page.locator(f"#row-{ticket_id} a.control-badge.plain").click()
    menu = page.get_by_role("menu", name=re.compile(r"^Assignee of TKT-"))
    # The menu arrives by htmx: wait for it before reading its items (all_inner_texts
    # does not wait).
    expect(menu.get_by_role("menuitemradio").first).to_be_visible()
    names = menu.get_by_role("menuitemradio").all_inner_texts()
    assert "Unassigned" in names[0] and any("North" in name for name in names)
    assert not any("South" in name for name in names)
    menu.get_by_role("menuitemradio", name=re.compile("North")).first.click()
    expect(page.locator(f"#row-{ticket_id} a.control-badge.plain")).to_contain_text("North")


def test_a_change_in_one_view_appears_in_another_without_losing_a_draft(
        app, browser, page, world, live_server):
    """The subscriber comments in the portal; the agent's open ticket shows it at its next
    poll while the agent's half-written reply stays as typed."""
    app.config["TICKET_POLL_SECONDS"] = 1  # the poll comes sooner; nothing else changes
    ticket_id = world.tickets["alice"]
    sign_in(page, "agent@test.example", PASSWORD)
    page.goto(f"/tickets/{ticket_id}")
    draft = page.locator("form.reply-box textarea")
    draft.fill("Half-written answer")
    customer = browser.new_context(base_url=live_server)
    try:
        other = customer.new_page()
        sign_in(other, "alice@test.example", PASSWORD)
        other.goto(f"/portal/tickets/{ticket_id}")
        other.get_by_label("Add a comment").fill("It works again after the reboot")
        other.get_by_role("button", name="Send comment").click()
        expect(other.locator(".timeline")).to_contain_text("It works again")
    finally:
        customer.close()
    expect(page.locator(".timeline")).to_contain_text("It works again after the reboot",
                                                      timeout=3_000)
    expect(draft).to_have_value("Half-written answer")


def test_saving_a_view_saves_the_filters_on_screen(page, world, live_server):
    """Filter in place (no reload), save the view: its link carries those filters."""
    open_queue(page, world)
    page.get_by_label("Priority", exact=True).select_option("urgent")
    expect(page).to_have_url(re.compile(r"priority=urgent"))
    expect(page.locator("#queue-results")).to_contain_text("No tickets match.")
    page.get_by_placeholder("Name this view").fill("Urgent only")
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Save view").click()
    expect(page.get_by_role("link", name="Urgent only")).to_have_attribute(
        "href", re.compile(r"priority=urgent"))


def test_preview_renders_markdown_in_place(page, world, live_server):
    """Preview goes through the server's Markdown module and shows under the box."""
    open_queue(page, world)
    ticket_id = world.tickets["bob"]
    expansion = expand(page, ticket_id)
    expansion.locator("form.reply-box textarea").fill("Try **this** <script>x</script>")
    expansion.get_by_role("button", name="Preview").click()
    preview = expansion.locator(f"#preview-{ticket_id}")
    expect(preview.locator("strong")).to_have_text("this")
    expect(preview.locator("script")).to_have_count(0)


def test_hand_off_from_the_expanded_ticket(page, world, live_server):
    """Pick the next person, write the note: reassigned, and the note is in the thread."""
    open_queue(page, world)
    ticket_id = world.tickets["alice"]
    expansion = expand(page, ticket_id)
    expansion.locator("details.handoff summary").click()
    expansion.get_by_label("Hand over to").select_option(label="Admin")
    expansion.get_by_label("Note for the next shift (internal)").fill("Call back at 17:00")
    expansion.get_by_role("button", name="Hand off").click()
    ticket = page.locator(f"#ticket-{ticket_id}")
    expect(ticket.locator(".internal-note").last).to_contain_text("Call back at 17:00")
    expect(ticket.get_by_label("Assignee", exact=True)).to_have_value(str(world.users["admin"]))
    expect(page.locator(f"#row-{ticket_id}")).to_contain_text("Admin")


def test_attach_a_file_from_the_reply_box(page, world, live_server):
    """A file chosen in the reply box is sent with the reply and listed under it."""
    open_queue(page, world)
    ticket_id = world.tickets["bob"]
    expansion = expand(page, ticket_id)
    expansion.locator("form.reply-box textarea").fill("Config attached")
    expansion.locator("form.reply-box input[type=file]").set_input_files(
        {"name": "router.cfg", "mimeType": "text/plain", "buffer": b"wan=dhcp\n"})
    expansion.locator("form.reply-box button.primary").click()
    link = page.locator(f"#ticket-{ticket_id} .attachments a", has_text="router.cfg")
    expect(link).to_be_visible()
    expect(link).to_have_attribute("href", re.compile(rf"/tickets/{ticket_id}/attachments/\d+"))
