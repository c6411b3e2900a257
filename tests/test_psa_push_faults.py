"""The PSA push under faults, over real HTTP to a loopback HaloPSA: 1,000 writes with a fifth
of the requests failing (500, 429, timeouts, resets, lost answers) arrive exactly once each;
the send job through RQ; a worker killed mid-send loses nothing and sends nothing twice."""

import re
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Category, Ticket, User
from helpdesk.models.timestamps import utcnow
from helpdesk.services import psa_dead_letters, psa_outbox, psa_push, replies, tickets
from jobs.worker import make_worker
from tests.psa_push_kit import (
    HALO_STATUSES,
    actions_with_marker,
    connect,
    connector,
    push,
    states,
    writes,
)
from tests.test_worker_process import (
    forget_dead_workers,
    kill_worker_and_work_horse,
    start_worker,
    stop_worker,
    wait_for,
)

TICKETS = 25
PER_TICKET = 40  # writes: its creation, a note, then 25 more actions and 13 status changes
STATUS_CYCLE = ["in_progress", "on_hold", "waiting_on_vendor", "in_progress",
                "waiting_on_customer", "open"]
_REFERENCE = re.compile(r"\[ref:([^\]]+)\]")


def _load(app, world):
    """``TICKETS`` tickets with ``PER_TICKET`` writes each, through the services and the
    outbox's ``record`` (the extra actions re-send a ticket's note under keys of their own,
    so that 1,000 writes cost 25 tickets to make)."""
    with app.app_context():
        category = db.session.scalars(select(Category).order_by(Category.position)).first()
        agent = db.session.get(User, world.users["agent"])
        people = [db.session.get(User, world.users[key]) for key in ("dave", "bob", "zed")]
        for number in range(TICKETS):
            ticket = tickets.open_ticket(subscriber=people[number % 3], category=category,
                                         subject=f"Load {number}", body="Under faults")
            note = replies.add_reply(ticket, author=agent, body=f"Note {number}",
                                     internal=True)
            for extra in range(PER_TICKET - 2):
                if extra % 3 == 2:
                    status = STATUS_CYCLE[extra // 3 % len(STATUS_CYCLE)]
                    psa_outbox.record(ticket, kind="update_ticket",
                                      key=f"load-status-{ticket.id}-{extra}",
                                      change={"status": status})
                else:
                    psa_outbox.record(ticket, kind="add_action",
                                      key=f"load-action-{ticket.id}-{extra}",
                                      change={"reply_id": note.id, "minutes": extra})
            db.session.commit()


def test_a_thousand_writes_under_a_fifth_of_faults_arrive_exactly_once(app, world, halo):
    connection_id = connect(app, halo)
    _load(app, world)
    rows = writes(app, connection_id=connection_id)
    assert len(rows) == TICKETS * PER_TICKET == 1000
    for kind, share, seed, options in (
            ("500", 0.05, 1, {}), ("429", 0.05, 2, {"retry_after": 0}),
            ("timeout", 0.01, 3, {"hold": 0.25}),
            ("timeout", 0.01, 4, {"hold": 0.25, "applied": True}),
            ("reset", 0.03, 5, {}), ("lost", 0.04, 6, {})):
        halo.fail(kind, share=share, seed=seed, **options)
    using = connector(app, connection_id, timeout=0.15)
    try:
        push(app, connection_id, using=using)
    finally:
        using.close()

    faulted = sum(1 for request in halo.received if request.status not in (200, 201, None))
    assert faulted / len(halo.received) > 0.15, "the faults were not injected"
    rows = writes(app, connection_id=connection_id)
    _nothing_left_but_dead_letters(rows)
    _each_arrived_once(halo, rows)
    # An admin retries the dead letters once Halo is well again: they and the writes that
    # waited behind them arrive, and still nothing twice.
    halo.clear_faults()
    with app.app_context():
        admin = db.session.get(User, world.users["admin"])
        dead = [row.id for row in rows if row.state == "dead"]
        if dead:
            psa_dead_letters.retry(dead, actor=admin)
    push(app, connection_id)
    rows = writes(app, connection_id=connection_id)
    assert Counter(row.state for row in rows) == {"sent": 1000}
    _each_arrived_once(halo, rows)
    # each ticket's actions arrived in the order they were written
    for ticket_rows in _by_ticket(rows).values():
        sent = [int(row.external_id) for row in ticket_rows if row.kind == "add_action"]
        assert sent == sorted(sent)
    # and each ticket ends in the status it was last given
    with halo.store.lock:
        by_marker = {ticket.get("third_party_id_string"): ticket
                     for ticket in halo.store.tickets.values()}
    for ticket_id, ticket_rows in _by_ticket(rows).items():
        last = [row.change["status"] for row in ticket_rows if row.kind == "update_ticket"][-1]
        assert str(by_marker[f"hd-ticket-{ticket_id}"]["status_id"]) == HALO_STATUSES[last]
    assert halo.rejected == []


def _nothing_left_but_dead_letters(rows):
    """Every write is sent, dead with its reason, or queued behind a dead one of its
    ticket (a ticket's writes keep their order)."""
    for ticket_rows in _by_ticket(rows).values():
        blocked = False
        for row in ticket_rows:
            if blocked:
                assert row.state in ("queued", "dead"), (row.key, row.state)
            elif row.state == "dead":
                blocked = True
                assert row.last_error, row.key
                assert row.attempts in (1, psa_push.MAX_ATTEMPTS), (row.key, row.attempts)
            else:
                assert row.state == "sent", (row.key, row.state)
    assert sum(row.state == "dead" for row in rows) <= 10


def _each_arrived_once(halo, rows):
    """A sent write is in Halo once; one not sent, at most once (a dead letter's last
    attempt may have been applied with its answer lost: a retry looks it up first)."""
    with halo.store.lock:
        actions = list(halo.store.actions.values())
        tickets_made = Counter(ticket.get("third_party_id_string")
                               for ticket in halo.store.tickets.values())
    in_halo = Counter(_REFERENCE.findall(" ".join(a["note_html"] for a in actions)))
    in_halo.update(tickets_made)
    for row in rows:
        if row.kind != "update_ticket":
            expected = (1,) if row.state == "sent" else (0, 1)
            assert in_halo[row.marker] in expected, (row.key, row.state, in_halo[row.marker])


def _by_ticket(rows):
    grouped = {}
    for row in rows:
        grouped.setdefault(row.ticket_id, []).append(row)
    return grouped


def test_the_send_job_runs_on_an_rq_worker(app, world, halo):
    """After the commit the ticket's job is on the psa queue; a worker sends its writes."""
    connect(app, halo)
    with app.app_context():
        ticket = db.session.get(Ticket, world.tickets["dave"])
        agent = db.session.get(User, world.users["agent"])
        reply = replies.add_reply(ticket, author=agent, body="Through RQ", internal=True)
        reply_id = reply.id
    # (outside the block: its session's savepoint would take the job's commits with it)
    make_worker(app, queues=["psa"], simple=True).work(burst=True)
    assert states(app, world.tickets["dave"]) == [("create_ticket", "sent"),
                                                 ("add_action", "sent")]
    assert len(actions_with_marker(halo, f"hd-reply-{reply_id}")) == 1


@pytest.mark.committed
def test_a_worker_killed_mid_send_loses_nothing_and_sends_nothing_twice(app, world, halo,
                                                                         tmp_path):
    """SIGKILL while Halo holds the answer to a reply it has applied: the sweep takes the
    claim back, a second worker looks the reply up by its marker and sends nothing again."""
    connect(app, halo)
    halo.fail("timeout", method="POST", path="/api/Actions", hold=60, applied=True)
    first = start_worker(app, tmp_path, "--queue", "psa", log_name="first.log")
    second = None
    try:
        with app.app_context():
            ticket = db.session.get(Ticket, world.tickets["dave"])
            agent = db.session.get(User, world.users["agent"])
            reply_id = replies.add_reply(ticket, author=agent, body="Killed mid-send",
                                         internal=True).id
        wait_for(lambda: halo.requests_to("POST", "/api/Actions"), "the reply at Halo",
                 process=first)
        [row] = writes(app, kind="add_action", ticket_id=world.tickets["dave"])
        assert row.state == "sending"
        kill_worker_and_work_horse(first)
        halo.clear_faults()
        with app.app_context():  # the minutely sweep, as it runs once the claim is stale
            assert psa_push.sweep(claimed_before=utcnow() + timedelta(seconds=1)) == 1
        second = start_worker(app, tmp_path, "--queue", "psa", log_name="second.log")
        wait_for(lambda: writes(app, id=row.id)[0].state == "sent", "the second worker",
                 process=second)
    finally:
        stop_worker(first)
        if second is not None:
            stop_worker(second)
        forget_dead_workers(app)
    [sent] = writes(app, id=row.id)
    assert sent.attempts == 2
    assert len(actions_with_marker(halo, f"hd-reply-{reply_id}")) == 1
    assert len(halo.requests_to("POST", "/api/Actions")) == 1  # found, not sent again
    assert states(app, world.tickets["dave"]) == [("create_ticket", "sent"),
                                                 ("add_action", "sent")]
