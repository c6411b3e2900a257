"""``make bench`` keeps working: seed a tiny help desk, time every scenario, write the report.

Runs in its own PostgreSQL database (created and dropped here, beside the test database), so
the schema the other tests share is never touched.
"""

import pytest
from sqlalchemy.engine import make_url

from bench import database, report, scenarios, seed
from bench.__main__ import bench_app, ensure_seeded, measure_all
from tests.conftest import POSTGRES_URL, skip_or_fail

TICKETS = 50


@pytest.fixture
def bench_url():
    """A scratch database named after the test database, dropped afterwards."""
    if not POSTGRES_URL:
        skip_or_fail("TEST_DATABASE_URL is not set, so the bench test is skipped")
    test_url = make_url(POSTGRES_URL)
    url = test_url.set(database=f"{test_url.database}_bench").render_as_string(
        hide_password=False
    )
    database.drop_database(url)
    database.create_database(url)
    yield url
    database.drop_database(url)


def test_bench_seeds_measures_and_reports(bench_url, redis_url, tmp_path):
    """Every table is seeded consistently, every scenario answers, the report has them all."""
    app = bench_app(bench_url, redis_url, tmp_path / "instance")
    plan = seed.Plan(tickets=TICKETS, subscribers=10, organisations=4, agents=2)
    ensure_seeded(app, bench_url, plan, reseed=False, say=lambda _line: None)
    assert seed.seeded_ticket_count(bench_url) == TICKETS
    with database.connect(bench_url) as connection:
        replies, notes, documents, wrong_rank = connection.execute(
            "SELECT (SELECT count(*) FROM replies), (SELECT count(*) FROM replies WHERE internal),"
            " (SELECT count(*) FROM search_documents),"
            " (SELECT count(*) FROM tickets WHERE queue_rank <> CASE WHEN status NOT IN"
            "  ('resolved', 'closed') AND priority IN ('urgent', 'high') THEN 0 ELSE 1 END)"
        ).fetchone()
    assert replies == TICKETS * plan.replies_per_ticket
    assert 0 < notes < replies
    assert documents == TICKETS + replies
    assert wrong_rank == 0
    with database.connect(bench_url) as connection:
        (wrong_public,) = connection.execute(
            "SELECT count(*) FROM tickets t WHERE t.public_updated_at IS DISTINCT FROM"
            " greatest(t.created_at,"
            "  (SELECT max(created_at) FROM replies WHERE ticket_id = t.id AND NOT internal),"
            "  (SELECT max(created_at) FROM ticket_events WHERE ticket_id = t.id"
            "   AND NOT internal))"
        ).fetchone()
    assert wrong_public == 0, "the portal's time is the last public activity"
    with database.connect(bench_url) as connection:
        tallied, opened = connection.execute(
            "SELECT (SELECT sum(tickets) FROM ticket_tallies),"
            " (SELECT sum(opened) FROM ticket_days)").fetchone()
    assert tallied == opened == TICKETS, "the counters' tallies count the bulk-loaded tickets"

    numbers = measure_all(app, bench_url, runs=2, warmups=1)
    by_name = {result.name: result for result in numbers["results"]}
    assert len(by_name) == len(scenarios.scenarios(numbers["picks"]))
    queue = by_name["Queue, first page (default sort)"]
    assert queue.available and len(queue.times_ms) == 2 and min(queue.queries) >= 1
    fragment = next(r for name, r in by_name.items() if name.startswith("Expansion"))
    assert fragment.available and fragment.kb > 0
    assert all(r.available or r.note.startswith("not available") for r in by_name.values())
    assert {check.name for check in numbers["page_sizes"]} == {"Queue", "Portal list"}

    text = report.document(**numbers)
    assert "| Queue, first page (default sort) |" in text
    assert f"{TICKETS} tickets" in text

