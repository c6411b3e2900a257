"""An admin's "Test connection" and "Refresh lookups", run on the ``psa`` queue.

Enqueued by dotted name from ``helpdesk.services.psa_admin_jobs`` (``start``), which polls
them for the page. Each returns ``(ok, one line)``, which the progress widget shows. Safe to
run twice: a check stores its latest answer, a refresh replaces the cached lookups whole.
"""

from helpdesk.extensions import db
from helpdesk.models import PsaConnection, User
from helpdesk.psa.connector import PsaError
from helpdesk.services import psa_connections


def check_connection(connection_id):
    """Test one connection; ``(passed, what the PSA said)``."""
    connection = db.session.get(PsaConnection, connection_id)
    if connection is None:
        return False, "The connection was deleted."
    result = psa_connections.check(connection)
    return psa_connections.check_passed(connection), result


def refresh_lookups(connection_id, actor_id=None):
    """Fetch and cache one connection's lookups; ``(done, counts or the PSA's error)``."""
    connection = db.session.get(PsaConnection, connection_id)
    if connection is None:
        return False, "The connection was deleted."
    actor = db.session.get(User, actor_id) if actor_id else None
    try:
        counts = psa_connections.refresh_lookups(connection, actor=actor)
    except PsaError as error:
        db.session.rollback()
        return False, " ".join(str(error).split())
    return True, "Fetched " + psa_connections.describe_counts(counts) + "."
