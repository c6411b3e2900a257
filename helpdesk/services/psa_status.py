"""How each PSA connection's sync stands, in numbers: for ``flask psa status`` (and any page
that wants the same figures)."""

from dataclasses import asdict, dataclass

from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.models import PsaWrite
from helpdesk.services.psa_budget import budget_of

WAITING_STATES = ("queued", "sending")


@dataclass(frozen=True)
class SyncStatus:
    """One connection's figures."""

    id: int
    name: str
    kind: str
    enabled: bool
    last_pull: str | None  # ISO 8601 UTC: when the last pull finished
    last_pull_error: str | None
    last_check: str | None
    check_result: str | None
    queued_writes: int
    dead_letters: int
    budget_left: int
    budget: int

    def as_dict(self):
        """For ``--json``."""
        return asdict(self)


def _iso(value):
    return value.isoformat() if value is not None else None


def sync_status(connections):
    """The ``SyncStatus`` of each of ``connections``: the outbox counted in one query."""
    counts = {}
    ids = [connection.id for connection in connections]
    if ids:
        for connection_id, state, count in db.session.execute(
                select(PsaWrite.connection_id, PsaWrite.state, func.count())
                .where(PsaWrite.connection_id.in_(ids),
                       PsaWrite.state.in_((*WAITING_STATES, "dead")))
                .group_by(PsaWrite.connection_id, PsaWrite.state)):
            counts[(connection_id, state)] = count
    return [SyncStatus(
        id=c.id, name=c.name, kind=c.kind, enabled=c.enabled,
        last_pull=_iso(c.last_pull_finished_at), last_pull_error=c.last_pull_error,
        last_check=_iso(c.checked_at), check_result=c.check_result,
        queued_writes=sum(counts.get((c.id, state), 0) for state in WAITING_STATES),
        dead_letters=counts.get((c.id, "dead"), 0),
        budget_left=budget_of(c).remaining(), budget=c.request_budget)
        for c in connections]
