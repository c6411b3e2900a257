"""The HaloPSA adapter's reads of a ticket's files and its system actions, and an internal
note's file sent hidden: against the loopback HaloPSA, every body checked against the
vendor's schema (``halo_fixtures``)."""

import base64

import pytest

from helpdesk.psa.connector import AttachmentDraft, PsaError, TicketDraft


def new_ticket(adapter):
    return adapter.create_ticket(TicketDraft(marker="hd-t1", summary="Printer jams",
                                             details_html="<p>Tray 2</p>", client_id="1"))


def test_a_tickets_files_are_listed_with_who_may_see_them_and_downloaded(halo, adapter):
    ticket_id = new_ticket(adapter)
    number = int(ticket_id)
    public = halo.store.technician_adds_action(number, "<p>Here is the driver</p>")
    hidden = halo.store.technician_adds_action(number, "<p>Their config</p>", hidden=True)
    driver = halo.store.technician_attaches(number, "driver.zip", b"PK\x03\x04 driver",
                                            action_id=public["id"])
    config = halo.store.technician_attaches(number, "config.txt", b"secret=1",
                                            action_id=hidden["id"])
    loose = halo.store.technician_attaches(number, "notes.txt", b"ours only", hidden=True)
    adapter.upload_attachment(ticket_id, AttachmentDraft(marker="hd-attachment-4",
                                                         filename="log.txt", content=b"x"))

    ticket = adapter.fetch_ticket(ticket_id)

    assert [(f.external_id, f.filename, f.size, f.action_external_id, f.internal, f.marker)
            for f in ticket.attachments] == [
        (str(driver["id"]), "driver.zip", 11, str(public["id"]), False, None),
        (str(config["id"]), "config.txt", 8, str(hidden["id"]), True, None),
        (str(loose["id"]), "notes.txt", 9, None, True, None),
        (str(loose["id"] + 1), "log.txt", 1, None, False, "hd-attachment-4")]
    assert adapter.download_attachment(str(driver["id"])) == b"PK\x03\x04 driver"
    [download] = halo.requests_to("GET", f"/api/Attachment/{driver['id']}")
    assert "includedetails" not in download.query  # the file itself, not its record


def test_a_ticket_without_files_costs_no_request_for_their_list(halo, adapter):
    ticket_id = new_ticket(adapter)

    assert adapter.fetch_ticket(ticket_id).attachments == []

    assert halo.requests_to("GET", "/api/Attachment") == []


def test_a_file_answered_as_its_record_is_read_from_data_base64(halo, adapter):
    ticket_id = new_ticket(adapter)
    item = halo.store.technician_attaches(int(ticket_id), "a.bin", b"\x00\x01")
    path = f"/api/Attachment/{item['id']}"
    record = {"id": item["id"], "filename": "a.bin"}
    halo.fail("answer", path=path, status=200,
              body={**record, "data_base64": base64.b64encode(b"\x00\x01").decode()})
    assert adapter.download_attachment(str(item["id"])) == b"\x00\x01"
    halo.fail("answer", path=path, status=200, body=record)
    with pytest.raises(PsaError, match="record without its content") as refused:
        adapter.download_attachment(str(item["id"]))
    assert not refused.value.transient
    # A JSON file is a file: served as itself, it is taken as it is.
    data = b'{"id": 1, "printer": "tray 2"}'
    json_file = halo.store.technician_attaches(int(ticket_id), "settings.json", data,
                                               content_type="application/json")
    assert adapter.download_attachment(str(json_file["id"])) == data


def test_an_internal_notes_file_is_sent_with_its_action_and_hidden_from_the_user(halo,
                                                                                 adapter):
    ticket_id = new_ticket(adapter)
    action = halo.store.technician_adds_action(int(ticket_id), "<p>Note</p>", hidden=True)

    adapter.upload_attachment(ticket_id, AttachmentDraft(
        marker="hd-attachment-9", filename="trace.pcap", content=b"\xd4\xc3",
        internal=True, action_external_id=str(action["id"])))

    [item] = [i for r in halo.requests_to("POST", "/api/Attachment") for i in r.body]
    assert (item["action_id"], item["showforusers"]) == (action["id"], False)
    [listed] = adapter.fetch_ticket(ticket_id).attachments
    assert listed.internal and listed.action_external_id == str(action["id"])


def test_halos_record_of_a_status_change_is_a_system_action_a_technicians_note_is_not(
        halo, adapter):
    ticket_id = new_ticket(adapter)
    number = int(ticket_id)
    halo.store.technician_sets_status(number, 2)
    halo.store.technician_adds_action(number, "<p>Status changed from 1 to 2</p>", hidden=True)
    halo.store.save_actions([
        {"ticket_id": number, "outcome": "Status Change", "hiddenfromuser": True,
         "note_html": "<p>Status changed from New to In Progress</p><p>Parts ordered</p>"},
        {"ticket_id": number, "action_systemid": 12, "hiddenfromuser": True,
         "note": "Priority changed from Medium to High"},
        {"ticket_id": number, "outcome": "Status Change", "timetaken": 0.25,
         "note": "Status changed from In Progress to New"}])

    actions = adapter.fetch_ticket(ticket_id).actions

    assert [action.system for action in actions] == [True, False, False, True, False]
