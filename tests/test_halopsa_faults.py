"""The HaloPSA adapter when things go wrong: 429s, server errors, timeouts, dropped and reset
connections, writes applied whose answer was lost, and each of Halo's error shapes.

The client's timeout is 0.3 s and the loopback server holds a "timeout" answer for 1 s; 429
waits are recorded (``waits``), not slept.
"""

import pytest

from helpdesk.psa.connector import (
    ActionDraft,
    AttachmentDraft,
    OutcomeUnknown,
    PsaError,
    RateLimited,
    TicketDraft,
)
from tests.halo_server import HaloServer


def draft(marker="hd-t1"):
    return TicketDraft(marker=marker, summary="Slow line", details_html="<p>Since Monday</p>",
                       client_id="1")


def statuses_asked(halo):
    return len(halo.requests_to("GET", "/api/Status"))


# -- 429 ---------------------------------------------------------------------------------


def test_429_is_waited_out_for_as_long_as_retry_after_says(halo, adapter, waits):
    halo.fail("429", path="/api/Status", times=2, retry_after=3)

    adapter.check()

    assert waits == [3, 3]
    assert statuses_asked(halo) == 3


def test_retry_after_as_an_http_date(halo, adapter, waits):
    halo.fail("429", path="/api/Status", retry_after=5, retry_after_date=True)

    adapter.check()

    assert waits in ([5], [4])  # whole seconds, rounded up, however long the answer took


def test_429_without_retry_after_backs_off(halo, adapter, waits):
    halo.fail("429", path="/api/Status", times=2, retry_after=None)

    adapter.check()

    assert waits == [2, 4]


def test_a_long_retry_after_is_left_to_the_caller(halo, adapter, waits):
    halo.fail("429", path="/api/Status", retry_after=120)

    with pytest.raises(RateLimited) as limited:
        adapter.check()

    assert limited.value.retry_after == 120
    assert (limited.value.status, limited.value.transient) == (429, True)
    assert waits == []
    assert statuses_asked(halo) == 1


def test_429_that_does_not_stop_gives_up_after_four_sends(halo, adapter, waits):
    halo.fail("429", path="/api/Status", times=None, retry_after=1)

    with pytest.raises(RateLimited, match="answered 429 4 time"):
        adapter.check()

    assert waits == [1, 1, 1]
    assert statuses_asked(halo) == 4


def test_a_rolling_rate_limit_like_hosted_halos(halo, adapter):
    halo.limit_rate(3, per_seconds=300)
    adapter.check()  # the token and a read
    adapter.check()

    with pytest.raises(RateLimited) as limited:
        adapter.check()
    assert 290 <= limited.value.retry_after <= 300


def test_each_send_after_a_429_spends_the_budget(halo, make_adapter, limited_budget):
    budget = limited_budget(10)
    halo.fail("429", path="/api/Status", times=2, retry_after=1)

    make_adapter(budget=budget).check()

    assert budget.spent == 4 == len(halo.received)


# -- server errors and the network --------------------------------------------------------


def test_a_server_error_on_a_read_is_transient(halo, adapter):
    halo.fail("500", path="/api/Status")

    with pytest.raises(PsaError) as failed:
        adapter.check()

    assert str(failed.value) == (
        "HaloPSA answered 500 to GET /api/Status: Object reference not set to an instance of an "
        "object. (System.NullReferenceException)")
    assert (failed.value.status, failed.value.transient) == (500, True)
    assert not isinstance(failed.value, OutcomeUnknown)
    assert "NullReferenceException" in failed.value.response_body


def test_a_server_error_on_a_write_may_have_been_applied(halo, adapter):
    halo.fail("500", method="POST", path="/api/Tickets")
    with pytest.raises(OutcomeUnknown) as failed:
        adapter.create_ticket(draft())
    assert (failed.value.status, failed.value.transient) == (500, True)


def test_503_on_a_write_was_not_taken(halo, adapter):
    halo.fail("answer", method="POST", path="/api/Tickets", status=503,
              body={"message": "Service is being updated"})
    with pytest.raises(PsaError) as failed:
        adapter.create_ticket(draft())
    assert failed.value.transient
    assert not isinstance(failed.value, OutcomeUnknown)


def test_a_read_that_times_out_is_transient(halo, adapter):
    adapter.check()
    halo.fail("timeout", path="/api/Status")

    with pytest.raises(PsaError) as failed:
        adapter.check()

    assert str(failed.value) == "HaloPSA: no answer within 0.3 s to GET /api/Status"
    assert failed.value.transient
    assert not isinstance(failed.value, OutcomeUnknown)


def test_a_reset_connection_on_a_write_is_an_unknown_outcome(halo, adapter):
    adapter.check()
    halo.fail("reset", method="POST", path="/api/Tickets")

    with pytest.raises(OutcomeUnknown, match=r"the connection dropped .*may have been applied"):
        adapter.create_ticket(draft())

    assert adapter.find_ticket("hd-t1") is None
    assert halo.requests_to("POST", "/api/Tickets")[0].status == "reset"


def test_no_server_at_all_is_transient_and_nothing_was_sent(make_adapter):
    with HaloServer() as gone:
        pass
    with pytest.raises(PsaError) as failed:
        make_adapter(gone).create_ticket(draft())

    assert str(failed.value).startswith("HaloPSA could not be reached for POST /auth/token")
    assert failed.value.transient
    assert not isinstance(failed.value, OutcomeUnknown)


# -- unknown outcomes, then the lookup that keeps a retry from duplicating -----------------


def create_once(adapter, ticket_draft):
    """What the outbox does: send; when the outcome is unknown, look up before sending again."""
    try:
        return adapter.create_ticket(ticket_draft)
    except OutcomeUnknown:
        return adapter.find_ticket(ticket_draft.marker) or adapter.create_ticket(ticket_draft)


@pytest.mark.parametrize(("kind", "options", "applied"), [
    ("lost", {}, True),
    ("timeout", {"applied": True}, True),
    ("timeout", {}, False),
    ("reset", {}, False),
    ("500", {}, False),
])
def test_a_write_with_an_unknown_outcome_is_found_or_sent_again_never_twice(
        halo, adapter, kind, options, applied):
    halo.store.seed_tickets(3)
    halo.fail(kind, method="POST", path="/api/Tickets", **options)

    external_id = create_once(adapter, draft("hd-t77"))

    [ticket] = halo.store.with_marker("hd-t77")
    assert str(ticket["id"]) == external_id
    assert len(halo.requests_to("POST", "/api/Tickets")) == (1 if applied else 2)


def test_an_action_applied_but_unanswered_is_found_by_its_marker(halo, adapter):
    ticket_id = adapter.create_ticket(draft())
    halo.fail("lost", method="POST", path="/api/Actions")

    with pytest.raises(OutcomeUnknown):
        adapter.add_action(ticket_id, ActionDraft(marker="hd-r5", note_html="<p>Rebooted</p>",
                                                  internal=False, minutes=10))

    action_id = adapter.find_action(ticket_id, "hd-r5")
    assert action_id is not None
    assert [action["id"] for action in halo.store.actions_of(int(ticket_id))] == [int(action_id)]


def test_an_attachment_applied_but_timed_out_is_found_by_its_marker(halo, adapter):
    ticket_id = adapter.create_ticket(draft())
    halo.fail("timeout", method="POST", path="/api/Attachment", applied=True)

    with pytest.raises(OutcomeUnknown, match=r"no answer within 0\.3 s to POST /api/Attachment"):
        adapter.upload_attachment(ticket_id, AttachmentDraft(marker="hd-f5", filename="a.png",
                                                             content=b"\x89PNG"))

    attachment_id = adapter.find_attachment(ticket_id, "hd-f5")
    assert [item["id"] for item in halo.store.attachments_of(int(ticket_id))] == [
        int(attachment_id)]


def test_a_write_answered_with_something_unreadable_is_an_unknown_outcome(halo, adapter):
    halo.fail("answer", method="POST", path="/api/Tickets", status=200, body="<html>OK</html>",
              content_type="text/html")
    with pytest.raises(OutcomeUnknown, match="something other than JSON"):
        adapter.create_ticket(draft())


# -- Halo's error shapes, one line each ---------------------------------------------------


@pytest.mark.parametrize(("status", "body", "content_type", "message"), [
    (404, "Ticket 12 not found", "application/json", "Ticket 12 not found"),
    (400, "Invalid request:\r\n  missing client", "text/plain",
     "Invalid request: missing client"),
    (403, {"message": "You do not have permission\nto view this area"}, "application/json",
     "You do not have permission to view this area"),
    (400, {"error": "invalid_grant", "error_description": "The grant has expired"},
     "application/json", "invalid_grant: The grant has expired"),
    (400, {"type": "https://tools.ietf.org/html/rfc7231#section-6.5.1",
           "title": "One or more validation errors occurred.", "status": 400,
           "errors": {"[0].client_id": ["The JSON value could not be converted to System.Int32."],
                      "[0].summary": ["Too long.", "Has a tab."]}},
     "application/json",
     "One or more validation errors occurred. [0].client_id: The JSON value could not be "
     "converted to System.Int32.; [0].summary: Too long. Has a tab."),
    (500, {"ClassName": "System.Exception", "Message": "Ticket is locked by another agent",
           "StackTraceString": "   at Halo.Tickets.Save()\r\n   at ..."},
     "application/json", "Ticket is locked by another agent (System.Exception)"),
    (502, "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>"
          "<h1>Bad Gateway</h1><p>The proxy could not reach the server.</p></body></html>",
     "text/html", "502 Bad Gateway - Bad Gateway"),
    (400, "", "application/json", "Bad Request"),
])
def test_each_error_shape_becomes_one_clear_line(halo, adapter, status, body, content_type,
                                                 message):
    halo.fail("answer", path="/api/Status", status=status, body=body,
              content_type=content_type)

    with pytest.raises(PsaError) as failed:
        adapter.check()

    assert str(failed.value) == f"HaloPSA answered {status} to GET /api/Status: {message}"
    assert failed.value.status == status


def test_a_very_long_message_is_cut_to_one_readable_line(halo, adapter):
    halo.fail("answer", path="/api/Status", status=400, body={"message": "word " * 500})
    with pytest.raises(PsaError) as failed:
        adapter.check()
    assert len(str(failed.value)) < 450
    assert str(failed.value).endswith("…")


def deliver(adapter, ticket_draft, *, attempts=12):
    """The outbox's loop in miniature: send; before any resend, look the write up."""
    for attempt in range(attempts):
        try:
            if attempt:
                found = adapter.find_ticket(ticket_draft.marker)
                if found:
                    return found
            return adapter.create_ticket(ticket_draft)
        except PsaError as error:
            if not error.transient:
                raise
    raise AssertionError(f"{ticket_draft.marker} not delivered in {attempts} attempts")


def test_two_hundred_writes_under_a_fifth_of_faults_arrive_exactly_once(halo, adapter):
    for seed, (kind, share, options) in enumerate([
            ("lost", 0.05, {}), ("timeout", 0.02, {"applied": True}), ("timeout", 0.02, {}),
            ("reset", 0.03, {}), ("500", 0.04, {}), ("429", 0.04, {"retry_after": 0})]):
        halo.fail(kind, method="POST", path="/api/Tickets", share=share, seed=seed, **options)
    halo.fail("500", method="GET", path="/api/Tickets", share=0.05, seed=99)

    delivered = {deliver(adapter, draft(f"hd-soak-{n}")) for n in range(200)}

    assert len(delivered) == 200
    assert sorted(ticket["third_party_id_string"] for ticket in halo.store.tickets.values()) == (
        sorted(f"hd-soak-{n}" for n in range(200)))
    faulted = [request for request in halo.requests_to("POST", "/api/Tickets")
               if request.status != 200]
    assert len(faulted) >= 20
