"""``python -m bench``: seed when needed, generate the scenarios, time them, report.

Seeding is skipped when the bench database already holds the requested number of bench
tickets (``--reseed`` forces it), so re-measuring after a code change takes minutes, not a
reseed. ``--http`` serves the app with gunicorn and measures it as users get it (what
``make bench`` does, and what ``docs/benchmarks.md`` holds); without it the pages are asked in
process, for quick runs. ``--only PATTERN`` re-runs the scenarios whose ``who: name`` matches.
"""

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

from sqlalchemy import text

from bench import (
    database,
    mail_intake,
    measure,
    over_http,
    people,
    picks,
    psa_pull,
    psa_push,
    report,
    scenarios,
    seed,
    server,
    sweeps,
)
from helpdesk import create_app
from helpdesk.extensions import db

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/3"
DEFAULT_OUTPUT = ROOT / "docs" / "benchmarks.md"


def bench_app(url, redis_url, instance_path):
    """The app as production builds it, on the bench database."""
    return create_app({
        "SQLALCHEMY_DATABASE_URI": database.sqlalchemy_url(url),
        "REDIS_URL": redis_url,
        "SECRET_KEY": server.SECRET_KEY,
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
    say(f"seeding {plan.tickets} tickets into {database.label(url)}")
    seed.seed(app, url, plan, say=say)


def _counts(app):
    """How much data was measured, for the report."""
    with app.app_context():
        row = db.session.execute(text(
            "SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM replies),"
            " (SELECT count(*) FROM replies WHERE internal),"
            " (SELECT count(*) FROM users WHERE role IN ('subscriber', 'company_admin'))"
        )).one()
        db.session.remove()
    return dict(zip(("tickets", "replies", "internal", "subscribers"), row, strict=True))


def generated_scenarios(app):
    """Every scenario of this data, from the picks of the agent, a reseller, a subscriber."""
    with app.app_context():
        size = app.config["TICKETS_PER_PAGE"]
        agent = picks.pick("agent", people.AGENT_EMAIL, page_size=size)
        reseller = picks.pick("reseller", people.RESELLER_EMAIL, page_size=size)
        portal = tuple(picks.portal_subscriber())
        tokens = {who: people.api_token(email) for who, email in (
            ("agent", people.AGENT_EMAIL), ("reseller", people.RESELLER_EMAIL))}
        db.session.remove()
    return scenarios.generate(agent, reseller, portal, api_tokens=tokens,
                              ticket_prefix=app.config["TICKET_PREFIX"])


def measure_all(app, url, *, tickets, http=False, runs=50, warmups=5, budget=10.0,
                only=None, clients=8, seconds=5.0, workers=server.WORKERS, redis_url=None,
                instance_path=None, pull_tickets=psa_pull.TICKETS,
                mail_messages=mail_intake.MESSAGES, say=print):
    """Time every chosen scenario (and, over HTTP, the throughput); returns a ``report.Run``."""
    load_before = os.getloadavg()
    everything = generated_scenarios(app)
    chosen = [s for s in everything if not only or re.search(only, s.label, re.IGNORECASE)]
    say(f"{len(chosen)} of {len(everything)} scenarios, {'over HTTP' if http else 'in process'}")
    in_process = measure.InProcess(app)
    probes = {s.label: measure.probe(in_process, s) for s in chosen}
    options = {"runs": runs, "warmups": warmups, "budget": budget}
    loads = []
    if http:
        with server.serving(url, redis_url, Path(instance_path) / "server",
                            workers=workers) as base_url:
            client = over_http.OverHTTP(base_url)
            try:
                results = [_timed(client.get, s, probes[s.label], options, say)
                           for s in chosen]
                loads = _loads(base_url, client, chosen, clients=clients, seconds=seconds,
                               say=say)
            finally:
                client.close()
    else:
        results = [_timed(in_process.get, s, probes[s.label], options, say, reuse=True)
                   for s in chosen]
    page_sizes = [measure.page_size_check(in_process, s)
                  for s in scenarios.page_size_scenarios(chosen)]
    # After the pages: the sweep's changes (states, escalations) must not move what they time.
    timed_sweeps = (sweeps.sla_sweeps(app)
                    if not only or re.search(only, "SLA sweep", re.IGNORECASE) else [])
    for run in timed_sweeps:
        say(f"  {run.label}: {run.ms:.1f} ms, {run.statements} statements, {run.read} read")
    push = (psa_push.push_throughput(app)
            if not only or re.search(only, "PSA push", re.IGNORECASE) else None)
    if push is not None:
        say(f"  PSA push: {push.sent} of {push.rows} rows in {push.seconds:.2f} s, "
            f"{push.per_second:.1f} rows/s")
    pulled = None
    if not only or re.search(only, "PSA pull", re.IGNORECASE):
        pulled = psa_pull.pull_throughput(url, make_app=lambda scratch: bench_app(
            scratch, redis_url or DEFAULT_REDIS_URL, Path(instance_path or ROOT / "instance")
            / "psa-pull"), tickets=pull_tickets)
        say(f"  PSA pull: {pulled.created} of {pulled.tickets} tickets in "
            f"{pulled.seconds:.1f} s, {pulled.per_second:.1f}/s, {pulled.requests} requests "
            f"(budget {pulled.budget})")
    mailed = None
    if not only or re.search(only, "Mail intake", re.IGNORECASE):
        mailed = mail_intake.intake_throughput(url, make_app=lambda scratch: bench_app(
            scratch, redis_url or DEFAULT_REDIS_URL, Path(instance_path or ROOT / "instance")
            / "mail-intake"), messages=mail_messages)
        say(f"  Mail intake: {mailed.messages} messages in {mailed.seconds:.1f} s, "
            f"{mailed.per_second:.1f}/s (p95 {mailed.p95_ms:.1f} ms a message)")
    return report.Run(
        backend=database.dialect(url), tickets=tickets, mode="HTTP" if http else "in-process",
        version=database.server_version(url), results=results, page_sizes=page_sizes,
        throughput=loads, sweeps=timed_sweeps, push=push, pull=pulled, mail=mailed,
        counts=_counts(app),
        load_before=load_before,
        load_after=os.getloadavg(),
        settings=options | {"workers": workers, "threads": server.THREADS,
                            "clients": clients, "seconds": seconds})


def _timed(fetch, scenario, probe, options, say, *, reuse=False):
    """Time one scenario; in process, the probe's answer is its first warm-up."""
    result = measure.run(fetch, scenario, first=probe.answer if reuse else None, **options)
    result.queries, result.notes = probe.queries, list(probe.notes)
    if result.timed:
        say(f"  {result.label}: p50 {result.p50:.1f} ms, p95 {result.p95:.1f} ms,"
            f" {result.queries} queries, {result.kb:.1f} KB")
    else:
        say(f"  {result.label}: HTTP {result.status}{'' if result.answered else ' (miss)'}")
    return result


def _loads(base_url, client, chosen, *, clients, seconds, say):
    """``/healthz``, then each page marked ``under_load``, ``clients`` at a time."""
    pages = [s for s in chosen if s.under_load]
    if not pages:
        return []
    loads = [over_http.throughput(base_url, "/healthz", "/healthz", clients=clients,
                                  seconds=seconds)]
    for page in pages:
        loads.append(over_http.throughput(
            base_url, page.label, page.path,
            headers=client.session_headers(page.login) | (page.headers or {}),
            clients=clients, seconds=seconds,
            under_target=page.group == "sort"))
    for load in loads:
        say(f"  under load: {load.label}: {load.per_second:.1f} requests/s")
    return loads


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=None, help="how many tickets (default:"
                        " 1,000,000 on PostgreSQL, 100,000 on SQLite)")
    parser.add_argument("--subscribers", type=int, default=seed.Plan.subscribers)
    parser.add_argument("--reseed", action="store_true", help="seed even if already seeded")
    parser.add_argument("--http", action="store_true",
                        help="serve with gunicorn and time over HTTP, plus throughput")
    parser.add_argument("--runs", type=int, default=50, help="timed requests per scenario")
    parser.add_argument("--warmups", type=int, default=5, help="untimed requests first")
    parser.add_argument("--budget", type=float, default=10.0,
                        help="seconds of timed requests per scenario (at least 3 requests)")
    parser.add_argument("--only", metavar="PATTERN",
                        help="only scenarios whose 'who: name' matches this regular expression")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients under load")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds of load per page")
    parser.add_argument("--workers", type=int, default=server.WORKERS, help="gunicorn workers")
    parser.add_argument("--output", help="the Markdown report to update ('-' for none;"
                        " default: docs/benchmarks.md for a full --http run, else none)")
    args = parser.parse_args(argv)
    url = database.bench_database_url()
    tickets = args.tickets or database.DEFAULT_TICKETS[database.dialect(url)]
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    with tempfile.TemporaryDirectory(prefix="bench-instance-") as instance:
        app = bench_app(url, redis_url, Path(instance) / "app")
        ensure_seeded(app, url, seed.Plan(tickets=tickets, subscribers=args.subscribers),
                      reseed=args.reseed)
        run = measure_all(app, url, tickets=tickets, http=args.http, runs=args.runs,
                          warmups=args.warmups, budget=args.budget, only=args.only,
                          clients=args.clients, seconds=args.seconds, workers=args.workers,
                          redis_url=redis_url, instance_path=instance)
    print()
    print(report.printed(run))
    output = args.output or (str(DEFAULT_OUTPUT) if args.http and not args.only else "-")
    if output != "-":
        path = Path(output)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(report.document(run, path.read_text() if path.exists() else ""))
        print(f"\nsection {run.backend} {run.tickets:,} written to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
