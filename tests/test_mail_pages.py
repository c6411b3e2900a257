"""The pages of email to tickets: incoming mail for admins (/admin/mail/inbound), and on
the desk, a ticket from an unknown sender with the form that attaches it to a customer."""

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import InboundMessage, Ticket
from helpdesk.services import mail_intake, mail_senders
from tests.admin_pages import audit_entries, post
from tests.mail_kit import DESK_ADDRESS, MALFORMED, message


@pytest.fixture(autouse=True)
def desk_address(app):
    """The desk writes from desk@test.example: its Message-IDs are @test.example."""
    app.config["MAIL_FROM"] = f"Help Desk <{DESK_ADDRESS}>"


def take_in(app, raw):
    """Hand a message to the intake; ``(row id, ticket id)``."""
    with app.app_context():
        row = mail_intake.take_in(raw, source="mta")
        return row.id, row.ticket_id


@pytest.mark.parametrize("who", ["agent", "north_reseller", "alice", "carol"])
def test_incoming_mail_is_for_admins_only(client, auth, world, who):
    auth.login(f"{who}@test.example")
    assert client.get("/admin/mail/inbound").status_code == 404
    assert client.get("/admin/mail/inbound/1/raw").status_code == 404


def test_a_failed_message_is_shown_to_admins_to_retry_or_discard(app, client, auth, world):
    failed_id, _ = take_in(app, MALFORMED)
    ignored_id, _ = take_in(app, message(subject="Away", headers={"X-Autoreply": "yes"}))
    auth.login("admin@test.example")
    page = client.get("/admin/mail/inbound").text  # the failed ones first
    assert f'id="inbound-{failed_id}"' in page and "Not taken in" in page
    assert "no sender address" in page and "Retry" in page
    assert f'id="inbound-{ignored_id}"' not in page
    ignored = client.get("/admin/mail/inbound?state=ignored").text
    assert f'id="inbound-{ignored_id}"' in ignored and "X-Autoreply" in ignored
    raw = client.get(f"/admin/mail/inbound/{failed_id}/raw")
    assert raw.data == MALFORMED and "attachment" in raw.headers["Content-Disposition"]
    assert raw.headers["Content-Type"] == "application/octet-stream"
    answer = post(client, f"/admin/mail/inbound/{failed_id}/retry", page="/admin/mail/inbound")
    assert answer.status_code == 303
    assert "failed again" in client.get(answer.headers["Location"]).text
    answer = post(client, f"/admin/mail/inbound/{failed_id}/discard",
                  page="/admin/mail/inbound")
    assert answer.status_code == 303
    with app.app_context():
        assert db.session.get(InboundMessage, failed_id).state == "discarded"
    assert post(client, f"/admin/mail/inbound/{failed_id}/discard",
                page="/admin/mail/inbound").status_code == 404
    assert [entry[4] for entry in audit_entries(app, "mail.discard")] == [str(failed_id)]
    assert "discarded incoming message" in client.get("/admin/audit").text
    assert client.get("/admin/mail/inbound?state=nonsense").status_code == 404


def test_a_ticket_from_an_unknown_sender_is_attached_to_a_customer(app, client, auth, world):
    _, ticket_id = take_in(app, message(sender="Neu <neu@elsewhere.example>",
                                        subject="Anschluss kaputt"))
    auth.login("agent@test.example")
    with app.app_context():
        placeholder = mail_senders.unknown_sender_id()
    queue = client.get(f"/tickets?customer={placeholder}").text
    assert "Anschluss kaputt" in queue
    page = client.get(f"/tickets/{ticket_id}").text
    assert "From an unknown sender" in page and "neu@elsewhere.example" in page
    assert "Email from Neu" in page and "mailto:neu@elsewhere.example" in page
    wrong = post(client, f"/tickets/{ticket_id}/customer", {"customer": "nobody@x.example"},
                 page=f"/tickets/{ticket_id}", htmx=True)
    assert wrong.status_code == 422 and "No customer has the email" in wrong.text
    answer = post(client, f"/tickets/{ticket_id}/customer", {"customer": "ZED@test.example"},
                  page=f"/tickets/{ticket_id}")
    assert answer.status_code == 303
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        assert ticket.subscriber_id == world.users["zed"]
    page = client.get(f"/tickets/{ticket_id}").text
    assert "From an unknown sender" not in page and "moved the ticket to" in page
    again = post(client, f"/tickets/{ticket_id}/customer", {"customer": "zed@test.example"},
                 page=f"/tickets/{ticket_id}")
    assert again.status_code == 422 and "already belongs" in again.text


def test_a_reseller_cannot_give_a_ticket_to_another_resellers_customer(app, client, auth,
                                                                       world):
    _, ticket_id = take_in(app, message(sender="x@elsewhere.example", subject="Flagged"))
    auth.login("north_all@test.example")  # sees every ticket, may reply, not edit
    answer = post(client, f"/tickets/{ticket_id}/customer", {"customer": "bob@test.example"},
                  page=f"/tickets/{ticket_id}")
    assert answer.status_code == 403
    with app.app_context():
        assert mail_senders.is_flagged(db.session.get(Ticket, ticket_id))


def test_files_left_out_are_noted_for_staff_not_customers(app, client, auth, world):
    app.config["MAX_ATTACHMENT_MB"] = 1
    ticket_id = world.tickets["alice"]
    inbound_id, _ = take_in(app, message(
        subject=f"Re: [TKT-{ticket_id}] dump", body="Here is the dump.",
        files=[("dump.bin", b"\1" * (1024 * 1024 + 1), "application/octet-stream")]))
    auth.login("agent@test.example")
    page = client.get(f"/tickets/{ticket_id}").text
    assert "dump.bin (1.0 MB) was not attached" in page
    with app.app_context():
        assert db.session.scalar(select(InboundMessage.raw).where(
            InboundMessage.id == inbound_id)) is not None
    auth.logout()
    auth.login("alice@test.example")
    portal = client.get(f"/portal/tickets/{ticket_id}").text
    assert "Here is the dump." in portal and "was not attached" not in portal


def test_the_tabs_count_up_to_a_cap_however_much_mail_there_is(app, client, auth, world,
                                                               monkeypatch):
    """A mailbox of years holds millions of messages: each tab counts up to ``COUNT_CAP``
    and then says "more than that"."""
    from helpdesk.services import inbound_mail

    monkeypatch.setattr(inbound_mail, "COUNT_CAP", 2)
    for n in range(3):
        take_in(app, message(subject=f"Away {n}", headers={"X-Autoreply": "yes"}))
    take_in(app, MALFORMED)
    with app.app_context():
        assert inbound_mail.counts()["ignored"] == 3  # counted to the cap and one past it
        assert inbound_mail.counts()["failed"] == 1
    auth.login("admin@test.example")
    page = client.get("/admin/mail/inbound").text
    assert 'Ignored <span class="count">2+</span>' in page
    assert 'Not taken in <span class="count">1</span>' in page
