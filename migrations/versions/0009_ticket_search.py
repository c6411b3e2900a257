"""ticket search: one document per ticket replaces search_documents

``search_documents`` held a row per ticket and per reply, so a search for a rare word at a
million tickets walked the queue and probed it ticket by ticket (13 s). ``ticket_search``
holds one document per ticket: its public text (subject, body, public replies and comments,
the subscriber's name and email, the organisation's name) and, apart, its internal notes
(see helpdesk/search/index.py). PostgreSQL: a 1:1 table of two tsvectors with GIN indexes on
``public`` and ``public || notes``; SQLite: an FTS5 table whose rowid is the ticket id.

The backfill is set-based (one INSERT ... SELECT over every ticket; on PostgreSQL the GIN
indexes are built after it, then ANALYZE gathers the statistics the search plan is chosen by).
Its SQL is a copy of helpdesk.search.index as it stands at this revision, so later changes to
the app do not change what this migration does. The downgrade restores search_documents,
filled again from tickets and replies as 0002 did.

Revision ID: 0009_ticket_search
Revises: 0008_sign_ins
Create Date: 2026-11-24 12:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0009_ticket_search'
down_revision = '0008_sign_ins'
branch_labels = None
depends_on = None

CAP = 200_000  # characters of each part indexed (a tsvector holds at most 1 MB of words)


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TABLE ticket_search ("
            " ticket_id INTEGER NOT NULL,"
            " public TSVECTOR NOT NULL,"
            " notes TSVECTOR NOT NULL,"
            " CONSTRAINT pk_ticket_search PRIMARY KEY (ticket_id),"
            " CONSTRAINT fk_ticket_search_ticket_id_tickets FOREIGN KEY (ticket_id)"
            "  REFERENCES tickets (id) ON DELETE CASCADE)"
        )
        op.execute(
            "INSERT INTO ticket_search (ticket_id, public, notes)"
            " SELECT t.id,"
            "  to_tsvector('english', left(concat_ws(E'\\n', t.subject, t.body, u.name, u.email,"
            f"   o.name, r.public), {CAP})),"
            f"  to_tsvector('english', left(coalesce(r.notes, ''), {CAP}))"
            " FROM tickets t JOIN users u ON u.id = t.subscriber_id"
            " LEFT JOIN organisations o ON o.id = t.organisation_id"
            " LEFT JOIN (SELECT ticket_id,"
            "   string_agg(body, E'\\n' ORDER BY id) FILTER (WHERE NOT internal) AS public,"
            "   string_agg(body, E'\\n' ORDER BY id) FILTER (WHERE internal) AS notes"
            "  FROM replies GROUP BY ticket_id) r ON r.ticket_id = t.id"
        )
        op.execute("SET LOCAL maintenance_work_mem = '256MB'")  # GIN builds, this transaction
        op.execute("CREATE INDEX ix_ticket_search_public ON ticket_search USING GIN (public)")
        op.execute("CREATE INDEX ix_ticket_search_everything ON ticket_search"
                   " USING GIN ((public || notes))")
        op.execute("ANALYZE ticket_search")
    else:
        op.execute("CREATE VIRTUAL TABLE ticket_search USING fts5(public, notes,"
                   " tokenize='porter unicode61', prefix='1 2 3')")
        op.execute(
            "INSERT INTO ticket_search (rowid, public, notes)"
            " SELECT t.id,"
            "  substr(t.subject || char(10) || t.body || char(10) || u.name || char(10)"
            "   || u.email || coalesce(char(10) || o.name, '') || coalesce(char(10) || r.public,"
            f"   ''), 1, {CAP}),"
            f"  substr(coalesce(r.notes, ''), 1, {CAP})"
            " FROM tickets t JOIN users u ON u.id = t.subscriber_id"
            " LEFT JOIN organisations o ON o.id = t.organisation_id"
            " LEFT JOIN (SELECT ticket_id,"
            "   group_concat(CASE WHEN NOT internal THEN body END, char(10)) AS public,"
            "   group_concat(CASE WHEN internal THEN body END, char(10)) AS notes"
            "  FROM (SELECT ticket_id, internal, body FROM replies ORDER BY ticket_id, id)"
            "  GROUP BY ticket_id) r ON r.ticket_id = t.id"
        )
    op.execute("DROP TABLE search_documents")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TABLE search_documents ("
            " id BIGSERIAL PRIMARY KEY,"
            " ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,"
            " reply_id INTEGER REFERENCES replies (id) ON DELETE CASCADE,"
            " internal BOOLEAN NOT NULL DEFAULT FALSE,"
            " content TEXT NOT NULL,"
            " tsv TSVECTOR GENERATED ALWAYS AS (to_tsvector('english', content)) STORED)"
        )
    else:
        op.execute(
            "CREATE VIRTUAL TABLE search_documents USING fts5("
            "content, ticket_id UNINDEXED, reply_id UNINDEXED, internal UNINDEXED,"
            " tokenize='porter unicode61')"
        )
    op.execute(
        "INSERT INTO search_documents (ticket_id, reply_id, internal, content)"
        " SELECT id, NULL, FALSE, subject || ' ' || body FROM tickets"
    )
    op.execute(
        "INSERT INTO search_documents (ticket_id, reply_id, internal, content)"
        " SELECT ticket_id, id, internal, body FROM replies"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_search_documents_tsv ON search_documents USING GIN (tsv)")
        op.execute("CREATE INDEX ix_search_documents_ticket_id ON search_documents (ticket_id)")
    op.execute("DROP TABLE ticket_search")
