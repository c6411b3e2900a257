"""Time scenarios, count their statements, and check what they answered.

Two ways to ask, one way to time: ``InProcess`` sends each request through a Flask test client
(routing, session, queries, templates; no network, no WSGI server), ``bench.over_http`` through
gunicorn as a browser would. Either way a scenario is asked once untimed by the in-process
app with every SQL statement counted (SQLAlchemy's ``before_cursor_execute``, as the tests
count queries) and its answer checked (``bench.checks``); then it is warmed up and timed until
it has ``runs`` samples or has used its time budget, whichever comes first, so a 13-second
search costs a few samples, not fifty.
"""

import re
import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import event

from bench import checks, people
from helpdesk.extensions import db

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
MIN_RUNS = 3  # samples a scenario gets even past its budget


class LoginFailed(RuntimeError):
    """The bench user could not sign in (wrong data, or the login form changed)."""


def csrf_token(html):
    """The CSRF token of a page's ``<meta name="csrf-token">``."""
    match = CSRF_META.search(html)
    if not match:
        raise LoginFailed("the login page has no csrf-token meta tag")
    return match.group(1)


def sign_in(client, email):
    """Sign ``client`` (a Flask test client or an httpx client) in through the real ``/login``
    form, with the page's CSRF token; returns it."""
    token = csrf_token(client.get("/login").text)
    response = client.post("/login", data={
        "email": email, "password": people.BENCH_PASSWORD, "csrf_token": token})
    if response.status_code != 302:
        raise LoginFailed(f"signing in as {email} answered {response.status_code}")
    return client


@dataclass(frozen=True)
class Answer:
    """What a request answered."""

    status: int
    body: bytes
    location: str = ""

    @property
    def text(self):
        return self.body.decode(errors="replace")

    @property
    def ok_page(self):
        return 200 <= self.status < 300


def acceptable(scenario, status):
    """A page answers 2xx; a ticket number searched answers 2xx or (better) 3xx."""
    return 200 <= status < 300 or (scenario.jump and 300 <= status < 400)


class InProcess:
    """Requests through Flask test clients, one per login, signed in through ``/login``."""

    def __init__(self, app):
        self.app = app
        self.clients = {}

    def client(self, email):
        """The signed-in test client of ``email`` (signing in on first use)."""
        if email not in self.clients:
            self.clients[email] = sign_in(self.app.test_client(), email)
        return self.clients[email]

    def get(self, scenario):
        """Ask for ``scenario`` as its person."""
        response = self.client(scenario.login).get(scenario.path, headers=scenario.headers)
        return Answer(response.status_code, response.get_data(),
                      response.headers.get("Location", ""))


@dataclass
class Result:
    """The numbers of one scenario."""

    scenario: object
    status: int = 0
    times_ms: list = field(default_factory=list)
    size_bytes: int = 0
    queries: int | None = None
    notes: list = field(default_factory=list)

    @property
    def label(self):
        return self.scenario.label

    @property
    def answered(self):
        """Answered as the scenario should (2xx, or 3xx for a ticket number)."""
        return acceptable(self.scenario, self.status)

    @property
    def timed(self):
        """Answered and timed (``runs=0`` only asks once, untimed)."""
        return self.answered and bool(self.times_ms)

    @property
    def p50(self):
        return statistics.median(self.times_ms) if self.times_ms else None

    @property
    def p95(self):
        if len(self.times_ms) < 2:
            return self.times_ms[0] if self.times_ms else None
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


@dataclass(frozen=True)
class Probe:
    """One in-process request of a scenario: its statements, its answer, what failed."""

    queries: int
    answer: Answer
    notes: list


def probe(in_process, scenario):
    """Ask once in process: the statements the request sent, and the check notes."""
    in_process.client(scenario.login)  # signed in before counting starts
    with counting_statements(in_process.app) as counter:
        answer = in_process.get(scenario)
    return Probe(counter.count, answer, _notes(in_process, scenario, answer))


def _notes(in_process, scenario, answer):
    notes = []
    if not acceptable(scenario, answer.status):
        notes.append(f"HTTP {answer.status}"
                     + (f" to {answer.location}" if answer.location else ""))
    with in_process.app.app_context():
        notes += checks.failures(scenario.checks, answer, db.session)
        db.session.remove()
    return notes


def run(fetch, scenario, *, warmups, runs, budget, first=None):
    """Time ``scenario`` with ``fetch`` (``InProcess.get`` or ``OverHTTP.get``): warm-ups
    (within a quarter of ``budget`` seconds), then up to ``runs`` timed requests within
    ``budget`` (at least ``MIN_RUNS``). ``first``: an answer already had from the same
    ``fetch``, which counts as the first warm-up."""
    started = time.perf_counter()
    first = first or fetch(scenario)
    result = Result(scenario, status=first.status, size_bytes=len(first.body))
    if not acceptable(scenario, first.status):
        return result
    warm_until = started + budget / 4
    for _ in range(max(0, warmups - 1)):
        if time.perf_counter() > warm_until:
            break
        fetch(scenario)
    timed_until = time.perf_counter() + budget
    while len(result.times_ms) < runs and (
            len(result.times_ms) < MIN_RUNS or time.perf_counter() < timed_until):
        before = time.perf_counter()
        fetch(scenario)
        result.times_ms.append((time.perf_counter() - before) * 1000)
    return result


@dataclass
class PageSizeResult:
    """Query counts of one list at two page sizes."""

    label: str
    counts: dict  # page size -> (queries, rows listed)

    @property
    def grows(self):
        queries = [q for q, _rows in self.counts.values()]
        return max(queries) > min(queries)


def page_size_check(in_process, scenario, sizes=(25, 100)):
    """Query count and rows listed at each page size (``TICKETS_PER_PAGE`` set per request)."""
    app, counts = in_process.app, {}
    original = app.config["TICKETS_PER_PAGE"]
    try:
        for size in sizes:
            app.config["TICKETS_PER_PAGE"] = size
            in_process.get(scenario)  # warm
            with counting_statements(app) as counter:
                answer = in_process.get(scenario)
            counts[size] = (counter.count, len(checks.listed_ids(answer.text)))
    finally:
        app.config["TICKETS_PER_PAGE"] = original
    return PageSizeResult(scenario.label, counts)
