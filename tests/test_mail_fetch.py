"""Email to tickets through a real mailbox: a private dovecot on loopback
(``tests.imap_server``), fetched by the cron job's own code (``services.mail_fetch``), and a
real SMTP server (aiosmtpd) for the notifications a customer answers."""

import email
import email.policy
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rq.cron import CronScheduler
from sqlalchemy import create_engine, select, text

from helpdesk.extensions import db
from helpdesk.models import Attachment, InboundMessage, Reply, Ticket, User
from helpdesk.models.timestamps import utcnow
from helpdesk.queues import get_queue, get_redis
from helpdesk.services import mail_fetch, mail_intake, mail_senders, replies
from jobs.mail_intake import fetch_mail
from jobs.worker import make_worker
from tests.mail_kit import (
    DESK_ADDRESS,
    MALFORMED,
    bounce,
    count,
    message,
    replies_of,
    tickets_with_subject,
)
from tests.outbox import run_worker


class Killed(BaseException):
    """The process died here (not an error anything would catch)."""


@pytest.fixture(autouse=True)
def desk_address(app):
    """The desk writes from desk@test.example: its Message-IDs are @test.example."""
    app.config["MAIL_FROM"] = f"Help Desk <{DESK_ADDRESS}>"


def test_every_kind_of_message_through_the_mailbox(app, world, mailbox):
    """One fetch of a mailbox holding one message of each kind; a second fetch finds
    nothing to do."""
    alice_ticket, erin_ticket = world.tickets["alice"], world.tickets["erin"]
    big = b"\x17" * (30 * 1024 * 1024)  # 30 MB: over the 25 MB cap of one attachment
    mailbox.append(
        message(subject="New: no internet", body="Nothing works since 9:00."),
        message(subject=f"RE: [TKT-{alice_ticket}] New reply: alice ticket",
                body="Still down.\r\n\r\nFrom: Help Desk <desk@test.example>\r\nSent: Tuesday"
                     "\r\nTo: Alice\r\nSubject: [TKT-1] New reply\r\n\r\nPlease restart it.\r\n"),
        message(subject=f"Automatic reply: [TKT-{alice_ticket}] New reply",
                body="I am out of office.", headers={"Auto-Submitted": "auto-replied"}),
        bounce(),
        message(subject=f"[TKT-{alice_ticket}] New reply: alice ticket",
                message_id="<notification.5.1790000000@test.example>"),
        message(subject=f"Re: [TKT-{alice_ticket}] capture", body="The capture, as asked.",
                files=[("capture.pcap", big, "application/octet-stream")]),
        MALFORMED,
        message(sender="someone@nowhere.example", subject="Price of fibre?"),
        message(sender="mallory@evil.example", subject=f"Re: [TKT-{alice_ticket}] give me"),
        message(sender="erin@test.example", subject=f"Re: [TKT-{erin_ticket}] still me"),
    )
    with app.app_context():
        erin = db.session.get(User, world.users["erin"])
        erin.disabled_at = utcnow()
        db.session.commit()
        before_replies = len(replies_of(alice_ticket))
        result = mail_fetch.fetch()
        assert (result.read, result.stored) == (10, 10)
        assert result.states == {"processed": 6, "ignored": 3, "failed": 1}
        [new] = tickets_with_subject("New: no internet")
        assert new.subscriber_id == world.users["alice"]
        thread = replies_of(alice_ticket)[before_replies:]
        assert [r.body for r in thread] == ["Still down.", "The capture, as asked."]
        big_row = db.session.scalar(select(InboundMessage).where(
            InboundMessage.reply_id == thread[1].id))
        assert "capture.pcap (30.0 MB) was not attached" in big_row.notes
        assert len(big_row.raw) > 30 * 1024 * 1024  # kept whole, file and all
        assert db.session.scalar(select(Attachment.id).where(
            Attachment.reply_id == thread[1].id)) is None
        failed = db.session.scalars(select(InboundMessage).where(
            InboundMessage.state == "failed")).all()
        # As the server keeps it (IMAP servers mend NULs and bare line feeds).
        assert [b"no headers, no sender" in row.raw for row in failed] == [True]
        unknown = db.session.scalars(select(InboundMessage).where(
            InboundMessage.unknown_sender.is_(True)).order_by(InboundMessage.id)).all()
        assert [row.from_address for row in unknown] == [
            "someone@nowhere.example", "mallory@evil.example", "erin@test.example"]
        assert all(mail_senders.is_flagged(row.ticket) for row in unknown)
        assert erin_ticket not in {row.ticket_id for row in unknown}
        assert mailbox.unseen() == 0 and mailbox.count() == 10  # seen, never deleted
        again = mail_fetch.fetch()
        assert (again.read, again.stored, again.states) == (0, 0, {})


def test_a_subscriber_answers_a_notification_and_the_thread_continues(app, world, client,
                                                                       auth, inbox, mailbox):
    """The agent's reply reaches Alice through the real notification path; she answers it
    from her mail client (quoting it); her answer lands on the ticket, quote cut, and the
    portal shows it."""
    ticket_id = world.tickets["alice"]
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        agent = db.session.get(User, world.users["agent"])
        replies.add_reply(ticket, author=agent, body="Please restart the router.")
    run_worker(app)
    [sent] = inbox.raw_to("alice@test.example")
    notification = email.message_from_bytes(sent, policy=email.policy.default)
    quoted = "\n".join("> " + line for line in
                       notification.get_body(("plain",)).get_content().splitlines())
    answer = message(
        subject="Re: " + notification["Subject"],
        body=f"Restarted it, all green now. Thanks!\n\nOn Tue, 24 Nov 2026 at 10:00, "
             f"Help Desk <{DESK_ADDRESS}> wrote:\n{quoted}\n",
        headers={"In-Reply-To": notification["Message-ID"],
                 "References": f"{notification['References']} {notification['Message-ID']}"})
    mailbox.append(answer)
    with app.app_context():
        result = mail_fetch.fetch()
        assert result.tickets == [ticket_id]
        last = replies_of(ticket_id)[-1]
        assert last.author_id == world.users["alice"]
        assert last.body == "Restarted it, all green now. Thanks!"
        assert db.session.get(Ticket, ticket_id).status == "open"
    auth.login("alice@test.example")
    page = client.get(f"/portal/tickets/{ticket_id}").text
    assert "Restarted it, all green now." in page
    assert "&gt; Please restart" not in page and "wrote:" not in page


@pytest.mark.parametrize("where", ["after storing", "after marking seen"])
def test_a_fetch_killed_halfway_and_run_again_makes_nothing_twice(app, world, mailbox,
                                                                   monkeypatch, where):
    """The run dies after the first message is stored (before the mailbox hears it was
    read), or after it is marked seen (before it is acted on); the next run makes each
    ticket once."""
    subjects = [f"Killed run {where} {n}" for n in range(4)]
    mailbox.append(*(message(subject=s) for s in subjects))
    calls = []
    if where == "after storing":
        real = mail_fetch.MailBoxUnencrypted.flag

        def dies(self, *args, **kwargs):
            calls.append(1)
            raise Killed

        monkeypatch.setattr(mail_fetch.MailBoxUnencrypted, "flag", dies)
    else:
        real = mail_intake.process

        def dies(inbound_id):
            calls.append(inbound_id)
            raise Killed

        monkeypatch.setattr(mail_intake, "process", dies)
    with app.app_context():
        with pytest.raises(Killed):
            mail_fetch.fetch()
        assert count(InboundMessage) >= 1 and calls
        assert all(not tickets_with_subject(s) for s in subjects)
        target = mail_fetch.MailBoxUnencrypted if where == "after storing" else mail_intake
        monkeypatch.setattr(target, "flag" if where == "after storing" else "process", real)
        assert not get_redis().exists(mail_fetch.LOCK_NAME)  # the dead run let go
        mail_fetch.fetch()
        assert [len(tickets_with_subject(s)) for s in subjects] == [1, 1, 1, 1]
        assert mailbox.unseen() == 0
        mail_fetch.fetch()
        assert [len(tickets_with_subject(s)) for s in subjects] == [1, 1, 1, 1]


def test_one_fetch_at_a_time(app, world, mailbox):
    mailbox.append(message(subject="Waits for the lock"))
    with app.app_context():
        lock = get_redis().lock(mail_fetch.LOCK_NAME, timeout=30)
        assert lock.acquire(blocking=False)
        with pytest.raises(mail_fetch.FetchBusy):
            mail_fetch.fetch()
        assert fetch_mail() == "another mail fetch is under way"
        lock.release()
        assert fetch_mail() == "read 1 message, 1 new: 1 processed"


def test_the_cron_job_fetches_every_minute_when_a_mailbox_is_set(app, world, mailbox):
    mailbox.append(message(subject="Through cron"))
    with app.app_context():
        scheduler = CronScheduler(connection=get_redis())
        scheduler.load_config_from_file("jobs.cron")
        registered = {job.func_name: job for job in scheduler.get_jobs()}
        assert registered["jobs.mail_intake.fetch_mail"].interval == 60
        scheduler.enqueue_jobs()
        assert get_queue("default").count >= 1
    make_worker(app, queues=["default"], simple=True).work(burst=True)
    with app.app_context():
        assert len(tickets_with_subject("Through cron")) == 1
        app.config["IMAP_HOST"] = None
        scheduler = CronScheduler(connection=get_redis())
        scheduler.load_config_from_file("jobs.cron")
        assert "jobs.mail_intake.fetch_mail" not in {j.func_name for j in scheduler.get_jobs()}


def test_flask_mail_fetch_runs_once_in_the_foreground(app, world, mailbox, runner):
    mailbox.append(message(subject="From the command line"))
    result = runner.invoke(args=["mail", "fetch"])
    assert result.exit_code == 0, result.output
    assert "Read 1 message, 1 new: 1 processed." in result.output
    with app.app_context():
        assert len(tickets_with_subject("From the command line")) == 1
    app.config["IMAP_HOST"] = None
    result = runner.invoke(args=["mail", "fetch"])
    assert result.exit_code != 0 and "IMAP_HOST is not set" in result.output


def test_a_wrong_password_fails_the_run_and_keeps_the_mail(app, world, mailbox):
    """The job fails (RQ retries it; admins see it at /admin/jobs); the mail stays unseen."""
    mailbox.append(message(subject="Wrong password"))
    app.config["IMAP_PASSWORD"] = "not-it"
    with app.app_context(), pytest.raises(Exception, match=r"(?i)auth"):
        mail_fetch.fetch()
    assert mailbox.unseen() == 1
    with app.app_context():
        assert not get_redis().exists(mail_fetch.LOCK_NAME)
        assert not db.session.scalar(select(Reply.id).where(Reply.body == "Wrong password"))


@pytest.mark.committed  # a second process reads and writes the database for real
def test_a_fetch_process_sigkilled_halfway_makes_nothing_twice(app, world, mailbox, tmp_path):
    """``flask mail fetch`` in a process of its own, killed (SIGKILL: nothing runs after it)
    as soon as its first message is committed; the next run takes in the rest, and every
    message is one ticket."""
    messages = 12
    log = b"line of a router log\n" * 100_000  # 2 MB each: a run long enough to cut short
    mailbox.append(*(message(subject=f"SIGKILL {n}", files=[("router.log", log, "text/plain")])
                     for n in range(messages)))
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    env = {**os.environ, **{key: str(value) for key, value in mailbox.settings().items()},
           "IMAP_SSL": "0", "DATABASE_URL": url, "REDIS_URL": app.config["REDIS_URL"],
           "HELPDESK_INSTANCE_PATH": str(tmp_path / "fetcher"), "SECRET_KEY": "kill-test",
           "MAIL_FROM": app.config["MAIL_FROM"]}
    root = Path(__file__).resolve().parent.parent
    process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "mail", "fetch"],
                               cwd=root, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    watcher = create_engine(url)
    try:
        deadline = time.monotonic() + 60
        stored = 0
        while time.monotonic() < deadline and process.poll() is None:
            with watcher.connect() as connection:
                stored = connection.scalar(text("SELECT count(*) FROM inbound_messages"))
            if stored:
                process.send_signal(signal.SIGKILL)
                break
            time.sleep(0.005)
        process.wait(timeout=30)
        assert process.returncode == -signal.SIGKILL, "the fetch ended before it was killed"
        with watcher.connect() as connection:
            made = connection.scalar(text(
                "SELECT count(*) FROM tickets WHERE subject LIKE 'SIGKILL %'"))
    finally:
        watcher.dispose()
    assert stored >= 1 and made < messages  # cut short halfway
    with app.app_context():
        # A killed run cannot let go of its lock: it lapses (LOCK_SECONDS); here, at once.
        assert get_redis().delete(mail_fetch.LOCK_NAME) == 1
        mail_fetch.fetch()
        counts = [len(tickets_with_subject(f"SIGKILL {n}")) for n in range(messages)]
        assert counts == [1] * messages
        assert count(InboundMessage) == messages
    assert mailbox.unseen() == 0
