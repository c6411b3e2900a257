"""Attachments: storing files safely, and serving them only to who may see them, inertly."""

import hashlib
import io
from pathlib import Path

import pytest
from flask import render_template_string
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from helpdesk.config import request_size_limit
from helpdesk.extensions import db
from helpdesk.models import Attachment, AuditEntry, Reply, Ticket, User
from helpdesk.services.attachments import (
    attachment_path,
    clean_filename,
    storage_root,
    store_attachments,
)
from helpdesk.services.tickets import TicketError
from tests.world import email


def upload(filename, data, content_type="application/octet-stream"):
    """A file as a browser would send it."""
    return FileStorage(stream=io.BytesIO(data), filename=filename, content_type=content_type)


def attach(ticket_id, uploader_id, *files, internal_note=None):
    """Store files on a ticket through the service and commit; returns the new ids.

    ``internal_note`` True/False attaches them to the ticket's first internal/public reply.
    """
    ticket = db.session.get(Ticket, ticket_id)
    reply = None
    if internal_note is not None:
        reply = db.session.scalar(select(Reply).where(
            Reply.ticket_id == ticket_id, Reply.internal.is_(internal_note)))
    rows = store_attachments(ticket, uploader=db.session.get(User, uploader_id), files=files,
                             reply=reply)
    db.session.commit()
    return [row.id for row in rows]


def stored_files(app):
    """Every file under the attachments folder (temporary ones included)."""
    with app.app_context():
        root = storage_root()
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def download_url(ticket_id, attachment_id):
    return f"/tickets/{ticket_id}/attachments/{attachment_id}"


@pytest.fixture
def alice_file(app, world):
    """A PDF on Alice's ticket, uploaded by Alice."""
    with app.app_context():
        [attachment_id] = attach(world.tickets["alice"], world.users["alice"],
                                 upload("router-log.pdf", b"%PDF-1.4 log", "application/pdf"))
    return attachment_id


def test_store_records_size_and_sha256_and_keeps_bytes_outside_static(app, world):
    """Bytes land under the instance folder by a random name; size and hash are exact."""
    data = b"line\n" * 50_000
    with app.app_context():
        [attachment_id] = attach(world.tickets["alice"], world.users["alice"],
                                 upload("big.log", data, "text/plain"))
        attachment = db.session.get(Attachment, attachment_id)
        path = attachment_path(attachment)
        assert attachment.size == len(data)
        assert attachment.sha256 == hashlib.sha256(data).hexdigest()
        assert attachment.filename == "big.log"
        assert attachment.content_type == "text/plain"
        assert path.read_bytes() == data
        assert path.name == attachment.storage_name and len(attachment.storage_name) == 32
        assert path.parent.name == attachment.storage_name[:2]
        assert path.is_relative_to(Path(app.instance_path))
        assert not path.is_relative_to(Path(app.static_folder))
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "attachment.add"))
        assert entry.ticket_id == world.tickets["alice"]
        assert entry.actor_id == world.users["alice"]
        assert "big.log" in entry.new_value
    assert stored_files(app) == [path]


def test_attachments_path_setting_moves_the_folder(app, world, tmp_path):
    """``ATTACHMENTS_PATH`` overrides the default folder."""
    app.config["ATTACHMENTS_PATH"] = str(tmp_path / "elsewhere")
    with app.app_context():
        [attachment_id] = attach(world.tickets["bob"], world.users["bob"], upload("a.txt", b"a"))
        path = attachment_path(db.session.get(Attachment, attachment_id))
    assert path.is_relative_to(tmp_path / "elsewhere")
    assert path.read_bytes() == b"a"


def test_blank_file_inputs_are_skipped(app, world):
    """An empty file input (no name) stores nothing."""
    with app.app_context():
        ids = attach(world.tickets["alice"], world.users["alice"],
                     FileStorage(stream=io.BytesIO(b""), filename=""), None)
        assert ids == []
        assert db.session.scalar(select(func.count(Attachment.id))) == 0


def test_file_over_the_cap_is_refused_by_name_and_nothing_is_kept(app, world):
    """All or nothing: the small file written before the big one is removed again."""
    app.config["MAX_ATTACHMENT_MB"] = 1
    with app.app_context():
        ticket = db.session.get(Ticket, world.tickets["alice"])
        alice = db.session.get(User, world.users["alice"])
        files = [upload("small.txt", b"ok"), upload("huge-capture.pcap", b"x" * (1024 * 1024 + 1))]
        with pytest.raises(TicketError) as refused:
            store_attachments(ticket, uploader=alice, files=files)
        db.session.rollback()
        assert refused.value.field == "attachments"
        assert "huge-capture.pcap" in str(refused.value)
        assert "1 MB" in str(refused.value)
        assert db.session.scalar(select(func.count(Attachment.id))) == 0
        assert db.session.scalar(select(func.count(AuditEntry.id)).where(
            AuditEntry.action == "attachment.add")) == 0
    assert stored_files(app) == []


def test_file_exactly_at_the_cap_is_accepted(app, world):
    """The cap is inclusive."""
    app.config["MAX_ATTACHMENT_MB"] = 1
    with app.app_context():
        ids = attach(world.tickets["alice"], world.users["alice"],
                     upload("edge.bin", b"x" * (1024 * 1024)))
    assert len(ids) == 1


def test_rolled_back_transaction_leaves_no_files(app, world):
    """The caller commits; if it rolls back instead, the written files are deleted."""
    with app.app_context():
        ticket = db.session.get(Ticket, world.tickets["alice"])
        alice = db.session.get(User, world.users["alice"])
        store_attachments(ticket, uploader=alice, files=[upload("a.txt", b"a")])
        assert len(stored_files(app)) == 1
        db.session.rollback()
        assert db.session.scalar(select(func.count(Attachment.id))) == 0
    assert stored_files(app) == []


def test_files_of_a_closed_uncommitted_session_are_removed(app, world):
    """A request that ends without committing (an error page) leaves no files either."""
    with app.app_context():
        ticket = db.session.get(Ticket, world.tickets["alice"])
        store_attachments(ticket, uploader=ticket.subscriber, files=[upload("a.txt", b"a")])
        db.session.remove()
    assert stored_files(app) == []


def test_savepoint_release_does_not_keep_files_of_a_failed_transaction(app, world):
    """Only the outermost commit saves the files."""
    with app.app_context():
        ticket = db.session.get(Ticket, world.tickets["alice"])
        with db.session.begin_nested():
            store_attachments(ticket, uploader=ticket.subscriber, files=[upload("a.txt", b"a")])
        db.session.rollback()
    assert stored_files(app) == []


@pytest.mark.parametrize(("raw", "clean"), [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\system.ini", "system.ini"),
    ("<script>alert(1)</script>.html", "script.html"),
    ("Ärger über Rechnung.pdf", "Arger_uber_Rechnung.pdf"),
    ("счёт.pdf", "attachment.pdf"),
    ("...", "attachment"),
    ("", "attachment"),
    ("a" * 300 + ".txt", "a" * 251 + ".txt"),
])
def test_filenames_are_sanitised_readably(raw, clean):
    """No path parts, no markup, ASCII only, a readable name when nothing else is left."""
    assert clean_filename(raw) == clean


@pytest.mark.parametrize("key", ["admin", "agent", "north_reseller", "north_all", "alice"])
def test_download_for_everyone_who_sees_the_ticket(client, auth, alice_file, world, key):
    """Staff, the ticket's reseller and the subscriber all download it."""
    auth.login(email(key))
    response = client.get(download_url(world.tickets["alice"], alice_file))
    assert response.status_code == 200
    assert response.data == b"%PDF-1.4 log"
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == "attachment; filename=router-log.pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert "private" in response.headers["Cache-Control"]


@pytest.mark.parametrize("key", ["south_reseller", "north_none", "bob", "dave", "carol", "zed"])
def test_download_is_404_outside_the_ticket_scope(client, auth, alice_file, world, key):
    """Another reseller, another subscriber, another organisation's company admin: 404."""
    auth.login(email(key))
    response = client.get(download_url(world.tickets["alice"], alice_file))
    assert response.status_code == 404
    assert b"%PDF" not in response.data


def test_download_needs_a_sign_in(client, alice_file, world):
    """Anonymous visitors are sent to sign in."""
    response = client.get(download_url(world.tickets["alice"], alice_file))
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_attachment_under_another_tickets_address_is_404(client, auth, alice_file, world):
    """The attachment must belong to the ticket in the URL, even for an admin."""
    auth.login(email("admin"))
    assert client.get(download_url(world.tickets["bob"], alice_file)).status_code == 404
    assert client.get(download_url(world.tickets["alice"], alice_file + 999)).status_code == 404


@pytest.mark.parametrize(("key", "status"), [
    ("alice", 404), ("agent", 200), ("north_reseller", 200), ("admin", 200),
])
def test_internal_note_attachments_stay_internal(app, client, auth, world, key, status):
    """A file on an internal note does not exist for the customer."""
    with app.app_context():
        [note_file] = attach(world.tickets["alice"], world.users["agent"],
                             upload("vlan-config.txt", b"secret vlan", "text/plain"),
                             internal_note=True)
        [public_file] = attach(world.tickets["alice"], world.users["agent"],
                               upload("howto.txt", b"public", "text/plain"),
                               internal_note=False)
    auth.login(email(key))
    assert client.get(download_url(world.tickets["alice"], note_file)).status_code == status
    assert client.get(download_url(world.tickets["alice"], public_file)).status_code == 200


@pytest.mark.parametrize(("filename", "content_type", "data"), [
    ("page.html", "text/html", b"<script>alert(document.cookie)</script>"),
    ("logo.svg", "image/svg+xml", b"<svg xmlns='http://www.w3.org/2000/svg'><script>x</script></svg>"),
    ("fake.png", "text/html; charset=utf-8", b"<html><script>x</script></html>"),
    ("data.xml", "application/xhtml+xml", b"<html xmlns='http://www.w3.org/1999/xhtml'/>"),
])
def test_active_content_is_served_as_an_inert_download(client, auth, app, world, filename,
                                                         content_type, data):
    """HTML, SVG and friends: octet-stream, attachment, nosniff, sandboxed."""
    with app.app_context():
        [attachment_id] = attach(world.tickets["alice"], world.users["alice"],
                                 upload(filename, data, content_type))
    auth.login(email("agent"))
    response = client.get(download_url(world.tickets["alice"], attachment_id))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"].startswith("sandbox")
    assert response.data == data


def test_image_keeps_its_type_but_still_downloads(client, auth, app, world):
    """Allow-listed types keep their Content-Type; the disposition stays attachment."""
    with app.app_context():
        [attachment_id] = attach(world.tickets["alice"], world.users["alice"],
                                 upload("photo.png", b"\x89PNG\r\n", "image/png"))
    auth.login(email("alice"))
    response = client.get(download_url(world.tickets["alice"], attachment_id))
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Disposition"] == "attachment; filename=photo.png"


def test_malicious_filenames_are_stored_safely_and_rendered_inert(client, auth, app, world):
    """Path tricks never reach the disk; markup in a name never reaches a page."""
    with app.app_context():
        ids = attach(world.tickets["alice"], world.users["alice"],
                     upload("../../etc/passwd", b"root:x:0:0"),
                     upload("<script>.html", b"<script>alert(1)</script>", "text/html"))
        rows = [db.session.get(Attachment, i) for i in ids]
        assert [row.filename for row in rows] == ["passwd", "script.html"]
        for row in rows:
            assert attachment_path(row).is_relative_to(storage_root())
            assert row.filename not in str(attachment_path(row))
        with app.test_request_context():
            html = render_template_string(
                '{% from "_macros/attachments.html" import attachment_list %}'
                "{{ attachment_list(rows) }}", rows=rows)
    assert "<script>" not in html
    assert "passwd" in html and "script.html" in html
    auth.login(email("alice"))
    response = client.get(download_url(world.tickets["alice"], ids[1]))
    assert response.headers["Content-Disposition"] == "attachment; filename=script.html"
    assert response.headers["Content-Type"] == "application/octet-stream"


def test_attachment_list_macro_shows_name_size_and_link(app, world):
    """The timeline macro: a download link, the name and a human size."""
    with app.app_context():
        [attachment_id] = attach(world.tickets["alice"], world.users["alice"],
                                 upload("speedtest.png", b"x" * 3500, "image/png"))
        rows = [db.session.get(Attachment, attachment_id)]
        with app.test_request_context():
            html = render_template_string(
                '{% from "_macros/attachments.html" import attachment_list %}'
                "{{ attachment_list(rows) }}", rows=rows)
    assert f'href="{download_url(world.tickets["alice"], attachment_id)}"' in html
    assert "speedtest.png" in html
    assert "3.4 KB" in html


def test_file_missing_from_disk_is_404(client, auth, alice_file, app, world):
    """A row whose bytes are gone answers 404, not a 500."""
    with app.app_context():
        attachment_path(db.session.get(Attachment, alice_file)).unlink()
    auth.login(email("alice"))
    assert client.get(download_url(world.tickets["alice"], alice_file)).status_code == 404


def test_request_limit_leaves_room_for_a_full_size_attachment(app):
    """A file just under the per-file cap is refused by name, never by the blunt 413."""
    cap = app.config["MAX_ATTACHMENT_MB"] * 1024 * 1024
    assert app.config["MAX_CONTENT_LENGTH"] > 3 * cap
    assert request_size_limit(25, 10) > 25 * 1024 * 1024


def test_files_from_a_real_multipart_request(app, world):
    """What the reply box will pass: ``request.files.getlist`` of a parsed form."""
    big = b"y" * (700 * 1024)  # spooled to a temporary file by Werkzeug
    data = {"body": "see files", "attachments": [
        (io.BytesIO(big), "trace.txt", "text/plain"),
        (io.BytesIO(b""), ""),  # a blank second file input
    ]}
    with app.test_request_context("/", method="POST", data=data,
                                  content_type="multipart/form-data"):
        from flask import request

        ticket = db.session.get(Ticket, world.tickets["alice"])
        rows = store_attachments(ticket, uploader=ticket.subscriber,
                                 files=request.files.getlist("attachments"))
        db.session.commit()
        assert [(row.filename, row.size) for row in rows] == [("trace.txt", len(big))]
        assert attachment_path(rows[0]).read_bytes() == big


def test_thread_grouping_hides_internal_note_files_from_customers(app, world):
    """``visible_attachments`` + ``thread_attachments``: what a timeline shows per reply."""
    from helpdesk.access import visible_attachments
    from helpdesk.services.attachments import thread_attachments

    with app.app_context():
        ticket_id = world.tickets["alice"]
        [opening] = attach(ticket_id, world.users["alice"], upload("photo.jpg", b"j"))
        [public] = attach(ticket_id, world.users["agent"], upload("a.txt", b"a"),
                          internal_note=False)
        [note] = attach(ticket_id, world.users["agent"], upload("n.txt", b"n"),
                        internal_note=True)
        ticket = db.session.get(Ticket, ticket_id)

        def grouped(key):
            user = db.session.get(User, world.users[key])
            rows = db.session.scalars(visible_attachments(user, ticket)).all()
            return {reply: [a.id for a in files]
                    for reply, files in thread_attachments(rows).items()}

        for_agent, for_alice = grouped("agent"), grouped("alice")
    assert for_agent[None] == [opening] and for_alice[None] == [opening]
    assert sorted(i for files in for_agent.values() for i in files) == [opening, public, note]
    assert sorted(i for files in for_alice.values() for i in files) == [opening, public]
