"""Pulling a PSA's changes into the desk, within the connection's request budget.

A run (``pull``) reads the tickets the PSA changed since ``pulled_until``, a page of
``PAGE_SIZE`` at a time, and applies each in its own steps (``services.psa_pull_apply``):
one ticket that cannot be applied is noted and skipped, never stopping the run. Then, with
what the budget leaves (keeping ``reserve`` requests for the outbox's writes), it reads the
actions of the changed tickets, newest change first; the rest wait for the next run.

Pages in a stable order. A cycle asks for the changes since one time (``pulled_until``) and
reads them page after page in the PSA's order (HaloPSA: by id), so a ticket changing
meanwhile never moves a page's worth of others out of reach. A run stopped anywhere (the
budget, an error, a killed worker) keeps its place (``psa_pull_progress.Cycle``, after each
page) and the next run goes on from that page. Only a cycle read to its end moves
``pulled_until``: just past the latest update read, but no later than a little
(``OVERLAP``) before the cycle began, since a ticket changed during the cycle may sit on a
page already read.
Reading a ticket again costs a request's share and no work: applying is idempotent, and a
ticket read before at the same update time is passed over.

``BudgetSpent`` ends a run cleanly (not an error); any other PSA error ends it with
``last_pull_error``. A webhook's hint reads one ticket with its actions (``pull_one``).
Reading a ticket's actions also lists its files; new ones are downloaded with the same
connector, a request each (``services.psa_pull_files``).
"""

import logging
from dataclasses import dataclass, field, replace
from datetime import timedelta

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import PsaConnection, PsaLink
from helpdesk.models.timestamps import utcnow
from helpdesk.psa.connector import BudgetSpent, PsaError
from helpdesk.services import psa_pull_progress as progress
from helpdesk.services.psa_budget import budget_of
from helpdesk.services.psa_connector import connector_of
from helpdesk.services.psa_people import unmapped_contact_id
from helpdesk.services.psa_pull_apply import apply_ticket, is_news, rehome_flagged

log = logging.getLogger(__name__)

PAGE_SIZE = 100
OVERLAP = timedelta(minutes=2)
TICK = timedelta(milliseconds=1)  # the PSA's time resolution (HaloPSA: milliseconds)


class PullBusy(Exception):
    """Another run of this connection's pull holds its lock."""


@dataclass
class PullResult:
    """What one run did."""

    read: int = 0  # tickets read from the pages (each once)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0  # could not be applied: noted, skipped
    actions_read: int = 0  # tickets whose actions were read
    actions_added: int = 0
    files_added: int = 0
    rehomed: int = 0
    budget_spent: bool = False  # stopped for the budget; the next run goes on
    error: str | None = None
    notes: list = field(default_factory=list)

    def count(self, applied, *, actions_read=False):
        """Add one applied ticket: to the page's tallies (new, updated...) when it came
        from a page; a ticket whose actions were read after the pages counts only its
        actions, so "read 120: 120 new" is not followed by "55 unchanged"."""
        if not actions_read:
            setattr(self, applied.outcome, getattr(self, applied.outcome) + 1)
        self.actions_added += applied.actions_added
        self.files_added += applied.files_added
        self.notes.extend(applied.notes)


def reserve_of(connection):
    """Requests a run leaves in the window for the outbox's writes: a fifth, at least 10."""
    return max(10, connection.request_budget // 5)


def pull(connection_id, *, on_progress=None, connector=None):
    """One run for a connection (see the module docstring); returns a ``PullResult``.

    ``on_progress(done, total)`` is called after each ticket (the CLI's progress bar).
    Raises ``PullBusy`` when another run holds the connection's lock.
    """
    token = progress.claim(connection_id)
    if token is None:
        raise PullBusy(f"a pull of connection {connection_id} is already running")
    try:
        return _run(connection_id, on_progress=on_progress, connector=connector)
    finally:
        progress.release(connection_id, token)


def _run(connection_id, *, on_progress, connector):
    connection = db.session.get(PsaConnection, connection_id)
    result = PullResult()
    progress.start(connection_id)
    connection.last_pull_started_at = utcnow()
    connection.last_pull_error = None
    db.session.commit()
    budget = budget_of(connection)
    own_connector = connector is None
    try:
        connector = connector or connector_of(connection, budget=budget)
        result.rehomed = rehome_flagged(connection, unmapped_id=unmapped_contact_id(connection))
        _read_pages(connection, connector, result, on_progress)
        _read_due_actions(connection, connector, budget, result)
    except BudgetSpent:
        result.budget_spent = True
    except PsaError as error:
        result.error = str(error)
    finally:
        if own_connector and connector is not None:
            connector.close()
        db.session.rollback()  # whatever a failed step left half-done
        connection = db.session.get(PsaConnection, connection_id)
        connection.last_pull_finished_at = utcnow()
        connection.last_pull_error = result.error or _failures(result)
        db.session.commit()
        progress.finish(connection_id, done=result.read, notes=result.notes)
    return result


def _failures(result):
    if not result.failed:
        return None
    return (f"{result.failed} ticket{'s' if result.failed != 1 else ''} could not be applied: "
            + "; ".join(result.notes[-3:]))


def _apply(connection, remote, result, *, actions_read, connector):
    """Apply one ticket; an error is noted and the ticket skipped."""
    try:
        applied = apply_ticket(connection, remote, actions_read=actions_read,
                               connector=connector)
    except Exception as error:  # one bad ticket must not stop the run
        db.session.rollback()
        log.exception("applying PSA ticket %s of %s failed", remote.external_id,
                      connection.name)
        result.failed += 1
        result.notes.append(f"PSA ticket {remote.external_id}: not applied: {error}")
        return None
    result.count(applied, actions_read=actions_read)
    return applied


def _read_pages(connection, connector, result, on_progress):
    """Every page of the changes since ``pulled_until``, from where a run cut short
    stopped (see the module docstring)."""
    cycle = progress.cycle_of(connection.id, since=connection.pulled_until)
    page_no, latest = cycle.page_no, cycle.latest
    while True:
        page = connector.changes_since(cycle.since, page_no=page_no, page_size=PAGE_SIZE)
        done = (page_no - 1) * PAGE_SIZE
        for remote in page.tickets:
            if is_news(connection, remote):
                _apply(connection, remote, result, actions_read=False, connector=connector)
            else:
                result.unchanged += 1
            result.read += 1
            done += 1
            if remote.updated_at is not None:
                latest = max(latest or remote.updated_at, remote.updated_at)
            if on_progress:
                on_progress(done, max(done, page.record_count))
        progress.advance(connection.id, done=done, total=page.record_count)
        if page.last_page or not page.tickets:
            break
        page_no += 1
        progress.keep_cycle(connection.id, replace(cycle, page_no=page_no, latest=latest))
    # Every page read: what changed before ``latest`` is here, but for what changed during
    # the cycle on a page already read; the next run reads again from a little before the
    # cycle began (OVERLAP), which also covers a clock of the PSA's a little behind ours.
    if latest is not None:
        settled = cycle.started_at - OVERLAP
        # Before ``settled`` nothing changes any more: past the latest update read there,
        # nothing is left to read at its very time either.
        mark = latest + TICK if latest < settled else settled
        connection.pulled_until = max(cycle.since or mark, mark)
    progress.forget_cycle(connection.id)
    db.session.commit()


def _read_due_actions(connection, connector, budget, result):
    """Read the actions of the tickets whose changes were applied without them, newest
    change first, while the budget keeps ``reserve_of`` requests for the outbox."""
    remaining = getattr(budget, "remaining", None)
    reserve = reserve_of(connection)
    room = (remaining() - reserve) if remaining else PAGE_SIZE
    if room <= 0:
        return
    links = db.session.scalars(select(PsaLink).where(
        PsaLink.connection_id == connection.id, PsaLink.kind == "ticket",
        PsaLink.actions_due_at.isnot(None)).order_by(PsaLink.actions_due_at.desc())
        .limit(room)).all()
    for link_id, external_id in [(link.id, link.external_id) for link in links]:
        if remaining and remaining() <= reserve:
            return
        try:
            remote = connector.fetch_ticket(external_id)
        except PsaError as error:
            if error.transient:  # the budget, or the PSA in trouble: the next run goes on
                raise
            _forget_due(link_id)
            result.notes.append(f"PSA ticket {external_id}: its actions could not be read: {error}")
            continue
        result.actions_read += 1
        if remote is None:
            _forget_due(link_id)
            result.notes.append(f"PSA ticket {external_id}: gone from the PSA")
            continue
        if _apply(connection, remote, result, actions_read=True, connector=connector) is None:
            _forget_due(link_id)


def _forget_due(link_id):
    """Stop asking for a ticket's actions (they come with its next change)."""
    link = db.session.get(PsaLink, link_id)
    if link is not None:
        link.actions_due_at = None
        db.session.commit()


def pull_one(connection_id, external_id):
    """Read one PSA ticket with its actions and apply it (a webhook's hint); returns the
    ``Applied``, or None when the PSA has no such ticket. With the budget spent the ticket
    waits for the next run: its actions are marked due when we know it, and a new ticket is
    among the next run's changes anyway."""
    connection = db.session.get(PsaConnection, connection_id)
    if connection is None or not connection.enabled:
        return None
    connector = connector_of(connection)
    try:
        remote = connector.fetch_ticket(str(external_id))
        if remote is None:
            return None
        return apply_ticket(connection, remote, actions_read=True, connector=connector)
    except BudgetSpent:
        link = db.session.scalar(select(PsaLink).where(
            PsaLink.connection_id == connection_id, PsaLink.kind == "ticket",
            PsaLink.external_id == str(external_id)))
        if link is not None and link.actions_due_at is None:
            link.actions_due_at = utcnow()
            db.session.commit()
        return None
    finally:
        connector.close()
