"""Reading and writing ``psa_links``: which of our rows is which of the PSA's.

A row the pull creates (a ticket, a reply) is made by the desk's own services, which commit
themselves. ``linked_on_commit`` writes its link in that same commit, so a worker killed in
between never leaves a ticket or reply without its link, which the next pull would otherwise
create a second time.
"""

from contextlib import contextmanager

from flask import g
from sqlalchemy import event, select

from helpdesk.extensions import db
from helpdesk.models import PsaLink
from helpdesk.models.timestamps import utcnow
from helpdesk.services import psa_outbox

# What the pull passes to the desk's services so a change read from the PSA is not written
# back to it (the outbox's ``origin``).
FROM_PSA = {"origin": psa_outbox.FROM_PSA}


def is_history(connection, at):
    """Did this happen in the PSA before the desk was connected to it? Such history is
    imported without telling anyone (``notifications.held_back``): nobody here missed it."""
    return at is not None and at < connection.created_at


def remembered(key, compute):
    """``compute()``, once per app context (a pull job, a CLI run, a request): what a run
    reads for every ticket (the mappings, its desk user) is read once. Ids and plain
    values only: rows would go stale after each ticket's commit."""
    memo = g.setdefault("psa_pull_memo", {})
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def link_by_external(connection_id, kind, external_id, *, fresh=False):
    """The link of the PSA's ``kind`` thing ``external_id``, or None. ``fresh``: as the
    database has it now, not as this session last read it."""
    if external_id in (None, ""):
        return None
    query = select(PsaLink).where(
        PsaLink.connection_id == connection_id, PsaLink.kind == kind,
        PsaLink.external_id == str(external_id)).order_by(PsaLink.id).limit(1)
    if fresh:
        query = query.execution_options(populate_existing=True)
    return db.session.scalar(query)


def local_id_of(connection_id, kind, external_id):
    """Our id of the PSA's ``kind`` thing ``external_id``, or None when it is not linked."""
    link = link_by_external(connection_id, kind, external_id)
    return link.local_id if link else None


def linked_external_ids(connection_id, kinds, external_ids):
    """Of ``external_ids``, those linked as one of ``kinds`` (an action pulled or pushed)."""
    wanted = [str(x) for x in external_ids if x not in (None, "")]
    if not wanted:
        return set()
    return set(db.session.scalars(select(PsaLink.external_id).where(
        PsaLink.connection_id == connection_id, PsaLink.kind.in_(kinds),
        PsaLink.external_id.in_(wanted))))


@contextmanager
def linked_on_commit(connection_id, kind, model, external_id, **fields):
    """Link the first ``model`` row created inside the block to ``external_id``, in the
    commit that creates it. Yields a list that holds the link once it is made.

    Listens to the session's ``after_flush``: the new row has its id by then, and the link
    added there is flushed by the same commit (a commit flushes until nothing is pending).
    """
    made = []
    session = db.session()

    def link_new_row(flushed, _context):
        if made:
            return
        for row in flushed.new:
            if isinstance(row, model):
                link = PsaLink(connection_id=connection_id, kind=kind, local_id=row.id,
                               external_id=str(external_id), synced_at=utcnow(), **fields)
                flushed.add(link)
                made.append(link)
                return

    event.listen(session, "after_flush", link_new_row)
    try:
        yield made
    finally:
        event.remove(session, "after_flush", link_new_row)
