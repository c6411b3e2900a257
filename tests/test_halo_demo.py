"""``make run``'s demo HaloPSA (``tests/halo_demo.py``) and the demo's connection to it
(``helpdesk/demo_psa.py``): the server's command line, its kept state, and ``seed-demo``
connecting, mapping and linking through the services, so a pull and a push work at once."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from bench.server import free_port
from helpdesk.demo_psa import CLIENT_ID, CLIENT_SECRET, CONNECTION_NAME, connect_demo_halopsa
from helpdesk.extensions import db
from helpdesk.models import (
    PRIORITIES,
    STATUSES,
    Category,
    Organisation,
    PsaConnection,
    PsaLink,
    PsaMapping,
    Ticket,
    User,
)
from helpdesk.psa.secrets import unseal
from helpdesk.services import psa_connections, replies
from tests.halo_demo import USERS, demo_server
from tests.psa_pull_kit import run_pull, thread, ticket_of
from tests.psa_push_kit import halo_ticket_of, push

ROOT = Path(__file__).resolve().parent.parent


def serve(state, port):
    """The demo server's command line, as ``make run`` starts it; returns once it answers."""
    process = subprocess.Popen([sys.executable, "-m", "tests.halo_demo", "--port", str(port),
                                "--state", str(state)], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the demo HaloPSA exited:\n{process.stdout.read()}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/Status", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.1)  # a polling step
    process.kill()
    pytest.fail("the demo HaloPSA did not answer in time")


def stop(process):
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output
    return output


def api(port):
    """An API client signed in with the demo's credentials."""
    base = f"http://127.0.0.1:{port}"
    token = httpx.post(f"{base}/auth/token", data={
        "grant_type": "client_credentials", "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET, "scope": "all"}).json()["access_token"]
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"},
                        timeout=10)


def test_the_demo_halopsa_serves_and_keeps_its_state_across_a_restart(tmp_path):
    state, port = tmp_path / "halopsa.json", free_port()
    first = serve(state, port)
    try:
        halo = api(port)
        assert {status["name"] for status in halo.get("/api/Status").json()} >= {
            "New", "In Progress", "Resolved", "Closed"}
        assert httpx.get(f"http://127.0.0.1:{port}/api/Status").status_code == 401
        users = halo.get("/api/Users").json()["users"]
        assert {user["emailaddress"] for user in users} == {email for _, email, _ in USERS}
        before = halo.get("/api/Tickets").json()["record_count"]
        created = halo.post("/api/Tickets", json=[{"summary": "Made before the restart",
                                                   "client_id": 1}]).json()
        halo.post("/api/Actions", json=[{"ticket_id": created["id"], "note": "Noted"}])
    finally:
        output = stop(first)
    assert "demo HaloPSA at" in output and "stopped" in output
    assert not list(tmp_path.glob(".halopsa.json.*"))  # written whole, no leftovers

    second = serve(state, port)
    try:
        halo = api(port)  # a new token: the old ones went with the process
        assert halo.get(f"/api/Tickets/{created['id']}").json()["summary"] == (
            "Made before the restart")
        assert halo.get("/api/Tickets").json()["record_count"] == before + 1
        actions = halo.get("/api/Actions", params={"ticket_id": created["id"]}).json()
        assert [action["note"] for action in actions["actions"]] == ["Noted"]
        later = halo.post("/api/Tickets", json=[{"summary": "After", "client_id": 1}]).json()
        assert later["id"] == created["id"] + 1  # ids go on from where they were
        page = httpx.get(f"http://127.0.0.1:{port}/ticket", params={"id": created["id"]})
        assert "Made before the restart" in page.text and "Noted" in page.text
    finally:
        stop(second)


def test_the_demo_halopsa_runs_without_the_test_requirements():
    """``make run`` installs only requirements.txt: the demo imports no test tool."""
    check = ("import sys, tests.halo_demo; "
             "print(sorted({'jsonschema', 'pytest', 'hypothesis'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", check], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_a_busy_port_is_said_plainly(tmp_path):
    port = free_port()
    with demo_server(tmp_path / "busy.json", port=port):
        result = subprocess.run([sys.executable, "-m", "tests.halo_demo", "--port", str(port),
                                 "--state", str(tmp_path / "other.json")], cwd=ROOT,
                                capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.committed  # an empty database, as on first start
def test_seed_demo_connects_the_demo_halopsa_and_sync_works_both_ways(app, runner, tmp_path):
    with demo_server(tmp_path / "halopsa.json") as halo:
        result = runner.invoke(args=["seed-demo"], env={"DEMO_HALOPSA_URL": halo.url})
        assert result.exit_code == 0, result.output
        assert (f"{CONNECTION_NAME} connected to {halo.url}: statuses, priorities and "
                "categories mapped; 1 organisation and 4 subscribers linked") in result.output
        with app.app_context():
            connection = db.session.scalar(select(PsaConnection))
            assert (connection.name, connection.enabled, connection.pull_minutes) == (
                CONNECTION_NAME, True, 1)
            assert connection.client_secret_encrypted != CLIENT_SECRET
            assert unseal(connection.client_secret_encrypted) == CLIENT_SECRET
            assert len(psa_connections.webhook_secret(connection)) >= 32
            assert psa_connections.check_passed(connection)
            mapped = dict(db.session.execute(
                select(PsaMapping.kind, func.count()).group_by(PsaMapping.kind)).all())
            categories = db.session.scalar(select(func.count()).select_from(Category))
            assert mapped == {"status": len(STATUSES), "priority": len(PRIORITIES),
                              "category": categories}
            links = {(link.kind, link.local_id): link.external_id
                     for link in db.session.scalars(select(PsaLink))}
            acme = db.session.scalar(select(Organisation.id).where(Organisation.name == "Acme"))
            assert links[("organisation", acme)] == "1"
            people = dict(db.session.execute(select(User.email, User.id)).all())
            halo_users = {user["emailaddress"]: str(user["id"]) for user in halo.store.users}
            for email in ("alice@north.demo.test", "bob@south.demo.test",
                          "carol@acme.demo.test", "dave@acme.demo.test"):
                assert links[("user", people[email])] == halo_users[email]
            connection_id = connection.id

        pulled = run_pull(app, connection_id)  # as the scheduler's first pull does
        assert (pulled.created, pulled.error) == (len(halo.store.tickets), None)
        printer = ticket_of(app, connection_id, 1)
        with app.app_context():
            assert db.session.get(User, printer.subscriber_id).email == "dave@acme.demo.test"
            website = ticket_of(app, connection_id, 5)
            assert db.session.get(User, website.subscriber_id).name == (
                f"Unmapped HaloPSA contact ({CONNECTION_NAME})")  # flagged for mapping
        assert ("Remote session booked for 14:00.", False, f"HaloPSA ({CONNECTION_NAME})") in (
            thread(app, printer.id))

        with app.app_context():  # a desk reply on an Acme ticket goes to Halo
            ticket = db.session.scalar(select(Ticket).where(
                Ticket.organisation_id == acme, Ticket.status != "closed",
                ~Ticket.id.in_(select(PsaLink.local_id).where(PsaLink.kind == "ticket")))
                .order_by(Ticket.id).limit(1))
            agent = db.session.scalar(select(User).where(User.email == "agent@demo.test"))
            replies.add_reply(ticket, author=agent, body="On its way to Halo")
            ticket_id = ticket.id
        push(app, connection_id)
        sent = halo_ticket_of(app, halo, ticket_id)
        assert any("On its way to Halo" in action["note_html"]
                   for action in halo.store.actions_of(sent["id"]))


def test_an_unreachable_demo_halopsa_leaves_the_connection_saying_so(app, world):
    url = f"http://127.0.0.1:{free_port()}"
    with app.app_context():
        message = connect_demo_halopsa(url)
        assert message.startswith(f"{CONNECTION_NAME} created, but {url} did not answer")
        connection = psa_connections.find_connection(CONNECTION_NAME)
        assert connection.check_result and not psa_connections.check_passed(connection)
        assert connect_demo_halopsa(url) == f"{CONNECTION_NAME} is already connected to {url}."
        moved = f"http://127.0.0.1:{free_port()}"
        assert connect_demo_halopsa(moved) == f"{CONNECTION_NAME} now points at {moved}."
        assert (connection.base_url, connection.auth_url) == (moved, f"{moved}/auth")
        assert connection.pull_minutes == 1
