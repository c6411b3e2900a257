"""``make bench`` keeps working: seed a tiny help desk on each database, ask every generated
scenario, check the checks, serve it with gunicorn once, write the report.

Each backend gets a database of its own (PostgreSQL: one named after the test database,
created and dropped here; SQLite: a file in the test's folder), so the schema the other tests
share is never touched.
"""

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bench import (
    checks,
    database,
    mail_intake,
    measure,
    psa_pull,
    psa_push,
    report,
    seed,
    shape,
    sweeps,
)
from bench.__main__ import bench_app, ensure_seeded, generated_scenarios, measure_all
from helpdesk.desk.queue_filters import SORTS, QueueFilters
from helpdesk.extensions import db
from helpdesk.models import PsaWrite
from tests.conftest import POSTGRES_URL, skip_or_fail

TICKETS = 80
PLAN = seed.Plan(tickets=TICKETS, subscribers=20, organisations=4, agents=2)


def _scratch_url(backend, folder):
    if backend == "sqlite":
        return f"sqlite:///{folder / 'bench.db'}"
    if not POSTGRES_URL:
        skip_or_fail("TEST_DATABASE_URL is not set, so the PostgreSQL bench is skipped")
    test_url = make_url(POSTGRES_URL)
    return test_url.set(database=f"{test_url.database}_bench").render_as_string(
        hide_password=False)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def bench_url(request, tmp_path_factory):
    """A scratch bench database on each backend, seeded once for this module's tests."""
    folder = tmp_path_factory.mktemp("bench")
    url = _scratch_url(request.param, folder)
    database.drop_database(url)
    database.create_database(url)
    yield url
    database.drop_database(url)


@pytest.fixture(scope="module")
def bench(bench_url, redis_url, tmp_path_factory):
    """The bench app on a freshly seeded tiny help desk."""
    app = bench_app(bench_url, redis_url, tmp_path_factory.mktemp("instance"))
    ensure_seeded(app, bench_url, PLAN, reseed=False, say=lambda _line: None)
    return app


def _one(connection, sql):
    return connection.execute(sql).fetchone()


def test_seeding_is_consistent(bench, bench_url):
    """Every table is filled as the services would fill it, on both databases alike."""
    assert seed.seeded_ticket_count(bench_url) == TICKETS
    with database.connect(bench_url) as connection:
        replies, notes, documents, wrong_rank, serials = _one(connection, (
            "SELECT (SELECT count(*) FROM replies), (SELECT count(*) FROM replies WHERE internal),"
            " (SELECT count(*) FROM ticket_search),"
            " (SELECT count(*) FROM tickets WHERE queue_rank <> CASE WHEN status IN"
            "  ('resolved', 'closed') THEN 2 WHEN priority IN ('urgent', 'high') THEN 0"
            "  ELSE 1 END),"
            " (SELECT count(DISTINCT substr(body, length(body) - 9)) FROM tickets"
            "  WHERE body LIKE '%Serial number: SN%')"))
        (wrong_public,) = _one(connection, (
            "SELECT count(*) FROM tickets t WHERE t.public_updated_at <> (SELECT max(at) FROM ("
            "  SELECT t.created_at AS at"
            "  UNION ALL SELECT created_at FROM replies WHERE ticket_id = t.id AND NOT internal"
            "  UNION ALL SELECT created_at FROM ticket_events"
            "   WHERE ticket_id = t.id AND NOT internal) p)"))
        (misplaced,) = _one(connection, (
            "SELECT count(*) FROM tickets t JOIN users u ON u.id = t.subscriber_id"
            " WHERE coalesce(t.reseller_id, 0) <> coalesce(u.reseller_id, 0)"
            "  OR coalesce(t.organisation_id, 0) <> coalesce(u.organisation_id, 0)"))
        (names,) = _one(connection, "SELECT count(DISTINCT name) FROM users"
                                    " WHERE role IN ('subscriber', 'company_admin')")
    assert replies == TICKETS * PLAN.replies_per_ticket
    assert 0 < notes < replies
    assert documents == TICKETS, "one search document per ticket"
    assert wrong_rank == 0
    assert serials == TICKETS, "every ticket ends with a serial number of its own"
    assert wrong_public == 0, "the portal's time is the last public activity"
    assert misplaced == 0, "a ticket takes its subscriber's organisation and reseller"
    assert names == PLAN.subscribers
    with database.connect(bench_url) as connection:
        first_team = _one(connection, "SELECT min(id) FROM teams")[0]
        teams = connection.execute("SELECT id, category_id, team_id FROM tickets").fetchall()
    assert {row[2] for row in teams} > {None}, "tickets in teams, and some in none"
    assert [team for _, _, team in teams] == [
        None if (n := shape.team_number(ticket, category)) is None else first_team + n
        for ticket, category, _ in teams], "each ticket's team as routing by category gives it"
    with database.connect(bench_url) as connection:
        tallied, opened = connection.execute(
            "SELECT (SELECT sum(tickets) FROM ticket_tallies),"
            " (SELECT sum(opened) FROM ticket_days)").fetchone()
    assert tallied == opened == TICKETS, "the counters' tallies count the bulk-loaded tickets"
    with database.connect(bench_url) as connection:
        reported, by_organisation, resolved, with_target = connection.execute(
            "SELECT (SELECT sum(opened) FROM report_days),"
            " (SELECT sum(opened) FROM organisation_days),"
            " (SELECT sum(resolved) FROM report_days),"
            " (SELECT sum(sla_resolutions) FROM report_days)").fetchone()
        (resolved_tickets,) = _one(connection, "SELECT count(resolved_at) FROM tickets")
    assert reported == by_organisation == TICKETS, "the reports' rollups count them too"
    assert resolved == resolved_tickets > 0
    assert with_target == resolved, "the rollups count the seeded SLA due times"


def test_every_generated_scenario_answers(bench, bench_url):
    """In process, every scenario answers 2xx (a ticket number may redirect), and every check
    passes, the ticket-number jump included. Asked once each, untimed (``runs=0``): the HTTP
    test below times."""
    run = measure_all(bench, bench_url, tickets=TICKETS, runs=0, warmups=0, budget=0,
                      pull_tickets=250, mail_messages=60, say=lambda _line: None)
    labels = [r.label for r in run.results]
    assert len(labels) == len(set(labels)) > 100
    assert not [r.label for r in run.results if not r.answered]
    assert all(r.queries >= 1 and r.size_bytes >= 0 for r in run.results)
    unexpected = {r.label: r.notes for r in run.results if r.notes}
    assert unexpected == {}
    who = {r.scenario.who for r in run.results}
    assert who == {"agent", "reseller", "subscriber"}
    assert {check.label for check in run.page_sizes} >= {"agent: queue, first page",
                                                         "reseller: queue, first page"}
    assert not [check.label for check in run.page_sizes if check.grows]

    assert [s.label for s in run.sweeps] == [label for label, _ahead in sweeps.RUNS]
    assert all(s.statements >= 1 and s.ms > 0 for s in run.sweeps)

    text = report.document(run)
    assert f"<!-- bench {run.backend} {TICKETS} -->" in text
    assert "| agent: queue, first page |" in text
    assert "| SLA sweep: the minute after |" in text
    # the PSA push to the loopback HaloPSA: every row sent, and the bench's data left as seeded
    assert run.push.sent == run.push.rows == psa_push.TICKETS * psa_push.PER_TICKET
    assert run.push.per_second > 0 and "rows per second" in text
    with bench.app_context():
        assert db.session.scalar(select(func.count()).select_from(PsaWrite)) == 0
    # the PSA pull from the loopback HaloPSA: every ticket opened in the scratch database,
    # within the budget and without a 429, and the scratch database gone
    assert (run.pull.tickets, run.pull.created, run.pull.throttled) == (250, 250, 0)
    assert run.pull.requests <= run.pull.budget and not run.pull.budget_spent
    assert "tickets per second" in text
    assert not psa_pull.scratch_url(bench_url).endswith("_psa_pull.db") or not Path(
        database.sqlite_path(psa_pull.scratch_url(bench_url))).exists()
    # the mail intake: half new tickets, half threaded replies, the scratch database gone
    assert (run.mail.messages, run.mail.tickets, run.mail.replies) == (60, 30, 30)
    assert run.mail.per_second > 0 and "messages per second" in text
    mail_scratch = psa_pull.scratch_url(bench_url, suffix=mail_intake.SUFFIX)
    assert not mail_scratch.startswith("sqlite") or not Path(
        database.sqlite_path(mail_scratch)).exists()


def test_scenarios_cover_every_filter_sort_and_depth(bench):
    """Generated from the definitions: every QueueFilters field, every sort both ways at
    both depths, every status, priority and age, and the searches of the issue."""
    everything = generated_scenarios(bench)
    agent = [s for s in everything if s.who == "agent"]
    names = " | ".join(s.name for s in agent)
    for word in ("status=on_hold", "priority=urgent", "age=over-month", "assignee=me",
                 "assignee=unassigned", "customer=", "organisation=", "reseller=",
                 "category=", "search rare: SN", "search absent", "search name",
                 "search email", "search phrase", "search ticket number: TKT-",
                 "search bare number", "page=200", "sla=breached", "sla=paused",
                 "sort=sla_due", "team=Bench Team", "team=none", "& team=", "counters",
                 "poll the queue",
                 "poll a ticket", "expansion fragment", "customer hub", "reports, last 90 days"):
        assert word in names, word
    assert {s.who for s in everything if s.group == "reports"} == {"agent", "reseller"}
    assert not [s for s in everything if s.who != "agent" and "team=" in s.path]
    depth = [s for s in agent if s.name.startswith(("after", "before"))]
    assert len(depth) == len(SORTS) * 2 * 2  # sorts x directions x depths
    assert all(s.baseline and s.checks for s in depth)


def test_checks_catch_an_ignored_filter_a_lost_order_and_no_jump(bench):
    """The checks fail when the page did less than asked."""
    with bench.app_context():
        from sqlalchemy import text

        from helpdesk.extensions import db
        from helpdesk.models import Ticket

        closed, open_ = (db.session.execute(text(
            "SELECT id FROM tickets WHERE status = :s ORDER BY created_at, id LIMIT 2"),
            {"s": s}
        ).scalars().all() for s in ("closed", "open"))

        def page(ids):
            return measure.Answer(200, "".join(
                f'<a href="/tickets/{i}">' for i in ids).encode())

        status = checks.filter_checks(QueueFilters(statuses=["open"]), me=1)
        assert checks.failures(status, page(open_), db.session) == []
        assert checks.failures(status, page(open_ + closed), db.session) == [
            f"status filter ignored: 2 of {len(open_) + 2} listed do not match"]
        order = [checks.order_check("oldest")]
        assert checks.failures(order, page(closed), db.session) == []
        assert checks.failures(order, page(closed[::-1]), db.session) == [
            "sort oldest ignored: listed out of order"]
        jump = [checks.Check(note="no jump to the ticket", jump=closed[0])]
        assert checks.failures(jump, measure.Answer(
            303, b"", f"/tickets/{closed[0]}"), db.session) == []
        assert checks.failures(jump, page(closed), db.session) == [
            "no jump to the ticket: answered 200"]
        teamed, teamless = (db.session.execute(text(
            "SELECT id FROM tickets WHERE team_id IS NOT NULL ORDER BY id LIMIT 2"
            if teams else "SELECT id FROM tickets WHERE team_id IS NULL ORDER BY id LIMIT 2")
        ).scalars().all() for teams in (True, False))
        for team in ("none", str(db.session.get(Ticket, teamed[0]).team_id)):
            team_check = checks.filter_checks(QueueFilters(team=team), me=1)
            wrong = teamed if team == "none" else teamless
            assert checks.failures(team_check, page(wrong), db.session) == [
                "team filter ignored: 2 of 2 listed do not match"]
        words = [checks.words_check("zyzzyva")]
        assert checks.failures(words, page(closed), db.session) == [
            "search ignored: 2 of 2 listed do not match"]
        db.session.remove()


def test_http_mode_serves_times_and_loads(redis_url, tmp_path):
    """gunicorn starts, people sign in through /login, a few scenarios are timed, throughput
    is measured against /healthz, the server stops; the report keeps other sections. Once,
    on SQLite: the HTTP code is the same on both databases."""
    url = _scratch_url("sqlite", tmp_path)
    app = bench_app(url, redis_url, tmp_path / "instance")
    ensure_seeded(app, url, PLAN, reseed=False, say=lambda _line: None)
    run = measure_all(app, url, tickets=TICKETS, http=True, runs=2, warmups=1,
                      budget=1, only=r"^agent: (queue, first page|counters)$", clients=2,
                      seconds=0.2, workers=1, redis_url=redis_url,
                      instance_path=tmp_path / "http", say=lambda _line: None)
    assert run.mode == "HTTP"
    assert [r.label for r in run.results] == ["agent: queue, first page", "agent: counters"]
    assert all(r.answered and len(r.times_ms) == 2 and r.queries for r in run.results)
    assert [t.label for t in run.throughput] == ["/healthz", "agent: queue, first page",
                                                 "agent: counters"]
    assert all(t.requests > 0 and t.errors == 0 for t in run.throughput)

    elsewhere = report.Run(backend="postgresql", tickets=1_000_000, mode="HTTP",
                           version="PostgreSQL", results=[], page_sizes=[])
    before = report.document(elsewhere)
    text = report.document(run, report.document(run, before))
    assert text.count(f"<!-- bench sqlite {TICKETS} -->") == 1
    assert "<!-- bench postgresql 1000000 -->" in text
    assert text.index("postgresql 1000000") < text.index(f"sqlite {TICKETS}")
    assert "| /healthz | 2 |" in text
