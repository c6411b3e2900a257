"""Issue 11's "Done when", end to end: an admin connects a HaloPSA instance (the loopback one,
real HTTP) through the admin pages, tests it, fetches its lookups, maps statuses and
priorities, links an organisation and its subscribers; an agent's public reply and an
internal note with time and a file reach Halo once each (sent by the psa worker); a
technician's public action, hidden action with time, files and status change come back
through Halo's webhook and the worker: on the desk's timeline, the public ones in the
subscriber's portal, the hidden ones never; and pulling again adds nothing and sends
nothing back."""

import io

from sqlalchemy import func, select, update

from helpdesk.extensions import db
from helpdesk.models import (
    Attachment,
    Organisation,
    PsaConnection,
    PsaLink,
    PsaWrite,
    Reply,
    Ticket,
    TimeEntry,
)
from helpdesk.services import psa_connections
from jobs.worker import make_worker
from tests.admin_pages import post
from tests.halo_webhooks import delivery, ticket_event
from tests.psa_loopback import name_lookups
from tests.psa_pull_kit import HALO_PRIORITIES, run_pull
from tests.psa_push_kit import actions_with_marker, attachments_with_marker
from tests.world import email

LIST = "/admin/psa"
# Halo's statuses for ours (tests/halo_store.py: 1 New, 2 In Progress, 3 Action Required,
# 4 With User, 8 Resolved, 9 Closed).
STATUSES = {"open": "1", "in_progress": "2", "waiting_on_customer": "4",
            "waiting_on_vendor": "3", "on_hold": "3", "resolved": "8", "closed": "9"}


def work(app):
    """Run what the psa queue holds, as the psa worker does."""
    make_worker(app, queues=["psa"], simple=True).work(burst=True)


def admin_connects_and_maps(app, client, auth, halo):
    """Everything the admin does, through the pages; the connection's id."""
    name_lookups(halo, clients=["Acme"], users=[("Dave", email("dave"))])
    auth.login(email("admin"))
    created = post(client, LIST, {
        "name": "Main", "kind": "halopsa", "base_url": halo.url, "auth_url": halo.auth_url,
        "tenant": "", "client_id": halo.client_id, "client_secret": halo.client_secret,
        "request_budget": "150", "pull_minutes": "5"}, page=f"{LIST}/new")
    assert created.status_code == 303
    page = created.headers["Location"]
    connection_id = int(page.rsplit("/", 1)[1])
    assert post(client, f"{page}/check", page=page).status_code == 303
    assert f"Connected: HaloPSA at {halo.url} answered: token granted" in client.get(page).text
    assert post(client, f"{page}/lookups", page=page).status_code == 303
    assert "Action Required" in client.get(f"{page}/lookups").text
    mapping = {f"status-{ours}": theirs for ours, theirs in STATUSES.items()}
    mapping |= {f"priority-{ours}": theirs for ours, theirs in HALO_PRIORITIES.items()}
    assert post(client, f"{page}/mappings", mapping, page=f"{page}/mappings").status_code == 303
    with app.app_context():
        acme = db.session.scalar(select(Organisation.id).where(Organisation.name == "Acme"))
    organisations = f"{page}/organisations"
    assert post(client, f"{organisations}/{acme}", {"psa": "Acme"},
                page=organisations).status_code == 303
    subscribers = f"{page}/subscribers"
    assert post(client, f"{subscribers}/suggested", page=subscribers).status_code == 303
    auth.logout()
    return connection_id


def desk_state(app, ticket_id):
    """What the desk holds of a ticket: its replies (body, internal, minutes logged) and
    files (name, the reply it is on, internal, bytes), oldest first, and its status."""
    from helpdesk.services.attachments import open_attachment

    with app.app_context():
        logged = select(func.coalesce(func.sum(TimeEntry.minutes), 0)).where(
            TimeEntry.reply_id == Reply.id).scalar_subquery()
        lines = [tuple(row) for row in db.session.execute(
            select(Reply.body, Reply.internal, logged).where(Reply.ticket_id == ticket_id)
            .order_by(Reply.created_at, Reply.id))]
        files = []
        for attachment in db.session.scalars(select(Attachment).where(
                Attachment.ticket_id == ticket_id).order_by(Attachment.id)):
            with open_attachment(attachment) as stored:
                files.append((attachment.filename, attachment.reply.body,
                              attachment.reply.internal, stored.read()))
        return lines, files, db.session.get(Ticket, ticket_id).status


def test_tickets_replies_notes_time_and_files_go_both_ways(app, client, auth, world, halo):
    connection_id = admin_connects_and_maps(app, client, auth, halo)
    ticket_id = world.tickets["dave"]  # Dave is Acme's

    # -- out: the agent answers on the desk, the psa worker sends it -----------------------
    auth.login(email("agent"))
    ticket_page = f"/tickets/{ticket_id}"
    assert post(client, f"{ticket_page}/replies", {"body": "Please restart the router"},
                page=ticket_page).status_code == 303
    assert post(client, f"{ticket_page}/replies", {
        "body": "Line tested at the exchange", "internal": "1", "minutes": "45",
        "attachments": [(io.BytesIO(b"attenuation 31 dB"), "line-test.txt", "text/plain")]},
        page=ticket_page).status_code == 303
    work(app)
    work(app)  # a second round finds nothing left to send

    [halo_ticket] = halo.store.with_marker(f"hd-ticket-{ticket_id}")
    external = halo_ticket["id"]
    assert str(halo_ticket["client_id"]) == "1"  # Acme's client, as the admin linked it
    with app.app_context():
        reply_id, note_id = db.session.scalars(select(Reply.id).where(
            Reply.ticket_id == ticket_id).order_by(Reply.id.desc()).limit(2)).all()[::-1]
        file_id = db.session.scalar(select(Attachment.id).where(Attachment.reply_id == note_id))
        sent = db.session.execute(select(PsaWrite.kind, PsaWrite.state).where(
            PsaWrite.ticket_id == ticket_id).order_by(PsaWrite.id)).all()
    # the ticket, the reply and the status it set, the note with its time, the file
    assert [tuple(row) for row in sent] == [
        (kind, "sent") for kind in ("create_ticket", "add_action", "update_ticket",
                                    "add_action", "upload_attachment")]
    [reply] = actions_with_marker(halo, f"hd-reply-{reply_id}")
    [note] = actions_with_marker(halo, f"hd-reply-{note_id}")
    assert reply["hiddenfromuser"] is False and "Please restart the router" in reply["note_html"]
    assert note["hiddenfromuser"] is True and note["timetaken"] == 0.75
    [halo_file] = attachments_with_marker(halo, f"hd-attachment-{file_id}")
    assert halo.store.attachment_data[halo_file["id"]] == b"attenuation 31 dB"
    assert (halo_file["action_id"], halo_file["showforusers"]) == (note["id"], False)
    assert halo.rejected == []  # every body passed the vendor's schema

    # -- in: a technician works the ticket in Halo; its webhook tells the desk -------------
    store = halo.store
    public = store.technician_adds_action(external, "<p>Replaced the router</p>")
    hidden = store.technician_adds_action(external, "<p>ISP case 4471 opened</p>",
                                          hidden=True, minutes=30)
    store.technician_attaches(external, "router-photo.jpg", b"\xff\xd8 new router",
                              action_id=public["id"])
    store.technician_attaches(external, "isp-case.txt", b"case 4471", action_id=hidden["id"])
    store.technician_sets_status(external, 2)
    with app.app_context():
        secret = psa_connections.webhook_secret(db.session.get(PsaConnection, connection_id))
    headers, body = delivery(ticket_event(store, external, event="Action Added",
                                          action_id=hidden["id"], event_only=True),
                             basic=("halo", secret))
    hook = f"/psa/webhooks/{connection_id}"
    assert client.post(hook, json=body, headers=headers).json == {"tickets": 1, "queued": 1}
    work(app)

    lines, files, status = desk_state(app, ticket_id)
    assert lines[-4:] == [("Please restart the router", False, 0),
                          ("Line tested at the exchange", True, 45),
                          ("Replaced the router", False, 0),
                          ("ISP case 4471 opened", True, 30)]
    assert files == [
        ("line-test.txt", "Line tested at the exchange", True, b"attenuation 31 dB"),
        ("router-photo.jpg", "Replaced the router", False, b"\xff\xd8 new router"),
        ("isp-case.txt", "ISP case 4471 opened", True, b"case 4471")]
    assert status == "in_progress"
    desk = client.get(ticket_page).text
    for shown in ("Replaced the router", "ISP case 4471 opened", "Time logged: 30 min",
                  "router-photo.jpg", "isp-case.txt", "In progress"):
        assert shown in desk, shown
    assert "Status changed from" not in desk  # Halo's record of it is no note
    auth.logout()
    auth.login(email("dave"))
    portal = client.get(f"/portal/tickets/{ticket_id}").text
    assert "Replaced the router" in portal and "router-photo.jpg" in portal
    for hidden_text in ("ISP case 4471", "isp-case.txt", "Line tested", "line-test.txt"):
        assert hidden_text not in portal, hidden_text

    # -- again: a scheduled pull and a redelivered webhook add nothing, send nothing -------
    posts_before = [r for r in halo.received if r.method == "POST"]
    with app.app_context():
        writes_before = db.session.scalar(select(func.count()).select_from(PsaWrite))
        # read it all again, as if never read: the ticket, then its actions and files
        db.session.get(PsaConnection, connection_id).pulled_until = None
        db.session.execute(update(PsaLink).where(PsaLink.kind == "ticket").values(
            remote_updated_at=None))
        db.session.commit()
    again = run_pull(app, connection_id)
    assert (again.read, again.created, again.actions_read) == (1, 0, 1)
    assert (again.actions_added, again.files_added, again.failed) == (0, 0, 0)
    assert client.post(hook, json=body, headers=headers).status_code == 200
    work(app)
    assert desk_state(app, ticket_id) == (lines, files, status)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PsaWrite)) == writes_before
    assert [r for r in halo.received if r.method == "POST"] == posts_before

