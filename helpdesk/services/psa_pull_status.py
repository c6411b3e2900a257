"""How a connection's sync stands, for its dashboard panel; and "Pull now".

Everything here is read from the desk's own database and Redis, never from the PSA, so the
panel answers at once and may poll every few seconds while a pull runs.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.models import PsaLink, PsaWrite, Ticket
from helpdesk.models.timestamps import utcnow
from helpdesk.services import audit
from helpdesk.services import psa_pull_progress as pull_progress
from helpdesk.services.errors import Refused
from helpdesk.services.psa_budget import budget_of
from helpdesk.services.psa_people import unmapped_contact_id
from helpdesk.services.psa_pull_jobs import job_waiting, pull_job_id, request_pull


@dataclass(frozen=True)
class SyncStatus:
    """A connection's sync at a glance."""

    connection_id: int
    enabled: bool
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_error: str | None
    next_pull_at: datetime | None  # None: disabled
    pulled_until: datetime | None
    progress: pull_progress.Progress
    pull_waiting: bool  # a pull job is queued (not started yet)
    resume_page: int  # > 1: a cycle cut short goes on from this page
    queued_writes: int
    dead_letters: int
    budget_left: int
    budget_limit: int
    actions_due: int  # tickets whose PSA actions are still to be read
    flagged: int  # tickets waiting for a client or user mapping
    unmapped_contact_id: int | None

    @property
    def running(self):
        return self.progress.running

    @property
    def busy(self):
        """Is a pull running or about to (the panel keeps polling)?"""
        return self.running or self.pull_waiting


def _writes(connection_id, states):
    return db.session.scalar(select(func.count()).select_from(PsaWrite).where(
        PsaWrite.connection_id == connection_id, PsaWrite.state.in_(states)))


def next_pull_at(connection, *, now=None):
    """When the schedule starts the next run: ``pull_minutes`` after the last began (the
    schedule looks every minute), or at once when none ever ran."""
    if not connection.enabled:
        return None
    if connection.last_pull_started_at is None:
        return now or utcnow()
    return connection.last_pull_started_at + timedelta(minutes=connection.pull_minutes)


def status_of(connection):
    """The ``SyncStatus`` of a connection."""
    unmapped = unmapped_contact_id(connection)
    flagged = 0 if unmapped is None else db.session.scalar(
        select(func.count()).select_from(Ticket).where(
            Ticket.subscriber_id == unmapped, Ticket.deleted_at.is_(None)))
    progress = pull_progress.read(connection.id)
    budget = budget_of(connection)
    return SyncStatus(
        connection_id=connection.id, enabled=connection.enabled,
        last_started_at=connection.last_pull_started_at,
        last_finished_at=connection.last_pull_finished_at,
        last_error=connection.last_pull_error, next_pull_at=next_pull_at(connection),
        pulled_until=connection.pulled_until, progress=progress,
        pull_waiting=not progress.running and job_waiting(pull_job_id(connection.id)),
        resume_page=pull_progress.page_of(connection.id),
        queued_writes=_writes(connection.id, ("queued", "sending")),
        dead_letters=_writes(connection.id, ("dead",)),
        budget_left=budget.remaining(), budget_limit=connection.request_budget,
        actions_due=db.session.scalar(select(func.count()).select_from(PsaLink).where(
            PsaLink.connection_id == connection.id, PsaLink.kind == "ticket",
            PsaLink.actions_due_at.isnot(None))),
        flagged=flagged, unmapped_contact_id=unmapped)


class PullRefused(Refused):
    """A pull cannot be asked for now; the message says why."""


def pull_now(connection, *, actor):
    """An admin asks for a pull now (audited); False when one is waiting or running."""
    if not connection.enabled:
        raise PullRefused(f"{connection.name} is disabled: enable it to pull.")
    if pull_progress.read(connection.id).running or not request_pull(connection.id):
        return False
    audit.record("psa.pull_now", actor=actor, field="connection", new=connection.name)
    db.session.commit()
    return True
