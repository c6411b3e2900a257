"""Jobs for the job platform's tests, importable by a worker in another process (``tests`` is
a package on the path of a worker started in the project's folder)."""

from helpdesk.extensions import db
from helpdesk.queues import get_redis
from helpdesk.services import audit


class Refused(RuntimeError):
    """The error these jobs fail with."""


def fail(message):
    """Fail every time, with ``message``."""
    raise Refused(message)


def fail_then_record(key, failures):
    """Fail the first ``failures`` runs (counted in Redis under ``key``), then record one audit
    entry with ``key``, the job's side effect, and return the run's number."""
    run = get_redis().incr(key)
    if run <= failures:
        raise Refused(f"run {run} of {key} fails on purpose")
    audit.record("test.job_effect", actor=None, new=key)
    db.session.commit()
    return run
