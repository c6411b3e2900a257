"""Full-text search over subjects, bodies and replies, scoped like everything else.

One table, ``search_documents``, holds a row per ticket (subject and body) and per reply.
On SQLite it is an FTS5 virtual table; on PostgreSQL a table with a generated ``tsvector``
column and a GIN index. Both are created by migration 0002 and kept current by the services
through ``index_ticket`` and ``index_reply``. Internal notes are indexed with ``internal``
set, and only searched for users who may read them.
"""

import re

from sqlalchemy import bindparam, text

from helpdesk.extensions import db

SEARCH_TABLE = "search_documents"
_FTS5_SHADOW = {f"{SEARCH_TABLE}_{suffix}" for suffix in ("data", "idx", "content", "docsize",
                                                            "config")}
_WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 8


def include_in_migrations(obj, name, type_, reflected, compare_to):
    """Alembic hook: the search table is managed by hand, not by autogenerate."""
    return not (type_ == "table" and (name == SEARCH_TABLE or name in _FTS5_SHADOW))


def search_terms(query):
    """The words of a query (at most ``MAX_TERMS``), stripped of search-syntax characters."""
    return _WORD.findall(query or "")[:MAX_TERMS]


def _insert(ticket_id, reply_id, internal, content):
    db.session.execute(
        text(f"INSERT INTO {SEARCH_TABLE} (ticket_id, reply_id, internal, content) "  # noqa: S608
             "VALUES (:ticket_id, :reply_id, :internal, :content)"),
        {"ticket_id": ticket_id, "reply_id": reply_id, "internal": internal,
         "content": content},
    )


def index_ticket(ticket):
    """Index a new ticket's subject and body (call inside the transaction that creates it)."""
    _insert(ticket.id, None, False, f"{ticket.subject}\n{ticket.body}")


def index_reply(reply):
    """Index a reply or internal note."""
    _insert(reply.ticket_id, reply.id, bool(reply.internal), reply.body)


def matching_ticket_ids(query, *, include_internal):
    """A SQL fragment selecting the ids of tickets whose text matches every word of ``query``.

    Returns None when the query has no words. Use as ``Ticket.id.in_(...)``; combine with the
    access scope, which this does not apply.
    """
    terms = search_terms(query)
    if not terms:
        return None
    internal = "" if include_internal else " AND NOT internal"
    if db.engine.dialect.name == "postgresql":
        expression = " & ".join(f"{term}:*" for term in terms)
        sql = (f"SELECT ticket_id FROM {SEARCH_TABLE} "  # noqa: S608 - no user text in the SQL
               f"WHERE tsv @@ to_tsquery('english', :expression){internal}")
    else:
        expression = " ".join(f'"{term}"*' for term in terms)
        internal = "" if include_internal else " AND internal = 0"
        sql = (f"SELECT ticket_id FROM {SEARCH_TABLE} "  # noqa: S608
               f"WHERE {SEARCH_TABLE} MATCH :expression{internal}")
    return text(sql).bindparams(bindparam("expression", expression)).columns(
        ticket_id=db.Integer
    )
