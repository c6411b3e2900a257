"""Delivering notifications: claimed once and sent once, however many workers; every
failure recorded and retried with back-off; the sweep picks up what was left behind."""

import smtplib
import threading
from datetime import timedelta

import pytest
from rq.job import Job
from sqlalchemy import text

from helpdesk.extensions import db
from helpdesk.models import Notification
from helpdesk.queues import get_queue, get_redis
from helpdesk.services.notifications import OUTBOX
from helpdesk.services.outbox import MAX_ATTEMPTS
from jobs.notifications import dispatch_stalled, send_notification
from tests.outbox import (
    Inbox,
    customer_writes,
    free_port,
    row,
    run_worker,
    start_mail_server,
)

# Claimed once, sent once -------------------------------------------------------------------

def test_a_claimed_notification_is_not_claimed_or_sent_again(app, world, assigned, inbox):
    """While one worker holds the row, a second run (RQ delivering twice) leaves it alone."""
    notification_id = customer_writes(app, world, assigned)
    with app.app_context():
        first = OUTBOX.claim(notification_id)
        assert first is not None and first.attempt == 1
        assert OUTBOX.claim(notification_id) is None
        assert send_notification(notification_id) == "sending"
    assert inbox.messages == []
    assert row(app, notification_id).attempts == 1


@pytest.mark.committed
def test_workers_sending_at_once_send_one_message(app, world, assigned, inbox):
    """Four workers run the same jobs at the same moment: each message goes out once.

    Each worker is a thread with its own app context, session and database connection, so it
    needs the rows committed where other connections see them.
    """
    notification_ids = [customer_writes(app, world, assigned, body=f"Still down ({n})")
                        for n in range(3)]
    start = threading.Barrier(4)
    results, errors = [], []

    def worker():
        start.wait()
        for notification_id in notification_ids:
            try:
                with app.app_context():
                    results.append(send_notification(notification_id))
            except Exception as error:  # noqa: BLE001 - reported by the assertion below
                errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(inbox.messages) == 3
    assert sorted(m.get_body(("plain",)).get_content().splitlines()[4]
                  for m in inbox.messages) == [
        "Still down (0)", "Still down (1)", "Still down (2)"]
    for notification_id in notification_ids:
        notification = row(app, notification_id)
        assert (notification.state, notification.attempts) == ("sent", 1)


@pytest.mark.committed
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_claim_waits_for_another_workers_claim(app, world, assigned):
    """PostgreSQL: a claim blocked on another worker's uncommitted claim then finds it taken.

    The other worker is a second connection holding the row's lock; this needs the row
    committed where that connection sees it.
    """
    notification_id = customer_writes(app, world, assigned)
    claimed = []
    with app.app_context(), db.engine.connect() as other_worker:
        other_worker.execute(text(
            "UPDATE notifications SET state = 'sending', attempts = attempts + 1"
            " WHERE id = :id AND state = 'queued'"), {"id": notification_id})

        def second_worker():
            with app.app_context():
                claimed.append(OUTBOX.claim(notification_id))

        thread = threading.Thread(target=second_worker)
        thread.start()
        waiting_on_the_lock = text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND query LIKE 'UPDATE notifications%'")
        with db.engine.connect() as observer:
            while not observer.execute(waiting_on_the_lock).scalar():
                assert thread.is_alive(), "the second claim did not wait for the first"
                observer.rollback()  # a fresh snapshot of pg_stat_activity
        other_worker.commit()
        thread.join()
    assert claimed == [None]
    assert row(app, notification_id).attempts == 1


# Failures are recorded; transient ones retried ----------------------------------------------

def test_a_dead_mail_server_is_retried_not_dropped(app, world, assigned):
    """The failure is recorded and the job scheduled again with back-off."""
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_STARTTLS=False)
    notification_id = customer_writes(app, world, assigned)
    run_worker(app)
    notification = row(app, notification_id)
    assert notification.state == "queued" and notification.attempts == 1
    assert "ConnectionRefusedError" in notification.last_error
    with app.app_context():
        job = Job.fetch(OUTBOX.send_job_id(notification_id), connection=get_redis())
        assert job.get_status() == "scheduled"
        assert job.retries_left == 4


@pytest.fixture(params=["refusing", "closed port"])
def unwilling_mail_server(request, app):
    """A mail server that answers every message with 451, or nothing listening at all."""
    if request.param == "closed port":
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_STARTTLS=False)
        yield "ConnectionRefusedError"
        return
    controller = start_mail_server(app, Inbox(refusal="451 4.3.0 Try again later"))
    yield "451"
    controller.stop()


def test_every_failed_attempt_is_recorded_then_the_last_fails(app, world, assigned,
                                                              unwilling_mail_server):
    """Queued with the error after each attempt, attempts counted; failed after the last."""
    notification_id = customer_writes(app, world, assigned)
    run_worker(app)  # the first attempt, by the worker
    for attempt in range(1, MAX_ATTEMPTS + 1):
        if attempt > 1:  # the retries, as RQ would run them after the back-off
            with app.app_context(), pytest.raises((smtplib.SMTPException, OSError)):
                send_notification(notification_id)
        notification = row(app, notification_id)
        assert notification.attempts == attempt
        assert unwilling_mail_server in notification.last_error
        assert notification.state == ("failed" if attempt == MAX_ATTEMPTS else "queued")
    with app.app_context():
        assert send_notification(notification_id) == "failed"
    assert row(app, notification_id).attempts == MAX_ATTEMPTS


# The sweep picks up what was left behind ---------------------------------------------------

def test_sweep_requeues_what_redis_missed(app, world, assigned, inbox):
    """A notification left queued (Redis was away) is sent by the periodic sweep."""
    notification_id = customer_writes(app, world, assigned)
    with app.app_context():
        get_queue("notifications").empty()  # as if the enqueue never reached Redis
        notification = db.session.get(Notification, notification_id)
        notification.created_at -= timedelta(minutes=5)
        db.session.commit()
        assert dispatch_stalled() == 1
    run_worker(app)
    assert len(inbox.messages) == 1
    assert row(app, notification_id).state == "sent"


def test_sweep_requeues_a_retry_whose_job_is_gone(app, world, assigned):
    """Queued after a failed attempt, its job lost from Redis: the sweep gives it a new one."""
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_STARTTLS=False)
    notification_id = customer_writes(app, world, assigned)
    run_worker(app)
    with app.app_context():
        notification = db.session.get(Notification, notification_id)
        notification.created_at -= timedelta(minutes=5)
        db.session.commit()
        assert dispatch_stalled() == 0  # its retry is scheduled: nothing to do
        Job.fetch(OUTBOX.send_job_id(notification_id), connection=get_redis()).delete()
        assert dispatch_stalled() == 1
    handler = Inbox()
    controller = start_mail_server(app, handler)
    try:
        run_worker(app)
    finally:
        controller.stop()
    assert len(handler.messages) == 1
    assert row(app, notification_id).attempts == 2


def test_sweep_requeues_a_send_whose_worker_died(app, world, assigned, inbox):
    """A row left ``sending`` past the timeout goes back to the queue and is sent."""
    notification_id = customer_writes(app, world, assigned)
    with app.app_context():
        get_queue("notifications").empty()
        assert OUTBOX.claim(notification_id) is not None  # the worker that then died
        assert dispatch_stalled() == 0  # a live worker may still be sending
        notification = db.session.get(Notification, notification_id)
        notification.claimed_at -= timedelta(minutes=16)
        db.session.commit()
        assert dispatch_stalled() == 1
    notification = row(app, notification_id)
    assert notification.state == "queued"
    assert notification.last_error == "the worker stopped while sending (no result recorded)"
    run_worker(app)
    assert len(inbox.messages) == 1
    notification = row(app, notification_id)
    assert (notification.state, notification.attempts) == ("sent", 2)


def test_sweep_fails_a_dead_send_with_no_attempts_left(app, world, assigned, inbox):
    """A stalled last attempt is not sent again: failed, with the reason."""
    notification_id = customer_writes(app, world, assigned)
    with app.app_context():
        get_queue("notifications").empty()
        notification = db.session.get(Notification, notification_id)
        notification.attempts = MAX_ATTEMPTS - 1
        db.session.commit()
        assert OUTBOX.claim(notification_id).attempt == MAX_ATTEMPTS
        notification = db.session.get(Notification, notification_id)
        notification.claimed_at -= timedelta(minutes=16)
        db.session.commit()
        assert dispatch_stalled() == 0
    run_worker(app)
    assert inbox.messages == []
    notification = row(app, notification_id)
    assert notification.state == "failed"
    assert notification.last_error == "the worker stopped while sending (no result recorded)"
