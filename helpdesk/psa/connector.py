"""What the help desk asks of a PSA, whichever it is: the connector interface.

The core (``services.psa_*``, ``jobs/psa.py``) speaks only these types; an adapter module per
PSA (``helpdesk.psa.halopsa`` first) turns them into that PSA's requests. A ConnectWise or
Autotask adapter is one new module registered in ``ADAPTERS``, not a change to the core.

Ids on the PSA's side are strings here (``external_id``), whatever the PSA uses, so the core
stores one shape for every PSA. Times are aware UTC datetimes.

Finding our own writes again. A write whose outcome is unknown (a timeout, a lost response,
a worker killed mid-request) must not be repeated blindly: before creating anything a second
time the core asks ``find_ticket``/``find_action``/``find_attachment`` with the write's
``marker``, a string of ours that the adapter stores where that PSA keeps it (HaloPSA:
``third_party_id_string`` on tickets; a marker of ours inside the action, since the spec does
not promise a client-chosen ``guid`` is kept). The same markers let a pull recognise the
echoes of our own writes.

Errors. Every adapter raises ``PsaError`` (or a subclass) with one clear message, whatever
error shape the PSA answered with:
- ``PsaError(transient=True)``: try again later (5xx, connection refused before sending);
- ``PsaError(transient=False)``: retrying will not help (400 validation, 403, 404): the
  write goes to the dead letters at once, with the PSA's message;
- ``OutcomeUnknown``: the request may or may not have been applied (timeout after sending,
  connection reset, a lost response): look up by marker, then retry;
- ``RateLimited``: 429 after the adapter's own waiting (``retry_after`` seconds);
- ``BudgetSpent``: the connection's request budget for the rolling window is used up: stop
  and go on at the next run (not a failure).
"""

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from importlib import import_module

# kind -> "module:Class": the adapters the desk knows. One line per PSA.
ADAPTERS = {
    "halopsa": "helpdesk.psa.halopsa:HaloPsaAdapter",
}
# The largest attachment each PSA accepts, in bytes (DESIGN.md).
ATTACHMENT_CAPS = {
    "halopsa": 25 * 1024 * 1024,
    "connectwise": 10 * 1024 * 1024,
    "autotask": 6 * 1024 * 1024,
}


class PsaError(Exception):
    """A PSA request failed; ``str(error)`` is one line fit for an admin to read."""

    def __init__(self, message, *, status=None, transient=False, response_body=None):
        super().__init__(message)
        self.status = status  # the HTTP status, when there was a response
        self.transient = transient  # would the same request later likely succeed?
        self.response_body = response_body  # what the PSA answered (trimmed), for the audit


class OutcomeUnknown(PsaError):
    """The request may have been applied: look up by marker before sending it again."""

    def __init__(self, message, **kwargs):
        kwargs.setdefault("transient", True)
        super().__init__(message, **kwargs)


class RateLimited(PsaError):
    """The PSA kept answering 429; ``retry_after``: seconds it asked us to wait."""

    def __init__(self, message, *, retry_after, **kwargs):
        kwargs.setdefault("transient", True)
        kwargs.setdefault("status", 429)
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class BudgetSpent(PsaError):
    """The connection's request budget for the window is spent; not a failure."""

    def __init__(self, message="request budget spent for this window", **kwargs):
        kwargs.setdefault("transient", True)
        super().__init__(message, **kwargs)


@dataclass(frozen=True)
class ConnectionSettings:
    """What an adapter needs to talk to one PSA instance (the secret already decrypted)."""

    base_url: str  # https://example.halopsa.com (the API is under /api)
    auth_url: str  # https://example.halopsa.com/auth (token endpoint: {auth_url}/token)
    client_id: str
    client_secret: str
    tenant: str | None = None  # hosted HaloPSA instances name their tenant
    timeout: float = 20.0  # seconds per request


@dataclass(frozen=True)
class Lookup:
    """One choice the PSA offers (a status, priority, ticket type, client, user, agent)."""

    external_id: str
    name: str
    extra: dict = field(default_factory=dict)  # e.g. a user's client id and email


@dataclass(frozen=True)
class Lookups:
    """The PSA's own lists, cached per connection and mapped to ours by admins."""

    statuses: list[Lookup]
    priorities: list[Lookup]
    ticket_types: list[Lookup]
    clients: list[Lookup]
    users: list[Lookup]  # end users, with ``extra["client_id"]`` and ``extra["email"]``
    agents: list[Lookup]
    # Fields the PSA requires on a new ticket, by ticket type id: [(field, label)].
    required_fields: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


@dataclass(frozen=True)
class TicketDraft:
    """A ticket to create in the PSA. ``marker`` finds it again (and its echoes)."""

    marker: str
    summary: str
    details_html: str
    client_id: str
    user_id: str | None = None
    status_id: str | None = None
    priority_id: str | None = None
    ticket_type_id: str | None = None
    category: str | None = None
    extra_fields: dict = field(default_factory=dict)  # required fields an admin filled in


@dataclass(frozen=True)
class TicketChanges:
    """Fields to change on a PSA ticket; None leaves a field alone."""

    status_id: str | None = None
    priority_id: str | None = None
    summary: str | None = None
    category: str | None = None
    agent_id: str | None = None


@dataclass(frozen=True)
class ActionDraft:
    """A reply, internal note or time entry to add to a PSA ticket."""

    marker: str
    note_html: str
    internal: bool  # HaloPSA: ``hiddenfromuser``
    minutes: int = 0  # time taken (HaloPSA: ``timetaken``, in hours)
    who: str | None = None  # the person's name, for the PSA's record
    status_id: str | None = None  # a new status with the action, if any


@dataclass(frozen=True)
class AttachmentDraft:
    """A file to upload to a PSA ticket (within ``ATTACHMENT_CAPS``). ``internal``: a file of
    an internal note, kept from the end user there too; ``action_external_id``: the PSA's
    action of the reply it belongs to, when that action is there already."""

    marker: str
    filename: str
    content: bytes
    content_type: str = "application/octet-stream"
    internal: bool = False
    action_external_id: str | None = None


@dataclass(frozen=True)
class RemoteAction:
    """An action read from the PSA: a public reply, an internal note, time, a status change.

    ``system``: the PSA's own record of something that happened (a status change logged as
    an action), not a person's words: the pull adds nothing for it, since the change itself
    arrives as the ticket's field.
    """

    external_id: str
    ticket_external_id: str
    note_html: str
    internal: bool
    minutes: int
    who: str | None
    created_at: datetime | None
    marker: str | None  # ours, when the action is the echo of one of our writes
    system: bool = False
    raw: dict = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class RemoteAttachment:
    """A file on a PSA ticket, as listed (its bytes: ``Connector.download_attachment``).

    ``internal``: kept from the end user in the PSA (on a hidden action, or marked so), so
    never shown to a subscriber here either. ``action_external_id``: the action it was added
    with, when the PSA says. ``marker``: ours, when it is the echo of one of our uploads.
    ``size``: bytes, as the PSA lists it (None when it does not say).
    """

    external_id: str
    filename: str
    size: int | None
    marker: str | None
    action_external_id: str | None = None
    internal: bool = False
    content_type: str | None = None
    raw: dict = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class RemoteTicket:
    """A ticket read from the PSA, with its actions and files when fetched one by one."""

    external_id: str
    summary: str
    details_html: str
    status_id: str | None
    priority_id: str | None
    ticket_type_id: str | None
    client_id: str | None
    user_id: str | None
    agent_id: str | None
    category: str | None
    updated_at: datetime | None
    marker: str | None  # ours, when we created it
    url: str | None = None  # the ticket's page in the PSA, for the chip's link
    created_at: datetime | None = None  # when it was opened in the PSA
    actions: list[RemoteAction] = field(default_factory=list)
    attachments: list[RemoteAttachment] = field(default_factory=list)
    raw: dict = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class ChangesPage:
    """One page of tickets changed since a time; ``record_count``: all pages together."""

    tickets: list[RemoteTicket]
    page_no: int
    record_count: int
    last_page: bool


class Budget(ABC):
    """Requests a connection may still make in its rolling window (``services.psa_budget``).

    An adapter calls ``spend()`` before every request it sends, including token requests and
    retries, so the PSA's rate limit is respected for everything the desk sends it.
    """

    @abstractmethod
    def spend(self, requests=1):
        """Take ``requests`` from the budget, or raise ``BudgetSpent``."""


class TokenCache(ABC):
    """Where an adapter keeps its access token between jobs and processes
    (``services.psa_connector``), so each job does not spend a request on a new token."""

    @abstractmethod
    def load(self):
        """``(token, expires_at)`` (``expires_at``: epoch seconds), or None."""

    @abstractmethod
    def save(self, token, expires_at):
        """Keep ``token`` until ``expires_at`` (epoch seconds)."""

    @abstractmethod
    def clear(self, token):
        """Forget ``token`` (the PSA refused it), unless another has replaced it already."""


@dataclass(frozen=True)
class Exchange:
    """The last request an adapter sent and what came back, for the audit log."""

    method: str
    path: str
    status: int | None
    body: object = None  # the JSON sent


class UnlimitedBudget(Budget):
    """No budget: for a "Test connection" click and the tests of an adapter alone."""

    def spend(self, requests=1):
        """Always allowed."""


class Connector(ABC):
    """One PSA instance, as the core sees it. Adapters subclass this."""

    kind: str = ""  # the key in ADAPTERS

    def __init__(self, settings, *, budget=None, transport=None, token_cache=None):
        """``transport``: an httpx transport, for the tests' loopback server or mocks;
        ``token_cache``: a ``TokenCache`` shared by every adapter of the connection."""
        self.settings = settings
        self.budget = budget or UnlimitedBudget()
        self.transport = transport
        self.token_cache = token_cache
        self.last_exchange = None  # an ``Exchange``: the last API request and its status

    @property
    def attachment_cap(self):
        """The largest file this PSA accepts, in bytes."""
        return ATTACHMENT_CAPS[self.kind]

    @abstractmethod
    def check(self):
        """Fetch a token and one cheap read; return a line saying what answered."""

    @abstractmethod
    def fetch_lookups(self):
        """The PSA's statuses, priorities, ticket types, clients, users and agents."""

    @abstractmethod
    def create_ticket(self, draft):
        """Create a ticket; return its external id."""

    @abstractmethod
    def update_ticket(self, external_id, changes):
        """Change fields of a ticket."""

    @abstractmethod
    def add_action(self, ticket_external_id, draft):
        """Add a reply, note or time entry; return the action's external id."""

    @abstractmethod
    def upload_attachment(self, ticket_external_id, draft):
        """Attach a file to a ticket; return the attachment's external id."""

    @abstractmethod
    def find_ticket(self, marker):
        """The external id of the ticket we created with ``marker``, or None."""

    @abstractmethod
    def find_action(self, ticket_external_id, marker):
        """The external id of our action with ``marker`` on a ticket, or None."""

    @abstractmethod
    def find_attachment(self, ticket_external_id, marker):
        """The external id of our attachment with ``marker`` on a ticket, or None."""

    @abstractmethod
    def fetch_ticket(self, external_id):
        """One ticket with its actions and the list of its files (``RemoteTicket.actions``,
        ``RemoteTicket.attachments``, without their bytes), or None if it is gone."""

    @abstractmethod
    def download_attachment(self, external_id):
        """The bytes of one of the PSA's files (a ``RemoteAttachment``'s ``external_id``)."""

    @abstractmethod
    def changes_since(self, since, *, page_no=1, page_size=100):
        """One ``ChangesPage`` of tickets updated at or after ``since`` (None: all)."""

    def ticket_url(self, external_id):
        """The ticket's page in the PSA, for the desk's link to it (None: not known)."""
        return None

    def iter_changes(self, since, *, page_size=100) -> Iterator[ChangesPage]:
        """Every page of ``changes_since``, first to last."""
        page_no = 1
        while True:
            page = self.changes_since(since, page_no=page_no, page_size=page_size)
            yield page
            if page.last_page:
                return
            page_no += 1

    def close(self):  # noqa: B027 (adapters without connections to close need not override)
        """Release the adapter's HTTP connections."""


def connector_for(kind, settings, *, budget=None, transport=None, token_cache=None):
    """The adapter of ``kind`` (a key of ``ADAPTERS``) for one PSA instance."""
    try:
        module_name, class_name = ADAPTERS[kind].split(":")
    except KeyError:
        raise PsaError(f"no adapter for PSA kind {kind!r}") from None
    adapter = getattr(import_module(module_name), class_name)
    return adapter(settings, budget=budget, transport=transport, token_cache=token_cache)
