"""``POST /psa/webhooks/<id>``: a machine's delivery, proved by the connection's webhook
secret (Basic auth or the header), read as a hint: a fetch-and-apply job per ticket named,
one per ticket while it waits; bad auth 401, an unknown connection 404, a body that is not
JSON 400 with the reason, never a 5xx. (What the jobs then apply: tests/test_psa_pull_*.)"""

import base64
import json

import pytest
from rq.job import Job

from helpdesk.queues import get_queue, get_redis
from tests.psa_pull_kit import WEBHOOK_SECRET, connect


def basic(password, user="halo"):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def deliver(client, connection_id, body, headers=None, *, raw=None):
    data = raw if raw is not None else json.dumps(body)
    return client.post(f"/psa/webhooks/{connection_id}", data=data,
                       headers={"Content-Type": "application/json", **(headers or {})})


def queued_ids(app):
    with app.app_context():
        return sorted(get_queue("psa").get_job_ids())


def test_a_delivery_with_basic_auth_queues_a_read_of_its_ticket(app, client, world):
    connection = connect(app)
    answer = deliver(client, connection, {"id": "d1", "event": "Ticket Updated",
                                          "object_id": 41, "ticket_id": 41},
                     basic(WEBHOOK_SECRET))
    assert answer.status_code == 200 and answer.json == {"tickets": 1, "queued": 1}
    assert queued_ids(app) == [f"psa-ticket-{connection}-41"]
    with app.app_context():
        job = Job.fetch(f"psa-ticket-{connection}-41", connection=get_redis())
        assert job.func_name == "jobs.psa_pull.pull_ticket"
        assert job.args == (connection, "41")


def test_the_shared_secret_header_works_too_and_csrf_is_not_asked(app, client, world):
    connection = connect(app)
    answer = deliver(client, connection, {"ticket": {"id": 7, "summary": "x"}},
                     {"X-Webhook-Secret": WEBHOOK_SECRET})
    assert answer.status_code == 200 and queued_ids(app) == [f"psa-ticket-{connection}-7"]


@pytest.mark.parametrize("headers", [
    {}, basic("wrong"), basic(""), {"X-Webhook-Secret": "wrong"},
    {"Authorization": "Basic not-base64!!"}, {"Authorization": f"Bearer {WEBHOOK_SECRET}"},
    {"X-Webhook-Secret": WEBHOOK_SECRET[:-1]}])
def test_bad_auth_is_401_with_no_detail_and_queues_nothing(app, client, world, headers):
    connection = connect(app)
    answer = deliver(client, connection, {"ticket_id": 41}, headers)
    assert answer.status_code == 401 and answer.data == b""
    assert queued_ids(app) == []


def test_a_connection_without_a_webhook_secret_accepts_nothing(app, client, world):
    connection = connect(app, webhook_secret="")
    assert deliver(client, connection, {"ticket_id": 1}, basic("")).status_code == 401
    assert deliver(client, connection, {"ticket_id": 1},
                   {"X-Webhook-Secret": ""}).status_code == 401


def test_an_unknown_or_disabled_connection_is_404(app, client, world):
    disabled = connect(app, enabled=False)
    assert deliver(client, disabled, {"ticket_id": 1}, basic(WEBHOOK_SECRET)).status_code == 404
    assert deliver(client, 987654, {"ticket_id": 1}, basic(WEBHOOK_SECRET)).status_code == 404
    assert queued_ids(app) == []


def test_a_batch_of_info_only_payloads_queues_each_ticket_once(app, client, world):
    """Halo's batches (a JSON array) and "event information only" payloads (just ids); events
    about other things (a client) name no ticket and are passed over."""
    connection = connect(app)
    batch = [{"id": "a", "event": "Ticket Updated", "object_id": 5, "ticket_id": 5},
             {"id": "b", "event": "Action Added", "object_id": 900, "action": {"ticket_id": 6}},
             {"id": "c", "event": "Ticket Logged", "object_id": 8},
             {"id": "d", "event": "Client Updated", "object_id": 3},
             {"id": "e", "event": "Ticket Updated", "ticket_id": 5}]
    answer = deliver(client, connection, batch, basic(WEBHOOK_SECRET))
    assert answer.status_code == 200 and answer.json == {"tickets": 3, "queued": 3}
    assert queued_ids(app) == sorted(f"psa-ticket-{connection}-{n}" for n in (5, 6, 8))


def test_redelivery_while_the_read_waits_adds_no_job(app, client, world):
    connection = connect(app)
    payload = {"id": "same-delivery", "event": "Ticket Updated", "ticket_id": 12}
    assert deliver(client, connection, payload, basic(WEBHOOK_SECRET)).json["queued"] == 1
    assert deliver(client, connection, payload, basic(WEBHOOK_SECRET)).json["queued"] == 0
    with app.app_context():
        assert get_queue("psa").count == 1


@pytest.mark.parametrize("raw, reason", [
    ("{not json", "The body is not JSON"), ("", "The body is not JSON"),
    ('"a string"', "Expected a JSON object"), ("[1, 2]", "Expected a JSON object"),
    ("\xff\xfe", "The body is not JSON")])
def test_a_malformed_body_is_400_with_the_reason(app, client, world, raw, reason):
    connection = connect(app)
    answer = deliver(client, connection, None, basic(WEBHOOK_SECRET), raw=raw)
    assert answer.status_code == 400 and reason in answer.json["error"]
    assert queued_ids(app) == []


def test_ids_that_are_no_ticket_ids_are_passed_over(app, client, world):
    connection = connect(app)
    answer = deliver(client, connection, [{"ticket_id": "12; DROP"}, {"ticket_id": -3},
                                          {"ticket_id": True}, {"ticket_id": "0"},
                                          {"ticket_id": "1" * 80}], basic(WEBHOOK_SECRET))
    assert answer.status_code == 200 and answer.json == {"tickets": 0, "queued": 0}


def test_deliveries_are_rate_limited_per_connection(app, client, world):
    app.config["PSA_WEBHOOK_LIMIT"] = "3 per minute"
    first, second = connect(app), connect(app, name="Other")
    answers = [deliver(client, first, {"ticket_id": n}, basic(WEBHOOK_SECRET)).status_code
               for n in range(5)]
    assert answers == [200, 200, 200, 429, 429]
    assert deliver(client, second, {"ticket_id": 1}, basic(WEBHOOK_SECRET)).status_code == 200
