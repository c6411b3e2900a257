"""Full-text search over tickets: one document per ticket, planned by how many match.

- ``query``: what people type, read into terms (words as prefixes, "phrases", email
  addresses) and ticket numbers; never syntax for the database.
- ``index``: the ``ticket_search`` documents (public text and internal notes apart), kept
  current by the services and rebuilt in bulk.
- ``match``: ``ticket_match``, the one SQL condition every list filters by, written for the
  match set first or the queue order first by the estimated number of matches.
- ``jump``: the search box's jump to a ticket number.

Callers combine ``ticket_match`` with the access scope, which it does not apply.
"""

from helpdesk.search.index import (
    SEARCH_TABLE,
    include_in_migrations,
    index_reply,
    index_ticket,
    rebuild,
    rebuild_sql,
    reindex_people,
)
from helpdesk.search.match import MATCH_FIRST, QUEUE_FIRST, search_plan, ticket_match
from helpdesk.search.query import search_terms, ticket_number

__all__ = [
    "MATCH_FIRST", "QUEUE_FIRST", "SEARCH_TABLE", "include_in_migrations", "index_reply",
    "index_ticket", "rebuild", "rebuild_sql", "reindex_people", "search_plan", "search_terms",
    "ticket_match", "ticket_number",
]
