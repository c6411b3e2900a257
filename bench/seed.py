"""Fill the bench database with N tickets, five replies each, in a few bulk SQL statements.

The services (``open_ticket``, ``add_reply``) render Markdown, audit and commit per row: fine
for people, hours for 100,000 tickets. Here every table is filled by one
``INSERT ... SELECT generate_series`` whose random choices come from PostgreSQL's seeded
``random()``, so a run is repeatable. What the services keep consistent is kept here too:
``queue_rank``, the organisation and reseller copied from the subscriber, a search document
per ticket and per reply, timestamps that follow each other, and the time of each ticket's
last public activity (what the portal shows and sorts by). Every ticket body ends with a
serial number of its own and subscribers have people's names, so the bench can search for a
word only one ticket has, and for a name.
"""

import time
from dataclasses import dataclass

from sqlalchemy import select

from bench import content, database
from helpdesk.extensions import db
from helpdesk.models import Category
from helpdesk.models.ticket import PRESSING_PRIORITIES, UNRESOLVED_STATUSES
from helpdesk.services import accounts, tallies

BENCH_PASSWORD = "bench-pass-2026"  # noqa: S105 - the published password of bench logins
EMAIL_DOMAIN = "bench.test"
AGENT_EMAIL = f"agent@{EMAIL_DOMAIN}"
RESELLER_EMAIL = f"reseller-1@{EMAIL_DOMAIN}"
RANDOM_SEED = 0.2026
# Subscribers get people's names (2,500 combinations), so a name is a realistic search term.
FIRST_NAMES = (
    "Ada", "Bruno", "Chiara", "Dmitri", "Elif", "Farid", "Greta", "Hiroshi", "Ines", "Jonas",
    "Kemal", "Lena", "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Sven", "Tariq",
    "Ulla", "Viktor", "Wanjiru", "Xavier", "Yara", "Zoltan", "Amara", "Bjorn", "Carmen",
    "Dario", "Esther", "Felix", "Gwen", "Hugo", "Ilse", "Joaquin", "Katja", "Luca", "Mira",
    "Nils", "Olga", "Pavel", "Rania", "Samir", "Tove", "Uma", "Vera", "Wim", "Yusuf", "Zara",
)
LAST_NAMES = (
    "Okafor", "Lindqvist", "Moreau", "Novak", "Haddad", "Kowalski", "Tanaka", "Brennan",
    "Ferreira", "Schulz", "Ivanova", "Mensah", "Rossi", "Dubois", "Nakamura", "Petrov",
    "Andersen", "Castillo", "Yilmaz", "Horvat", "Kariuki", "Sorensen", "Vasquez", "Lambert",
    "Oyelaran", "Bianchi", "Eriksen", "Gallagher", "Hoffmann", "Jensen", "Kuznetsov", "Laine",
    "Marchetti", "Nieminen", "Ortega", "Pereira", "Quist", "Richter", "Santos", "Takahashi",
    "Urquhart", "Varga", "Weber", "Xu", "Yamamoto", "Zielinski", "Abbasi", "Borg", "Costa",
    "Dahl",
)
# Roughly what a help desk looks like after two years: most tickets done, some in flight.
STATUS_SHARES = (
    ("closed", 0.55), ("resolved", 0.15), ("open", 0.09), ("in_progress", 0.08),
    ("waiting_on_customer", 0.07), ("waiting_on_vendor", 0.03), ("on_hold", 0.03),
)
PRIORITY_SHARES = (("low", 0.20), ("normal", 0.55), ("high", 0.18), ("urgent", 0.07))


@dataclass(frozen=True)
class Plan:
    """How big the bench help desk is."""

    tickets: int = 100_000
    replies_per_ticket: int = 5
    subscribers: int = 2000
    resellers: int = 4
    organisations: int = 40
    agents: int = 8


def seeded_ticket_count(url):
    """Tickets in the bench database, or None when it has no bench data (or no schema)."""
    try:
        with database.connect(url) as connection:
            row = connection.execute(
                "SELECT (SELECT count(*) FROM tickets),"
                " EXISTS (SELECT 1 FROM users WHERE email = %s)", (AGENT_EMAIL,)
            ).fetchone()
    except Exception:  # noqa: BLE001 - no database or no tables: not seeded
        return None
    return row[0] if row[1] else None


def seed(app, url, plan, *, say=print):
    """Empty, migrate and fill the database at ``url`` (the app must point at it)."""
    started = time.perf_counter()
    database.create_database(url)
    database.reset_schema(url)
    database.migrate(app)
    with app.app_context():
        password_hash = accounts.hash_password(BENCH_PASSWORD)  # once, reused by every user
        categories = {c.name: c.id for c in db.session.scalars(select(Category))}
        db.engine.dispose()
    subjects, tickets = content.ticket_pool(categories)
    replies = content.reply_pools()
    with database.connect(url) as connection:
        connection.execute("SET synchronous_commit TO off")
        connection.execute("SET maintenance_work_mem TO '256MB'")
        connection.execute("SELECT setseed(%s)", (RANDOM_SEED,))
        indexes = database.secondary_indexes(connection)
        database.drop_indexes(connection, indexes)
        _people(connection, plan, password_hash)
        say(f"  people: {time.perf_counter() - started:.1f} s")
        _tickets(connection, plan, subjects, tickets)
        say(f"  tickets: {time.perf_counter() - started:.1f} s")
        _replies(connection, plan, replies)
        say(f"  replies: {time.perf_counter() - started:.1f} s")
        _events(connection)
        _public_activity(connection)
        _search_documents(connection)
        tallies.rebuild(connection)  # the rows above went in as SQL, past the ORM's tallies
        say(f"  events, search documents, tallies: {time.perf_counter() - started:.1f} s")
        database.rebuild_indexes(connection, indexes)
        say(f"  indexes: {time.perf_counter() - started:.1f} s")
    database.vacuum_analyze(url)
    say(f"  seeded {plan.tickets} tickets in {time.perf_counter() - started:.1f} s")


def _people(connection, plan, password_hash):
    """Resellers, organisations, agents, reseller staff and subscribers."""
    connection.execute(
        "INSERT INTO resellers (name, created_at)"
        " SELECT 'Bench Reseller ' || r, now() - interval '3 years'"
        " FROM generate_series(1, %s) r", (plan.resellers,),
    )
    reseller_ids = [r for (r,) in connection.execute("SELECT id FROM resellers ORDER BY id")]
    # One organisation in five is the operator's own customer (no reseller).
    connection.execute(
        "INSERT INTO organisations (name, reseller_id, created_at)"
        " SELECT 'Bench Organisation ' || o,"
        "  CASE WHEN mod(o, 5) = 0 THEN NULL ELSE (%(resellers)s::int[])[1 + mod(o, %(n)s)] END,"
        "  now() - interval '3 years'"
        " FROM generate_series(1, %(organisations)s) o",
        {"resellers": reseller_ids, "n": len(reseller_ids), "organisations": plan.organisations},
    )
    common = {"hash": password_hash, "domain": EMAIL_DOMAIN}
    connection.execute(
        "INSERT INTO users (email, name, password_hash, role, permission_names, created_at)"
        " SELECT CASE WHEN a = 1 THEN 'agent@' ELSE 'agent-' || a || '@' END || %(domain)s,"
        "  'Agent ' || a, %(hash)s, 'agent', '', now()"
        " FROM generate_series(1, %(agents)s) a",
        {**common, "agents": plan.agents},
    )
    connection.execute(
        "INSERT INTO users (email, name, password_hash, role, reseller_id, permission_names,"
        " created_at)"
        " SELECT 'reseller-' || n || '@' || %(domain)s, 'Reseller staff ' || n, %(hash)s,"
        "  'reseller', r, %(permissions)s, now()"
        " FROM unnest(%(resellers)s::int[]) WITH ORDINALITY AS x(r, n)",
        {**common, "resellers": reseller_ids,
         "permissions": " ".join(sorted(accounts.DEFAULT_RESELLER_PERMISSIONS))},
    )
    # Two subscribers in five belong to an organisation (and so to its reseller); of the
    # rest, one in four is the operator's direct subscriber.
    connection.execute(
        "INSERT INTO users (email, name, password_hash, role, reseller_id, organisation_id,"
        " permission_names, created_at)"
        " SELECT 'subscriber-' || s || '@' || %(domain)s,"
        "  (%(first)s::text[])[1 + mod(s, %(nfirst)s)] || ' '"
        "  || (%(last)s::text[])[1 + mod(s / %(nfirst)s, %(nlast)s)], %(hash)s,"
        "  CASE WHEN n.organisation_id IS NOT NULL AND mod(s, 50) = 7"
        "   THEN 'company_admin' ELSE 'subscriber' END,"
        "  CASE WHEN n.organisation_id IS NOT NULL THEN o.reseller_id"
        "   WHEN mod(s, 4) = 0 THEN NULL"
        "   ELSE (%(resellers)s::int[])[1 + mod(s, %(n)s)] END,"
        "  n.organisation_id, '', now() - interval '2 years'"
        " FROM (SELECT s, CASE WHEN mod(s, 5) < 2"
        "   THEN (SELECT min(id) FROM organisations) + mod(s, %(organisations)s) END"
        "   AS organisation_id FROM generate_series(1, %(subscribers)s) s) n"
        " LEFT JOIN organisations o ON o.id = n.organisation_id",
        {**common, "resellers": reseller_ids, "n": len(reseller_ids),
         "organisations": plan.organisations, "subscribers": plan.subscribers,
         "first": list(FIRST_NAMES), "nfirst": len(FIRST_NAMES), "last": list(LAST_NAMES),
         "nlast": len(LAST_NAMES)},
    )


def _thresholds(shares):
    """``CASE`` arms picking a value by cumulative share of a uniform random ``x``."""
    arms, total = [], 0.0
    for value, share in shares[:-1]:
        total += share
        arms.append(f"WHEN x < {total:.4f} THEN '{value}'")
    return "CASE " + " ".join(arms) + f" ELSE '{shares[-1][0]}' END"


def _in_list(values):
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _tickets(connection, plan, subjects, pool):
    """The tickets: skewed over subscribers (a few have hundreds), spread over two years."""
    status = _thresholds(STATUS_SHARES).replace("x <", "r_status <")
    priority = _thresholds(PRIORITY_SHARES).replace("x <", "r_priority <")
    unresolved, pressing = _in_list(UNRESOLVED_STATUSES), _in_list(PRESSING_PRIORITIES)
    connection.execute(
        "INSERT INTO tickets (subject, body, body_html, body_renderer, status, priority,"  # noqa: S608
        " category_id, subscriber_id, organisation_id, reseller_id, assignee_id, created_at,"
        " updated_at, public_updated_at, first_response_at, resolved_at, closed_at, queue_rank)"
        " SELECT (%(subjects)s::text[])[j],"
        "  (%(bodies)s::text[])[j] || E'\\n\\nSerial number: ' || serial,"
        "  (%(html)s::text[])[j] || E'\\n<p>Serial number: ' || serial || '</p>',"
        "  %(renderer)s, status, priority, (%(categories)s::int[])[j], u.id,"
        "  u.organisation_id, u.reseller_id,"
        "  CASE WHEN status <> 'open' AND r_assignee < 0.9"
        "   THEN (SELECT min(id) FROM users WHERE role = 'agent') + floor(r_assignee / 0.9"
        "    * %(agents)s)::int END,"
        "  opened, least(opened + step * 5 + CASE WHEN status = 'closed'"
        "   THEN interval '2 days' ELSE interval '0' END, now()),"
        "  opened, least(opened + step, now()),"
        "  CASE WHEN status IN ('resolved', 'closed') THEN least(opened + step * 5, now()) END,"
        "  CASE WHEN status = 'closed' THEN least(opened + step * 5 + interval '2 days', now())"
        "   END,"
        f"  CASE WHEN status IN {unresolved} AND priority IN {pressing} THEN 0 ELSE 1 END"
        " FROM (SELECT *,"
        f"   now() - CASE WHEN status IN {unresolved} THEN interval '45 days'"
        "    ELSE interval '730 days' END * r_age AS opened"
        "  FROM (SELECT g, 1 + floor(r_text * %(pool)s)::int AS j,"
        "    'SN' || upper(substr(md5(g::text), 1, 8)) AS serial,"
        "    floor(%(subscribers)s * power(r_subscriber, 1.5))::int AS subscriber_index,"
        f"    {status} AS status, {priority} AS priority, r_age, r_assignee,"
        "    interval '1 hour' * (1 + 23 * r_step) AS step"
        "   FROM (SELECT g, random() AS r_status, random() AS r_priority, random() AS r_text,"
        "     random() AS r_subscriber, random() AS r_age, random() AS r_assignee,"
        "     random() AS r_step FROM generate_series(1, %(tickets)s) g OFFSET 0) r) c) t"
        " JOIN users u ON u.id = (SELECT min(id) FROM users WHERE email LIKE 'subscriber-%%')"
        "  + t.subscriber_index"
        " ORDER BY g",
        {"subjects": subjects, "bodies": pool.source, "html": pool.html,
         "categories": pool.category, "pool": len(pool.source),
         "renderer": content.RENDERER_VERSION, "agents": plan.agents,
         "subscribers": plan.subscribers, "tickets": plan.tickets},
    )


def _pick(kind, replies):
    """SQL picking a reply text of ``kind`` by the row's ``r_text``."""
    count = len(replies[kind].source)
    return (f"(%({kind})s::text[])[1 + floor(r_text * {count})::int]",
            f"(%({kind}_html)s::text[])[1 + floor(r_text * {count})::int]")


def _replies(connection, plan, replies):
    """Threads: customer and support take turns, about one reply in five is an internal note."""
    kinds = {kind: _pick(kind, replies) for kind in replies}

    def case(index):
        return (
            f"CASE WHEN internal THEN {kinds['note'][index]}"
            f" WHEN k = %(last)s AND status IN ('resolved', 'closed')"
            f"  THEN {kinds['resolution'][index]}"
            f" WHEN mod(k, 2) = 1 THEN {kinds['customer'][index]}"
            f" ELSE {kinds['support'][index]} END"
        )

    parameters = {"last": plan.replies_per_ticket, "replies": plan.replies_per_ticket}
    for kind, pool in replies.items():
        parameters[kind], parameters[f"{kind}_html"] = pool.source, pool.html
    connection.execute(
        "INSERT INTO replies (ticket_id, author_id, body, body_html, body_renderer, internal,"  # noqa: S608
        " created_at)"
        " SELECT id, CASE WHEN internal OR mod(k, 2) = 0"
        "   THEN coalesce(assignee_id, (SELECT min(id) FROM users WHERE role = 'agent'))"
        "   ELSE subscriber_id END,"
        f"  {case(0)}, {case(1)}, {content.RENDERER_VERSION}, internal,"
        "  created_at + (updated_at - created_at) * k / (%(replies)s + 1)"
        " FROM (SELECT t.id, t.subscriber_id, t.assignee_id, t.status, t.created_at,"
        "   t.updated_at, k, random() < 0.2 AS internal, random() AS r_text"
        "  FROM tickets t CROSS JOIN generate_series(1, %(replies)s) k OFFSET 0) x"
        " ORDER BY id, k",
        parameters,
    )


def _events(connection):
    """A status event for every ticket that left ``open``, as the timeline would show."""
    connection.execute(
        "INSERT INTO ticket_events (ticket_id, actor_id, kind, old_value, new_value, internal,"
        " created_at)"
        " SELECT id, assignee_id, 'status', 'open', status, FALSE, first_response_at"
        " FROM tickets WHERE status <> 'open'"
    )


def _public_activity(connection):
    """Move each ticket's public clock to its last public reply or public event, as the
    services do (tickets start with their opening time)."""
    connection.execute(
        "UPDATE tickets t SET public_updated_at = greatest(t.public_updated_at, a.at)"
        " FROM (SELECT ticket_id, max(created_at) AS at FROM ("
        "   SELECT ticket_id, created_at FROM replies WHERE NOT internal"
        "   UNION ALL SELECT ticket_id, created_at FROM ticket_events WHERE NOT internal) p"
        "  GROUP BY ticket_id) a"
        " WHERE a.ticket_id = t.id"
    )


def _search_documents(connection):
    """One search document per ticket (subject and body) and per reply, as the services do."""
    connection.execute(
        "INSERT INTO search_documents (ticket_id, reply_id, internal, content)"
        " SELECT id, NULL, FALSE, subject || E'\\n' || body FROM tickets ORDER BY id"
    )
    connection.execute(
        "INSERT INTO search_documents (ticket_id, reply_id, internal, content)"
        " SELECT ticket_id, id, internal, body FROM replies ORDER BY id"
    )
