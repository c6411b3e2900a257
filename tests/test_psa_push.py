"""Sending the PSA outbox to a loopback HaloPSA over real HTTP: each kind of write arrives
once with its fields, a ticket's writes keep their order, an unknown outcome is looked up by
marker rather than sent twice, back-off and 429 waits, the budget, refusals straight to the
dead letters, and the audit log's record of every attempt."""

import json
from datetime import timedelta

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import AuditEntry, PsaLink, PsaMapping, PsaWrite, Ticket, User
from helpdesk.models.timestamps import utcnow
from helpdesk.psa.connector import Budget, BudgetSpent
from helpdesk.services import psa_push, replies, tickets
from tests.psa_pull_kit import audit_of, run_pull
from tests.psa_push_kit import (
    ACME_CLIENT,
    actions_with_marker,
    attachments_with_marker,
    connect,
    connector,
    halo_ticket_of,
    push,
    states,
    upload,
    writes,
)
from tests.test_psa_outbox import _open


def _reply(app, world, ticket_id, body, **options):
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        author = db.session.get(User, world.users[options.pop("who", "agent")])
        return replies.add_reply(ticket, author=author, body=body, **options).id


def _opened(app, world, **options):
    with app.app_context():
        return _open(world, **options).id


def _audit(app, ticket_id):
    with app.app_context():
        return db.session.scalars(select(AuditEntry).where(
            AuditEntry.ticket_id == ticket_id, AuditEntry.action == "psa.write")
            .order_by(AuditEntry.id)).all()


def test_each_kind_of_write_arrives_once_with_its_fields(app, world, halo):
    connection_id = connect(app, halo)
    ticket_id = _opened(app, world, files=[upload("trace.txt", b"ping 1.1.1.1")])
    reply_id = _reply(app, world, ticket_id, "Please **restart** the router")
    note_id = _reply(app, world, ticket_id, "Line tested", internal=True, minutes=45)
    with app.app_context():
        tickets.change_priority(db.session.get(Ticket, ticket_id), "urgent",
                                actor=db.session.get(User, world.users["agent"]))
    push(app, connection_id)

    assert {state for _, state in states(app, ticket_id)} == {"sent"}
    created = halo_ticket_of(app, halo, ticket_id)
    assert created["summary"] == "Router down"
    assert "<strong>blinks</strong>" in created["details_html"]
    assert str(created["client_id"]) == ACME_CLIENT  # Acme's client, not the default
    assert str(created["status_id"]) == "4"  # waiting on customer, after the reply
    assert str(created["priority_id"]) == "1"  # urgent
    [reply] = actions_with_marker(halo, f"hd-reply-{reply_id}")
    assert reply["hiddenfromuser"] is False and "<strong>restart</strong>" in reply["note_html"]
    assert reply["timetaken"] == 0 and reply["who"] == "Agent"
    [note] = actions_with_marker(halo, f"hd-reply-{note_id}")
    assert note["hiddenfromuser"] is True and note["timetaken"] == 0.75
    [attachment] = attachments_with_marker(halo, writes(app, kind="upload_attachment",
                                                        ticket_id=ticket_id)[0].marker)
    assert attachment["filename"] == "trace.txt"
    assert halo.store.attachment_data[attachment["id"]] == b"ping 1.1.1.1"
    assert halo.rejected == []  # every body passed the vendor's schema

    with app.app_context():
        links = {(link.kind, link.local_id): link.external_id
                 for link in db.session.scalars(select(PsaLink).where(
                     PsaLink.connection_id == connection_id, PsaLink.kind != "organisation"))}
        entry = db.session.scalar(select(PsaWrite.id).where(PsaWrite.key == f"reply-{note_id}"))
    assert links[("ticket", ticket_id)] == str(created["id"])
    assert links[("reply", reply_id)] == str(reply["id"])
    assert links[("reply", note_id)] == links[("time_entry", links and _time_entry(app, note_id))]
    assert entry is not None
    # one audit entry per attempt, with the request payload an admin can read
    entries = _audit(app, ticket_id)
    assert [entry.field for entry in entries] == [row.kind for row in writes(
        app, ticket_id=ticket_id)]
    payload = json.loads(entries[0].old_value)
    assert payload["create_ticket"]["summary"] == "Router down"
    assert "attempt 1: sent" in entries[0].new_value
    assert "(HTTP 201)" in entries[0].new_value or "(HTTP 200)" in entries[0].new_value
    assert {row.response_status for row in writes(app, ticket_id=ticket_id)} <= {200, 201}


def _time_entry(app, reply_id):
    from helpdesk.models import TimeEntry

    with app.app_context():
        return db.session.scalar(select(TimeEntry.id).where(TimeEntry.reply_id == reply_id))


def test_a_tickets_writes_keep_their_order_behind_its_creation(app, world, halo):
    connection_id = connect(app, halo)
    ticket_id = _opened(app, world)
    reply_ids = [_reply(app, world, ticket_id, f"Step {n}", internal=True) for n in range(4)]
    halo.fail("500", method="POST", path="/api/Tickets", times=2)  # creation fails twice
    now = utcnow()
    with app.app_context():
        psa_push.send_ticket(connection_id, ticket_id, connector=connector(app, connection_id),
                             now=now, schedule=False)
    assert states(app, ticket_id)[:2] == [("create_ticket", "queued"), ("add_action", "queued")]
    assert halo.requests_to("POST", "/api/Actions") == []  # nothing sent before the ticket
    push(app, connection_id, now=now)
    assert {state for _, state in states(app, ticket_id)} == {"sent"}
    created = halo_ticket_of(app, halo, ticket_id)
    sent = sorted(halo.store.actions_of(created["id"]), key=lambda action: action["id"])
    assert [action["note_html"].split("</p>")[0] for action in sent] == [
        f"<p>Step {n}" for n in range(4)]
    assert [int(row.external_id) for row in writes(app, kind="add_action",
                                                   ticket_id=ticket_id)] == [
        action["id"] for action in sent]
    assert len(reply_ids) == 4
    create = writes(app, kind="create_ticket", ticket_id=ticket_id)[0]
    assert create.attempts == 3  # 500, 500, then sent (after looking it up by marker)


def test_a_lost_answer_is_looked_up_by_marker_not_sent_twice(app, world, halo):
    connection_id = connect(app, halo)
    ticket_id = _opened(app, world)
    reply_id = _reply(app, world, ticket_id, "Sent into the void")
    halo.fail("lost", method="POST", path="/api/Tickets")
    halo.fail("lost", method="POST", path="/api/Actions")
    push(app, connection_id)
    assert len(halo.store.with_marker(f"hd-ticket-{ticket_id}")) == 1
    assert len(actions_with_marker(halo, f"hd-reply-{reply_id}")) == 1
    rows = writes(app, ticket_id=ticket_id)
    assert [(row.state, row.attempts) for row in rows] == [("sent", 1), ("sent", 1),
                                                            ("sent", 1)]
    assert "found by its marker after" in _audit(app, ticket_id)[0].new_value


def test_a_timeout_is_retried_after_its_back_off_and_found_by_marker(app, world, halo):
    connection_id = connect(app, halo)
    ticket_id = _opened(app, world)
    halo.fail("timeout", method="POST", path="/api/Tickets", hold=0.6, applied=True)
    halo.fail("500", method="GET", path="/api/Tickets")  # the look-up fails too
    now = utcnow()
    with app.app_context():
        psa_push.send_ticket(connection_id, ticket_id, connector=connector(app, connection_id),
                             now=now, schedule=False)
    [row] = writes(app, ticket_id=ticket_id)
    assert (row.state, row.attempts) == ("queued", 1)
    assert row.next_attempt_at == now + timedelta(seconds=psa_push.RETRY_SECONDS[0])
    assert "may have been applied" in row.last_error
    with app.app_context():  # not before its time
        assert psa_push.send_ticket(connection_id, ticket_id, now=now + timedelta(seconds=9),
                                    connector=connector(app, connection_id)) == 0
    push(app, connection_id, now=now)
    [row] = writes(app, ticket_id=ticket_id)
    assert (row.state, row.attempts) == ("sent", 2)
    assert len(halo.store.with_marker(f"hd-ticket-{ticket_id}")) == 1
    assert len(halo.requests_to("POST", "/api/Tickets")) == 1  # found, not sent again


def test_a_refusal_goes_straight_to_the_dead_letters_with_halos_message(app, world, halo):
    connection_id = connect(app, halo)
    ticket_id = _opened(app, world)
    _reply(app, world, ticket_id, "Waits behind the refusal")
    halo.fail("answer", method="POST", path="/api/Tickets", status=400,
              body={"title": "One or more validation errors occurred.",
                    "errors": {"[0].summary": ["Summary is too long for this ticket type"]}})
    push(app, connection_id)
    create, *rest = writes(app, ticket_id=ticket_id)
    assert (create.state, create.attempts, create.response_status) == ("dead", 1, 400)
    assert "Summary is too long for this ticket type" in create.last_error
    assert "Summary is too long" in create.response_body
    assert create.request_payload["create_ticket"]["summary"] == "Router down"
    assert [row.state for row in rest] == ["queued", "queued"]  # waiting behind it
    assert halo.requests_to("POST", "/api/Actions") == []
    assert "now in the dead letters" in _audit(app, ticket_id)[0].new_value


def test_a_missing_mapping_is_dead_at_once_naming_it(app, world, halo):
    connection_id = connect(app, halo)
    with app.app_context():
        db.session.execute(PsaMapping.__table__.delete().where(
            PsaMapping.connection_id == connection_id, PsaMapping.ours == "high"))
        db.session.commit()
    ticket_id = _opened(app, world)
    with app.app_context():
        tickets.change_priority(db.session.get(Ticket, ticket_id), "high",
                                actor=db.session.get(User, world.users["agent"]))
    push(app, connection_id)
    assert states(app, ticket_id) == [("create_ticket", "sent"), ("update_ticket", "dead")]
    [dead] = writes(app, state="dead")
    assert dead.last_error == ("no HaloPSA priority is mapped to High on Halo: map it on the "
                               "connection's page, then retry")
    assert dead.request_payload is None and dead.attempts == 1


def test_retries_run_out_into_the_dead_letters(app, world, halo):
    connection_id = connect(app, halo)
    ticket_id = _opened(app, world)
    halo.fail("500", method="POST", path="/api/Tickets", times=None)
    push(app, connection_id)
    [row] = writes(app, ticket_id=ticket_id)
    assert (row.state, row.attempts) == ("dead", psa_push.MAX_ATTEMPTS)
    assert row.response_status == 500 and row.last_error.startswith("HTTP 500")
    assert len(_audit(app, ticket_id)) == psa_push.MAX_ATTEMPTS
    assert halo.store.with_marker(f"hd-ticket-{ticket_id}") == []


def test_429_waits_what_halo_asks_and_a_spent_budget_counts_no_attempt(app, world, halo):
    connection_id = connect(app, halo)
    ticket_id = _opened(app, world)
    halo.fail("429", method="POST", path="/api/Tickets", times=4, retry_after=120)
    now = utcnow()
    using = connector(app, connection_id)
    with app.app_context():
        psa_push.send_ticket(connection_id, ticket_id, connector=using, now=now,
                             schedule=False)
    [row] = writes(app, ticket_id=ticket_id)
    assert (row.state, row.attempts, row.response_status) == ("queued", 1, 429)
    assert row.next_attempt_at == now + timedelta(seconds=120)

    class Spent(Budget):
        def spend(self, requests=1):
            raise BudgetSpent()

    later = now + timedelta(seconds=120)
    with app.app_context():
        psa_push.send_ticket(connection_id, ticket_id, now=later, schedule=False,
                             connector=connector(app, connection_id, budget=Spent()))
    [row] = writes(app, ticket_id=ticket_id)
    assert (row.state, row.attempts) == ("queued", 1)  # not counted
    assert row.next_attempt_at == later + psa_push.BUDGET_WAIT
    push(app, connection_id, now=later)
    assert writes(app, ticket_id=ticket_id)[0].state == "sent"


def test_two_claims_never_send_one_row_twice(app, world, halo):
    """The claim is a conditional UPDATE: once taken, nobody else gets the row."""
    connection_id = connect(app, halo)
    ticket_id = _opened(app, world)
    now = utcnow()
    with app.app_context():
        first = psa_push._claim_head(connection_id, ticket_id, now)
        assert first is not None and first.attempt == 1
        assert psa_push._claim_head(connection_id, ticket_id, now) is None
        # a second job for the ticket finds its head taken and sends nothing
        assert psa_push.send_ticket(connection_id, ticket_id, now=now,
                                    connector=connector(app, connection_id)) == 0
    assert halo.requests_to("POST", "/api/Tickets") == []


def test_the_sweep_takes_back_a_dead_workers_claim_and_redispatches(app, world, halo):
    from rq.job import Job

    from helpdesk.queues import get_redis
    from helpdesk.services import psa_outbox

    connection_id = connect(app, halo)
    ticket_id = _opened(app, world)
    [row] = writes(app, ticket_id=ticket_id)
    with app.app_context():
        claim = psa_push._claim_head(connection_id, ticket_id, utcnow())
        assert claim is not None
        assert psa_push.sweep(now=utcnow()) == 0  # a live claim is left alone
        later = utcnow() + psa_push.SENDING_TIMEOUT + timedelta(seconds=1)
        assert psa_push.sweep(now=later) == 1
        taken_back = db.session.get(PsaWrite, row.id)
        assert (taken_back.state, taken_back.attempts) == ("queued", 1)
        assert taken_back.last_error == psa_push.WORKER_GONE
        job = Job.fetch(psa_outbox.send_job_id(connection_id, ticket_id, row.id, 1),
                        connection=get_redis())
        assert job.args == (connection_id, ticket_id)
        # the first worker's late result changes nothing
        assert psa_push._settle(claim, state="sent") is False
        # a due row whose job is gone is dispatched again; one whose job waits is not
        get_redis().flushdb()
        assert psa_push.sweep(now=later) == 0  # due too recently: its job may yet run
        later += psa_push.LEFT_BEHIND_AFTER + timedelta(seconds=1)
        assert psa_push.sweep(now=later) == 1
        assert psa_push.sweep(now=later) == 0  # its job waits on the queue



def test_an_unsent_change_of_ours_outlives_a_later_unrelated_psa_change(app, world, halo):
    """The first pull of a ticket the desk created in the PSA: the PSA still holds the status
    we sent, so our newer status (queued, not sent yet) stands, though the PSA's ticket was
    updated after it for another reason (a technician's action); then it reaches the PSA."""
    connection_id = connect(app, halo)
    ticket_id = _opened(app, world)
    push(app, connection_id)
    external = halo_ticket_of(app, halo, ticket_id)["id"]
    with app.app_context():
        tickets.change_status(db.session.get(Ticket, ticket_id), "on_hold",
                              actor=db.session.get(User, world.users["agent"]))
    halo.store.technician_adds_action(external, "<p>Looking at the line</p>")

    run_pull(app, connection_id)
    with app.app_context():
        assert db.session.get(Ticket, ticket_id).status == "on_hold"
    assert audit_of(app, "psa.took_theirs", ticket_id) == []
    push(app, connection_id)
    assert str(halo_ticket_of(app, halo, ticket_id)["status_id"]) == "3"  # on hold
