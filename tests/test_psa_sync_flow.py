"""The pull from outside: ``flask psa sync`` (progress, exit codes) and a HaloPSA webhook
delivery read by the psa worker, idempotent on redelivery, its change on the ticket at once."""

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import PsaConnection, User
from jobs.worker import make_worker
from tests.halo_webhooks import delivery, ticket_event
from tests.psa_pull_kit import (
    WEBHOOK_SECRET,
    connect,
    link,
    linked_tickets,
    new_halo_ticket,
    run_pull,
    thread,
    ticket_of,
)
from tests.world import email


def sync(runner, name):
    return runner.invoke(args=["psa", "sync", "--connection", name])


def test_psa_sync_pulls_in_the_foreground_and_exits_0(app, runner, world, halo):
    connection = connect(app, halo)
    halo.store.seed_tickets(3)
    result = sync(runner, "Halo")
    assert result.exit_code == 0, result.output
    assert "Halo: read 3 changed tickets: 3 new" in result.output
    assert linked_tickets(app, connection) == 3
    assert sync(runner, str(connection)).exit_code == 0  # by id too; nothing new
    assert linked_tickets(app, connection) == 3


def test_psa_sync_of_an_unknown_or_disabled_connection_says_so(app, runner, world, halo):
    connect(app, halo, name="Off", enabled=False)
    unknown = sync(runner, "Nope")
    assert unknown.exit_code == 1
    assert "No PSA connection named 'Nope' (connections: Off)." in unknown.output
    disabled = sync(runner, "Off")
    assert disabled.exit_code == 1 and "Off is disabled" in disabled.output


def test_psa_sync_exits_1_with_the_psas_error(app, runner, world, halo):
    connection = connect(app, halo)
    halo.fail("answer", path="/auth/token", status=401, times=None,
              body={"error": "invalid_client", "error_description": "Bad secret"})
    result = sync(runner, "Halo")
    assert result.exit_code == 1 and "The pull of Halo stopped:" in result.output
    with app.app_context():
        error = db.session.get(PsaConnection, connection).last_pull_error
    assert error and error in result.output


def deliver(client, connection, payloads):
    headers, body = delivery(payloads, basic=("halo", WEBHOOK_SECRET))
    return client.post(f"/psa/webhooks/{connection}", json=body, headers=headers)


def work(app):
    """Run what the psa queue holds, as a worker does."""
    make_worker(app, queues=["psa"], simple=True).work(burst=True)


def test_a_webhook_delivery_brings_the_change_in_and_redelivery_adds_nothing(app, client,
                                                                           auth, world, halo):
    connection = connect(app, halo)
    with app.app_context():
        dave = db.session.scalar(select(User.id).where(User.email == email("dave")))
    link(app, connection, "user", dave, 1)
    external = new_halo_ticket(halo, client_id=1, user_id=1)
    run_pull(app, connection)
    ticket_id = ticket_of(app, connection, external).id
    action = halo.store.technician_adds_action(external, "<p>Engineer booked</p>")
    payload = ticket_event(halo.store, external, event="Action Added", action_id=action["id"],
                           event_only=True)
    assert deliver(client, connection, payload).json == {"tickets": 1, "queued": 1}
    work(app)
    assert ("Engineer booked", False, "HaloPSA (Halo)") in thread(app, ticket_id)
    auth.login(email("dave"))  # the subscriber sees it in the portal at once
    assert "Engineer booked" in client.get(f"/portal/tickets/{ticket_id}").text
    before = thread(app, ticket_id)
    assert deliver(client, connection, [payload, payload]).json["queued"] == 1  # a redelivery
    work(app)
    assert thread(app, ticket_id) == before


def test_a_webhook_about_a_new_ticket_opens_it_once(app, client, world, halo):
    connection = connect(app, halo)
    external = new_halo_ticket(halo, summary="Logged by phone")
    full = ticket_event(halo.store, external, event="Ticket Logged")
    deliver(client, connection, [full])
    work(app)
    deliver(client, connection, [full])
    work(app)
    assert linked_tickets(app, connection) == 1
    assert ticket_of(app, connection, external).subject == "Logged by phone"
