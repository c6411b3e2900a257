"""The search index: one document per ticket, public text and internal notes apart.

``ticket_search`` holds, per ticket, its **public** text (subject, body, public replies and
customer comments, the subscriber's name and email, the organisation's name) and, apart, its
internal **notes**. Customers match the public text only; staff and resellers match words
anywhere in the ticket (``public || notes``).

- PostgreSQL: a table ``ticket_search (ticket_id, public tsvector, notes tsvector)``, 1:1
  with ``tickets``, with a GIN index on ``public`` and one on ``public || notes``. Apart from
  ``tickets`` so that the many updates of a ticket's status, assignee and clocks never touch
  its vector or the GIN indexes (``updated_at`` is indexed, so no ticket update is HOT, and
  each would insert every lexeme into the GIN index again), and so the queue's heap stays
  narrow.
- SQLite: an FTS5 table ``ticket_search (public, notes)`` whose ``rowid`` is the ticket id.

The services keep it current in their own transaction: ``index_ticket`` when a ticket is
opened, ``index_reply`` for each reply, comment or note; renaming a user or an organisation
(or changing a user's email) re-indexes their tickets through the ``after_flush`` hook at the
bottom, whatever code made the change. Each of these rebuilds the ticket's document from the
rows, so the index never drifts from them. ``rebuild_sql`` does the same for every ticket in
a few set-based statements (``flask --app wsgi search rebuild``, the bench's seeding).

A ticket's text is indexed up to ``MAX_INDEXED_CHARACTERS`` per part: a PostgreSQL tsvector
holds at most 1 MB of distinct words, and the index must never refuse a reply.
"""

from sqlalchemy import event, inspect, text
from sqlalchemy.orm import Session

from helpdesk.extensions import db

SEARCH_TABLE = "ticket_search"
# Shadow tables FTS5 creates beside its virtual table on SQLite.
_FTS5_SHADOW = {f"{SEARCH_TABLE}_{suffix}" for suffix in ("data", "idx", "content", "docsize",
                                                            "config")}
MAX_INDEXED_CHARACTERS = 200_000  # x 4 bytes per character at most: within 1 MB
_PEOPLE_FIELDS = {"User": ("name", "email"), "Organisation": ("name",)}

POSTGRES_INDEXES = (
    f"CREATE INDEX ix_ticket_search_public ON {SEARCH_TABLE} USING GIN (public)",
    f"CREATE INDEX ix_ticket_search_everything ON {SEARCH_TABLE} USING GIN ((public || notes))",
)


def include_in_migrations(obj, name, type_, reflected, compare_to):
    """Alembic hook: the search table (and its FTS5 shadows) is made by hand, not autogenerate."""
    if type_ == "table":
        return name != SEARCH_TABLE and name not in _FTS5_SHADOW
    return not (type_ == "index"
                and getattr(getattr(obj, "table", None), "name", None) == SEARCH_TABLE)


def _documents_sql(dialect, where):
    """SELECT (ticket id, public text, notes text) for the tickets ``where`` selects.

    ``where`` is a condition on ``t`` (tickets), None for every ticket; replies are read only
    for the tickets selected.
    """
    cap = MAX_INDEXED_CHARACTERS
    # No user text reaches these strings: fixed fragments, values bound by the caller.
    replies = ("TRUE" if where is None
               else f"ticket_id IN (SELECT t.id FROM tickets t WHERE {where})")  # noqa: S608
    where = where or "TRUE"
    if dialect == "postgresql":
        return (
            "SELECT t.id,"  # noqa: S608
            f" to_tsvector('english', left(concat_ws(E'\\n', t.subject, t.body, u.name, u.email,"
            f"  o.name, r.public), {cap})),"
            f" to_tsvector('english', left(coalesce(r.notes, ''), {cap}))"
            " FROM tickets t JOIN users u ON u.id = t.subscriber_id"
            " LEFT JOIN organisations o ON o.id = t.organisation_id"
            " LEFT JOIN (SELECT ticket_id,"
            "   string_agg(body, E'\\n' ORDER BY id) FILTER (WHERE NOT internal) AS public,"
            "   string_agg(body, E'\\n' ORDER BY id) FILTER (WHERE internal) AS notes"
            f"  FROM replies WHERE {replies}"
            "  GROUP BY ticket_id) r ON r.ticket_id = t.id"
            f" WHERE {where}"
        )
    newline = "char(10)"
    return (
        "SELECT t.id,"  # noqa: S608
        f" substr(t.subject || {newline} || t.body || {newline} || u.name || {newline} || u.email"
        f"  || coalesce({newline} || o.name, '') || coalesce({newline} || r.public, ''),"
        f"  1, {cap}),"
        f" substr(coalesce(r.notes, ''), 1, {cap})"
        " FROM tickets t JOIN users u ON u.id = t.subscriber_id"
        " LEFT JOIN organisations o ON o.id = t.organisation_id"
        " LEFT JOIN (SELECT ticket_id,"
        f"   group_concat(CASE WHEN NOT internal THEN body END, {newline}) AS public,"
        f"   group_concat(CASE WHEN internal THEN body END, {newline}) AS notes"
        "  FROM (SELECT ticket_id, internal, body FROM replies"
        f"   WHERE {replies}"
        "   ORDER BY ticket_id, id)"
        "  GROUP BY ticket_id) r ON r.ticket_id = t.id"
        f" WHERE {where}"
    )


def reindex_sql(dialect, where):
    """Statements that rebuild the documents of the tickets ``where`` (on ``t``) selects."""
    documents = _documents_sql(dialect, where)
    if dialect == "postgresql":
        return [
            f"INSERT INTO {SEARCH_TABLE} (ticket_id, public, notes) {documents}"
            " ON CONFLICT (ticket_id) DO UPDATE"
            " SET public = excluded.public, notes = excluded.notes"
        ]
    return [
        f"DELETE FROM {SEARCH_TABLE} WHERE rowid IN (SELECT t.id FROM tickets t"  # noqa: S608
        f" WHERE {where})",
        f"INSERT INTO {SEARCH_TABLE} (rowid, public, notes) {documents}",
    ]


def rebuild_sql(dialect):
    """Statements that rebuild the whole index from the tickets, set-based (no parameters, no
    ``%``, so a plain DB-API cursor can run them too). On PostgreSQL the GIN indexes are
    dropped while the rows go in and built once afterwards, then the statistics the search
    plan is chosen by are gathered."""
    documents = _documents_sql(dialect, None)
    if dialect == "postgresql":
        return [
            f"TRUNCATE {SEARCH_TABLE}",
            "DROP INDEX IF EXISTS ix_ticket_search_public",
            "DROP INDEX IF EXISTS ix_ticket_search_everything",
            f"INSERT INTO {SEARCH_TABLE} (ticket_id, public, notes) {documents}",
            *POSTGRES_INDEXES,
            f"ANALYZE {SEARCH_TABLE}",
        ]
    return [
        f"DELETE FROM {SEARCH_TABLE}",  # noqa: S608
        f"INSERT INTO {SEARCH_TABLE} (rowid, public, notes) {documents}",
        f"INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}) VALUES ('optimize')",  # noqa: S608
    ]


def rebuild(connection):
    """Rebuild the whole index on a SQLAlchemy ``connection`` (in its transaction)."""
    for statement in rebuild_sql(connection.dialect.name):
        connection.execute(text(statement))


def _reindex(session, where, params):
    for statement in reindex_sql(session.get_bind().dialect.name, where):
        session.execute(text(statement), params)


def index_ticket(ticket):
    """(Re)build a ticket's document; call after the flush that gave it its id, before commit."""
    _reindex(db.session, "t.id = :ticket_id", {"ticket_id": ticket.id})


def index_reply(reply):
    """Add a flushed reply, comment or note to its ticket's document (rebuilt from its rows)."""
    _reindex(db.session, "t.id = :ticket_id", {"ticket_id": reply.ticket_id})


def reindex_people(session, *, user_ids=(), organisation_ids=()):
    """Rebuild the documents of the tickets of these subscribers and organisations."""
    if user_ids:
        _reindex(session, "t.subscriber_id IN (SELECT value FROM json_each(:ids))"
                 if session.get_bind().dialect.name == "sqlite"
                 else "t.subscriber_id = ANY(CAST(:ids AS integer[]))",
                 {"ids": _id_list(session, user_ids)})
    if organisation_ids:
        _reindex(session, "t.organisation_id IN (SELECT value FROM json_each(:ids))"
                 if session.get_bind().dialect.name == "sqlite"
                 else "t.organisation_id = ANY(CAST(:ids AS integer[]))",
                 {"ids": _id_list(session, organisation_ids)})


def _id_list(session, ids):
    """Ids as one parameter: a JSON array for SQLite's ``json_each``, a list for PostgreSQL."""
    ids = sorted(set(ids))
    if session.get_bind().dialect.name == "sqlite":
        return "[" + ",".join(str(int(i)) for i in ids) + "]"
    return ids


@event.listens_for(Session, "after_flush")
def _people_renamed(session, _flush_context):
    """A flushed change to a user's name or email, or an organisation's name, re-indexes
    their tickets in the same transaction (the documents carry those names)."""
    changed = {"User": set(), "Organisation": set()}
    for obj in session.dirty:
        fields = _PEOPLE_FIELDS.get(type(obj).__name__)
        if fields is None:
            continue
        state = inspect(obj)
        if any(state.attrs[name].history.has_changes() for name in fields):
            changed[type(obj).__name__].add(obj.id)
    if changed["User"] or changed["Organisation"]:
        reindex_people(session, user_ids=changed["User"],
                       organisation_ids=changed["Organisation"])
