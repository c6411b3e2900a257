"""The demo HaloPSA of ``make run``: the tests' loopback HaloPSA (``halo_server``) as a
server of its own, with the demo's customers and a few tickets, its records kept in a file.

    python -m tests.halo_demo --port 5099 --state instance/halopsa-demo.json [--seed N]

It serves on 127.0.0.1 until SIGTERM or Ctrl-C. For trying PSA sync on a laptop, never for
production: it is the tests' simulator, accepts only the demo's published credentials
(``helpdesk.demo_psa``) and keeps everything in one JSON file.

- Its clients and users are the demo's customers (names and emails as in
  ``helpdesk/demo_data.py``, so "Link all suggested" links them), and Globex, a customer the
  desk does not know (its tickets wait for a mapping).
- A new state starts with a handful of its own tickets (``--seed N`` adds N plain ones);
  the state is written after every change (a temporary file renamed over the old one), so
  a restart keeps what it holds and the desk's links to it stay true.
- There is no Halo UI: change it through its API (the README shows ``curl``). ``GET
  /ticket?id=N``, where the desk's sync chip links, shows the ticket and its actions.
- Request bodies are not checked against the vendor's schema (that needs the test
  requirements and the description beside the repository); the tests check them.
"""

import argparse
import base64
import json
import logging
import os
import signal
import tempfile
import threading
from datetime import timedelta
from html import escape
from pathlib import Path

from helpdesk.demo_psa import CLIENT_ID, CLIENT_SECRET
from tests.halo_server import HaloServer
from tests.halo_store import HaloStore, read_time

log = logging.getLogger("halopsa")
DEFAULT_PORT = 5099
STATE_VERSION = 1

CLIENTS = ["Acme", "North Net", "South Wave", "Globex"]
# (name, email, client): the demo's subscribers, and a contact the desk does not know.
USERS = [("Carol Acme", "carol@acme.demo.test", "Acme"),
         ("Dave Acme", "dave@acme.demo.test", "Acme"),
         ("Alice Jensen", "alice@north.demo.test", "North Net"),
         ("Bob Okafor", "bob@south.demo.test", "South Wave"),
         ("Erin Walsh", "erin@globex.example", "Globex")]
# A technician who is also on the desk: their actions are theirs there too.
AGENTS = [{"id": 3, "name": "Sam Agent", "email": "agent@demo.test"}]
# (user's email, summary, details, status id, priority id, hours ago, actions):
# actions are (note, hidden, technician).
TICKETS = [
    ("dave@acme.demo.test", "Printer on the second floor is offline",
     "Nobody on the second floor can print since this morning.", 1, 3, 5,
     [("Remote session booked for 14:00.", False, "Sam Tech")]),
    ("carol@acme.demo.test", "New starter needs a mailbox",
     "Jamie starts on Monday: a mailbox and a laptop, please.", 2, 4, 26,
     [("Laptop imaged; waiting on the licence.", True, "Ivy Tech")]),
    ("alice@north.demo.test", "Speeds drop every evening",
     "Between 19:00 and 23:00 the line gives a tenth of the plan.", 4, 2, 50,
     [("Could you run a speed test over cable at 20:00 and send the result?", False,
       "Sam Agent")]),
    ("bob@south.demo.test", "Replacement router for the shop", "The old one is failing.", 1,
     3, 3, []),
    ("erin@globex.example", "Website down since this morning",
     "Our shop's site answers 502. We are not in your desk yet, I think.", 1, 2, 1, []),
]


class DemoHaloStore(HaloStore):
    """A ``HaloStore`` whose records live in ``path`` too: read at start, written after each
    change (whole, atomically)."""

    def __init__(self, path):
        super().__init__(clients=0)
        self.path = Path(path)
        self.agents = [*self.agents, *AGENTS]

    def _saved(self, what, write, *args, **kwargs):
        """Make a change, then write the state (both under the store's lock)."""
        with self.lock:
            result = write(*args, **kwargs)
            self.save()
        written = result if isinstance(result, list) else [result]
        log.info("%s %s", what, ", ".join(
            str(item["id"]) + (f" (ticket {item['ticket_id']})" if "ticket_id" in item else "")
            for item in written if isinstance(item, dict)) or len(written))
        return result

    def save_tickets(self, items):
        return self._saved("tickets saved:", super().save_tickets, items)

    def save_actions(self, items):
        return self._saved("actions added:", super().save_actions, items)

    def save_attachments(self, items):
        return self._saved("attachments added:", super().save_attachments, items)

    def seed_tickets(self, count, **options):
        return self._saved("tickets seeded:", super().seed_tickets, count, **options)

    def technician_sets_status(self, ticket_id, status_id, **options):
        return self._saved("status changed, action:", super().technician_sets_status,
                           ticket_id, status_id, **options)

    def technician_adds_action(self, ticket_id, note_html, **options):
        return self._saved("action added:", super().technician_adds_action, ticket_id,
                           note_html, **options)

    def technician_changes(self, ticket_id, **fields):
        return self._saved("ticket changed:", super().technician_changes, ticket_id, **fields)

    # -- the demo's own records -----------------------------------------------------------

    def load_or_create(self, *, extra_tickets=0):
        """The state in ``path``, or (none yet) the demo's customers and tickets."""
        if self.path.exists():
            self._restore(json.loads(self.path.read_text()))
            return False
        with self.lock:
            self._add_customers()
            for ticket in TICKETS:
                self._add_ticket(*ticket)
            if extra_tickets:
                HaloStore.seed_tickets(self, extra_tickets, client_id=self._client("Globex"))
            self.save()
        return True

    def _client(self, name):
        return next(client["id"] for client in self.clients if client["name"] == name)

    def _add_customers(self):
        for number, name in enumerate(CLIENTS, start=1):
            self.clients.append({"id": number, "name": name, "inactive": False})
        for number, (name, email, client) in enumerate(USERS, start=1):
            self.users.append({"id": number, "name": name, "client_id": self._client(client),
                               "client_name": client, "emailaddress": email})

    def _add_ticket(self, email, summary, details, status_id, priority_id, hours_ago,
                    actions):
        user = next(user for user in self.users if user["emailaddress"] == email)
        ticket = self._create_ticket(
            {"summary": summary, "details_html": f"<p>{escape(details)}</p>",
             "client_id": user["client_id"], "user_id": user["id"], "status_id": status_id,
             "priority_id": priority_id},
            at=self.clock.now() - timedelta(hours=hours_ago))
        for note, hidden, who in actions:
            self._save_action({"ticket_id": ticket["id"], "note_html": f"<p>{escape(note)}</p>",
                               "hiddenfromuser": hidden,
                               "outcome": "Private Note" if hidden else "Email User"}, who=who)

    # -- the file -------------------------------------------------------------------------

    def save(self):
        """Write every record to ``path``: a temporary file beside it, renamed over it."""
        with self.lock:
            state = {"version": STATE_VERSION, "next_id": self._next_id,
                     "last_time": self.clock._last.isoformat() if self.clock._last else None,
                     "clients": self.clients, "users": self.users,
                     "tickets": list(self.tickets.values()),
                     "actions": list(self.actions.values()),
                     "attachments": list(self.attachments.values()),
                     "attachment_data": {str(key): base64.b64encode(data).decode()
                                         for key, data in self.attachment_data.items()}}
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.path.parent,
                                                 prefix=f".{self.path.name}.")
            try:
                with os.fdopen(handle, "w") as file:
                    json.dump(state, file)
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(temporary, self.path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise

    def _restore(self, state):
        if state.get("version") != STATE_VERSION:
            raise SystemExit(f"{self.path}: not a demo HaloPSA state this version reads")
        with self.lock:
            self._next_id = state["next_id"]
            self.clients, self.users = state["clients"], state["users"]
            self.tickets = {item["id"]: item for item in state["tickets"]}
            self.actions = {item["id"]: item for item in state["actions"]}
            self.attachments = {item["id"]: item for item in state["attachments"]}
            self.attachment_data = {int(key): base64.b64decode(data)
                                    for key, data in state["attachment_data"].items()}
            if state.get("last_time"):  # its times keep rising across restarts
                self.clock._last = read_time(state["last_time"])


class DemoHaloServer(HaloServer):
    """The loopback HaloPSA with a page per ticket at ``/ticket?id=N`` (where the desk's
    sync chip links), since the demo has no Halo UI."""

    def _answer(self, received, handler):
        if received.method == "GET" and received.path.rstrip("/").lower() == "/ticket":
            return self._ticket_page(received.query.get("id", ""))
        return super()._answer(received, handler)

    def _ticket_page(self, ticket_id):
        with self.store.lock:
            ticket = self.store.tickets.get(int(ticket_id)) if ticket_id.isdigit() else None
            ticket = dict(ticket) if ticket else None
        if ticket is None:
            return 404, "<h1>No such ticket in the demo HaloPSA</h1>", _HTML
        statuses = {status["id"]: status["name"] for status in self.store.statuses}
        rows = "".join(
            f"<li><b>{escape(action['who'])}</b>, {escape(action['datetime'])} UTC"
            f"{' (hidden from the user)' if action['hiddenfromuser'] else ''}:"
            f"<br>{escape(action['note'])}</li>"
            for action in self.store.actions_of(ticket["id"]))
        page = (f"<!doctype html><title>Demo HaloPSA ticket {ticket['id']}</title>"
                "<p><i>Demo HaloPSA: the help desk's test simulator, not HaloPSA.</i></p>"
                f"<h1>{ticket['id']}: {escape(ticket['summary'])}</h1>"
                f"<p>Status: {escape(statuses.get(ticket['status_id'], '?'))}; "
                f"updated {escape(ticket['last_update'])} UTC</p>"
                f"<p>{escape(ticket.get('details') or '')}</p><ol>{rows}</ol>")
        return 200, page, _HTML


_HTML = {"Content-Type": "text/html; charset=utf-8"}


def demo_server(state, *, port=0, extra_tickets=0):
    """The demo HaloPSA (not started), its records read from ``state`` or made anew."""
    store = DemoHaloStore(state)
    store.load_or_create(extra_tickets=extra_tickets)
    return DemoHaloServer(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, store=store,
                          port=port, check_bodies=False, keep_requests=False)


def main(argv=None):
    """Serve until SIGTERM or Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m tests.halo_demo",
                                     description="The demo HaloPSA (the tests' simulator).")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--state", required=True, help="the JSON file its records live in")
    parser.add_argument("--seed", type=int, default=0, metavar="N",
                        help="on a new state, N more plain tickets beside the demo's own")
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[halopsa] %(message)s")
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    server = demo_server(options.state, port=options.port, extra_tickets=options.seed)
    try:
        server.start()
    except OSError as error:
        log.error("cannot listen on 127.0.0.1:%d (%s): pick another --port", options.port,
                  error.strerror or error)
        return 1
    log.info("demo HaloPSA at %s (the tests' simulator, not for production): %d tickets, "
             "state in %s", server.url, len(server.store.tickets), options.state)
    while not stopping.wait(1):
        pass
    server.stop()
    log.info("stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
