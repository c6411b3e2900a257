"""Tickets and their threads on PostgreSQL: one ``INSERT ... SELECT generate_series`` each.

The random choices come from PostgreSQL's ``random()``, seeded by ``seed.seed`` through
``setseed``, so a run is repeatable; the shares and spans are ``bench.shape``'s, as on SQLite.
"""

from bench import content, shape
from helpdesk.models.ticket import PRESSING_PRIORITIES, UNRESOLVED_STATUSES


def prepare(connection):
    """Bulk-load settings for this session, and the seed of ``random()``. The memory is
    for the joins, aggregates and index builds over every ticket and reply: at 10,000,000
    tickets the defaults sent them to disk, and seeding ran past two hours."""
    connection.execute("SET synchronous_commit TO off")
    connection.execute("SET maintenance_work_mem TO '2GB'")
    connection.execute("SET work_mem TO '1GB'")
    connection.execute("SELECT setseed(%s)", (shape.RANDOM_SEED,))


def _in_list(values):
    """A SQL list literal of known words (statuses, priorities): ``('a', 'b')``."""
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _days(span):
    """A ``timedelta`` of whole days as a SQL interval literal."""
    return f"interval '{span.days} days'"


def _internal(ticket, k):
    """SQL: is the ``k``-th reply of ``ticket`` an internal note? A hash of the two rather
    than ``random()``, so the ticket insert knows its thread's last public reply before the
    replies exist (and no pass over every ticket has to move the public clock afterwards)."""
    threshold = round(shape.NOTE_SHARE * 1024)
    return f"(hashint8({ticket}::bigint * 16 + {k}) & 1023) < {threshold}"


def add_tickets(connection, plan, subjects, pool):
    """The tickets: skewed over subscribers (a few have hundreds), spread over two years,
    with the teams routing by category would give them (``shape.team_sql``).

    Ids are the series' numbers, so each ticket's public clock (``public_updated_at``: its
    last public reply, or the status event at its first response) is known here."""
    status = shape.choice_sql(shape.STATUS_SHARES, "r_status")
    priority = shape.choice_sql(shape.PRIORITY_SHARES, "r_priority")
    unresolved, pressing = _in_list(UNRESOLVED_STATUSES), _in_list(PRESSING_PRIORITIES)
    connection.execute(
        "INSERT INTO tickets (id, subject, body, body_html, body_renderer, status, priority,"  # noqa: S608
        " category_id, subscriber_id, organisation_id, reseller_id, assignee_id, created_at,"
        " updated_at, public_updated_at, first_response_at, resolved_at, closed_at, queue_rank,"
        " team_id)"
        " SELECT g, (%(subjects)s::text[])[j],"
        "  (%(bodies)s::text[])[j] || E'\\n\\nSerial number: ' || serial,"
        "  (%(html)s::text[])[j] || E'\\n<p>Serial number: ' || serial || '</p>',"
        "  %(renderer)s, status, priority, (%(categories)s::int[])[j], u.id,"
        "  u.organisation_id, u.reseller_id,"
        "  CASE WHEN status <> 'open' AND r_assignee < %(assigned)s"
        "   THEN (SELECT min(id) FROM users WHERE role = 'agent') + floor(r_assignee"
        "    / %(assigned)s * %(agents)s)::int END,"
        "  opened, updated,"
        "  greatest(opened, CASE WHEN status <> 'open' THEN first_response END,"
        "   opened + (updated - opened) * (SELECT max(k) FROM generate_series(1, %(replies)s) k"
        f"    WHERE NOT {_internal('g', 'k')}) / (%(replies)s + 1)),"
        "  first_response,"
        "  CASE WHEN status IN ('resolved', 'closed') THEN least(opened + step * 5, now()) END,"
        "  CASE WHEN status = 'closed'"
        f"   THEN least(opened + step * 5 + {_days(shape.CLOSING_DELAY)}, now()) END,"
        f"  CASE WHEN status NOT IN {unresolved} THEN 2"
        f"   WHEN priority IN {pressing} THEN 0 ELSE 1 END,"
        f"  {shape.team_sql('g', '(%(categories)s::int[])[j]', '(SELECT min(id) FROM teams)')}"
        " FROM (SELECT *, least(opened + step * 5 + CASE WHEN status = 'closed'"
        f"   THEN {_days(shape.CLOSING_DELAY)} ELSE interval '0' END, now()) AS updated,"
        "   least(opened + step, now()) AS first_response"
        " FROM (SELECT *,"
        f"   now() - CASE WHEN status IN {unresolved} THEN {_days(shape.UNRESOLVED_SPAN)}"
        f"    ELSE {_days(shape.HISTORY_SPAN)} END * r_age AS opened"
        "  FROM (SELECT g, 1 + floor(r_text * %(pool)s)::int AS j,"
        "    'SN' || upper(substr(md5(g::text), 1, 8)) AS serial,"
        "    floor(%(subscribers)s * power(r_subscriber, %(skew)s))::int AS subscriber_index,"
        f"    {status} AS status, {priority} AS priority, r_age, r_assignee,"
        "    interval '1 hour' * (1 + 23 * r_step) AS step"
        "   FROM (SELECT g, random() AS r_status, random() AS r_priority, random() AS r_text,"
        "     random() AS r_subscriber, random() AS r_age, random() AS r_assignee,"
        "     random() AS r_step FROM generate_series(1, %(tickets)s) g OFFSET 0) r) c) o) t"
        " JOIN users u ON u.id = (SELECT min(id) FROM users WHERE email LIKE 'subscriber-%%')"
        "  + t.subscriber_index"
        " ORDER BY g",
        {"subjects": subjects, "bodies": pool.source, "html": pool.html,
         "categories": pool.category, "pool": len(pool.source),
         "renderer": content.RENDERER_VERSION, "agents": plan.agents,
         "assigned": shape.ASSIGNED_SHARE, "skew": shape.SUBSCRIBER_SKEW,
         "subscribers": plan.subscribers, "tickets": plan.tickets,
         "replies": plan.replies_per_ticket},
    )
    connection.execute(
        "SELECT setval(pg_get_serial_sequence('tickets', 'id'), (SELECT max(id) FROM tickets))"
    )


def _pick(kind, replies):
    """SQL picking a reply text of ``kind`` by the row's ``r_text``."""
    count = len(replies[kind].source)
    return (f"(%({kind})s::text[])[1 + floor(r_text * {count})::int]",
            f"(%({kind}_html)s::text[])[1 + floor(r_text * {count})::int]")


def add_replies(connection, plan, replies):
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
        f"   t.updated_at, k, {_internal('t.id', 'k')} AS internal, random() AS r_text"
        "  FROM tickets t CROSS JOIN generate_series(1, %(replies)s) k OFFSET 0) x"
        " ORDER BY id, k",
        parameters,
    )
