"""The PSA dead letters (/admin/psa/dead-letters, admins only) and the ticket's sync chip
(staff and resellers, never the portal): what an admin sees and does, what is audited, and
what the chip says as the writes go, wait or fail."""

import pytest
from sqlalchemy import select, update

from helpdesk.extensions import db
from helpdesk.models import AuditEntry, PsaWrite, Ticket, User
from helpdesk.services import psa_outbox, psa_ticket_sync, replies
from tests.admin_pages import post
from tests.psa_push_kit import connect, push, states, writes
from tests.world import email

PAGE = "/admin/psa/dead-letters"


def _refused_write(app, world, halo):
    """Dave's ticket in the outbox with its creation refused by Halo (a 400) and a note
    waiting behind it; returns (connection id, ticket id, dead write id)."""
    connection_id = connect(app, halo)
    ticket_id = world.tickets["dave"]
    with app.app_context():
        replies.add_reply(db.session.get(Ticket, ticket_id), internal=True, body="Waits",
                          author=db.session.get(User, world.users["agent"]))
    halo.fail("answer", method="POST", path="/api/Tickets", status=400,
                  body={"message": "Please choose a valid Site"})
    push(app, connection_id)
    [dead] = writes(app, state="dead")
    return connection_id, ticket_id, dead.id


def _audit(app, action):
    with app.app_context():
        return [(entry.actor_id, entry.ticket_id, entry.old_value, entry.new_value)
                for entry in db.session.scalars(select(AuditEntry).where(
                    AuditEntry.action == action).order_by(AuditEntry.id))]


@pytest.mark.parametrize("who", ["agent", "north_reseller", "alice", "carol"])
def test_the_dead_letters_are_not_found_for_anyone_but_admins(app, client, auth, world,
                                                              halo, who):
    _, _, dead_id = _refused_write(app, world, halo)
    auth.login(email(who))
    assert client.get(PAGE).status_code == 404
    for action in (f"{PAGE}/{dead_id}/retry", f"{PAGE}/retry"):
        assert post(client, action, {"write": dead_id}, page="/profile").status_code == 404
    assert post(client, f"{PAGE}/{dead_id}/discard", {"reason": "x"},
                page="/profile").status_code == 404
    assert writes(app, id=dead_id)[0].state == "dead"


def test_signed_out_is_sent_to_sign_in_and_posts_need_the_csrf_token(app, client, auth,
                                                                     world, halo):
    _, _, dead_id = _refused_write(app, world, halo)
    assert client.get(PAGE).status_code == 302
    auth.login(email("admin"))
    assert client.post(f"{PAGE}/{dead_id}/retry").status_code == 400
    assert writes(app, id=dead_id)[0].state == "dead"


def test_an_admin_reads_a_dead_write_and_retries_it_from_the_page(app, client, auth, world,
                                                                  halo):
    connection_id, ticket_id, dead_id = _refused_write(app, world, halo)
    auth.login(email("admin"))
    page = client.get(PAGE)
    assert page.status_code == 200
    assert f"write-{dead_id}" in page.text and "Please choose a valid Site" in page.text
    assert "HTTP 400" in page.text and "&#34;summary&#34;: &#34;dave ticket&#34;" in page.text
    assert post(client, f"{PAGE}/{dead_id}/retry", page=PAGE).status_code == 303
    [row] = writes(app, id=dead_id)
    assert (row.state, row.attempts) == ("queued", 0)  # a fresh round of retries
    assert _audit(app, "psa.retry") == [(world.users["admin"], ticket_id, row.key, None)]
    halo.clear_faults()
    push(app, connection_id)
    assert states(app, ticket_id) == [("create_ticket", "sent"), ("add_action", "sent")]
    assert len(halo.store.with_marker(f"hd-ticket-{ticket_id}")) == 1
    assert "No dead letters" in client.get(PAGE).text
    # the audit log reads each attempt, its request folded away
    log = client.get(f"/admin/audit?ticket={ticket_id}").text
    assert "sent the new ticket of" in log and "now in the dead letters" in log
    assert "<details class=\"audit-payload\">" in log and "retried the PSA write" in log


def test_discarding_needs_a_reason_and_lets_the_writes_behind_go(app, client, auth, world,
                                                                 halo):
    connection_id, ticket_id, dead_id = _refused_write(app, world, halo)
    auth.login(email("admin"))
    refused = post(client, f"{PAGE}/{dead_id}/discard", {"reason": "   "}, page=PAGE)
    assert refused.status_code == 400
    assert "Say why these writes are given up." in refused.text
    assert writes(app, id=dead_id)[0].state == "dead" and _audit(app, "psa.discard") == []
    done = post(client, f"{PAGE}/{dead_id}/discard", {"reason": "Made by hand in Halo"},
                page=PAGE)
    assert done.status_code == 303
    [row] = writes(app, id=dead_id)
    assert (row.state, row.discard_reason, row.discarded_by_id) == (
        "discarded", "Made by hand in Halo", world.users["admin"])
    assert _audit(app, "psa.discard") == [(world.users["admin"], ticket_id, row.key,
                                           "Made by hand in Halo")]
    # the note behind it now has no ticket to go to: it is dead too, saying why
    halo.clear_faults()
    push(app, connection_id)
    note = writes(app, kind="add_action", ticket_id=ticket_id)[0]
    assert note.state == "dead" and "is not in HaloPSA yet" in note.last_error


def test_bulk_retry_and_discard_and_paging(app, client, auth, world, halo):
    connection_id = connect(app, halo)
    with app.app_context():
        ticket = db.session.get(Ticket, world.tickets["zed"])
        for number in range(27):
            psa_outbox.record(ticket, kind="update_ticket", key=f"bulk-{number}",
                              change={"status": "open"})
        db.session.commit()
        db.session.execute(update(PsaWrite).where(PsaWrite.key.like("bulk-%"))
                           .values(state="dead", last_error="HTTP 500: down", attempts=6))
        db.session.commit()
    auth.login(email("admin"))
    first = client.get(PAGE)
    assert first.text.count('class="card dead-letter"') == 25
    assert "27 dead writes" in first.text
    older = first.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = client.get(older.replace("&amp;", "&"))
    assert second.text.count('class="card dead-letter"') == 2
    assert client.get(f"{PAGE}?after=not-a-cursor").status_code == 404
    ids = [row.id for row in writes(app, state="dead")]
    assert post(client, f"{PAGE}/discard", {"write": ids[:2]}, page=PAGE).status_code == 400
    assert post(client, f"{PAGE}/discard", {"write": ids[:2], "reason": "Duplicates"},
                page=PAGE).status_code == 303
    assert post(client, f"{PAGE}/retry", {"write": ids[2:4]}, page=PAGE).status_code == 303
    assert post(client, f"{PAGE}/retry", {"all": "1"}, page=PAGE).status_code == 303
    assert len(writes(app, state="discarded")) == 2
    assert len(writes(app, state="dead")) == 0
    assert len(_audit(app, "psa.retry")) == 25 and len(_audit(app, "psa.discard")) == 2
    assert post(client, f"{PAGE}/retry", {"write": ids[:1]}, page=PAGE).status_code == 400
    assert connection_id


def test_the_chip_says_pending_synced_and_failed_to_staff_only(app, client, auth, world,
                                                               halo):
    connection_id = connect(app, halo)
    ticket_id = world.tickets["dave"]
    with app.app_context():
        replies.add_reply(db.session.get(Ticket, ticket_id), internal=True, body="Note",
                          author=db.session.get(User, world.users["agent"]))
    auth.login(email("agent"))
    page = client.get(f"/tickets/{ticket_id}").text
    assert "HaloPSA: 2 changes to send" in page
    assert f'hx-get="/tickets/{ticket_id}/psa-sync"' in page  # asks again while pending
    push(app, connection_id)
    chip = client.get(f"/tickets/{ticket_id}/psa-sync", headers={"HX-Request": "true"}).text
    external = halo.store.with_marker(f"hd-ticket-{ticket_id}")[0]["id"]
    assert f"HaloPSA #{external}: synced" in chip and "hx-get" not in chip
    assert f'href="{halo.url}/ticket?id={external}"' in chip
    with app.app_context():
        tickets_sync = psa_ticket_sync.ticket_sync(db.session.get(Ticket, ticket_id))
    assert tickets_sync.state == "synced" and tickets_sync.external_id == str(external)
    # a refused change: the reason, and for admins only the way to the dead letters
    halo.fail("answer", method="POST", path="/api/Tickets", status=400,
                  body={"message": "Status is locked by a workflow"})
    with app.app_context():
        from helpdesk.services import tickets

        tickets.change_status(db.session.get(Ticket, ticket_id), "on_hold",
                              actor=db.session.get(User, world.users["agent"]))
    push(app, connection_id)
    page = client.get(f"/tickets/{ticket_id}").text
    assert f"HaloPSA #{external}: not sent" in page
    assert "Status is locked by a workflow" in page and PAGE not in page
    auth.logout()
    auth.login(email("admin"))
    assert PAGE in client.get(f"/tickets/{ticket_id}").text
    auth.logout()
    auth.login(email("north_reseller"))  # Acme is North's: its reseller sees the chip
    assert "Status is locked" in client.get(f"/tickets/{ticket_id}").text
    auth.logout()
    for who in ("dave", "carol"):  # the subscriber and the company admin: never
        auth.login(email(who))
        portal = client.get(f"/portal/tickets/{ticket_id}")
        assert portal.status_code == 200
        assert "HaloPSA" not in portal.text and "psa-sync" not in portal.text
        assert client.get(f"/tickets/{ticket_id}/psa-sync").status_code == 404
        auth.logout()
