"""The loopback HaloPSA's records: lookups, tickets, actions and attachments, in memory.

What the real API does that the desk relies on, and nothing more: ids assigned here,
``last_update`` moving on every change (strictly increasing, millisecond times in Halo's
zone-less UTC form, so they compare as text), ``third_party_id_string`` kept, a client-chosen
action ``guid`` replaced by one of ours (the spec does not promise it is kept), closed tickets
(status 9) left out of lists unless asked for with ``open_only=false``. ``seed_tickets`` makes
thousands at once; ``technician_*`` change a ticket as a technician would in Halo's UI.
All methods are safe to call from the server's threads and the test's at once.
"""

import base64
import html
import re
import threading
import uuid
from datetime import UTC, datetime, timedelta

CLOSED_STATUS = 9
MAX_PAGE_SIZE = 100
MANDATORY_ON_NEW = 2  # a ticket type field's ``technew`` for "required on a new ticket"
_TAGS = re.compile(r"<[^>]+>")


class Refused(Exception):
    """What the API refuses: an HTTP status and Halo's body (a dict, a list or a string)."""

    def __init__(self, status, body):
        super().__init__(body)
        self.status = status
        self.body = body


def halo_time(moment):
    """Halo's way of writing a time: UTC, milliseconds, no zone."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds")


def read_time(text):
    """A time from a query parameter (zone-less means UTC); ``Refused`` if it is no time."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Refused(400, {"message": f"'{text}' is not a valid date"}) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


class Clock:
    """The instance's clock: real time, never the same millisecond twice, movable by tests."""

    def __init__(self):
        self.offset = timedelta()
        self._last = None

    def now(self):
        """A time later than every one given before."""
        now = datetime.now(UTC) + self.offset
        moment = now.replace(microsecond=now.microsecond // 1000 * 1000)
        if self._last is not None and moment <= self._last:
            moment = self._last + timedelta(milliseconds=1)
        self._last = moment
        return moment


def _lookups():
    """A small instance's lists (ids as in a new Halo: statuses 1-9, priorities 1-4)."""
    statuses = [{"id": number, "name": name, "type": 1 if number != CLOSED_STATUS else 2}
                for number, name in [(1, "New"), (2, "In Progress"), (3, "Action Required"),
                                     (4, "With User"), (8, "Resolved"), (9, "Closed")]]
    # A priority's ``id`` is another key than the ``priorityid`` tickets carry.
    priorities = [{"id": 100 + number, "priorityid": number, "name": name, "slaid": 1}
                  for number, name in [(1, "Critical"), (2, "High"), (3, "Medium"), (4, "Low")]]
    ticket_types = [
        {"id": 1, "name": "Incident", "hasmandatorytechfields": False, "fields": []},
        {"id": 3, "name": "Service Request", "hasmandatorytechfields": True, "fields": [
            {"id": 31, "fieldid": 301, "fieldname": "CFAccountNumber", "technew": 2,
             "fieldinfo": {"id": 301, "name": "CFAccountNumber", "label": "Account number"}},
            {"id": 32, "fieldid": 302, "fieldname": "category_2", "technew": 1,
             "fieldinfo": {"id": 302, "name": "category_2", "label": "Sub-category"}}]},
    ]
    agents = [{"id": 1, "name": "Sam Tech", "email": "sam@halo.test"},
              {"id": 2, "name": "Ivy Tech", "email": "ivy@halo.test"}]
    return statuses, priorities, ticket_types, agents


class HaloStore:
    """Every record of one loopback HaloPSA instance."""

    def __init__(self, *, clients=3, users_per_client=2, search_matches_marker=True):
        self.lock = threading.RLock()
        self.clock = Clock()
        # Does ``search`` look at ``third_party_id_string``? (Unknown for the real one: the
        # adapter must find its tickets either way.)
        self.search_matches_marker = search_matches_marker
        self.statuses, self.priorities, self.ticket_types, self.agents = _lookups()
        self.clients, self.users = [], []
        self.tickets, self.actions, self.attachments = {}, {}, {}
        self.attachment_data = {}
        self._next_id = {"ticket": 1, "action": 1, "attachment": 1}
        self.add_clients(clients, users_per_client=users_per_client)

    # -- lookups --------------------------------------------------------------------------

    def add_clients(self, count, *, users_per_client=0):
        """``count`` more clients (and users of each): for paging the lookups."""
        with self.lock:
            for _ in range(count):
                client_id = len(self.clients) + 1
                self.clients.append({"id": client_id, "name": f"Client {client_id}",
                                     "inactive": False})
                for _ in range(users_per_client):
                    user_id = len(self.users) + 1
                    self.users.append({"id": user_id, "name": f"User {user_id}",
                                       "client_id": client_id, "client_name":
                                       f"Client {client_id}",
                                       "emailaddress": f"user{user_id}@client{client_id}.test"})

    def ticket_type(self, type_id):
        """One ticket type with its fields, or ``Refused`` 404."""
        for item in self.ticket_types:
            if item["id"] == type_id:
                return item
        raise Refused(404, f"Ticket type {type_id} not found")

    def _check_reference(self, records, value, what, key="id"):
        """Refuse an id that names no record, as Halo's own checks do."""
        if value is not None and not any(record[key] == value for record in records):
            raise Refused(400, {"message": f"The {what} {value} does not exist"})

    # -- tickets --------------------------------------------------------------------------

    def _new_id(self, kind):
        number = self._next_id[kind]
        self._next_id[kind] += 1
        return number

    def save_tickets(self, items):
        """``POST /api/Tickets``: create each item, or update it when it has an ``id``."""
        with self.lock:
            return [self._update_ticket(item) if item.get("id") else self._create_ticket(item)
                    for item in items]

    def _check_ticket_fields(self, item):
        self._check_reference(self.clients, item.get("client_id"), "client")
        self._check_reference(self.users, item.get("user_id"), "user")
        self._check_reference(self.statuses, item.get("status_id"), "status")
        self._check_reference(self.priorities, item.get("priority_id"), "priority",
                              key="priorityid")
        self._check_reference(self.ticket_types, item.get("tickettype_id"), "ticket type")
        self._check_reference(self.agents, item.get("agent_id"), "agent")

    def _create_ticket(self, item, *, at=None):
        if not (item.get("summary") or "").strip():
            raise Refused(400, {"message": "Please enter a Summary"})
        if not item.get("client_id"):
            raise Refused(400, {"message": "Please choose a Customer"})
        self._check_ticket_fields(item)
        now = halo_time(at or self.clock.now())
        ticket = {"status_id": 1, "priority_id": 3, "tickettype_id": 1, "agent_id": None,
                  "user_id": None, "category_1": None, "timetaken": 0.0, **item,
                  "id": self._new_id("ticket"), "datecreated": now,
                  "last_update": now, "attachment_count": 0}
        # Halo takes a given dateoccurred (a ticket logged after the fact), else now.
        ticket["dateoccurred"] = item.get("dateoccurred") or now
        ticket["details"] = _text(ticket.get("details_html") or ticket.get("details") or "")
        self.tickets[ticket["id"]] = ticket
        return dict(ticket)

    def _update_ticket(self, item):
        ticket = self.tickets.get(item["id"])
        if ticket is None:
            raise Refused(400, f"Ticket {item['id']} not found")
        self._check_ticket_fields(item)
        ticket.update(item)
        if "details_html" in item:
            ticket["details"] = _text(item["details_html"] or "")
        ticket["last_update"] = halo_time(self.clock.now())
        return dict(ticket)

    def ticket(self, ticket_id):
        """One ticket as the API shows it, or ``Refused`` 404."""
        with self.lock:
            if ticket_id not in self.tickets:
                raise Refused(404, f"Ticket {ticket_id} not found")
            return dict(self.tickets[ticket_id])

    def with_marker(self, marker):
        """Every ticket carrying ``marker`` (a test's "created exactly once")."""
        with self.lock:
            return [dict(ticket) for ticket in self.tickets.values()
                    if ticket.get("third_party_id_string") == marker]

    def list_tickets(self, query):
        """``GET /api/Tickets``: filtered, ordered and maybe paged, with ``record_count``."""
        with self.lock:
            found = list(self.tickets.values())
        found = _filter_tickets(found, query, search_matches_marker=self.search_matches_marker)
        order = (query.get("order") or "id").lower()
        descending = query.get("orderdesc", "false").lower() == "true"
        key = {"id": "id", "last_update": "last_update", "lastupdate": "last_update"}.get(order)
        if key is None:
            raise Refused(400, {"message": f"Invalid order field '{order}'"})
        if key != "id" or descending:
            found.sort(key=lambda ticket: ticket[key], reverse=descending)
        answer = {"record_count": len(found)}
        if query.get("pageinate", "false").lower() == "true":
            page_size = _whole(query.get("page_size", "50"), "page_size")
            page_no = _whole(query.get("page_no", "1"), "page_no")
            if not 0 < page_size <= MAX_PAGE_SIZE or page_no < 1:
                raise Refused(400, {"message": "page_size must be 1-100, page_no at least 1"})
            found = found[(page_no - 1) * page_size: page_no * page_size]
            answer.update(page_no=page_no, page_size=page_size)
        elif query.get("count"):
            found = found[: _whole(query["count"], "count")]
        answer["tickets"] = [dict(ticket) for ticket in found]
        return answer

    def seed_tickets(self, count, *, client_id=1, status_id=1, updated_at=None, marker=None):
        """``count`` tickets at once (no HTTP); ``updated_at``: their ``last_update``."""
        with self.lock:
            at = updated_at or self.clock.now()
            return [self._create_ticket({"summary": f"Seeded ticket {n}",
                                         "details_html": f"<p>Seeded ticket {n}</p>",
                                         "client_id": client_id, "status_id": status_id,
                                         **({"third_party_id_string": f"{marker}{n}"}
                                            if marker else {})}, at=at)["id"]
                    for n in range(1, count + 1)]

    # -- actions and attachments ----------------------------------------------------------

    def save_actions(self, items):
        """``POST /api/Actions``: each item a new action on its ticket (``id``: an update)."""
        with self.lock:
            return [self._save_action(item) for item in items]

    def _save_action(self, item, *, who="API User"):
        ticket = self.tickets.get(item.get("ticket_id"))
        if ticket is None:
            raise Refused(400, {"message": f"Ticket {item.get('ticket_id')} not found"})
        self._check_reference(self.statuses, item.get("new_status"), "status")
        if item.get("id"):
            action = self.actions.get(item["id"])
            if action is None:
                raise Refused(400, {"message": f"Action {item['id']} not found"})
            action.update(item)
            return dict(action)
        now = halo_time(self.clock.now())
        note_html = item.get("note_html") or html.escape(item.get("note") or "")
        action = {**item, "id": self._new_id("action"), "guid": str(uuid.uuid4()),
                  "who": item.get("third_party_who") or who, "datetime": now,
                  "actiondatecreated": now, "note_html": note_html, "note": _text(note_html),
                  "hiddenfromuser": bool(item.get("hiddenfromuser")),
                  "timetaken": float(item.get("timetaken") or 0)}
        self.actions[action["id"]] = action
        if item.get("new_status"):
            ticket["status_id"] = item["new_status"]
        ticket["timetaken"] = round(ticket.get("timetaken", 0) + action["timetaken"], 4)
        ticket["last_update"] = now
        return dict(action)

    def actions_of(self, ticket_id):
        """A ticket's actions, oldest first (none for a ticket that does not exist)."""
        with self.lock:
            return [dict(action) for action in self.actions.values()
                    if action["ticket_id"] == ticket_id]

    def save_attachments(self, items):
        """``POST /api/Attachment``: each item a file on its ticket."""
        with self.lock:
            return [self._save_attachment(item) for item in items]

    def _save_attachment(self, item):
        ticket = self.tickets.get(item.get("ticket_id"))
        if ticket is None:
            raise Refused(400, {"message": f"Ticket {item.get('ticket_id')} not found"})
        action_id = item.get("action_id")
        if action_id and self.actions.get(action_id, {}).get("ticket_id") != ticket["id"]:
            raise Refused(400, {"message": f"Action {action_id} not found on the ticket"})
        try:
            data = base64.b64decode(item.get("data_base64") or "", validate=True)
        except ValueError:
            raise Refused(400, {"message": "data_base64 is not valid base64"}) from None
        now = halo_time(self.clock.now())
        attachment = {key: value for key, value in item.items() if key != "data_base64"}
        attachment.update(id=self._new_id("attachment"), filesize=len(data), datecreated=now)
        self.attachments[attachment["id"]] = attachment
        self.attachment_data[attachment["id"]] = data
        ticket["attachment_count"] = ticket.get("attachment_count", 0) + 1
        ticket["last_update"] = now
        return dict(attachment)

    def attachments_of(self, ticket_id, *, action_id=None):
        """A ticket's attachments (without their data), or those of one of its actions."""
        with self.lock:
            return [dict(item) for item in self.attachments.values()
                    if item["ticket_id"] == ticket_id
                    and (action_id is None or item.get("action_id") == action_id)]

    def attachment(self, attachment_id):
        """One attachment's record and its bytes, or ``Refused`` 404."""
        with self.lock:
            if attachment_id not in self.attachments:
                raise Refused(404, f"Attachment {attachment_id} not found")
            return dict(self.attachments[attachment_id]), self.attachment_data[attachment_id]

    # -- a technician at work in Halo -----------------------------------------------------

    def technician_sets_status(self, ticket_id, status_id, *, who="Sam Tech"):
        """A status change in Halo's UI: the ticket's status, and its "status changed" action."""
        with self.lock:
            old = self.ticket(ticket_id)["status_id"]
            return self._save_action({"ticket_id": ticket_id, "outcome": "Status Change",
                                      "note": f"Status changed from {old} to {status_id}",
                                      "new_status": status_id, "hiddenfromuser": True},
                                     who=who)

    def technician_adds_action(self, ticket_id, note_html, *, hidden=False, minutes=0,
                               who="Sam Tech"):
        """A public reply or (``hidden``) an internal note, with time taken if any."""
        with self.lock:
            return self._save_action({"ticket_id": ticket_id,
                                      "outcome": "Private Note" if hidden else "Email User",
                                      "note_html": note_html, "hiddenfromuser": hidden,
                                      "timetaken": minutes / 60}, who=who)

    def technician_attaches(self, ticket_id, filename, data, *, action_id=None, hidden=None,
                            content_type="application/octet-stream"):
        """A file added in Halo's UI, to an action (``action_id``) or the ticket; ``hidden``:
        kept from the end user (``showforusers`` false; None leaves it to the action)."""
        item = {"ticket_id": ticket_id, "filename": filename, "content_type": content_type,
                "data_base64": base64.b64encode(data).decode("ascii")}
        if action_id is not None:
            item["action_id"] = action_id
        if hidden is not None:
            item["showforusers"] = not hidden
        with self.lock:
            return self._save_attachment(item)

    def technician_changes(self, ticket_id, **fields):
        """Fields of a ticket changed in Halo's UI (``summary=``, ``priority_id=``, ...)."""
        with self.lock:
            return self._update_ticket({"id": ticket_id, **fields})


def _text(note_html):
    """Halo's plain-text ``note`` beside ``note_html``."""
    return html.unescape(_TAGS.sub(" ", note_html)).strip()


def _whole(text, name):
    try:
        return int(text)
    except ValueError:
        raise Refused(400, {"message": f"{name} must be a whole number"}) from None


def _filter_tickets(tickets, query, *, search_matches_marker):
    """The tickets ``GET /api/Tickets``'s query parameters select."""
    if query.get("closed_only", "").lower() == "true":
        tickets = [ticket for ticket in tickets if ticket["status_id"] == CLOSED_STATUS]
    elif query.get("open_only", "").lower() != "false":
        tickets = [ticket for ticket in tickets if ticket["status_id"] != CLOSED_STATUS]
    if query.get("lastupdatefromdate"):
        since = halo_time(read_time(query["lastupdatefromdate"]))
        tickets = [ticket for ticket in tickets if ticket["last_update"] >= since]
    if query.get("lastupdatetodate"):
        until = halo_time(read_time(query["lastupdatetodate"]))
        tickets = [ticket for ticket in tickets if ticket["last_update"] <= until]
    if query.get("client_id"):
        client_id = _whole(query["client_id"], "client_id")
        tickets = [ticket for ticket in tickets if ticket["client_id"] == client_id]
    if query.get("search"):
        term = query["search"].lower()
        tickets = [ticket for ticket in tickets
                   if term in (ticket.get("summary") or "").lower()
                   or term in (ticket.get("details") or "").lower() or term == str(ticket["id"])
                   or (search_matches_marker
                       and term == (ticket.get("third_party_id_string") or "").lower())]
    return tickets
