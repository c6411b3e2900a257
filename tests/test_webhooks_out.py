"""Webhooks out: ticket events posted to an operator's endpoint (a loopback HTTP server),
signed with HMAC-SHA256, sent by the notifications worker, retried, and a delivery that keeps
failing shown to admins on /admin/webhooks to be sent again. Internal notes never go out."""

import hashlib
import hmac

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import AuditEntry, Category, Ticket, User, WebhookDelivery
from helpdesk.services import replies, tickets, webhook_settings
from helpdesk.services.errors import NotAllowed
from helpdesk.services.outbox import MAX_ATTEMPTS
from jobs.webhooks import EndpointFailed, send_delivery
from jobs.worker import make_worker
from tests.admin_pages import post
from tests.webhook_receiver import WebhookReceiver
from tests.world import email

EVENTS = ["ticket.created", "ticket.replied", "ticket.status_changed"]


@pytest.fixture
def receiver():
    with WebhookReceiver() as server:
        yield server


def webhook(app, world, receiver, *, events=EVENTS, name="Ops"):
    """A webhook to ``receiver``, made as the admin; ``(id, secret)``."""
    with app.app_context():
        admin = db.session.get(User, world.users["admin"])
        made, secret = webhook_settings.create_webhook(name=name, url=receiver.url,
                                                       events=events, actor=admin)
        return made.id, secret


def work(app):
    """Run what the notifications queue holds, as its worker does."""
    make_worker(app, queues=["notifications"], simple=True).work(burst=True)


def opened(app, world, who="dave"):
    with app.app_context():
        subscriber = db.session.get(User, world.users[who])
        category = db.session.scalars(select(Category).order_by(Category.position)).first()
        return tickets.open_ticket(subscriber=subscriber, subject="Fibre dark",
                                   body="No light on the ONT", category=category).id


def reply(app, world, ticket_id, body, *, who="agent", **options):
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        return replies.add_reply(ticket, author=db.session.get(User, world.users[who]),
                                 body=body, **options).id


def deliveries(app, **where):
    with app.app_context():
        return [(row.event, row.state, row.attempts) for row in db.session.scalars(
            select(WebhookDelivery).filter_by(**where).order_by(WebhookDelivery.id))]


def test_ticket_events_arrive_signed_and_internal_notes_never(app, world, receiver):
    _, secret = webhook(app, world, receiver)
    ticket_id = opened(app, world)
    reply(app, world, ticket_id, "Please check the **fibre** patch lead")
    reply(app, world, ticket_id, "SECRET line fault at the cabinet", internal=True)
    reply(app, world, ticket_id, "Still dark", who="dave")
    work(app)

    assert [event for event, _ in receiver.events()] == [
        "ticket.created", "ticket.status_changed", "ticket.replied",
        "ticket.status_changed", "ticket.replied"]
    created, moved, answered, back, comment = (body for _, body in receiver.events())
    assert created["ticket"]["subject"] == "Fibre dark"
    assert created["ticket"]["subscriber"]["email"] == email("dave")
    assert created["ticket"]["url"].endswith(f"/tickets/{ticket_id}")
    assert moved["status"] == {"old": "open", "new": "waiting_on_customer"}
    assert answered["reply"]["body"] == "Please check the **fibre** patch lead"
    assert answered["reply"]["author"]["role"] == "agent"
    assert back["status"] == {"old": "waiting_on_customer", "new": "open"}
    assert comment["reply"]["author"]["email"] == email("dave")
    assert all(b"SECRET" not in body for _, body in receiver.received)
    for headers, body in receiver.received:  # each one signed: timestamp, a dot, the body
        expected = hmac.new(secret.encode(), f"{headers['X-Helpdesk-Timestamp']}.".encode()
                            + body, hashlib.sha256).hexdigest()
        assert headers["X-Helpdesk-Signature"] == f"sha256={expected}"
    assert {state for _, state, _ in deliveries(app, ticket_id=ticket_id)} == {"sent"}


def test_only_the_events_a_webhook_wants_and_none_when_it_is_off(app, world, receiver):
    webhook_id, _ = webhook(app, world, receiver, events=["ticket.created"])
    ticket_id = opened(app, world)
    reply(app, world, ticket_id, "On it")
    assert deliveries(app) == [("ticket.created", "queued", 0)]
    with app.app_context():
        from helpdesk.models import Webhook

        hook = db.session.get(Webhook, webhook_id)
        webhook_settings.update_webhook(hook, name=hook.name, url=hook.url, events=hook.events,
                                        enabled=False,
                                        actor=db.session.get(User, world.users["admin"]))
    opened(app, world, who="erin")  # off: nothing more is written
    work(app)  # and the one queued before is withheld, not sent
    assert deliveries(app) == [("ticket.created", "withheld", 1)]
    assert receiver.received == []


def test_a_failing_endpoint_is_retried_then_failed_shown_and_sent_again(app, client, auth,
                                                                        world, receiver):
    webhook_id, _ = webhook(app, world, receiver, events=["ticket.created"])
    ticket_id = opened(app, world)
    [delivery_id] = [row for row, in db_ids(app)]
    receiver.answers = [503] * MAX_ATTEMPTS
    with app.app_context():
        for _ in range(MAX_ATTEMPTS):  # as RQ's retries would, with their back-off
            with pytest.raises(EndpointFailed, match="HTTP 503"):
                send_delivery(delivery_id)
    assert deliveries(app) == [("ticket.created", "failed", MAX_ATTEMPTS)]

    auth.login(email("admin"))
    listing = client.get("/admin/webhooks").text
    assert "1 failed" in listing
    page = client.get(f"/admin/webhooks/{webhook_id}").text
    assert "answered HTTP 503" in page and "Send again" in page
    again = post(client, f"/admin/webhooks/deliveries/{delivery_id}/again",
                 page=f"/admin/webhooks/{webhook_id}")
    assert again.status_code == 303
    work(app)
    assert deliveries(app) == [("ticket.created", "sent", 1)]
    assert len(receiver.received) == MAX_ATTEMPTS + 1
    with app.app_context():
        assert db.session.scalar(select(AuditEntry.new_value).where(
            AuditEntry.action == "webhook.send_again")) == f"ticket.created ticket-{ticket_id}"


def db_ids(app):
    with app.app_context():
        return db.session.execute(select(WebhookDelivery.id).order_by(WebhookDelivery.id)).all()


def test_a_refusal_is_failed_at_once_without_retries(app, world, receiver):
    webhook(app, world, receiver, events=["ticket.created"])
    opened(app, world)
    receiver.answers = [410]
    work(app)
    assert deliveries(app) == [("ticket.created", "failed", 1)]
    with app.app_context():
        error = db.session.scalar(select(WebhookDelivery.last_error))
    assert "refused it: HTTP 410" in error


def test_admins_set_webhooks_up_the_secret_shown_once(app, client, auth, world, receiver):
    auth.login(email("admin"))
    bad = post(client, "/admin/webhooks", {"name": "Ops", "url": "ftp://nowhere",
                                           "events": ["ticket.created"]},
               page="/admin/webhooks")
    assert bad.status_code == 400
    assert "full address" in bad.text and "ftp://nowhere" in bad.text  # what was typed stays
    made = post(client, "/admin/webhooks", {"name": "Ops", "url": receiver.url,
                                            "events": ["ticket.created", "ticket.replied"]},
                page="/admin/webhooks")
    assert made.status_code == 200 and "shown this once" in made.text
    secret = made.text.split('id="webhook-secret">', 1)[1].split("<", 1)[0]
    assert secret.startswith("whsec_")
    with app.app_context():
        from helpdesk.models import Webhook

        hook = db.session.scalar(select(Webhook).where(Webhook.name == "Ops"))
        assert secret not in hook.secret_encrypted  # sealed at rest
        assert hook.events == ["ticket.created", "ticket.replied"]
    assert secret not in client.get(f"/admin/webhooks/{hook.id}").text


@pytest.mark.parametrize("who", ["agent", "north_reseller", "dave"])
def test_webhooks_are_for_admins_only(app, client, auth, world, who):
    auth.login(email(who))
    assert client.get("/admin/webhooks").status_code == 404
    with app.app_context(), pytest.raises(NotAllowed):
        webhook_settings.create_webhook(name="Mine", url="https://example.net/x",
                                        events=EVENTS,
                                        actor=db.session.get(User, world.users[who]))
