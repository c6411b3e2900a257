"""What the bench times: the pages of the issue, with real ids picked from the seeded data.

Some routes and filters may not exist yet on a branch (``/customers/<id>``, the ``category``
and ``q`` filters). A scenario therefore carries a ``check``: SQL run over the ticket ids a
response lists, answering which of them break the filter. When the page lists tickets that
the filter should have excluded, the report says the filter was ignored instead of timing a
page that did less work than it should.
"""

from dataclasses import dataclass, field

from bench import content, seed

HX = {"HX-Request": "true"}


@dataclass(frozen=True)
class Scenario:
    """One page to time: who asks, what URL, and how to tell its filter was applied."""

    name: str
    login: str
    path: str
    headers: dict = field(default_factory=dict)
    check: str | None = None  # SQL over %(ids)s returning the ids the filter should exclude
    check_params: dict = field(default_factory=dict)
    check_note: str = ""
    max_kb: float | None = None


@dataclass(frozen=True)
class Picks:
    """Ids that exist in the bench data, chosen once per run."""

    category_id: int
    category_name: str
    ticket_id: int
    subscriber_id: int
    subscriber_email: str
    subscriber_tickets: int


def pick(connection):
    """The busiest category among open tickets, a queue-top ticket, the busiest subscriber."""
    category_id, category_name = connection.execute(
        "SELECT c.id, c.name FROM tickets t JOIN categories c ON c.id = t.category_id"
        " WHERE t.status = 'open' GROUP BY c.id, c.name ORDER BY count(*) DESC, c.id LIMIT 1"
    ).fetchone()
    (ticket_id,) = connection.execute(
        "SELECT id FROM tickets WHERE deleted_at IS NULL"
        " ORDER BY queue_rank, updated_at DESC, id DESC LIMIT 1"
    ).fetchone()
    subscriber_id, email, count = connection.execute(
        "SELECT u.id, u.email, count(*) FROM tickets t JOIN users u ON u.id = t.subscriber_id"
        " WHERE u.role = 'subscriber' GROUP BY u.id, u.email ORDER BY count(*) DESC, u.id"
        " LIMIT 1"
    ).fetchone()
    return Picks(category_id, category_name, ticket_id, subscriber_id, email, count)


def scenarios(picks):
    """The scenarios of the issue, plus the queue as a reseller sees it."""
    agent, word = seed.AGENT_EMAIL, content.SEARCH_WORD
    return [
        Scenario("Queue, first page (default sort)", agent, "/tickets"),
        Scenario(
            f"Queue, status open + category {picks.category_name}", agent,
            f"/tickets?status=open&category={picks.category_id}",
            check="SELECT id FROM tickets WHERE id = ANY(%(ids)s)"
                  " AND (status <> 'open' OR category_id <> %(category)s)",
            check_params={"category": picks.category_id},
            check_note="status or category filter ignored",
        ),
        Scenario(
            f"Text search (q={word})", agent, f"/tickets?q={word}",
            check="SELECT t.id FROM tickets t WHERE t.id = ANY(%(ids)s) AND NOT EXISTS"
                  " (SELECT 1 FROM search_documents d WHERE d.ticket_id = t.id"
                  " AND d.tsv @@ to_tsquery('english', %(query)s))",
            check_params={"query": f"{word}:*"},
            check_note="q filter ignored",
        ),
        Scenario(
            "Expansion fragment (HX-Request)", agent, f"/tickets/{picks.ticket_id}",
            headers=HX, max_kb=20,
        ),
        Scenario("Customer hub", agent, f"/customers/{picks.subscriber_id}"),
        Scenario(
            f"Portal list ({picks.subscriber_tickets} tickets)", picks.subscriber_email,
            "/portal/tickets",
        ),
        Scenario("Queue as a reseller", seed.RESELLER_EMAIL, "/tickets"),
    ]


def page_size_scenarios(picks):
    """The lists whose query count must not grow with the page size."""
    return [
        Scenario("Queue", seed.AGENT_EMAIL, "/tickets"),
        Scenario("Portal list", picks.subscriber_email, "/portal/tickets"),
    ]
