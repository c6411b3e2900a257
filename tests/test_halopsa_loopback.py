"""The loopback HaloPSA itself: that it refuses what the vendor's schema forbids (so the
adapter tests' validation is real), keeps what Halo keeps, pages, limits, fails on demand
reproducibly, serves 10,000 tickets, and delivers Halo-style webhooks.
"""

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests import halo_webhooks
from tests.halo_server import HaloServer


def bearer(halo):
    answer = httpx.post(f"{halo.auth_url}/token", data={
        "grant_type": "client_credentials", "client_id": halo.client_id,
        "client_secret": halo.client_secret, "scope": "all"})
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@pytest.mark.parametrize(("item", "errors"), [
    ({"summary": "A", "client_id": 1, "router_colour": "red"},
     {"[0]": ["Additional properties are not allowed ('router_colour' was unexpected)"]}),
    ({"summary": "A", "client_id": "1"},
     {"[0].client_id": ["'1' is not of type 'integer', 'null'"]}),
    ({"summary": "A", "client_id": 2**31}, {"[0].client_id": ["2147483648 is not a 'int32'"]}),
    ({"summary": ["A"], "client_id": 1},
     {"[0].summary": ["['A'] is not of type 'string', 'null'"]}),
])
def test_a_ticket_body_the_schema_forbids_is_refused_as_aspnet_would(halo, item, errors):
    answer = httpx.post(f"{halo.url}/api/Tickets", json=[item], headers=bearer(halo))

    assert answer.status_code == 400
    assert answer.json()["title"] == "One or more validation errors occurred."
    assert answer.json()["errors"] == errors
    assert halo.store.tickets == {}
    assert len(halo.rejected) == 1


def test_write_bodies_are_arrays(halo):
    answer = httpx.post(f"{halo.url}/api/Actions", json={"ticket_id": 1, "note": "x"},
                        headers=bearer(halo))
    assert answer.status_code == 400
    assert answer.json()["errors"] == {"$": ["{'ticket_id': 1, 'note': 'x'} is not of type "
                                             "'array'"]}


def test_a_valid_body_with_nulls_and_a_client_guid(halo):
    headers = bearer(halo)
    [ticket_id] = halo.store.seed_tickets(1)
    chosen = "0b7e4f7e-3d1c-4c59-9f61-5a0c2d1e8a11"

    answer = httpx.post(f"{halo.url}/api/Actions", headers=headers, json=[
        {"ticket_id": ticket_id, "note_html": "<p>Hi</p>", "outcome": None, "guid": chosen}])

    assert answer.status_code == 200, answer.text
    assert answer.json()["guid"] != chosen  # the spec does not promise a client's guid is kept
    assert halo.rejected == []


def test_an_unknown_or_expired_bearer_is_refused(halo):
    assert httpx.get(f"{halo.url}/api/Status").status_code == 401
    headers = bearer(halo)
    assert httpx.get(f"{halo.url}/api/Status", headers=headers).status_code == 200
    halo.expire_tokens()
    assert httpx.get(f"{halo.url}/api/Status", headers=headers).status_code == 401


def test_tokens_live_as_long_as_the_server_says(halo):
    halo.token_ttl = 120
    answer = httpx.post(f"{halo.auth_url}/token", data={
        "grant_type": "client_credentials", "client_id": "halo-client",
        "client_secret": "halo-secret", "scope": "all"})
    assert answer.json()["expires_in"] == 120


def test_last_update_moves_on_every_change_and_closed_tickets_are_asked_for(halo):
    [ticket_id] = halo.store.seed_tickets(1)
    times = [halo.store.ticket(ticket_id)["last_update"]]
    for change in (lambda: halo.store.technician_sets_status(ticket_id, 2),
                   lambda: halo.store.technician_adds_action(ticket_id, "<p>Hello</p>"),
                   lambda: halo.store.technician_changes(ticket_id, priority_id=1),
                   lambda: halo.store.technician_sets_status(ticket_id, 9)):
        change()
        times.append(halo.store.ticket(ticket_id)["last_update"])
    assert times == sorted(set(times))

    assert halo.store.list_tickets({})["record_count"] == 0
    assert halo.store.list_tickets({"open_only": "false"})["record_count"] == 1


def test_shared_faults_are_reproducible(halo):
    def outcomes(seed):
        fault = halo.fail("500", share=0.2, seed=seed, path="/api/Status")
        with httpx.Client(headers=bearer(halo)) as client:
            codes = [client.get(f"{halo.url}/api/Status").status_code for _ in range(40)]
        halo.clear_faults()
        return codes, fault.fired

    first, fired = outcomes(7)
    assert outcomes(7) == (first, fired)
    assert 3 <= first.count(500) == fired <= 15


def test_ten_thousand_tickets_are_pulled_in_a_hundred_pages(halo, make_adapter,
                                                            limited_budget):
    started = time.monotonic()
    halo.store.seed_tickets(10_000)
    assert time.monotonic() - started < 5
    budget = limited_budget(150)

    pulled = sum(len(page.tickets)
                 for page in make_adapter(budget=budget).iter_changes(None, page_size=100))

    assert pulled == 10_000
    assert budget.spent == 101  # the token and 100 pages


class _Receiver(BaseHTTPRequestHandler):
    """A stand-in for the desk's webhook endpoint: keeps what it is sent."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.deliveries.append((dict(self.headers), json.loads(body)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args):
        pass


@pytest.fixture
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.deliveries = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def test_webhooks_full_event_only_and_batched(halo, receiver):
    first, second = halo.store.seed_tickets(2)
    action = halo.store.technician_adds_action(first, "<p>Done</p>", hidden=True)
    url = f"http://127.0.0.1:{receiver.server_address[1]}/psa/webhook"

    halo_webhooks.post(url, halo_webhooks.ticket_event(halo.store, first,
                                                       event="Action Added",
                                                       action_id=action["id"]),
                       basic=("halo", "hook-pass"))
    batch = [halo_webhooks.ticket_event(halo.store, ticket_id, event_only=True)
             for ticket_id in (first, second)]
    halo_webhooks.post(url, batch, secret=("X-Halo-Secret", "s3cret"))

    (full_headers, full), (batch_headers, delivered) = receiver.deliveries
    assert full_headers["Authorization"] == "Basic " + base64.b64encode(
        b"halo:hook-pass").decode()
    assert (full["event"], full["ticket"]["id"], full["action"]["hiddenfromuser"]) == (
        "Action Added", first, True)
    assert batch_headers["X-Halo-Secret"] == "s3cret"
    assert [(item["ticket_id"], "ticket" in item) for item in delivered] == [
        (first, False), (second, False)]


def test_a_stopped_server_frees_its_port():
    with HaloServer() as halo:
        url = halo.url
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/api/Status", timeout=1)
