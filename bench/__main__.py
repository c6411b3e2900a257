"""``python -m bench``: seed when needed, time every scenario, print and save the table.

Seeding is skipped when the bench database already holds the requested number of bench
tickets (``--reseed`` forces it), so re-measuring after a code change takes seconds.
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

from bench import database, measure, report, scenarios, seed
from helpdesk import create_app

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/3"


def bench_app(url, redis_url, instance_path):
    """The app as production builds it, on the bench database."""
    return create_app({
        "SQLALCHEMY_DATABASE_URI": database.sqlalchemy_url(url),
        "REDIS_URL": redis_url,
        "SECRET_KEY": "bench-secret-key-not-for-production",
        "INSTANCE_PATH": str(instance_path),
    })


def ensure_seeded(app, url, plan, *, reseed, say=print):
    """Seed unless the database already has ``plan.tickets`` bench tickets."""
    have = None if reseed else seed.seeded_ticket_count(url)
    if have == plan.tickets:
        say(f"bench database already has {have} tickets; --reseed to seed again")
        database.migrate(app)  # new migrations (indexes) still apply to the kept data
        database.vacuum_analyze(url)
        return
    say(f"seeding {plan.tickets} tickets into {database.plain_url(url)}")
    seed.seed(app, url, plan, say=say)


def measure_all(app, url, *, runs, warmups):
    """Every scenario and the page-size check; returns what ``report.document`` needs."""
    load_before = os.getloadavg()
    with database.connect(url) as connection:
        picks = scenarios.pick(connection)
        counts = dict(zip(
            ("tickets", "replies", "internal", "subscribers", "search_documents"),
            connection.execute(
                "SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM replies),"
                " (SELECT count(*) FROM replies WHERE internal),"
                " (SELECT count(*) FROM users WHERE role IN ('subscriber', 'company_admin')),"
                " (SELECT count(*) FROM search_documents)"
            ).fetchone(), strict=True,
        ))
        server_version = connection.execute("SHOW server_version").fetchone()[0]

        def check_filter(sql, parameters):
            return connection.execute(sql, parameters).fetchall()

        clients, results = {}, []

        def client_for(email):
            if email not in clients:
                clients[email] = measure.signed_in_client(app, email)
            return clients[email]

        for scenario in scenarios.scenarios(picks):
            result = measure.run(app, client_for(scenario.login), scenario, warmups=warmups,
                                 runs=runs, check_filter=check_filter)
            results.append(result)
        page_sizes = [measure.page_size_check(app, client_for(s.login), s)
                      for s in scenarios.page_size_scenarios(picks)]
    return {"results": results, "page_sizes": page_sizes, "counts": counts,
            "server_version": server_version, "runs": runs, "warmups": warmups,
            "load_before": load_before, "load_after": os.getloadavg(), "picks": picks}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--tickets", type=int, default=seed.Plan.tickets)
    parser.add_argument("--subscribers", type=int, default=seed.Plan.subscribers)
    parser.add_argument("--reseed", action="store_true", help="seed even if already seeded")
    parser.add_argument("--runs", type=int, default=50, help="measured requests per page")
    parser.add_argument("--warmups", type=int, default=5, help="untimed requests per page")
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"),
                        help="where to write the Markdown report ('-' for nowhere)")
    args = parser.parse_args(argv)
    url = database.bench_database_url()
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    with tempfile.TemporaryDirectory(prefix="bench-instance-") as instance:
        app = bench_app(url, redis_url, instance)
        plan = seed.Plan(tickets=args.tickets, subscribers=args.subscribers)
        ensure_seeded(app, url, plan, reseed=args.reseed)
        numbers = measure_all(app, url, runs=args.runs, warmups=args.warmups)
    print(report.results_table(numbers["results"]))
    print()
    print(report.page_size_table(numbers["page_sizes"]))
    if args.output != "-":
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(report.document(**numbers))
        print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
