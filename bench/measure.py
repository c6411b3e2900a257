"""Time scenarios in process: the real app, the real login form, a Flask test client.

Server time is the wall time of one in-process request (routing, session, queries, template),
without a network or a WSGI server in front. Every SQL statement the request sends is counted
with SQLAlchemy's ``before_cursor_execute`` event, the same way the tests count queries.
"""

import re
import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import event

from bench import seed
from helpdesk.extensions import db

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
TICKET_LINK = re.compile(r'href="/(?:portal/)?tickets/(\d+)"')


class LoginFailed(RuntimeError):
    """The bench user could not sign in (wrong data, or the login form changed)."""


@dataclass
class Result:
    """The numbers of one scenario."""

    name: str
    status: int
    times_ms: list = field(default_factory=list)
    queries: list = field(default_factory=list)
    size_bytes: int = 0
    note: str = ""
    max_kb: float | None = None

    @property
    def available(self):
        return self.status == 200 and bool(self.times_ms)

    @property
    def p50(self):
        return statistics.median(self.times_ms)

    @property
    def p95(self):
        if len(self.times_ms) < 2:
            return self.times_ms[0]
        return statistics.quantiles(self.times_ms, n=20, method="inclusive")[-1]

    @property
    def kb(self):
        return self.size_bytes / 1024


class StatementCounter:
    """Counts the SQL statements sent while it is listening.

    Transaction control is not counted: the tests run every request inside a SAVEPOINT.
    """

    TRANSACTION_CONTROL = ("SAVEPOINT ", "RELEASE SAVEPOINT ", "ROLLBACK TO SAVEPOINT ", "BEGIN")

    def __init__(self):
        self.count = 0

    def __call__(self, _connection, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith(self.TRANSACTION_CONTROL):
            self.count += 1


@contextmanager
def counting_statements(app):
    """``with counting_statements(app) as counter:`` counts the block's statements."""
    counter = StatementCounter()
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", counter)


def signed_in_client(app, email, password=seed.BENCH_PASSWORD):
    """A test client signed in through ``/login`` with the page's CSRF token."""
    client = app.test_client()
    match = CSRF_META.search(client.get("/login").get_data(as_text=True))
    if not match:
        raise LoginFailed("the login page has no csrf-token meta tag")
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": match.group(1)}
    )
    if response.status_code != 302:
        raise LoginFailed(f"signing in as {email} answered {response.status_code}")
    return client


def ticket_ids(html):
    """The ticket ids a page links to, in order, without repeats."""
    return list(dict.fromkeys(int(i) for i in TICKET_LINK.findall(html)))


def run(app, client, scenario, *, warmups, runs, check_filter=None):
    """Time ``scenario``: ``warmups`` untimed requests, then ``runs`` timed ones."""
    response = client.get(scenario.path, headers=scenario.headers)
    result = Result(scenario.name, response.status_code, max_kb=scenario.max_kb)
    if response.status_code != 200:
        result.note = f"not available (HTTP {response.status_code})"
        return result
    body = response.get_data()
    result.size_bytes = len(body)
    if scenario.check and check_filter is not None:
        wrong = check_filter(scenario.check, {**scenario.check_params,
                                              "ids": ticket_ids(body.decode())})
        if wrong:
            result.note = f"{scenario.check_note}: {len(wrong)} listed tickets do not match"
    for _ in range(max(0, warmups - 1)):
        client.get(scenario.path, headers=scenario.headers)
    with counting_statements(app) as counter:
        for _ in range(runs):
            before = counter.count
            started = time.perf_counter()
            client.get(scenario.path, headers=scenario.headers)
            result.times_ms.append((time.perf_counter() - started) * 1000)
            result.queries.append(counter.count - before)
    return result


@dataclass
class PageSizeResult:
    """Query counts of one list at two page sizes."""

    name: str
    counts: dict  # page size -> (queries, rows listed)

    @property
    def grows(self):
        queries = [q for q, _rows in self.counts.values()]
        return max(queries) > min(queries)


def page_size_check(app, client, scenario, sizes=(25, 100)):
    """Query count and rows listed at each page size (``TICKETS_PER_PAGE`` set per request)."""
    counts = {}
    original = app.config["TICKETS_PER_PAGE"]
    try:
        for size in sizes:
            app.config["TICKETS_PER_PAGE"] = size
            client.get(scenario.path)  # warm
            with counting_statements(app) as counter:
                response = client.get(scenario.path)
            counts[size] = (counter.count, len(ticket_ids(response.get_data(as_text=True))))
    finally:
        app.config["TICKETS_PER_PAGE"] = original
    return PageSizeResult(scenario.name, counts)
