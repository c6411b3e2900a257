"""Notifications for every ticket event: who is told, by which channel, what the mail says
and how it threads; never an internal note to a customer; the bell and /admin/mail.

Mail goes to a real SMTP server on loopback (``tests/outbox.py``) through the real worker.
"""

import re

from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.models import Category, InAppNotification, Notification, Ticket, User
from helpdesk.services import handoff, notification_preferences, replies, tickets
from helpdesk.services.notifications import notify, recipients_of_customer_reply
from jobs.notifications import send_notification
from tests.conftest import csrf_token_from
from tests.outbox import customer_writes, run_worker

NOTE = "SECRET-HANDOFF-NOTE call the cabinet team"


def get(app, model, key, world):
    return db.session.get(model, world.users[key] if model is User else world.tickets[key])


def open_for(app, world, who, subject="Router on fire"):
    """``who`` opens a ticket; returns its id."""
    with app.app_context():
        category = db.session.scalars(select(Category).order_by(Category.position)).first()
        ticket = tickets.open_ticket(subscriber=get(app, User, who, world), subject=subject,
                                     body="Help", category=category)
        return ticket.id


def in_app_rows(app, user_id, ticket_id):
    with app.app_context():
        return db.session.scalars(select(InAppNotification.kind).where(
            InAppNotification.user_id == user_id, InAppNotification.ticket_id == ticket_id)
            .order_by(InAppNotification.id)).all()


def plain(message):
    return message.get_body(("plain",)).get_content()


def html(message):
    return message.get_body(("html",)).get_content()


def test_opening_a_ticket_acknowledges_it_with_number_subject_and_portal_link(app, world, inbox):
    """The subscriber gets a mail quoting the number and subject, threaded on the ticket,
    and a bell entry; the subject's HTML is escaped in the HTML part."""
    ticket_id = open_for(app, world, "alice", subject="Router <b>on fire</b>")
    assert run_worker(app)
    [message] = inbox.to("alice@test.example")
    assert message["Subject"] == (
        f"[TKT-{ticket_id}] We received your request: Router <b>on fire</b>")
    assert f"TKT-{ticket_id}" in plain(message) and "Router <b>on fire</b>" in plain(message)
    assert f"https://desk.test.example/portal/tickets/{ticket_id}" in plain(message)
    assert "Router &lt;b&gt;on fire&lt;/b&gt;" in html(message)
    assert "<b>on fire</b>" not in html(message)
    assert message["In-Reply-To"] == message["References"] == f"<ticket.{ticket_id}@test.example>"
    assert re.fullmatch(r"<notification\.\d+\.\d+@test\.example>", message["Message-ID"])
    assert in_app_rows(app, world.users["alice"], ticket_id) == ["ticket_created"]


def test_a_staff_reply_reaches_the_subscriber_with_its_text_and_threads(app, world, inbox):
    """Each mail about one ticket has its own Message-ID and answers the same thread."""
    ticket_id = open_for(app, world, "alice")
    with app.app_context():
        replies.add_reply(db.session.get(Ticket, ticket_id), author=get(app, User, "agent", world),
                          body="Try the **blue** cable")
    run_worker(app)
    ack, reply = inbox.to("alice@test.example")
    assert reply["Subject"] == f"[TKT-{ticket_id}] New reply: Router on fire"
    assert "Support replied" in plain(reply) and "Try the **blue** cable" in plain(reply)
    assert "<strong>blue</strong>" in html(reply)  # the reply's sanitised HTML
    assert ack["Message-ID"] != reply["Message-ID"]
    assert {ack["In-Reply-To"], reply["In-Reply-To"], reply["References"]} == {
        f"<ticket.{ticket_id}@test.example>"}
    assert in_app_rows(app, world.users["alice"], ticket_id) == ["ticket_created", "public_reply"]


def test_no_internal_note_ever_reaches_a_subscriber(app, world, inbox):
    """A handoff (its note), an internal note and a public reply on Alice's ticket, and an SLA
    event with a note addressed to her too: her mailbox has the reply, never a note."""
    ticket_id = open_for(app, world, "alice")
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        admin, agent = get(app, User, "admin", world), get(app, User, "agent", world)
        handoff.hand_off(ticket, actor=admin, to_user=agent, note=NOTE)
        replies.add_reply(ticket, author=agent, body=world.internal_note_text, internal=True)
        replies.add_reply(ticket, author=agent, body="Public words")
        notify("sla_breached", ticket, [get(app, User, "alice", world), agent],
               key=f"sla-{ticket_id}", note=NOTE)
        db.session.commit()
    run_worker(app)
    alice_mail = b"".join(inbox.raw_to("alice@test.example"))
    assert b"Public words" in alice_mail
    assert NOTE.encode() not in alice_mail
    assert world.internal_note_text.encode() not in alice_mail
    assert in_app_rows(app, world.users["alice"], ticket_id) == ["ticket_created", "public_reply"]
    [assigned, breached] = inbox.to("agent@test.example")
    assert assigned["Subject"] == f"[TKT-{ticket_id}] Assigned to you: Router on fire"
    assert NOTE in plain(assigned) and NOTE in html(assigned)
    assert breached["Subject"] == f"[TKT-{ticket_id}] SLA breached: Router on fire"
    assert f"https://desk.test.example/tickets/{ticket_id}" in plain(breached)


def test_a_customer_reply_goes_to_the_assignee_else_the_resellers_users(app, world, inbox):
    """Unassigned North ticket: North's active reseller users who may see it; assigned: the
    assignee alone; an operator's customer with nobody assigned: nobody."""
    with app.app_context():
        ticket = db.session.get(Ticket, world.tickets["alice"])
        assert {u.email for u in recipients_of_customer_reply(ticket)} == {
            f"{key}@test.example" for key in (
                "north_reseller", "north_viewer", "north_all", "north_none")}
        assert recipients_of_customer_reply(db.session.get(Ticket, world.tickets["zed"])) == []
    customer_writes(app, world, world.tickets["alice"], body="Anyone there?")
    run_worker(app)
    # north_none may not see the ticket: left out.
    assert sorted(address for [address] in inbox.recipients) == [
        "north_all@test.example", "north_reseller@test.example", "north_viewer@test.example"]
    assert all("Anyone there?" in plain(message) for message in inbox.messages)
    with app.app_context():
        agent = get(app, User, "agent", world)
        tickets.assign(db.session.get(Ticket, world.tickets["alice"]), agent, actor=agent)
    customer_writes(app, world, world.tickets["alice"], body="Hello again")
    run_worker(app)
    assert inbox.recipients[3:] == [["agent@test.example"]]


def test_the_same_event_makes_one_notification_and_one_mail(app, world, inbox):
    """notify called twice with one key writes one row per channel; the job run twice
    sends once."""
    ticket_id = open_for(app, world, "alice")
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        agent = get(app, User, "agent", world)
        first = notify("sla_at_risk", ticket, [agent], key="sla-risk-1", note="80% used")
        db.session.commit()
        again = notify("sla_at_risk", ticket, [agent, agent], key="sla-risk-1", note="80% used")
        db.session.commit()
        assert len(first) == 1 and again == []
        count = db.session.scalar(select(func.count()).select_from(InAppNotification).where(
            InAppNotification.key == "sla-risk-1"))
        assert count == 1
        mail_id = first[0].id
    run_worker(app)
    with app.app_context():
        assert send_notification(mail_id) == "sent"
    assert len(inbox.to("agent@test.example")) == 1


def test_channels_chosen_on_the_profile_are_respected(app, client, auth, world, inbox):
    """Alice turns off mail for replies (keeping the bell) on her profile: a staff reply
    reaches her bell only; the change is audited."""
    auth.login("alice@test.example")
    page = client.get("/profile").text
    assert 'name="public_reply.email"' in page and 'name="assigned.email"' not in page
    answer = client.post("/profile/notifications", data={
        "csrf_token": csrf_token_from(page), "ticket_created.email": "on",
        "ticket_created.in_app": "on", "public_reply.in_app": "on"})
    assert answer.status_code == 302
    with app.app_context():
        alice = get(app, User, "alice", world)
        assert notification_preferences.channels_for(alice, "public_reply") == (
            notification_preferences.Channels(email=False, in_app=True))
        replies.add_reply(get(app, Ticket, "alice", world), author=get(app, User, "agent", world),
                          body="Mail-less answer")
    run_worker(app)
    assert inbox.to("alice@test.example") == []
    assert in_app_rows(app, world.users["alice"], world.tickets["alice"])[-1] == "public_reply"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.recipient_id == world.users["alice"],
            Notification.kind == "public_reply")) == 1  # the world's reply, not this one
    client.post("/logout", data={"csrf_token": csrf_token_from(client.get("/profile").text)})
    auth.login("admin@test.example")
    assert "changed their notifications" in client.get("/admin/audit").text


def test_the_bell_counts_lists_and_marks_read(app, client, auth, world):
    """The count fragment, the list, one marked read (and opened), all marked read; another
    person's notification is not found."""
    ticket_id = open_for(app, world, "alice")
    auth.login("alice@test.example")
    with app.app_context():
        unread = db.session.scalars(select(InAppNotification.id).where(
            InAppNotification.user_id == world.users["alice"],
            InAppNotification.read_at.is_(None)).order_by(InAppNotification.id)).all()
        others = db.session.scalar(select(InAppNotification.id).where(
            InAppNotification.user_id != world.users["alice"]))
    assert len(unread) >= 2
    bell = client.get("/notifications/bell", headers={"HX-Request": "true"}).text
    assert f'<span class="bell-count">{len(unread)}</span>' in bell
    page = client.get("/notifications").text
    assert f"TKT-{ticket_id}" in page and "We received your ticket" in page
    token = csrf_token_from(page)
    opened = client.post(f"/notifications/{unread[-1]}/read",
                         data={"csrf_token": token, "open": "1"})
    assert opened.status_code == 303
    assert opened.headers["Location"].endswith(f"/portal/tickets/{ticket_id}")
    bell = client.get("/notifications/bell").text
    assert f'<span class="bell-count">{len(unread) - 1}</span>' in bell
    if others is not None:
        assert client.post(f"/notifications/{others}/read",
                           data={"csrf_token": token}).status_code == 404
    assert client.post("/notifications/read", data={"csrf_token": token}).status_code == 303
    assert "bell-count" not in client.get("/notifications/bell").text
    assert client.post("/notifications/read", data={}).status_code == 400  # no CSRF token


def test_opening_a_ticket_reads_what_the_bell_said_of_it(app, client, auth, world):
    """The subscriber opens her new ticket in the portal, the agent a ticket in the desk:
    each one's notifications of that ticket are read, those of other tickets and of other
    people are not."""
    first = open_for(app, world, "alice", subject="First")
    second = open_for(app, world, "alice", subject="Second")

    def unread(user_key, ticket_id):
        with app.app_context():
            return db.session.scalar(select(func.count()).select_from(InAppNotification).where(
                InAppNotification.user_id == world.users[user_key],
                InAppNotification.ticket_id == ticket_id, InAppNotification.read_at.is_(None)))

    assert unread("alice", first) == unread("alice", second) == 1
    auth.login("alice@test.example")
    assert client.get(f"/portal/tickets/{first}").status_code == 200
    assert (unread("alice", first), unread("alice", second)) == (0, 1)
    auth.logout()
    with app.app_context():
        agent = get(app, User, "agent", world)
        notify("assigned", db.session.get(Ticket, second), [agent], key="test-open-reads")
        notify("assigned", db.session.get(Ticket, second),
               [get(app, User, "admin", world)], key="test-open-reads")
        db.session.commit()
    auth.login("agent@test.example")
    assert unread("agent", second) == 1
    assert client.get(f"/tickets/{second}", headers={"HX-Request": "true"}).status_code == 200
    assert unread("agent", second) == 0, "the inline expansion reads it too"
    assert unread("admin", second) == 1 and unread("alice", second) == 1


def test_the_bell_never_counts_a_ticket_out_of_scope(app, client, auth, world):
    """A deleted ticket's notifications leave the count and the list."""
    ticket_id = open_for(app, world, "alice", subject="Soon deleted")
    auth.login("alice@test.example")
    before = client.get("/notifications/bell").text
    with app.app_context():
        tickets.delete_ticket(db.session.get(Ticket, ticket_id),
                              actor=get(app, User, "admin", world))
    after = client.get("/notifications/bell").text
    count = re.compile(r'bell-count">(\d+)<')
    assert int(count.search(before).group(1)) == int(
        (count.search(after) or re.match(r"(\d+)", "0")).group(1)) + 1
    assert "Soon deleted" not in client.get("/notifications").text


def test_kept_notifications_are_shown_to_admins_only(app, client, auth, world):
    """No SMTP_HOST: the acknowledgement is kept and shown at /admin/mail, with its text;
    anyone but an admin is told the page does not exist."""
    app.config["SMTP_HOST"] = None
    ticket_id = open_for(app, world, "alice", subject="Kept for the admin")
    run_worker(app)
    auth.login("agent@test.example")
    assert client.get("/admin/mail").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token_from(client.get("/profile").text)})
    auth.login("admin@test.example")
    page = client.get("/admin/mail").text
    assert f"[TKT-{ticket_id}] We received your request: Kept for the admin" in page
    assert "alice@test.example" in page and "We received your ticket" in page
    assert client.get("/admin/mail?before=junk").status_code == 404


def test_kept_mail_narrows_by_kind_and_address(app, client, auth, world):
    """/admin/mail finds the acknowledgements among other mail: ``kind`` keeps one event
    (or account mail), ``to`` the addresses containing it (literally); a kind it does not
    know shows everything rather than failing."""
    app.config["SMTP_HOST"] = None
    ticket_id = open_for(app, world, "alice", subject="Narrowed for the admin")
    run_worker(app)
    auth.login("admin@test.example")
    subject = f"[TKT-{ticket_id}] We received your request: Narrowed for the admin"
    assert subject in client.get("/admin/mail?kind=ticket_created").text
    assert subject in client.get("/admin/mail?kind=ticket_created&to=ALICE@").text
    assert subject not in client.get("/admin/mail?kind=ticket_created&to=bob@").text
    assert subject not in client.get("/admin/mail?kind=account").text
    assert subject not in client.get("/admin/mail?kind=sla_breached").text
    assert subject in client.get("/admin/mail?kind=nonsense").text
    # "%" is a character to look for, not a wildcard: no address holds one.
    assert subject not in client.get("/admin/mail?to=%25").text
