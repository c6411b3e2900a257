"""Periodic housekeeping."""

from rq import Queue
from rq.registry import StartedJobRegistry, clean_registries
from rq.scheduler import RQScheduler
from sqlalchemy import text

from helpdesk.extensions import db
from helpdesk.health import HEARTBEAT_KEY, scheduler_liveness
from helpdesk.models.timestamps import utcnow
from helpdesk.queues import QUEUE_NAMES, get_redis

# Rows SQLite's ANALYZE samples per index: approximate statistics in milliseconds, which is
# all the planner needs to tell a selective index from a broad one (SQLite's own advice).
ANALYSIS_LIMIT = 400


def record_heartbeat():
    """Write the time into Redis, so operators can see the scheduler and a worker are alive.

    Idempotent: running it twice only moves the time forward.
    """
    stamp = utcnow().isoformat()
    get_redis().set(HEARTBEAT_KEY, stamp)
    return stamp


def refresh_planner_statistics():
    """Gather SQLite's planner statistics again (hourly, from jobs/cron.py).

    The queue's plans (which index reads a filter in order, whether a search reads its matches
    first) are chosen from statistics. PostgreSQL's autovacuum keeps them current; SQLite
    gathers them only when asked, and a database that grew from empty has none, so its planner
    guesses (at 100,000 tickets, ``status=closed&age=over-month`` took 112 ms without them and
    about 1 ms with them). Idempotent; returns what it did.
    """
    if db.engine.dialect.name != "sqlite":
        return "not needed: PostgreSQL's autovacuum analyzes"
    db.session.execute(text(f"PRAGMA analysis_limit = {ANALYSIS_LIMIT}"))
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return "analyzed"


def clean_job_registries(at=None):
    """Every minute: RQ's own clean-up of each queue's registries (a worker runs it only every
    ten minutes). A job whose worker died mid-run (killed, out of memory, the machine gone)
    stays "started" until its heartbeat lapses (about 90 s); the clean-up then retries it if
    it has retries left, else moves it to the failed jobs on ``/admin/jobs``. Idempotent: RQ
    takes a lock per queue, and a cleaned registry has nothing left to clean. ``at``: the Unix
    time to clean as of (now; a test passes a later one rather than wait). Returns the queues
    cleaned.

    It also stands in for a dead worker's scheduler: that worker's lock on a queue's
    scheduled jobs (retries waiting out their back-off) lapses after about a minute, but a
    live worker takes it over only every ten minutes; meanwhile this moves the due ones to
    their queues, under the same lock."""
    connection = get_redis()
    scheduler = RQScheduler(QUEUE_NAMES, connection=connection)
    if scheduler.acquire_locks():  # only the queues no live scheduler holds
        try:
            scheduler.enqueue_scheduled_jobs()
        finally:
            scheduler.release_locks()
    cleaned = []
    for name in QUEUE_NAMES:
        queue = Queue(name, connection=connection)
        if queue.acquire_maintenance_lock():
            try:
                if at is None:
                    clean_registries(queue)
                else:  # only the registry of running jobs depends on the time
                    StartedJobRegistry(name, connection=connection).cleanup(timestamp=at)
            finally:
                queue.release_maintenance_lock()
            cleaned.append(name)
    return cleaned


class SchedulerNotRunning(RuntimeError):
    """No recent heartbeat from the cron scheduler."""


def confirm_scheduler_running():
    """Fail unless the cron scheduler has recorded a heartbeat lately; returns ``ok``.

    The demo enqueues it (``demo_data.enqueue_demo_jobs``) before ``make run`` starts the cron
    process, so its first run fails for that real reason and waits on ``/admin/jobs``; retried
    there once the scheduler has run, it succeeds. It writes nothing, so it is safe to run
    twice.
    """
    state = scheduler_liveness(get_redis())
    if state != "ok":
        heard = ("no heartbeat is recorded" if state == "none running"
                 else f"its heartbeat is {state}")
        raise SchedulerNotRunning(
            f"The cron scheduler has not run yet: {heard}. This check ran before the cron "
            "process recorded its first heartbeat (jobs/housekeeping.record_heartbeat, every "
            "60 s). Start it (`flask --app wsgi cron`; `make run` does) and retry this job."
        )
    return state
