"""``flask --app wsgi mail intake``: an MTA pipes one message in; the ticket's number comes
out, and the exit code tells the MTA what to do (sysexits.h)."""

import pytest

from helpdesk.extensions import db
from helpdesk.models import Ticket
from tests.mail_kit import DESK_ADDRESS, MALFORMED, message, tickets_with_subject


@pytest.fixture(autouse=True)
def desk_address(app):
    """The desk writes from desk@test.example: its Message-IDs are @test.example."""
    app.config["MAIL_FROM"] = f"Help Desk <{DESK_ADDRESS}>"


def test_a_piped_message_opens_a_ticket_and_prints_its_number(app, world, runner):
    raw = message(subject="Piped from Postfix")
    result = runner.invoke(args=["mail", "intake"], input=raw)
    assert result.exit_code == 0, result.output
    with app.app_context():
        [ticket] = tickets_with_subject("Piped from Postfix")
        number = ticket.number
    assert result.stdout.strip() == number
    again = runner.invoke(args=["mail", "intake"], input=raw)  # the MTA delivered it twice
    assert again.exit_code == 0 and again.stdout.strip() == number
    with app.app_context():
        assert len(tickets_with_subject("Piped from Postfix")) == 1


def test_a_piped_reply_prints_the_tickets_number(app, world, runner):
    ticket_id = world.tickets["alice"]
    result = runner.invoke(args=["mail", "intake"],
                           input=message(subject=f"Re: [TKT-{ticket_id}] x", body="Ok."))
    assert result.exit_code == 0
    with app.app_context():
        assert result.stdout.strip() == db.session.get(Ticket, ticket_id).number


def test_an_auto_reply_is_accepted_and_set_aside(app, world, runner):
    result = runner.invoke(args=["mail", "intake"], input=message(
        subject="Out of office", headers={"Auto-Submitted": "auto-replied"}))
    assert result.exit_code == 0 and result.stdout == ""
    assert "Ignored: auto-reply" in result.stderr


def test_an_unreadable_message_is_kept_and_exits_65(app, world, runner):
    result = runner.invoke(args=["mail", "intake"], input=MALFORMED)
    assert result.exit_code == 65
    assert "kept for admins at /admin/mail/inbound" in result.stderr


def test_nothing_on_standard_input_exits_65(app, world, runner):
    result = runner.invoke(args=["mail", "intake"], input=b"")
    assert result.exit_code == 65 and "No message on standard input" in result.stderr


@pytest.mark.committed  # an empty database, as on first start
def test_the_demo_shows_mail_taken_in(app, runner):
    """``seed-demo`` takes a few messages in through the intake: two from Alice, a flagged
    one from an unknown sender, an auto-reply set aside, one broken message for admins."""
    from sqlalchemy import select

    from helpdesk.models import InboundMessage

    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        rows = db.session.scalars(select(InboundMessage).order_by(InboundMessage.id)).all()
        assert [row.state for row in rows] == ["processed", "processed", "processed",
                                               "ignored", "failed"]
        assert [row.reply_id is not None for row in rows[:3]] == [False, True, False]
        assert [row.unknown_sender for row in rows[:3]] == [False, False, True]
