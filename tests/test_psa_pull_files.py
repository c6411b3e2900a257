"""Files and system actions pulled from a loopback HaloPSA over real HTTP: a technician's
files land on the replies their actions became (or a reply of their own), hidden ones never
in the portal; each once, however often the pull runs or wherever it stopped; the echoes of
our uploads are not brought back; a file over the desk's limit is noted, not downloaded;
Halo's record of a status change is not an internal note."""

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Attachment, PsaConnection, PsaLink, PsaWrite, TicketEvent, User
from helpdesk.psa.halopsa.markers import reference
from helpdesk.services.attachments import open_attachment
from tests.psa_pull_kit import (
    cache_lookups,
    connect,
    link,
    new_halo_ticket,
    run_pull,
    ticket_of,
)
from tests.psa_pull_kit import thread as replies_of
from tests.world import email


@pytest.fixture
def halo_desk(app, world, halo):
    """A connection to the loopback Halo with its lookups cached."""
    connection = connect(app, halo)
    cache_lookups(app, connection, halo)
    return connection


def pulled_ticket(app, halo, connection):
    """A Halo ticket of Dave's already pulled into the desk: (Halo's id, our id)."""
    with app.app_context():
        dave = db.session.scalar(select(User.id).where(User.email == email("dave")))
    link(app, connection, "user", dave, 1)
    external = new_halo_ticket(halo, client_id=1, user_id=1)
    run_pull(app, connection)
    return external, ticket_of(app, connection, external).id


def files_of(app, ticket_id):
    """(filename, its reply's body, internal, bytes) of a ticket's files, oldest first."""
    with app.app_context():
        found = []
        for attachment in db.session.scalars(select(Attachment).where(
                Attachment.ticket_id == ticket_id).order_by(Attachment.id)):
            with open_attachment(attachment) as stored:
                found.append((attachment.filename, attachment.reply.body,
                              attachment.reply.internal, stored.read()))
        return found


def pull_everything_again(app, connection):
    """As if the runs had been cut short: read every ticket, its actions and files again."""
    with app.app_context():
        db.session.get(PsaConnection, connection).pulled_until = None
        for ticket_link in db.session.scalars(select(PsaLink).where(PsaLink.kind == "ticket")):
            ticket_link.remote_updated_at = None
        db.session.commit()
    return run_pull(app, connection)


def downloads(halo):
    return [r for r in halo.received
            if r.method == "GET" and r.path.lower().startswith("/api/attachment/")]


def test_files_land_on_their_replies_and_hidden_ones_never_reach_the_portal(
        app, client, auth, halo, halo_desk):
    external, ticket_id = pulled_ticket(app, halo, halo_desk)
    public = halo.store.technician_adds_action(external, "<p>Here is the driver</p>")
    hidden = halo.store.technician_adds_action(external, "<p>Their config</p>", hidden=True)
    store = halo.store
    driver = store.technician_attaches(external, "driver.zip", b"PK driver",
                                       action_id=public["id"])
    config = store.technician_attaches(external, "config.txt", b"secret=1",
                                       action_id=hidden["id"])
    store.technician_attaches(external, "notes.txt", b"ours only", hidden=True)
    store.technician_attaches(external, "photo.jpg", b"\xff\xd8 photo")
    # shown to the user in Halo, but on a hidden action: hidden here too
    store.technician_attaches(external, "ledger.csv", b"a,b", action_id=hidden["id"],
                              hidden=False)

    result = run_pull(app, halo_desk)

    assert result.files_added == 5 and result.failed == 0
    assert files_of(app, ticket_id) == [
        ("driver.zip", "Here is the driver", False, b"PK driver"),
        ("config.txt", "Their config", True, b"secret=1"),
        ("notes.txt", "File added in HaloPSA: notes.txt", True, b"ours only"),
        ("photo.jpg", "File added in HaloPSA: photo.jpg", False, b"\xff\xd8 photo"),
        ("ledger.csv", "Their config", True, b"a,b")]
    with app.app_context():
        assert db.session.scalars(select(PsaWrite).where(  # nothing goes back to Halo
            PsaWrite.ticket_id == ticket_id)).all() == []
        hidden_ids = db.session.scalars(select(Attachment.id).where(
            Attachment.ticket_id == ticket_id,
            Attachment.filename.in_(["config.txt", "notes.txt", "ledger.csv"]))).all()
        linked = db.session.scalars(select(PsaLink.external_id).where(
            PsaLink.kind == "attachment", PsaLink.connection_id == halo_desk)).all()
    assert str(driver["id"]) in linked and str(config["id"]) in linked and len(linked) == 5
    auth.login(email("dave"))
    portal = client.get(f"/portal/tickets/{ticket_id}").text
    assert "driver.zip" in portal and "photo.jpg" in portal
    assert "config.txt" not in portal and "notes.txt" not in portal
    assert "ledger.csv" not in portal and "Their config" not in portal
    for attachment_id in hidden_ids:
        assert client.get(f"/tickets/{ticket_id}/attachments/{attachment_id}").status_code == 404
    auth.logout()
    auth.login(email("agent"))
    desk = client.get(f"/tickets/{ticket_id}").text
    assert all(name in desk for name in ("driver.zip", "config.txt", "notes.txt", "ledger.csv"))


def test_each_file_is_stored_once_however_often_the_pull_runs_or_where_it_stopped(
        app, halo, halo_desk):
    external, ticket_id = pulled_ticket(app, halo, halo_desk)
    first = halo.store.technician_attaches(external, "one.txt", b"1")
    second = halo.store.technician_attaches(external, "two.txt", b"2")
    halo.fail("500", path=f"/api/Attachment/{second['id']}")  # Halo fails the second, once

    stopped = run_pull(app, halo_desk)

    assert stopped.files_added == 1
    assert any("two.txt not brought in" in note for note in stopped.notes)
    with app.app_context():  # the ticket's files are still due: the next run goes on
        assert db.session.scalar(select(PsaLink.actions_due_at).where(
            PsaLink.kind == "ticket", PsaLink.local_id == ticket_id)) is not None
    assert run_pull(app, halo_desk).files_added == 1
    assert pull_everything_again(app, halo_desk).files_added == 0
    with app.app_context():
        from helpdesk.services.psa_pull import pull_one

        assert pull_one(halo_desk, external).files_added == 0
    assert [name for name, *_ in files_of(app, ticket_id)] == ["one.txt", "two.txt"]
    fetched = [r.path for r in downloads(halo)]
    assert fetched.count(f"/api/Attachment/{first['id']}") == 1
    assert fetched.count(f"/api/Attachment/{second['id']}") == 2  # the failed one and the next


def test_the_echoes_of_our_uploads_are_not_brought_back(app, halo, halo_desk, world):
    external, ticket_id = pulled_ticket(app, halo, halo_desk)
    with app.app_context():
        db.session.add(PsaWrite(connection_id=halo_desk, ticket_id=ticket_id,
                                kind="upload_attachment", key="attachment-901",
                                marker="hd-attachment-901", state="sending"))
        db.session.commit()
    halo.store.save_attachments([{"ticket_id": external, "filename": "sent.txt",
                                  "note": reference("hd-attachment-901"), "data_base64": ""}])
    # one whose write is gone, but whose marker names a file of this ticket
    with app.app_context():
        db.session.add(Attachment(ticket_id=ticket_id, uploader_id=world.users["agent"],
                                  filename="kept.txt", content_type="text/plain", size=1,
                                  sha256="0" * 64, storage_name="f" * 32))
        db.session.commit()
        ours = db.session.scalar(select(Attachment.id).where(Attachment.filename == "kept.txt"))
    halo.store.save_attachments([{"ticket_id": external, "filename": "kept.txt",
                                  "note": reference(f"hd-attachment-{ours}"),
                                  "data_base64": "eA=="}])
    halo.store.technician_adds_action(external, "<p>Got them</p>")

    result = run_pull(app, halo_desk)

    assert result.files_added == 0 and result.actions_added == 1
    assert downloads(halo) == []
    with app.app_context():
        assert db.session.scalars(select(Attachment.filename).where(
            Attachment.ticket_id == ticket_id)).all() == ["kept.txt"]


def test_a_file_over_the_desks_limit_is_noted_once_and_never_downloaded(app, client, auth,
                                                                        halo, halo_desk):
    app.config["MAX_ATTACHMENT_MB"] = 1
    external, ticket_id = pulled_ticket(app, halo, halo_desk)
    halo.store.technician_attaches(external, "backup.tar", b"\0" * (2 * 2**20))

    result = run_pull(app, halo_desk)
    pull_everything_again(app, halo_desk)

    text = "backup.tar from HaloPSA not brought in: 2 MB, over the desk's 1 MB limit"
    assert any(note.endswith(text) for note in result.notes)
    assert downloads(halo) == [] and files_of(app, ticket_id) == []
    with app.app_context():
        said = db.session.scalars(select(TicketEvent).where(
            TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "psa_sync")).all()
        assert [(event.new_value, event.internal) for event in said] == [(text, True)]


def test_halos_record_of_a_status_change_is_not_an_internal_note(app, halo, halo_desk):
    external, ticket_id = pulled_ticket(app, halo, halo_desk)
    halo.store.technician_adds_action(external, "<p>Parts ordered</p>", hidden=True)
    halo.store.technician_sets_status(external, 2)

    result = run_pull(app, halo_desk)

    assert result.actions_added == 1
    assert ticket_of(app, halo_desk, external).status == "in_progress"
    assert [(body, internal) for body, internal, _ in replies_of(app, ticket_id)] == [
        ("Parts ordered", True)]
