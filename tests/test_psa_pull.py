"""Pulling from a loopback HaloPSA over real HTTP: new tickets (a mapped user's, one matched by
email, an unmapped client's flagged until mapped), a known ticket's status and actions (public
replies, hidden notes never in the portal, time), echoes of our own writes, the conflict rule,
what is skipped and noted, and a run that is idempotent."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import (
    Notification,
    Organisation,
    PsaConnection,
    PsaMapping,
    PsaWrite,
    TimeEntry,
    User,
)
from helpdesk.models.timestamps import utcnow
from helpdesk.psa.halopsa.markers import note_with_marker
from helpdesk.queues import get_redis
from helpdesk.services import replies, tickets
from jobs.psa_pull import due_connection_ids
from tests.halo_store import halo_time
from tests.psa_pull_kit import (
    audit_of,
    cache_lookups,
    connect,
    link,
    new_halo_ticket,
    run_pull,
    thread,
    ticket_of,
)
from tests.world import email


@pytest.fixture
def halo_desk(app, world, halo):
    """A connection to the loopback Halo, its lookups cached, and Halo's technician Sam
    known to the desk as staff (same email)."""
    connection = connect(app, halo)
    cache_lookups(app, connection, halo)
    with app.app_context():
        from helpdesk.services import accounts

        accounts.create_user(email="sam@halo.test", name="Sam Staff", role="agent",
                             password="correct-horse-battery")
    return connection


def test_a_new_ticket_of_a_mapped_user_comes_with_its_subscriber_and_link(app, halo,
                                                                          halo_desk):
    link(app, halo_desk, "user", world_id(app, "dave"), 1)  # Halo's user 1 is our Dave
    external = new_halo_ticket(halo, client_id=1, user_id=1, priority_id=2)
    result = run_pull(app, halo_desk)
    assert (result.read, result.created, result.failed) == (1, 1, 0)
    ticket = ticket_of(app, halo_desk, external)
    with app.app_context():
        ticket = db.session.get(type(ticket), ticket.id)
        assert ticket.subscriber.email == email("dave")
        assert ticket.organisation.name == "Acme"  # Dave's own
        assert ticket.subject == "Router keeps rebooting" and ticket.body == "Since Monday"
        assert ticket.priority == "high" and ticket.status == "open"
        assert ticket.opened_by.name == "HaloPSA (Halo)" and ticket.opened_by.role == "agent"
        connection = db.session.get(PsaConnection, halo_desk)
        assert connection.pulled_until is not None and connection.last_pull_error is None


def test_a_new_ticket_keeps_the_time_it_was_opened_in_the_psa(app, halo, halo_desk):
    """Opened in Halo two days ago, pulled now: the desk says two days ago (its thread, SLA
    clock and reports count from then), and a time in the future is taken as now."""
    opened = (utcnow() - timedelta(days=2)).replace(microsecond=0)
    old = new_halo_ticket(halo, dateoccurred=opened.isoformat())
    ahead = new_halo_ticket(halo, dateoccurred=(utcnow() + timedelta(days=1)).isoformat())
    run_pull(app, halo_desk)
    before = utcnow()
    with app.app_context():
        assert ticket_of(app, halo_desk, old).created_at == opened
        assert ticket_of(app, halo_desk, ahead).created_at <= before


def test_history_from_before_the_connection_tells_nobody(app, halo, halo_desk):
    """A first import of what happened in Halo before the desk was connected mails no one
    (not an old ticket's acknowledgement, not its old replies); a ticket and a reply made
    in Halo since are told as any other."""
    link(app, halo_desk, "user", world_id(app, "dave"), 1)
    month_ago = (utcnow() - timedelta(days=30)).replace(microsecond=0)
    old = new_halo_ticket(halo, client_id=1, user_id=1, dateoccurred=month_ago.isoformat())
    answer = halo.store.technician_adds_action(old, "<p>Fixed last month</p>")
    halo.store.actions[answer["id"]].update(datetime=halo_time(month_ago),
                                            actiondatecreated=halo_time(month_ago))
    new = new_halo_ticket(halo, client_id=1, user_id=1)
    halo.store.technician_adds_action(new, "<p>On it</p>")
    run_pull(app, halo_desk)

    def told(external):
        ticket_id = ticket_of(app, halo_desk, external).id
        with app.app_context():
            assert len(thread(app, ticket_id)) == 1  # the reply is there either way
            return sorted(kind for kind in db.session.scalars(
                select(Notification.kind).where(Notification.ticket_id == ticket_id)))

    assert told(old) == []
    assert told(new) == ["public_reply", "ticket_created"]


def test_a_new_tickets_user_is_matched_by_email(app, halo, halo_desk):
    halo.store.users[1]["emailaddress"] = email("erin").upper()
    with app.app_context():  # the lookups cache the email as Halo gives it
        from helpdesk.models import PsaLookup

        lookup = db.session.scalar(select(PsaLookup).where(PsaLookup.external_id == "2",
                                                           PsaLookup.kind == "user"))
        lookup.extra = {**lookup.extra, "email": email("erin").upper()}
        db.session.commit()
    external = new_halo_ticket(halo, client_id=1, user_id=2)
    run_pull(app, halo_desk)
    assert ticket_of(app, halo_desk, external).subscriber_id == world_id(app, "erin")


def world_id(app, key):
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == email(key)))


def test_an_unmapped_clients_ticket_is_flagged_until_an_admin_maps_it(app, client, auth, halo,
                                                                       halo_desk):
    external = new_halo_ticket(halo, client_id=3, user_id=5, summary="Fibre down")
    run_pull(app, halo_desk)
    flagged = ticket_of(app, halo_desk, external)
    with app.app_context():
        contact = db.session.get(User, flagged.subscriber_id)
        assert contact.name == "Unmapped HaloPSA contact (Halo)"
        assert contact.role == "subscriber" and not contact.is_active  # nobody signs in as it
        # what would be mailed to it is withheld at send time (a disabled account)
        assert all(n.recipient_id != contact.id or n.kind == "ticket_created"
                   for n in db.session.scalars(select(Notification)))
    auth.login(email("agent"))
    queue = client.get(f"/tickets?customer={contact.id}").text
    assert "Fibre down" in queue and "Unmapped HaloPSA contact (Halo)" in queue
    auth.logout()
    auth.login(email("admin"))
    panel = client.get(f"/admin/psa/{halo_desk}/sync").text
    assert f'href="/tickets?customer={contact.id}">1 ticket</a>' in panel
    # An admin maps Halo's client 3 to Zeta and its user 5 to Zed: the next run moves it.
    with app.app_context():
        zeta = db.session.scalar(select(Organisation.id).where(Organisation.name == "Zeta"))
    link(app, halo_desk, "organisation", zeta, 3)
    link(app, halo_desk, "user", world_id(app, "zed"), 5)
    result = run_pull(app, halo_desk)
    assert result.rehomed == 1 and result.created == 0
    moved = ticket_of(app, halo_desk, external)
    assert moved.subscriber_id == world_id(app, "zed") and moved.organisation_id == zeta
    assert "Waiting for a mapping</dt><dd>none" in client.get(f"/admin/psa/{halo_desk}/sync").text
    assert "moved the ticket to <strong>Zed</strong>" in client.get(f"/tickets/{moved.id}").text


def pulled_ticket(app, halo, connection, **fields):
    """A Halo ticket of Dave's already pulled into the desk: (Halo's id, our id)."""
    link(app, connection, "user", world_id(app, "dave"), 1)
    external = new_halo_ticket(halo, client_id=1, user_id=1, **fields)
    run_pull(app, connection)
    return external, ticket_of(app, connection, external).id


def test_status_and_actions_reach_the_timeline_and_hidden_ones_never_the_portal(
        app, client, auth, halo, halo_desk):
    external, ticket_id = pulled_ticket(app, halo, halo_desk)
    before = ticket_of(app, halo_desk, external).updated_at
    halo.store.technician_adds_action(external, "<p>Rebooted the <i>CPE</i>.</p>", minutes=15)
    halo.store.technician_adds_action(external, "<p>Customer sounds annoyed</p>", hidden=True,
                                      who="Ivy Tech")
    halo.store.technician_sets_status(external, 2)
    result = run_pull(app, halo_desk)
    assert result.actions_read == 1 and result.failed == 0
    ticket = ticket_of(app, halo_desk, external)
    assert ticket.status == "in_progress" and ticket.updated_at > before
    lines = thread(app, ticket_id)
    assert ("Rebooted the CPE.", False, "Sam Staff") in lines  # Sam's email is our staff's
    assert ("Customer sounds annoyed", True, "HaloPSA (Halo)") in lines  # Ivy: unknown here
    with app.app_context():
        [entry] = db.session.scalars(select(TimeEntry).where(TimeEntry.ticket_id == ticket_id))
        assert entry.minutes == 15 and entry.user.name == "Sam Staff"
    auth.login(email("dave"))
    portal = client.get(f"/portal/tickets/{ticket_id}").text
    assert "Rebooted the CPE." in portal and "Customer sounds annoyed" not in portal
    auth.logout()
    auth.login(email("agent"))
    desk = client.get(f"/tickets/{ticket_id}").text
    assert "Customer sounds annoyed" in desk and "In progress" in desk


def test_pulling_again_adds_nothing_twice(app, halo, halo_desk):
    external, ticket_id = pulled_ticket(app, halo, halo_desk)
    halo.store.technician_adds_action(external, "<p>On my way</p>")
    run_pull(app, halo_desk)
    first = thread(app, ticket_id)
    with app.app_context():  # as if the run had been cut short: read everything again
        connection = db.session.get(PsaConnection, halo_desk)
        connection.pulled_until = None
        db.session.commit()
    again = run_pull(app, halo_desk)
    assert again.created == 0 and thread(app, ticket_id) == first
    with app.app_context():
        from helpdesk.services.psa_pull import pull_one

        assert pull_one(halo_desk, external).actions_added == 0
    assert thread(app, ticket_id) == first


def test_echoes_of_our_own_writes_are_not_doubled(app, halo, halo_desk, world):
    """A Halo ticket carrying the marker of one we created is ours (linked, not opened
    again); an action carrying the marker of one of our writes is not added again."""
    ours = world.tickets["alice"]
    with app.app_context():
        for kind, marker in (("create_ticket", "hd-t1"), ("add_action", "hd-a1")):
            db.session.add(PsaWrite(connection_id=halo_desk, ticket_id=ours, kind=kind,
                                    key=marker, marker=marker, state="sending"))
        db.session.commit()
    [external] = halo.store.seed_tickets(1, marker="hd-t")  # third_party_id_string hd-t1
    halo.store.save_actions([{"ticket_id": external, "hiddenfromuser": False,
                              "note_html": note_with_marker("<p>Our reply</p>", "hd-a1")}])
    before = thread(app, ours)
    result = run_pull(app, halo_desk)
    assert result.created == 0 and ticket_of(app, halo_desk, external).id == ours
    assert thread(app, ours) == before


def test_when_both_sides_change_a_field_the_later_wins_and_both_are_audited(app, halo,
                                                                             halo_desk, world):
    external, ticket_id = pulled_ticket(app, halo, halo_desk)
    agent_id = world.users["agent"]

    def ours(status):
        with app.app_context():
            ticket = db.session.get(tickets.Ticket, ticket_id)
            tickets.change_status(ticket, status, actor=db.session.get(User, agent_id))

    ours("on_hold")  # ours first ...
    halo.store.technician_changes(external, status_id=4)  # ... Halo's later: Halo's wins
    run_pull(app, halo_desk)
    assert ticket_of(app, halo_desk, external).status == "waiting_on_customer"
    assert audit_of(app, "psa.took_theirs", ticket_id) == [
        ("status", "on_hold", "waiting_on_customer")]
    halo.store.technician_changes(external, status_id=2)  # Halo's first ...
    ours("waiting_on_vendor")  # ... ours later: ours stands
    run_pull(app, halo_desk)
    assert ticket_of(app, halo_desk, external).status == "waiting_on_vendor"
    assert audit_of(app, "psa.kept_ours", ticket_id) == [
        ("status", "waiting_on_vendor", "in_progress")]


def test_a_field_only_we_changed_is_not_taken_back(app, halo, halo_desk, world):
    external, ticket_id = pulled_ticket(app, halo, halo_desk)
    with app.app_context():
        ticket = db.session.get(tickets.Ticket, ticket_id)
        tickets.change_priority(ticket, "urgent", actor=db.session.get(User,
                                                                       world.users["agent"]))
    halo.store.technician_adds_action(external, "<p>Looking</p>")  # Halo changes, not priority
    run_pull(app, halo_desk)
    assert ticket_of(app, halo_desk, external).priority == "urgent"
    assert audit_of(app, "psa.took_theirs") == audit_of(app, "psa.kept_ours") == []


def test_an_unmapped_status_is_skipped_and_noted(app, halo, halo_desk):
    external, _ = pulled_ticket(app, halo, halo_desk)
    with app.app_context():
        db.session.execute(PsaMapping.__table__.delete().where(
            PsaMapping.connection_id == halo_desk, PsaMapping.theirs == "3",
            PsaMapping.kind == "status"))
        db.session.commit()
    halo.store.technician_changes(external, status_id=3)
    result = run_pull(app, halo_desk)
    assert ticket_of(app, halo_desk, external).status == "open"
    assert any("status 'Action Required' (3) has no mapping: skipped" in note
               for note in result.notes)


def test_resolved_in_halo_with_a_closing_note_resolves_here_with_that_reply(app, halo,
                                                                            halo_desk):
    external, ticket_id = pulled_ticket(app, halo, halo_desk)
    halo.store.technician_adds_action(external, "<p>Replaced the router; all good.</p>")
    halo.store.technician_changes(external, status_id=8)
    run_pull(app, halo_desk)
    ticket = ticket_of(app, halo_desk, external)
    assert ticket.status == "resolved" and ticket.id == ticket_id
    with app.app_context():
        resolution = db.session.get(replies.Reply, ticket.resolution_reply_id)
        assert resolution.body == "Replaced the router; all good." and not resolution.internal


def test_one_ticket_that_cannot_be_applied_is_noted_and_the_rest_are(app, halo, halo_desk):
    """A ticket another worker keeps applying (its lock held) is skipped and noted; the
    others are applied, and the run's error says which."""
    app.config["PSA_APPLY_WAIT_SECONDS"] = 0.05
    first, stuck, last = (new_halo_ticket(halo, summary=f"T{n}") for n in range(3))
    with app.app_context():
        lock = get_redis().lock(f"helpdesk:psa-apply:{halo_desk}:{stuck}", timeout=60)
        assert lock.acquire()
    result = run_pull(app, halo_desk)
    assert (result.created, result.failed) == (2, 1)
    assert ticket_of(app, halo_desk, stuck) is None
    assert ticket_of(app, halo_desk, first) and ticket_of(app, halo_desk, last)
    with app.app_context():
        error = db.session.get(PsaConnection, halo_desk).last_pull_error
    assert error.startswith("1 ticket could not be applied") and f"{stuck}:" in error


def test_a_psa_change_moves_the_tickets_updated_at_for_open_views(app, client, auth, halo,
                                                                   halo_desk):
    external, ticket_id = pulled_ticket(app, halo, halo_desk)
    auth.login(email("agent"))
    page = client.get(f"/tickets/{ticket_id}/live")
    version = page.headers["ETag"].strip('"').split()[0]
    assert client.get(f"/tickets/{ticket_id}/live?v={version}").status_code == 204
    halo.store.technician_changes(external, priority_id=1)
    run_pull(app, halo_desk)
    live = client.get(f"/tickets/{ticket_id}/live?v={version}")
    assert live.status_code == 200 and "Urgent" in live.text


def test_replies_from_the_psa_are_not_sent_back_to_it(app, halo, halo_desk):
    """Applying the PSA's changes writes nothing for the PSA (the outbox's ``origin``)."""
    external, ticket_id = pulled_ticket(app, halo, halo_desk)
    halo.store.technician_adds_action(external, "<p>Done</p>")
    halo.store.technician_changes(external, status_id=2)
    run_pull(app, halo_desk)
    with app.app_context():
        assert db.session.scalars(select(PsaWrite).where(
            PsaWrite.ticket_id == ticket_id)).all() == []


def test_a_reply_of_ours_is_not_confused_with_theirs(app, halo, halo_desk, world):
    external, ticket_id = pulled_ticket(app, halo, halo_desk)
    with app.app_context():
        ticket = db.session.get(tickets.Ticket, ticket_id)
        replies.add_reply(ticket, author=db.session.get(User, world.users["agent"]),
                          body="From the desk", status="in_progress")
    halo.store.technician_adds_action(external, "<p>From Halo</p>")
    run_pull(app, halo_desk)
    bodies = [body for body, _, _ in thread(app, ticket_id)]
    assert bodies.count("From the desk") == 1 and bodies.count("From Halo") == 1


def test_the_schedule_pulls_every_interval_though_a_run_begins_after_its_look(app, world):
    """The schedule looks every minute; a run that began a second after a look is due again
    at the look ``pull_minutes`` later, not one minute after that."""
    connection = connect(app)
    look = utcnow()
    with app.app_context():
        row = db.session.get(PsaConnection, connection)
        row.pull_minutes, row.last_pull_started_at = 1, look + timedelta(seconds=1)
        db.session.commit()
        assert connection not in due_connection_ids(now=look + timedelta(seconds=30))
        assert connection in due_connection_ids(now=look + timedelta(seconds=60))
