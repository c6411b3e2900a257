"""The staff desk over HTTP: replies, notes, inline controls, handoff, hubs, filters, views."""

import re

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import AuditEntry, Category, Reply, Ticket, User
from helpdesk.services import tickets
from tests.conftest import csrf_token_from
from tests.world import email

HX = {"HX-Request": "true"}


def post(client, path, data, headers=None):
    """POST with the CSRF token of the queue page."""
    token = csrf_token_from(client.get("/tickets", follow_redirects=True).text)
    return client.post(path, data={"csrf_token": token, **data}, headers=headers or {})


def ticket_of(app, world, key):
    with app.app_context():
        return db.session.get(Ticket, world.tickets[key])


def test_plain_reply_redirects_and_waits_on_customer(app, client, auth, world):
    """Without JavaScript: post, 303 back to the ticket, status moved, reply shown."""
    auth.login(email("agent"))
    response = post(client, f"/tickets/{world.tickets['bob']}/replies", {"body": "Try **this**"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/tickets/{world.tickets['bob']}"
    assert ticket_of(app, world, "bob").status == "waiting_on_customer"
    assert "Try <strong>this</strong>" in client.get(response.headers["Location"]).text


def test_htmx_reply_returns_the_fresh_fragment(client, auth, world):
    """With htmx: the ticket fragment with the new reply, an empty box, a row-refresh trigger."""
    auth.login(email("agent"))
    ticket_id = world.tickets["bob"]
    response = post(client, f"/tickets/{ticket_id}/replies", {"body": "Fragment reply"}, HX)
    assert response.status_code == 200
    assert "<html" not in response.text and "Fragment reply" in response.text
    assert re.search(r'<textarea[^>]*name="body"[^>]*></textarea>', response.text)
    assert response.headers["HX-Trigger"] == f"ticket-changed-{ticket_id}"


@pytest.mark.parametrize("headers", [{}, HX])
def test_failed_reply_keeps_the_typed_text(client, auth, world, headers):
    """A refused submission answers 422 with the error beside the box and the text kept."""
    auth.login(email("agent"))
    response = post(client, f"/tickets/{world.tickets['bob']}/replies",
                    {"body": "My long answer", "status": "resolved", "internal": "1"}, headers)
    assert response.status_code == 422
    assert "resolution is a public reply" in response.text
    assert "My long answer</textarea>" in response.text
    assert ("<html" in response.text) is (not headers)


def test_resolving_inline_without_a_resolution_is_refused(app, client, auth, world):
    """The status control cannot resolve without the closing reply; the reply box can."""
    auth.login(email("agent"))
    ticket_id = world.tickets["bob"]
    refused = post(client, f"/tickets/{ticket_id}/status", {"status": "resolved"}, HX)
    assert refused.status_code == 422 and "needs a resolution" in refused.text
    assert ticket_of(app, world, "bob").status == "open"
    post(client, f"/tickets/{ticket_id}/replies", {"body": "Fixed", "status": "resolved"}, HX)
    assert ticket_of(app, world, "bob").status == "resolved"


def test_inline_controls_in_the_row_answer_with_the_row(app, client, auth, world):
    """Status and assignee changed from the queue return the updated row."""
    auth.login(email("agent"))
    ticket_id = world.tickets["alice"]
    response = post(client, f"/tickets/{ticket_id}/assignee",
                    {"assignee": str(world.users["north_reseller"]), "view": "row"}, HX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith(f'<tr id="row-{ticket_id}"')
    assert ticket_of(app, world, "alice").assignee_id == world.users["north_reseller"]
    response = post(client, f"/tickets/{ticket_id}/status",
                    {"status": "on_hold", "view": "row"}, HX)
    assert 'status-on_hold control-badge">' in response.text
    control = client.get(f"/tickets/{ticket_id}/controls/assignee", headers=HX).text
    assert (f'value="{world.users["north_reseller"]}" role="menuitemradio" aria-checked="true"'
            in control)
    priority = client.get(f"/tickets/{ticket_id}/controls/priority", headers=HX).text
    assert 'value="normal" role="menuitemradio" aria-checked="true"' in priority
    response = post(client, f"/tickets/{ticket_id}/priority",
                    {"priority": "urgent", "view": "row"}, HX)
    assert 'priority-urgent control-badge">' in response.text


def test_internal_note_is_for_staff_eyes_only(client, auth, world):
    """A reseller's note shows in the desk, labelled, and never in the portal."""
    auth.login(email("north_reseller"))
    post(client, f"/tickets/{world.tickets['alice']}/replies",
         {"body": "Checked the DSLAM", "internal": "1"})
    assert "Checked the DSLAM" in client.get(f"/tickets/{world.tickets['alice']}").text
    auth.logout()
    auth.login(email("alice"))
    assert "Checked the DSLAM" not in client.get(f"/portal/tickets/{world.tickets['alice']}").text


@pytest.mark.parametrize(("key", "expected"), [
    ("south_reseller", 404),   # not in scope: never reveals the ticket
    ("alice", 404),            # customers have no desk actions
    ("north_viewer", 403),     # sees it, may not act
])
def test_actions_refused_for_the_wrong_people(app, client, auth, world, key, expected):
    """Every desk POST route refuses, and nothing changes."""
    auth.login(email(key))
    ticket_id = world.tickets["alice"]
    for path, data in [("replies", {"body": "x"}), ("status", {"status": "on_hold"}),
                       ("assignee", {"assignee": ""}), ("priority", {"priority": "urgent"}),
                       ("category", {"category": "1"}), ("handoff", {"assignee": "1",
                                                                     "body": "x"}),
                       ("delete", {})]:
        response = post(client, f"/tickets/{ticket_id}/{path}", data)
        assert response.status_code == expected, path
    ticket = ticket_of(app, world, "alice")
    assert (ticket.status, ticket.priority, ticket.deleted_at) == ("open", "normal", None)


def test_handoff_records_both_names_time_and_ip(app, client, auth, world):
    """Reassign plus internal note in one submission; the audit log has both names and the IP."""
    auth.login(email("agent"))
    ticket_id = world.tickets["alice"]
    missing = post(client, f"/tickets/{ticket_id}/handoff",
                   {"assignee": str(world.users["admin"]), "body": ""}, HX)
    assert missing.status_code == 422 and "needs a note" in missing.text
    done = post(client, f"/tickets/{ticket_id}/handoff",
                {"assignee": str(world.users["admin"]), "body": "Call back at 5"})
    assert done.status_code == 303
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "ticket.handoff")).one()
        assert entry.new_value == "Admin" and entry.actor_id == world.users["agent"]
        assert entry.ip == "127.0.0.1" and entry.created_at is not None
        note = db.session.scalars(select(Reply).where(Reply.body == "Call back at 5")).one()
        assert note.internal


def test_filters_narrow_the_queue(app, client, auth, world):
    """Priority, assignee (me, unassigned), customer, organisation, q and age filter."""
    auth.login(email("agent"))
    post(client, f"/tickets/{world.tickets['zed']}/priority", {"priority": "urgent"})
    post(client, f"/tickets/{world.tickets['bob']}/assignee",
         {"assignee": str(world.users["agent"])})

    def listed(query):
        html = client.get(f"/tickets?{query}").text
        return {key for key in world.tickets if f">{key} ticket<" in html}

    assert listed("priority=urgent") == {"zed"}
    assert listed("assignee=me") == {"bob"}
    assert "bob" not in listed("assignee=unassigned")
    assert listed(f"customer={world.users['dave']}") == {"dave"}
    with app.app_context():
        acme = db.session.get(User, world.users["dave"]).organisation_id
    assert listed(f"organisation={acme}") == {"carol", "dave", "erin"}
    assert listed("q=SECRET-INTERNAL-NOTE") == {"alice", "dave"}
    assert listed("age=over-month") == set()
    assert len(listed("age=today")) == 6
    assert listed("priority=urgent&sort=oldest") == {"zed"}


def test_counters_are_scoped(client, auth, world):
    """A reseller's counters count only what they may see."""
    auth.login(email("south_reseller"))
    html = client.get("/tickets/counters").text
    assert re.search(r'<span class="count">1</span> open', html)
    auth.logout()
    auth.login(email("agent"))
    assert re.search(r'<span class="count">6</span> open', client.get("/tickets/counters").text)


def test_saved_views_are_personal(client, auth, world):
    """Save the current filters under a name; only the owner sees or deletes it."""
    auth.login(email("agent"))
    response = post(client, "/tickets/views",
                    {"name": "Urgent", "query": "priority=urgent&after=x"})
    assert response.headers["Location"] == "/tickets?priority=urgent"
    html = client.get("/tickets").text
    assert ">Urgent</a>" in html
    view_id = re.search(r"/tickets/views/(\d+)/delete", html).group(1)
    auth.logout()
    auth.login(email("admin"))
    assert ">Urgent</a>" not in client.get("/tickets").text
    assert post(client, f"/tickets/views/{view_id}/delete", {}).status_code == 404
    auth.logout()
    auth.login(email("agent"))
    assert post(client, f"/tickets/views/{view_id}/delete", {}).status_code == 303
    assert ">Urgent</a>" not in client.get("/tickets").text


def test_customer_hubs_follow_the_scope(client, auth, world):
    """Staff open any hub; a reseller only their own customers'; customers none."""
    auth.login(email("agent"))
    hub = client.get(f"/customers/{world.users['dave']}").text
    assert "dave ticket" in hub and "New ticket" in hub
    auth.logout()
    auth.login(email("north_reseller"))
    assert client.get(f"/customers/{world.users['alice']}").status_code == 200
    assert client.get(f"/customers/{world.users['bob']}").status_code == 404
    assert client.get(f"/customers/{world.users['agent']}").status_code == 404
    auth.logout()
    auth.login(email("alice"))
    assert client.get(f"/customers/{world.users['alice']}").status_code == 302


def test_opening_a_ticket_for_a_subscriber(app, client, auth, world):
    """A reseller opens one for their subscriber, not for another reseller's."""
    auth.login(email("north_reseller"))
    form = client.get(f"/tickets/new?customer={world.users['alice']}").text
    assert 'value="alice@test.example"' in form
    data = {"subject": "Router swap", "category": "1", "priority": "high", "body": "Swap it"}
    refused = post(client, "/tickets/new", {"subscriber": email("bob"), **data})
    assert refused.status_code == 422 and "No subscriber you may open" in refused.text
    assert 'value="Router swap"' in refused.text
    done = post(client, "/tickets/new", {"subscriber": email("alice"), **data})
    assert done.status_code == 303
    with app.app_context():
        ticket = db.session.scalars(select(Ticket).where(Ticket.subject == "Router swap")).one()
        assert ticket.subscriber_id == world.users["alice"]
        assert ticket.reseller.name == "North" and ticket.priority == "high"


def test_delete_takes_the_ticket_out_of_every_list(app, client, auth, world):
    """Soft delete: gone from the queue and 404 on its page."""
    auth.login(email("agent"))
    ticket_id = world.tickets["zed"]
    assert post(client, f"/tickets/{ticket_id}/delete", {}).status_code == 303
    assert "zed ticket" not in client.get("/tickets").text
    assert client.get(f"/tickets/{ticket_id}").status_code == 404


def test_preview_goes_through_the_markdown_module(client, auth, world):
    """The preview is sanitised like stored replies."""
    auth.login(email("agent"))
    html = post(client, "/markdown/preview", {"body": "**b** <script>x</script>"}, HX).text
    assert "<strong>b</strong>" in html and "<script>" not in html


def test_reply_without_csrf_is_refused(app, client, auth, world):
    """State changes need the token, htmx included."""
    auth.login(email("agent"))
    response = client.post(f"/tickets/{world.tickets['bob']}/replies", data={"body": "x"},
                           headers=HX)
    assert response.status_code == 400
    assert ticket_of(app, world, "bob").status == "open"


def test_live_section_answers_204_until_something_changes(client, auth, world):
    """Polling costs nothing while the ticket is unchanged; a change returns the new section."""
    auth.login(email("agent"))
    ticket_id = world.tickets["bob"]
    first = client.get(f"/tickets/{ticket_id}/live", headers=HX)
    assert first.status_code == 200
    version = re.search(r"/live\?v=([\w-]+)", first.text).group(1)
    etag = first.headers["ETag"]
    assert client.get(f"/tickets/{ticket_id}/live?v={version}", headers=HX).status_code == 204
    assert client.get(f"/tickets/{ticket_id}/live",
                      headers={"If-None-Match": etag}).status_code == 304
    post(client, f"/tickets/{ticket_id}/replies", {"body": "Seen elsewhere"}, HX)
    changed = client.get(f"/tickets/{ticket_id}/live?v={version}", headers=HX)
    assert changed.status_code == 200 and "Seen elsewhere" in changed.text
    assert "<textarea" not in changed.text  # the reply box is never replaced


def test_queue_changes_swap_only_changed_rows(client, auth, world):
    """Rows on the page that changed come back out-of-band; others are counted."""
    auth.login(email("agent"))
    since = client.get("/tickets").text
    since = re.search(r'"since": "([^"]+)"', since).group(1)
    shown = [world.tickets["bob"], world.tickets["alice"]]
    query = f"/tickets/changes?since={since}&ids={shown[0]}&ids={shown[1]}"
    assert client.get(query.replace("+", "%2B"), headers=HX).status_code == 204
    post(client, f"/tickets/{world.tickets['bob']}/replies", {"body": "x"}, HX)
    post(client, f"/tickets/{world.tickets['zed']}/replies", {"body": "y"}, HX)
    response = client.get(query.replace("+", "%2B"), headers=HX)
    assert f'id="row-{world.tickets["bob"]}"' in response.text
    assert f'id="row-{world.tickets["alice"]}"' not in response.text
    assert "1 other ticket changed" in response.text


def test_queue_changes_count_new_tickets_of_the_view(app, client, auth, world):
    """A ticket opened since the page was drawn is counted as new when the view's filters
    match it ("1 new ticket. Show"), and not at all when they do not."""
    auth.login(email("agent"))
    page = client.get("/tickets?priority=urgent").text
    since = re.search(r'"since": "([^"]+)"', page).group(1)
    poll = re.search(r'<div id="queue-live" hx-get="([^"]+)"', page).group(1)
    assert "priority=urgent" in poll
    query = poll.replace("&amp;", "&") + "&since=" + since.replace("+", "%2B")
    assert client.get(query, headers=HX).status_code == 204
    with app.app_context():
        category = db.session.scalars(select(Category)).first()
        subscriber = db.session.get(User, world.users["zed"])
        for priority in ("urgent", "low"):
            tickets.open_ticket(subscriber=subscriber, subject=f"New {priority}", body="b",
                                category=category, priority=priority)
    answer = client.get(query, headers=HX).text
    assert "<strong>1 new ticket</strong>" in answer and ">Show</a>" in answer
    everything = client.get(f"/tickets/changes?since={since.replace('+', '%2B')}", headers=HX)
    assert "<strong>2 new tickets</strong>" in everything.text


def test_live_routes_are_scoped(client, auth, world):
    """Out of scope: 404; customers have no desk polling."""
    auth.login(email("south_reseller"))
    assert client.get(f"/tickets/{world.tickets['alice']}/live").status_code == 404
    auth.logout()
    auth.login(email("alice"))
    assert client.get(f"/tickets/{world.tickets['alice']}/live").status_code == 404


def test_reply_with_files_lands_together_or_not_at_all(app, client, auth, world):
    """Files ride along with the reply; one over the cap saves nothing and keeps the text."""
    import io

    app.config["MAX_ATTACHMENT_MB"] = 1
    auth.login(email("agent"))
    ticket_id = world.tickets["bob"]
    token = csrf_token_from(client.get("/tickets").text)
    big = client.post(f"/tickets/{ticket_id}/replies", headers=HX, data={
        "csrf_token": token, "body": "See the log",
        "attachments": [(io.BytesIO(b"x" * (1024 * 1024 + 1)), "huge.log")]})
    assert big.status_code == 422 and "huge.log" in big.text
    assert "See the log</textarea>" in big.text
    with app.app_context():
        assert not db.session.scalars(select(Reply).where(Reply.body == "See the log")).all()
    ok = client.post(f"/tickets/{ticket_id}/replies", headers=HX, data={
        "csrf_token": token, "body": "See the log",
        "attachments": [(io.BytesIO(b"line 1\n"), "modem.log")]})
    assert ok.status_code == 200
    link = re.search(r'href="(/tickets/\d+/attachments/\d+)"[^>]*>modem.log<', ok.text).group(1)
    download = client.get(link)
    assert download.data == b"line 1\n"
    assert download.headers["Content-Disposition"].startswith("attachment")
    auth.logout()
    auth.login(email("bob"))
    assert "modem.log" in client.get(f"/portal/tickets/{ticket_id}").text
    assert client.get(link).status_code == 200


@pytest.mark.parametrize("key", ["south_reseller", "north_none", "alice", "carol"])
def test_every_desk_read_route_hides_out_of_scope_tickets(client, auth, world, key):
    """Pages, fragments, rows, controls, live polling: 404 for a ticket outside the scope."""
    from tests.test_access import ALL, VISIBLE

    auth.login(email(key))
    for ticket_key in sorted(ALL - VISIBLE[key]):
        ticket_id = world.tickets[ticket_key]
        for path in (f"/tickets/{ticket_id}", f"/tickets/{ticket_id}/row",
                     f"/tickets/{ticket_id}/controls/status",
                     f"/tickets/{ticket_id}/controls/priority",
                     f"/tickets/{ticket_id}/controls/assignee",
                     f"/tickets/{ticket_id}/live", f"/tickets/{ticket_id}/attachments/1"):
            for headers in ({}, HX):
                assert client.get(path, headers=headers).status_code == 404, (path, headers)


def test_search_never_leaks_across_scopes(client, auth, world):
    """A reseller searching a word from another reseller's ticket finds nothing."""
    auth.login(email("south_reseller"))
    html = client.get("/tickets?q=alice").text
    assert "alice ticket" not in html and "No tickets match." in html
    assert "SECRET-INTERNAL-NOTE" not in client.get("/tickets?q=SECRET").text
