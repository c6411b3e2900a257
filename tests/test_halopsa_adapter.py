"""The HaloPSA adapter against the loopback HaloPSA: the token, each write, lookups, pulls,
finding our writes again, the request budget. Every body sent is checked against the
vendor's schema (``halo_fixtures``); faults and error shapes are in test_halopsa_faults.py.
"""

import base64
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from helpdesk.psa.connector import (
    ActionDraft,
    AttachmentDraft,
    BudgetSpent,
    PsaError,
    TicketChanges,
    TicketDraft,
    connector_for,
)
from helpdesk.psa.halopsa import HaloPsaAdapter
from tests.halo_server import HaloServer
from tests.halo_store import HaloStore


def draft(marker="hd-t1", **fields):
    return TicketDraft(**{"marker": marker, "summary": "No internet since this morning",
                          "details_html": "<p>The router's light is red.</p>",
                          "client_id": "1", "user_id": "1", **fields})


def posted(halo, path):
    """The items of every array body posted to ``path``."""
    return [item for request in halo.requests_to("POST", path) for item in request.body]


# -- the token ---------------------------------------------------------------------------


def test_the_token_is_fetched_once_with_client_credentials_and_reused(halo, adapter):
    adapter.check()
    adapter.create_ticket(draft())
    adapter.fetch_lookups()

    assert halo.tokens_issued == 1
    [token_request] = halo.requests_to("POST", "/auth/token")
    assert token_request.body == {"grant_type": "client_credentials", "client_id": "halo-client",
                                  "client_secret": "halo-secret", "scope": "all"}
    assert token_request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "tenant" not in token_request.query


def test_a_hosted_instance_is_sent_its_tenant(make_adapter):
    with HaloServer(tenant="acme") as hosted:
        assert "6 statuses" in make_adapter(hosted).check()
        [token_request] = hosted.requests_to("POST", "/auth/token")
        assert token_request.body["tenant"] == "acme"
        assert token_request.query == {"tenant": "acme"}

        with pytest.raises(PsaError) as refused:
            make_adapter(hosted, tenant="other").check()
    assert str(refused.value) == ("HaloPSA answered 400 to POST /auth/token: "
                                  "invalid_request: Unknown tenant 'other'")
    assert not refused.value.transient


def test_wrong_credentials_say_so_and_are_not_retried(halo, make_adapter):
    with pytest.raises(PsaError) as refused:
        make_adapter(client_secret="wrong").check()

    assert str(refused.value) == ("HaloPSA answered 401 to POST /auth/token: "
                                  "invalid_client: The client credentials are invalid")
    assert (refused.value.status, refused.value.transient) == (401, False)
    assert len(halo.received) == 1


def test_the_token_is_fetched_again_a_minute_before_it_expires(halo, adapter, clock):
    adapter.check()
    clock.advance(3600 - 61)
    adapter.check()
    assert halo.tokens_issued == 1

    clock.advance(2)
    adapter.check()
    assert halo.tokens_issued == 2


def test_a_refused_token_is_fetched_again_once_and_the_request_repeated(halo, adapter):
    adapter.check()
    halo.expire_tokens()

    adapter.create_ticket(draft())

    assert halo.tokens_issued == 2
    assert [(request.method, request.path, request.status) for request in halo.received[2:]] == [
        ("POST", "/api/Tickets", 401), ("POST", "/auth/token", 200),
        ("POST", "/api/Tickets", 200)]
    assert len(halo.store.with_marker("hd-t1")) == 1


def test_a_token_refused_twice_is_an_error(halo, adapter):
    halo.fail("401", path="/api/Status", times=2)

    with pytest.raises(PsaError) as refused:
        adapter.check()

    assert str(refused.value) == "HaloPSA answered 401 to GET /api/Status: Unauthorized"
    assert halo.tokens_issued == 2


# -- writes ------------------------------------------------------------------------------


def test_a_new_ticket_is_one_faults_item_carrying_our_marker(halo, adapter):
    external_id = adapter.create_ticket(draft(priority_id="2", status_id="1",
                                              ticket_type_id="1", category="Connectivity"))

    [request] = halo.requests_to("POST", "/api/Tickets")
    assert request.body == [{
        "summary": "No internet since this morning",
        "details_html": "<p>The router's light is red.</p>", "client_id": 1, "user_id": 1,
        "status_id": 1, "priority_id": 2, "tickettype_id": 1, "category_1": "Connectivity",
        "third_party_id_string": "hd-t1"}]
    ticket = halo.store.ticket(int(external_id))
    assert ticket["third_party_id_string"] == "hd-t1"
    assert "third_party_id" not in ticket


def test_required_fields_go_where_halo_keeps_them(halo, adapter):
    adapter.create_ticket(draft(ticket_type_id="3", extra_fields={
        "CFAccountNumber": "A-1001", "category_2": "Fibre"}))

    [item] = posted(halo, "/api/Tickets")
    assert item["customfields"] == [{"name": "CFAccountNumber", "value": "A-1001"}]
    assert item["category_2"] == "Fibre"


def test_an_update_sends_the_id_and_only_the_changed_fields(halo, adapter):
    external_id = adapter.create_ticket(draft())

    adapter.update_ticket(external_id, TicketChanges(status_id="2", agent_id="1"))

    assert posted(halo, "/api/Tickets")[1] == {"id": int(external_id), "status_id": 2,
                                               "agent_id": 1}
    ticket = halo.store.ticket(int(external_id))
    assert (ticket["status_id"], ticket["agent_id"], ticket["summary"]) == (
        2, 1, "No internet since this morning")


def test_a_public_reply_is_an_action_shown_to_the_user_with_our_marker(halo, adapter):
    ticket_id = adapter.create_ticket(draft())

    action_id = adapter.add_action(ticket_id, ActionDraft(
        marker="hd-r7", note_html="<p>We are on it.</p>", internal=False, who="Ada Admin"))

    [item] = posted(halo, "/api/Actions")
    assert item == {"ticket_id": int(ticket_id), "outcome": "Note",
                    "note_html": "<p>We are on it.</p>\n<p>[ref:hd-r7]</p>",
                    "hiddenfromuser": False, "third_party_who": "Ada Admin"}
    [action] = adapter.fetch_ticket(ticket_id).actions
    assert (action.external_id, action.note_html, action.internal, action.marker,
            action.who) == (action_id, "<p>We are on it.</p>", False, "hd-r7", "Ada Admin")


def test_an_internal_note_is_hidden_from_the_user(halo, adapter):
    ticket_id = adapter.create_ticket(draft())

    adapter.add_action(ticket_id, ActionDraft(marker="hd-n1", note_html="<p>Line test</p>",
                                              internal=True))

    [item] = posted(halo, "/api/Actions")
    assert (item["hiddenfromuser"], item["outcome"]) == (True, "Private Note")
    assert adapter.fetch_ticket(ticket_id).actions[0].internal


def test_time_is_sent_in_hours_and_read_back_in_minutes(halo, adapter):
    ticket_id = adapter.create_ticket(draft())

    adapter.add_action(ticket_id, ActionDraft(marker="hd-w3", note_html="<p>On site</p>",
                                              internal=True, minutes=45, status_id="8"))

    [item] = posted(halo, "/api/Actions")
    assert (item["timetaken"], item["new_status"]) == (0.75, 8)
    ticket = adapter.fetch_ticket(ticket_id)
    assert (ticket.actions[0].minutes, ticket.status_id) == (45, "8")


def test_an_attachment_is_sent_as_base64_with_our_marker_as_its_note(halo, adapter):
    ticket_id = adapter.create_ticket(draft())
    content = bytes(range(256)) * 40

    attachment_id = adapter.upload_attachment(ticket_id, AttachmentDraft(
        marker="hd-f2", filename="router log.bin", content=content))

    [item] = posted(halo, "/api/Attachment")
    assert (item["ticket_id"], item["filename"], item["note"]) == (
        int(ticket_id), "router log.bin", "[ref:hd-f2]")
    assert base64.b64decode(item["data_base64"]) == content
    assert halo.store.attachment_data[int(attachment_id)] == content
    assert adapter.find_attachment(ticket_id, "hd-f2") == attachment_id
    assert adapter.find_attachment(ticket_id, "hd-f3") is None


def test_a_file_over_25_mb_is_refused_before_anything_is_sent(halo, adapter):
    with pytest.raises(PsaError) as refused:
        adapter.upload_attachment("1", AttachmentDraft(
            marker="hd-f9", filename="backup.zip", content=b"\0" * (25 * 2**20 + 1)))

    assert str(refused.value) == "backup.zip is 25.0 MB; HaloPSA takes attachments up to 25 MB"
    assert not refused.value.transient
    assert halo.received == []


def test_a_body_the_schema_forbids_is_refused_with_the_servers_reasons(halo, adapter):
    with pytest.raises(PsaError) as refused:
        adapter.create_ticket(draft(extra_fields={"colour_of_router": "red"}))

    assert str(refused.value) == (
        "HaloPSA answered 400 to POST /api/Tickets: One or more validation errors occurred. "
        "[0]: Additional properties are not allowed ('colour_of_router' was unexpected)")
    assert (refused.value.status, refused.value.transient) == (400, False)
    assert halo.store.tickets == {}
    halo.rejected.clear()  # sent on purpose


def test_ids_that_are_not_halo_ids_are_refused_before_sending(halo, adapter):
    with pytest.raises(PsaError, match="client 'acme' is not a HaloPSA id"):
        adapter.create_ticket(draft(client_id="acme"))
    assert halo.received == []


# -- finding our writes again ------------------------------------------------------------


def test_a_ticket_is_found_by_its_marker(halo, adapter):
    halo.store.seed_tickets(5)
    external_id = adapter.create_ticket(draft(marker="hd-t42"))

    assert adapter.find_ticket("hd-t42") == external_id
    assert adapter.find_ticket("hd-t43") is None


def test_a_ticket_is_found_among_the_newest_when_search_ignores_the_marker(make_adapter):
    with HaloServer(store=HaloStore(search_matches_marker=False)) as halo:
        adapter = make_adapter(halo)
        external_id = adapter.create_ticket(draft(marker="hd-t42"))
        halo.store.seed_tickets(150)

        assert adapter.find_ticket("hd-t42") == external_id
        searches = halo.requests_to("GET", "/api/Tickets")
        assert searches[0].query["search"] == "hd-t42"
        assert [request.query.get("orderdesc") for request in searches[1:]] == ["true", "true"]


def test_an_action_is_found_by_the_marker_ending_its_note_not_by_mentions_or_quotes(halo,
                                                                                     adapter):
    ticket_id = adapter.create_ticket(draft())
    for mention in ["<p>Mentions [ref:hd-r1] in passing</p><p>and more</p>",
                    "<p>Thanks!</p><blockquote><p>Hi</p><p>[ref:hd-r1]</p></blockquote>"]:
        halo.store.technician_adds_action(int(ticket_id), mention)
    action_id = adapter.add_action(ticket_id, ActionDraft(marker="hd-r1", note_html="<p>Hi</p>",
                                                          internal=False))

    assert adapter.find_action(ticket_id, "hd-r1") == action_id
    assert adapter.find_action(ticket_id, "hd-r2") is None


def test_the_guid_we_might_send_is_not_what_halo_keeps(halo, adapter):
    ticket_id = adapter.create_ticket(draft())
    adapter.add_action(ticket_id, ActionDraft(marker="hd-r1", note_html="<p>Hi</p>",
                                              internal=False))

    [item] = posted(halo, "/api/Actions")
    assert "guid" not in item
    [action] = adapter.fetch_ticket(ticket_id).actions
    assert action.raw["guid"]  # Halo's own, which the marker does not rely on


# -- reads -------------------------------------------------------------------------------


def test_lookups_list_halos_choices_and_the_fields_a_ticket_type_requires(halo, adapter):
    halo.store.add_clients(247, users_per_client=1)

    lookups = adapter.fetch_lookups()

    assert [status.name for status in lookups.statuses][:2] == ["New", "In Progress"]
    assert (lookups.priorities[0].external_id, lookups.priorities[0].name) == ("1", "Critical")
    assert [ticket_type.name for ticket_type in lookups.ticket_types] == [
        "Incident", "Service Request"]
    assert len(lookups.clients) == 250
    assert [request.query["page_no"] for request in halo.requests_to("GET", "/api/Client")] == [
        "1", "2", "3"]
    assert len(lookups.users) == 253
    assert lookups.users[0].extra == {"client_id": "1", "email": "user1@client1.test"}
    assert [agent.name for agent in lookups.agents] == ["Sam Tech", "Ivy Tech"]
    assert lookups.required_fields == {"3": [("CFAccountNumber", "Account number")]}


def test_a_pull_pages_through_250_tickets_100_at_a_time(halo, adapter):
    halo.store.seed_tickets(250)

    pages = list(adapter.iter_changes(None, page_size=100))

    assert [len(page.tickets) for page in pages] == [100, 100, 50]
    assert [page.last_page for page in pages] == [False, False, True]
    assert {page.record_count for page in pages} == {250}
    assert len({ticket.external_id for page in pages for ticket in page.tickets}) == 250
    requests = halo.requests_to("GET", "/api/Tickets")
    assert [request.query for request in requests] == [
        {"pageinate": "true", "page_no": str(page_no), "page_size": "100", "order": "id",
         "orderdesc": "false", "open_only": "false"} for page_no in (1, 2, 3)]


def test_a_page_is_never_asked_larger_than_100(halo, adapter):
    halo.store.seed_tickets(3)
    page = adapter.changes_since(None, page_size=500)
    assert page.last_page
    assert halo.requests_to("GET", "/api/Tickets")[0].query["page_size"] == "100"


def test_a_pull_asks_only_for_tickets_updated_since_its_last(halo, adapter):
    day_ago = datetime.now(UTC) - timedelta(days=1)
    halo.store.seed_tickets(5, updated_at=day_ago)
    fresh = halo.store.seed_tickets(3)
    halo.store.technician_sets_status(fresh[0], 9)  # closed tickets are changes too

    since = datetime.now(UTC) - timedelta(hours=1)
    page = adapter.changes_since(since)

    assert sorted(int(ticket.external_id) for ticket in page.tickets) == fresh
    assert page.record_count == 3
    sent = halo.requests_to("GET", "/api/Tickets")[0].query["lastupdatefromdate"]
    assert sent == since.replace(tzinfo=None).isoformat(timespec="milliseconds")
    closed = next(ticket for ticket in page.tickets if int(ticket.external_id) == fresh[0])
    assert closed.status_id == "9"
    assert closed.updated_at > since


def test_a_pulled_ticket_carries_our_marker_and_a_link_to_halo(halo, adapter):
    external_id = adapter.create_ticket(draft(marker="hd-t5"))

    [ticket] = adapter.changes_since(None).tickets

    assert (ticket.external_id, ticket.marker, ticket.client_id, ticket.user_id) == (
        external_id, "hd-t5", "1", "1")
    assert ticket.url == f"{halo.url}/ticket?id={external_id}"


def test_a_ticket_is_fetched_with_its_actions_the_technicians_too(halo, adapter):
    ticket_id = adapter.create_ticket(draft())
    halo.store.technician_adds_action(int(ticket_id), "<p>Swapped the router</p>", minutes=30)
    halo.store.technician_adds_action(int(ticket_id), "<p>Billing to check</p>", hidden=True)

    ticket = adapter.fetch_ticket(ticket_id)

    assert [(action.note_html, action.internal, action.minutes, action.who, action.marker)
            for action in ticket.actions] == [
        ("<p>Swapped the router</p>", False, 30, "Sam Tech", None),
        ("<p>Billing to check</p>", True, 0, "Sam Tech", None)]
    assert adapter.fetch_ticket("9999") is None


# -- the request budget ------------------------------------------------------------------


def test_every_request_spends_the_budget_the_token_included(halo, make_adapter,
                                                           limited_budget):
    budget = limited_budget(3)
    adapter = make_adapter(budget=budget)
    adapter.check()  # the token and one read
    ticket_id = adapter.create_ticket(draft())

    with pytest.raises(BudgetSpent):
        adapter.find_ticket("hd-t1")

    assert budget.spent == 3
    assert len(halo.received) == 3
    assert ticket_id == "1"


def test_connector_for_builds_the_halo_adapter(halo):
    adapter = connector_for("halopsa", halo.settings(),
                            transport=httpx.HTTPTransport(retries=0))
    try:
        assert isinstance(adapter, HaloPsaAdapter)
        assert adapter.attachment_cap == 25 * 2**20
        assert "answered" in adapter.check()
    finally:
        adapter.close()
