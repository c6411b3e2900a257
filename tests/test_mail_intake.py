"""Email to tickets, message by message through the intake service (``services.mail_intake``):
what each kind of message becomes, and that each one is acted on once.

The same messages through a real mailbox are in ``test_mail_fetch.py``; here the bytes are
handed to the service as an MTA hands them to ``flask mail intake``.
"""

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Attachment, InboundMessage, Reply, Ticket, User
from helpdesk.models.timestamps import utcnow
from helpdesk.services import mail_intake, mail_senders, tickets
from helpdesk.services.mail_reading import strip_quoted_history
from tests.mail_kit import (
    DESK_ADDRESS,
    MALFORMED,
    bounce,
    count,
    message,
    replies_of,
    tickets_with_subject,
)

QUOTE = "On Tue, 24 Nov 2026 at 10:00, Help Desk <desk@test.example> wrote:\n> Please restart it.\n"


@pytest.fixture(autouse=True)
def desk_address(app):
    """The desk writes from desk@test.example: its Message-IDs are @test.example."""
    app.config["MAIL_FROM"] = f"Help Desk <{DESK_ADDRESS}>"


def take_in(raw):
    """Hand a message to the intake as the MTA does; its row."""
    return mail_intake.take_in(raw, source="mta")


def test_a_new_message_from_a_subscriber_opens_a_ticket_once(app_context, world):
    raw = message(subject="Fibre box dead", body="No lights at all since this morning.")
    row = take_in(raw)
    assert row.state == "processed" and row.reply_id is None
    ticket = db.session.get(Ticket, row.ticket_id)
    assert ticket.subscriber_id == world.users["alice"]
    assert ticket.subject == "Fibre box dead"
    assert "No lights at all" in ticket.body
    assert ticket.category.name == "General"
    assert ticket.opened_by_id is None
    assert row.raw is None  # processed whole: the ticket holds what it said
    again = take_in(raw)
    assert again.id == row.id and again.ticket_id == ticket.id
    assert len(tickets_with_subject("Fibre box dead")) == 1


def test_an_outlook_reply_lands_by_the_tag_with_the_quote_cut(app_context, world):
    ticket_id = world.tickets["alice"]
    outlook = ("Restarted, still red.\r\n\r\nFrom: Help Desk <desk@test.example>\r\n"
               "Sent: Tuesday, November 24, 2026 10:00 AM\r\nTo: Alice\r\n"
               f"Subject: [TKT-{ticket_id}] New reply: alice ticket\r\n\r\nPlease restart it.\r\n")
    row = take_in(message(subject=f"RE: [TKT-{ticket_id}] New reply: alice ticket",
                          body=outlook))
    assert row.state == "processed" and row.ticket_id == ticket_id
    reply = db.session.get(Reply, row.reply_id)
    assert reply.author_id == world.users["alice"] and not reply.internal
    assert reply.body == "Restarted, still red."
    assert db.session.get(Ticket, ticket_id).status == "open"


def test_a_reply_by_in_reply_to_our_thread_id(app_context, world):
    ticket_id = world.tickets["dave"]
    row = take_in(message(sender="dave@test.example", subject="Re: your ticket",
                          body="Thanks, works now.\n\n" + QUOTE,
                          headers={"In-Reply-To": f"<ticket.{ticket_id}@test.example>"}))
    assert row.ticket_id == ticket_id
    assert db.session.get(Reply, row.reply_id).body == "Thanks, works now."


def test_a_reply_to_a_message_we_received_lands_on_its_ticket(app_context, world):
    first = take_in(message(subject="Printer jam", message_id="<first@customer.example>"))
    second = take_in(message(subject="Re: Printer jam", body="Also the scanner.",
                             headers={"References": "<first@customer.example>"}))
    assert second.ticket_id == first.ticket_id and second.reply_id is not None


def test_html_only_mail_is_read_as_text(app_context, world):
    ticket_id = world.tickets["alice"]
    html = ("<html><body><p>It is <b>still</b> down.</p>"
            "<div>On Mon, Help Desk wrote:</div><blockquote><p>Please restart it.</p>"
            "</blockquote></body></html>")
    row = take_in(message(subject=f"Re: [TKT-{ticket_id}] x", body=None, html=html))
    body = db.session.get(Reply, row.reply_id).body
    assert "still" in body and "<b>" not in body and "Please restart" not in body


@pytest.mark.parametrize("headers", [
    {"Auto-Submitted": "auto-replied"},
    {"Auto-Submitted": "auto-generated; owner-email=x@y"},
    {"Precedence": "bulk"},
    {"Precedence": "auto_reply"},
    {"X-Autoreply": "yes"},
    {"X-Autorespond": "Out of office"},
    {"Return-Path": "<>"},
])
def test_machines_mail_never_opens_or_adds(app_context, world, headers):
    ticket_id = world.tickets["alice"]
    before = len(replies_of(ticket_id))
    row = take_in(message(subject=f"Out of office Re: [TKT-{ticket_id}] New reply",
                          body="I am away until Monday.", headers=headers))
    assert row.state == "ignored" and row.reason
    assert row.ticket_id is None and len(replies_of(ticket_id)) == before
    assert row.raw is not None  # kept, for whoever wants to read it


def test_auto_submitted_no_is_a_person(app_context, world):
    row = take_in(message(subject="Billing question", headers={"Auto-Submitted": "no"}))
    assert row.state == "processed"


def test_a_bounce_is_ignored(app_context, world):
    row = take_in(bounce())
    assert row.state == "ignored" and row.reason.startswith("bounce")
    postmaster = take_in(message(sender="postmaster@customer.example", subject="Delivery"))
    assert postmaster.state == "ignored" and "POSTMASTER" in postmaster.reason


def test_our_own_mail_coming_back_is_a_loop(app_context, world):
    ticket_id = world.tickets["alice"]
    ours = take_in(message(subject=f"[TKT-{ticket_id}] New reply: alice ticket",
                           message_id="<notification.77.1790000000@test.example>"))
    assert ours.state == "ignored" and ours.reason.startswith("loop")
    from_us = take_in(message(sender=DESK_ADDRESS, subject=f"[TKT-{ticket_id}] hello"))
    assert from_us.state == "ignored" and from_us.reason.startswith("loop")


def test_a_malformed_message_is_kept_for_admins(app_context, world):
    row = take_in(MALFORMED)
    assert row.state == "failed" and "sender" in row.reason
    assert row.raw == MALFORMED and row.message_key.startswith("sha256:")
    assert take_in(MALFORMED).id == row.id  # the same bytes are the same message
    admin = db.session.get(User, world.users["admin"])
    with pytest.raises(mail_intake.IntakeError):
        mail_intake.discard(row.id + 1000, actor=admin)
    assert mail_intake.retry(row.id, actor=admin).state == "failed"
    assert mail_intake.discard(row.id, actor=admin).state == "discarded"
    assert db.session.get(InboundMessage, row.id).raw == MALFORMED


def test_an_unknown_sender_opens_a_flagged_ticket(app_context, world):
    row = take_in(message(sender="Stranger <new.person@elsewhere.example>",
                          subject="Do you cover my street?"))
    assert row.state == "processed" and row.unknown_sender
    ticket = db.session.get(Ticket, row.ticket_id)
    assert mail_senders.is_flagged(ticket)
    assert ticket.subscriber.email == mail_senders.UNKNOWN_EMAIL
    assert mail_senders.sender_of(ticket) == "new.person@elsewhere.example"
    # Staff attach it to a customer: it becomes theirs.
    agent = db.session.get(User, world.users["agent"])
    zed = db.session.get(User, world.users["zed"])
    mail_senders.attach_sender(ticket, customer=zed, actor=agent)
    assert ticket.subscriber_id == zed.id and ticket.organisation_id == zed.organisation_id
    assert not mail_senders.is_flagged(ticket)


def test_a_stranger_using_a_tag_never_lands_on_the_ticket(app_context, world):
    ticket_id = world.tickets["alice"]
    before = len(replies_of(ticket_id))
    subject = f"Re: [TKT-{ticket_id}] New reply: alice ticket"
    stranger = take_in(message(sender="mallory@evil.example", subject=subject,
                               headers={"In-Reply-To": f"<ticket.{ticket_id}@test.example>"}))
    bob = take_in(message(sender="bob@test.example", subject=subject, body="Me too"))
    assert len(replies_of(ticket_id)) == before
    assert stranger.ticket_id != ticket_id and stranger.unknown_sender
    assert f"TKT-{ticket_id}" in stranger.notes
    bobs = db.session.get(Ticket, bob.ticket_id)
    assert bobs.id != ticket_id and bobs.subscriber_id == world.users["bob"]
    assert "may not reply" in bob.notes


def test_a_disabled_users_mail_is_not_accepted_as_them(app_context, world):
    erin = db.session.get(User, world.users["erin"])
    erin.disabled_at = utcnow()
    db.session.commit()
    ticket_id = world.tickets["erin"]
    row = take_in(message(sender="erin@test.example", subject=f"Re: [TKT-{ticket_id}] help"))
    assert row.ticket_id != ticket_id and row.unknown_sender
    assert db.session.get(Ticket, row.ticket_id).subscriber.email == mail_senders.UNKNOWN_EMAIL


def test_an_answer_to_a_closed_ticket_opens_a_new_one(app_context, world):
    ticket_id = world.tickets["zed"]
    agent = db.session.get(User, world.users["agent"])
    from helpdesk.services import replies
    ticket = db.session.get(Ticket, ticket_id)
    replies.add_reply(ticket, author=agent, body="Fixed.", status="closed")
    row = take_in(message(sender="zed@test.example", subject=f"Re: [TKT-{ticket_id}] thanks"))
    assert row.ticket_id != ticket_id and "closed" in row.notes
    assert db.session.get(Ticket, row.ticket_id).subscriber_id == world.users["zed"]


def test_an_attachment_over_the_cap_is_left_out_with_a_note(app_context, world, app):
    app.config["MAX_ATTACHMENT_MB"] = 1
    ticket_id = world.tickets["alice"]
    big = b"\0" * (1024 * 1024 + 10)
    small = b"%PDF-1.4 small invoice"
    row = take_in(message(subject=f"Re: [TKT-{ticket_id}] logs", body="Logs attached.",
                          files=[("capture.pcap", big, "application/octet-stream"),
                                 ("invoice.pdf", small, "application/pdf")]))
    assert row.state == "processed" and row.reply_id
    assert "capture.pcap" in row.notes and "not attached" in row.notes
    assert row.raw is not None  # kept whole: the file is still there for staff
    names = db.session.scalars(select(Attachment.filename).where(
        Attachment.reply_id == row.reply_id)).all()
    assert names == ["invoice.pdf"]


def test_a_refused_ticket_leaves_the_message_failed_not_lost(app_context, world, app,
                                                             monkeypatch):
    def broken(**_kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(mail_intake, "open_ticket", broken)
    before = count(Ticket)
    row = take_in(message(subject="Flaky"))
    assert row.state == "failed" and "database hiccup" in row.reason and row.raw
    assert count(Ticket) == before
    monkeypatch.setattr(mail_intake, "open_ticket", tickets.open_ticket)
    admin = db.session.get(User, world.users["admin"])
    again = mail_intake.retry(row.id, actor=admin)
    assert again.state == "processed" and again.ticket_id


def test_quoted_history_is_cut():
    assert strip_quoted_history("Yes.\n\n" + QUOTE) == "Yes."


def test_control_characters_never_reach_the_database(app_context, world):
    """A NUL (which PostgreSQL refuses in text) in any header or the body: read without it,
    never a message that fails on every run."""
    raw = (b"From: Al\x00ice <alice@test.example>\r\nTo: desk@test.example\r\n"
           b"Subject: Line\x00 down\x1b[31m\r\nMessage-ID: <nul\x00id@customer.example>\r\n"
           b"\r\nIt is\x00 down.\r\n")
    row = take_in(raw)
    assert row.state == "processed", row.reason
    assert row.message_key.startswith("sha256:")
    ticket = db.session.get(Ticket, row.ticket_id)
    assert ticket.subject == "Line down [31m" and ticket.body == "It is down."
    assert mail_senders.customer_by_email("alice\x00@test.example") is None
