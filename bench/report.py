"""The results as Markdown: printed after a run and written to ``docs/benchmarks.md``."""

import os
import platform
from datetime import UTC, datetime

TARGET_P95_MS = 50


def _queries(result):
    low, high = min(result.queries), max(result.queries)
    return str(low) if low == high else f"{low} to {high}"


def verdict(result):
    """Whether a scenario met its targets, and if not, which one it missed."""
    if not result.available:
        return "—"
    misses = []
    if result.p95 >= TARGET_P95_MS:
        misses.append(f"p95 ≥ {TARGET_P95_MS} ms")
    if result.max_kb is not None and result.kb >= result.max_kb:
        misses.append(f"size ≥ {result.max_kb:g} KB")
    return "no: " + ", ".join(misses) if misses else "yes"


def results_table(results):
    """scenario | p50 | p95 | queries | KB | target met? | notes."""
    lines = [
        "| scenario | p50 ms | p95 ms | queries | KB | target met? | notes |",
        "|---|--:|--:|--:|--:|---|---|",
    ]
    for r in results:
        if r.available:
            lines.append(f"| {r.name} | {r.p50:.1f} | {r.p95:.1f} | {_queries(r)} | {r.kb:.1f}"
                         f" | {verdict(r)} | {r.note} |")
        else:
            lines.append(f"| {r.name} | — | — | — | — | — | {r.note} |")
    return "\n".join(lines)


def page_size_table(checks):
    """The query count of each list at two page sizes, and whether it grows."""
    sizes = sorted(next(iter(checks)).counts) if checks else []
    head = " | ".join(f"queries at {s} (rows)" for s in sizes)
    lines = [f"| list | {head} | grows with page size? |",
             "|---|" + "--:|" * len(sizes) + "---|"]
    for check in checks:
        cells = " | ".join(f"{q} ({rows})" for q, rows in (check.counts[s] for s in sizes))
        lines.append(f"| {check.name} | {cells} | {'YES' if check.grows else 'no'} |")
    return "\n".join(lines)


def machine(server_version):
    """Cores, CPU model and PostgreSQL version, for the report's header."""
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            names = (line.split(":", 1)[1].strip() for line in cpuinfo
                     if line.startswith("model name"))
            model = next(names, model)
    except OSError:
        pass
    return (f"{os.cpu_count()} cores ({model}), PostgreSQL {server_version},"
            f" Python {platform.python_version()}")


def document(*, results, page_sizes, counts, server_version, runs, warmups, load_before,
             load_after, picks):
    """The whole ``docs/benchmarks.md``."""
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    return f"""# Benchmarks

Measured {today} by `make bench` on {machine(server_version)}, with
{counts['tickets']:,} tickets, {counts['replies']:,} replies ({counts['internal']:,} internal
notes), {counts['subscribers']:,} subscribers and {counts['search_documents']:,} search documents.

Targets at 100,000 tickets: every p95 under {TARGET_P95_MS} ms, a query count that does not
grow with the page size, an expansion fragment under 20 KB.

{results_table(results)}

Query count per page size (`TICKETS_PER_PAGE`):

{page_size_table(page_sizes)}

## Method

`make bench` seeds the PostgreSQL database of `BENCH_DATABASE_URL` with bulk SQL (schema from
the Alembic migrations, then bulk inserts from `generate_series`, a search document per ticket
and per reply, indexes rebuilt from the migrations' definitions, `VACUUM ANALYZE`). It then
builds the app with `create_app`, signs in through the real `/login` form with a Flask test
client and requests each page {warmups} times to warm up and {runs} times measured. Server
time is the wall time of the in-process request (routing, session, queries, templates; no
network, no WSGI server); queries are the SQL statements the request sent, counted with
SQLAlchemy's `before_cursor_execute` event. KB is the response body. Ids used: category
{picks.category_id} ({picks.category_name}), ticket {picks.ticket_id}, subscriber
{picks.subscriber_id} ({picks.subscriber_tickets} tickets).

A scenario whose route does not exist on this branch reads "not available"; a filter the page
ignored (it listed tickets the filter should have excluded) is named in the notes, so the
timing of that row is for the unfiltered page. Re-run after merging the desk work.

Caveat: the machine is shared with other workers running test suites, so timings carry their
noise. Load average (1, 5, 15 min) was {_load(load_before)} before and {_load(load_after)}
after the run.

Re-run with `make bench` (`BENCH_TICKETS=20000` for another size, `BENCH_ARGS=--reseed` to
seed again).
"""


def _load(values):
    return " / ".join(f"{v:.2f}" for v in values)
