"""``GET /healthz``: can this process reach its database and Redis, and are the background
processes alive?

The HTTP status follows the database and Redis alone: they are what this web process needs to
answer pages, and load balancers, ``make run`` and the benchmark wait on that status. The
``worker`` and ``scheduler`` fields are for monitoring: a desk with no worker still serves
pages (its jobs wait in Redis), so they name what is missing without turning the answer 503.
"""

from datetime import UTC, datetime

from flask import Blueprint, jsonify
from rq import Worker
from rq.defaults import DEFAULT_WORKER_TTL
from sqlalchemy import text

from helpdesk.extensions import db
from helpdesk.queues import get_redis

bp = Blueprint("health", __name__)

# An idle RQ worker waits on Redis for up to its TTL (420 s) between heartbeats; one
# missing for longer than that and a minute more has stopped (RQ lets its key expire then).
WORKER_STALE_SECONDS = DEFAULT_WORKER_TTL + 60
# The cron scheduler has a worker record a heartbeat every 60 s (jobs/housekeeping.py).
SCHEDULER_STALE_SECONDS = 180
HEARTBEAT_KEY = "helpdesk:heartbeat"  # written by jobs.housekeeping.record_heartbeat


def _age(stamp, now):
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return max(0, int((now - stamp).total_seconds()))


def _freshness(ages, stale_after):
    """``ok`` when the youngest heartbeat is recent, else what is wrong, in words."""
    if not ages:
        return "none running"
    youngest = min(ages)
    if youngest > stale_after:
        return f"stale: last heartbeat {youngest} s ago"
    return "ok"


def worker_liveness(connection, now=None):
    """``ok`` when at least one RQ worker has a fresh heartbeat."""
    now = now or datetime.now(UTC)
    ages = [_age(worker.last_heartbeat, now) for worker in Worker.all(connection=connection)
            if worker.last_heartbeat is not None]
    return _freshness(ages, WORKER_STALE_SECONDS)


def scheduler_liveness(connection, now=None):
    """``ok`` when the cron scheduler's heartbeat job ran recently (a worker ran it, too)."""
    now = now or datetime.now(UTC)
    stamp = connection.get(HEARTBEAT_KEY)
    if stamp is None:
        return _freshness([], SCHEDULER_STALE_SECONDS)
    return _freshness([_age(datetime.fromisoformat(stamp.decode()), now)],
                      SCHEDULER_STALE_SECONDS)


@bp.get("/healthz")
def healthz():
    """``{"database": "ok", "redis": "ok", "worker": ..., "scheduler": ...}``: 200 when the
    database and Redis answer, else 503 with the failing part's error."""
    report = {"database": "ok", "redis": "ok"}
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - any failure means "down"
        db.session.rollback()
        report["database"] = f"down: {type(error).__name__}"
    try:
        connection = get_redis()
        connection.ping()
    except Exception as error:  # noqa: BLE001
        report["redis"] = f"down: {type(error).__name__}"
    healthy = all(value == "ok" for value in report.values())
    if report["redis"] == "ok":
        try:
            report["worker"] = worker_liveness(connection)
            report["scheduler"] = scheduler_liveness(connection)
        except Exception as error:  # noqa: BLE001 - monitoring fields never fail the check
            report.setdefault("worker", f"unknown: {type(error).__name__}")
            report.setdefault("scheduler", f"unknown: {type(error).__name__}")
    else:
        report["worker"] = report["scheduler"] = "unknown: Redis is down"
    response = jsonify(report)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app):
    """Register the blueprint; health checks need no CSRF and no sign-in."""
    app.register_blueprint(bp)
