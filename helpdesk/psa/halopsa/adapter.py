"""The HaloPSA adapter: the connector interface over Halo's REST API.

Writes are Halo's array bodies (``POST /api/Tickets``, ``/api/Actions``, ``/api/Attachment``
with one item each; a ticket item with ``id`` updates). Reads page with ``pageinate``,
``page_no``, ``page_size`` (at most 100) and ``record_count``; a pull asks for tickets updated
since a time with ``lastupdatefromdate`` (the vendor's description types it as a boolean; the
API takes a time), ordered by id so that tickets changing during a pull do not move between
pages, closed ones included (``open_only=false``). Finding our writes again is described in
``markers`` (actions, attachments) and ``find_ticket`` (tickets).

Files. ``GET /api/Attachment?ticket_id=`` lists a ticket's files (id, filename, filesize,
note, action_id, showforusers); ``GET /api/Attachment/{id}`` answers the file itself. The
vendor's description documents no answers; its ``includedetails`` asks for "extra objects"
(the record), so it is not sent, and an answer that is the record with the file in
``data_base64`` (the ``Attachment`` schema's field) is read too (``payloads.file_content``).
"""

import time

from helpdesk.psa.connector import ChangesPage, Connector, PsaError
from helpdesk.psa.halopsa.lookups import fetch_lookups
from helpdesk.psa.halopsa.markers import marker_in
from helpdesk.psa.halopsa.payloads import (
    created_id,
    file_content,
    halo_id,
    halo_time,
    new_action,
    new_attachment,
    new_ticket,
    records,
    remote_action,
    remote_attachment,
    remote_ticket,
    ticket_changes,
)
from helpdesk.psa.halopsa.requests import HaloApi

PAGE_SIZE_LIMIT = 100  # Halo's largest page
# Where find_ticket looks when Halo's search does not cover third_party_id_string: the
# newest tickets (an unknown outcome is looked up by the next attempt, minutes later).
RECENT_TICKETS_PAGES = 2


class HaloPsaAdapter(Connector):
    """One HaloPSA instance. ``sleep`` and ``clock`` are for tests (429 waits, token age)."""

    kind = "halopsa"

    def __init__(self, settings, *, budget=None, transport=None, token_cache=None,
                 sleep=time.sleep, clock=time.monotonic):
        super().__init__(settings, budget=budget, transport=transport, token_cache=token_cache)
        self.api = HaloApi(settings, budget=self.budget, transport=transport, sleep=sleep,
                           clock=clock, token_cache=token_cache, exchanged=self._exchanged)

    def _exchanged(self, exchange):
        """Note the last API request and its status (``Connector.last_exchange``)."""
        self.last_exchange = exchange

    def check(self):
        """A token and the list of statuses: proof the credentials and the API work."""
        statuses = records(self.api.get("/Status"), "status")
        return (f"HaloPSA at {self.settings.base_url} answered: token granted, "
                f"{len(statuses)} statuses")

    def fetch_lookups(self):
        """Statuses, priorities, ticket types (with required fields), clients, users, agents."""
        return fetch_lookups(self.api)

    def create_ticket(self, draft):
        """Create the ticket; our marker is its ``third_party_id_string``."""
        return created_id(self.api.post("/Tickets", items=[new_ticket(draft)]), what="ticket")

    def update_ticket(self, external_id, changes):
        """Change the fields ``changes`` names."""
        self.api.post("/Tickets", items=[ticket_changes(external_id, changes)])

    def add_action(self, ticket_external_id, draft):
        """Add a reply, internal note or time entry, our marker at the end of its note."""
        answer = self.api.post("/Actions", items=[new_action(ticket_external_id, draft)])
        return created_id(answer, what="action")

    def upload_attachment(self, ticket_external_id, draft):
        """Upload a file within Halo's cap; a larger one is refused before anything is sent."""
        if len(draft.content) > self.attachment_cap:
            raise PsaError(
                f"{draft.filename} is {len(draft.content) / 2**20:.1f} MB; HaloPSA takes "
                f"attachments up to {self.attachment_cap // 2**20} MB", transient=False)
        answer = self.api.post("/Attachment", items=[new_attachment(ticket_external_id, draft)])
        return created_id(answer, what="attachment")

    def ticket_url(self, external_id):
        """A ticket's page in Halo's agent app (as ``remote_ticket`` writes it)."""
        return f"{self.settings.base_url.rstrip('/')}/ticket?id={external_id}"

    def find_ticket(self, marker):
        """Our ticket with ``marker`` in ``third_party_id_string``, or None.

        Halo has no filter on that field: its ``search`` is asked first (one request), then
        the newest tickets are read (``RECENT_TICKETS_PAGES``), in case the instance's search
        does not look at that field. Either way the field itself is compared.
        """
        searches = [{"search": marker, "pageinate": "true", "page_no": 1,
                     "page_size": PAGE_SIZE_LIMIT, "open_only": "false"}]
        searches += [{"pageinate": "true", "page_no": page_no, "page_size": PAGE_SIZE_LIMIT,
                      "order": "id", "orderdesc": "true", "open_only": "false"}
                     for page_no in range(1, RECENT_TICKETS_PAGES + 1)]
        for params in searches:
            tickets = records(self.api.get("/Tickets", params=params), "tickets")
            for item in tickets:
                if item.get("third_party_id_string") == marker:
                    return str(item["id"])
            if "search" not in params and len(tickets) < PAGE_SIZE_LIMIT:
                return None
        return None

    def find_action(self, ticket_external_id, marker):
        """Our action with ``marker`` (ending its note) on the ticket, or None; the oldest,
        should Halo also hold a copy (our write comes before any echo of it)."""
        found = [int(item["id"]) for item in self._actions(ticket_external_id)
                 if marker_in(item.get("note_html"), item.get("note")) == marker]
        return str(min(found)) if found else None

    def find_attachment(self, ticket_external_id, marker):
        """Our attachment with ``marker`` (its ``note``) on the ticket, or None."""
        for item in self._attachments(ticket_external_id):
            if marker_in(note=item.get("note")) == marker:
                return str(item["id"])
        return None

    def fetch_ticket(self, external_id):
        """The ticket with its actions and files, or None if Halo has no such ticket.

        Two requests, and a third for the list of files unless the ticket says it has none
        (``attachment_count`` 0): most tickets have none, and the budget is shared."""
        item = self.api.get(f"/Tickets/{halo_id(external_id, what='ticket')}",
                            params={"includedetails": "true"}, missing_ok=True)
        if not item:
            return None
        actions = [remote_action(action) for action in self._actions(external_id)]
        attachments = []
        if item.get("attachment_count") != 0:
            hidden = frozenset(action.external_id for action in actions if action.internal)
            attachments = [remote_attachment(record, hidden_actions=hidden)
                           for record in self._attachments(external_id)]
        return remote_ticket(item, base_url=self.settings.base_url, actions=actions,
                             attachments=attachments)

    def download_attachment(self, external_id):
        """The file's bytes: ``GET /api/Attachment/{id}`` answers the file itself (with
        ``includedetails`` it answers the record instead, so that is not asked)."""
        response = self.api.download(f"/Attachment/{halo_id(external_id, what='attachment')}")
        return file_content(external_id, response.headers.get("Content-Type"),
                            response.content)

    def changes_since(self, since, *, page_no=1, page_size=100):
        """One page of the tickets updated at or after ``since``, closed ones included."""
        page_size = max(1, min(page_size, PAGE_SIZE_LIMIT))
        params = {"pageinate": "true", "page_no": page_no, "page_size": page_size,
                  "order": "id", "orderdesc": "false", "open_only": "false"}
        if since is not None:
            params["lastupdatefromdate"] = halo_time(since)
        answer = self.api.get("/Tickets", params=params)
        tickets = records(answer, "tickets")
        record_count = answer.get("record_count") if isinstance(answer, dict) else None
        if record_count is None:
            record_count = (page_no - 1) * page_size + len(tickets)
        last_page = len(tickets) < page_size or page_no * page_size >= record_count
        return ChangesPage(
            tickets=[remote_ticket(item, base_url=self.settings.base_url) for item in tickets],
            page_no=page_no, record_count=record_count, last_page=last_page)

    def close(self):
        """Close the HTTP connections."""
        self.api.close()

    def _actions(self, ticket_external_id):
        """Every action of a ticket as Halo's records, HTML notes included."""
        answer = self.api.get("/Actions", params={
            "ticket_id": halo_id(ticket_external_id, what="ticket"), "includehtmlnote": "true"})
        return records(answer, "actions")

    def _attachments(self, ticket_external_id):
        """Every file of a ticket as Halo lists them (without their bytes)."""
        answer = self.api.get("/Attachment", params={
            "ticket_id": halo_id(ticket_external_id, what="ticket")})
        return records(answer, "attachments")
