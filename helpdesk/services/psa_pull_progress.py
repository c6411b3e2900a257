"""How a connection's pull is going, where the dashboard and ``flask psa sync`` read it.

Kept in Redis (a hash per connection, for a day): a run's state, tickets done of the total
the PSA announced (``record_count``), and its notes (what was skipped, and why; the last
``MAX_NOTES``). The connection's own columns keep what outlives a run: ``pulled_until``,
``last_pull_started_at``/``finished_at``/``error``.

A cycle's place (``Cycle``): the changes since one time, read page by page, possibly over
several runs when the budget runs out; kept until the cycle is read to its end. Lost (Redis
emptied), the next run starts the cycle again: reading again is harmless.

One run at a time per connection: ``claim`` takes a lock that the scheduled job, a "Pull now"
click and the CLI all ask for, so two runs never apply the same pages at once. The lock
expires on its own (``LOCK_SECONDS``, longer than the psa queue's job timeout) if a worker
dies holding it.
"""

import json
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime

from helpdesk.models.timestamps import utcnow
from helpdesk.queues import JOB_TIMEOUTS, get_redis

MAX_NOTES = 20
KEEP_SECONDS = 24 * 3600
LOCK_SECONDS = JOB_TIMEOUTS["psa"] + 60


def _key(connection_id):
    return f"helpdesk:psa-pull:{connection_id}"


def _cycle_key(connection_id):
    return f"helpdesk:psa-pull-cycle:{connection_id}"


def _lock_key(connection_id):
    return f"helpdesk:psa-pull-lock:{connection_id}"


@dataclass(frozen=True)
class Progress:
    """A run as the dashboard shows it. ``state``: ``running``, ``done`` or None (no run
    in the last day)."""

    state: str | None
    done: int = 0
    total: int = 0
    notes: tuple = ()

    @property
    def running(self):
        return self.state == "running"

    @property
    def percent(self):
        """Done as a whole percentage of the total (0 while the total is unknown)."""
        if not self.total:
            return 0
        return min(100, round(100 * self.done / self.total))


def claim(connection_id):
    """Take the connection's pull lock; a token to ``release`` it with, or None when a run
    holds it."""
    token = uuid.uuid4().hex
    if get_redis().set(_lock_key(connection_id), token, nx=True, ex=LOCK_SECONDS):
        return token
    return None


_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def release(connection_id, token):
    """Give the lock back, if it is still ours."""
    get_redis().eval(_RELEASE, 1, _lock_key(connection_id), token)


def start(connection_id):
    """A run begins: nothing done of an unknown total."""
    redis = get_redis()
    key = _key(connection_id)
    with redis.pipeline() as pipe:
        pipe.delete(key)
        pipe.hset(key, mapping={"state": "running", "done": 0, "total": 0, "notes": "[]"})
        pipe.expire(key, KEEP_SECONDS)
        pipe.execute()


def advance(connection_id, *, done, total):
    """Tickets done so far, of ``total``."""
    get_redis().hset(_key(connection_id), mapping={"done": done, "total": max(done, total)})


def finish(connection_id, *, done, notes):
    """The run is over (whatever its outcome); keep its last notes."""
    get_redis().hset(_key(connection_id), mapping={
        "state": "done", "done": done, "notes": json.dumps(list(notes)[-MAX_NOTES:])})


def read(connection_id):
    """The connection's latest run."""
    raw = {k.decode(): v.decode() for k, v in get_redis().hgetall(_key(connection_id)).items()}
    if not raw:
        return Progress(state=None)
    try:
        notes = tuple(json.loads(raw.get("notes") or "[]"))
    except ValueError:
        notes = ()
    return Progress(state=raw.get("state"), done=int(raw.get("done") or 0),
                    total=int(raw.get("total") or 0), notes=notes)


@dataclass(frozen=True)
class Cycle:
    """Reading the changes since ``since``: the next page, the latest update read so far,
    and when the cycle began."""

    since: datetime | None
    page_no: int
    started_at: datetime
    latest: datetime | None = None


def _time(text):
    return datetime.fromisoformat(text) if text else None


def cycle_of(connection_id, *, since):
    """The cycle to go on with: the one kept, if it reads from ``since``; else a new one."""
    raw = get_redis().get(_cycle_key(connection_id))
    try:
        kept = json.loads(raw) if raw else None
        cycle = kept and Cycle(since=_time(kept["since"]), page_no=int(kept["page_no"]),
                               started_at=_time(kept["started_at"]),
                               latest=_time(kept["latest"]))
    except (ValueError, KeyError, TypeError):
        cycle = None
    if cycle and cycle.since == since:
        return cycle
    return Cycle(since=since, page_no=1, started_at=utcnow())


def keep_cycle(connection_id, cycle):
    """Remember where the cycle is, for a run cut short."""
    values = {key: value.isoformat() if isinstance(value, datetime) else value
              for key, value in asdict(cycle).items()}
    get_redis().set(_cycle_key(connection_id), json.dumps(values))


def forget_cycle(connection_id):
    """The cycle is read to its end."""
    get_redis().delete(_cycle_key(connection_id))


def page_of(connection_id):
    """The page a cut-short cycle goes on from (1: none is kept)."""
    raw = get_redis().get(_cycle_key(connection_id))
    try:
        return int(json.loads(raw)["page_no"]) if raw else 1
    except (ValueError, KeyError, TypeError):
        return 1
