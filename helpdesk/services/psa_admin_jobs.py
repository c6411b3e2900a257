"""An admin's "Test connection" and "Refresh lookups" as jobs on the ``psa`` queue, and how
far each has got, for the page's progress widget to poll.

Each click is its own job (``psa-check-<connection>-<token>``): the id names its connection,
so a poll for another connection's job is refused, and its token is unguessable. The jobs
(``jobs/psa_admin.py``, enqueued by dotted name so services need not import ``jobs``) are not
retried: the admin is watching and clicks again. A job's answer is its return value, one line.
"""

import re
import secrets
from dataclasses import dataclass

from rq.exceptions import NoSuchJobError
from rq.job import Job

from helpdesk.queues import enqueue, get_redis

JOBS = {"check": "jobs.psa_admin.check_connection",
        "lookups": "jobs.psa_admin.refresh_lookups"}
RESULT_TTL = 3600  # seconds a finished job's answer is kept for its widget
_JOB_ID = re.compile(r"psa-(check|lookups)-(\d+)-([0-9a-f]{16})")


@dataclass(frozen=True)
class Progress:
    """Where a job stands: ``step`` 1 waiting for a worker, 2 running, 3 done."""

    what: str  # "check" or "lookups"
    job_id: str
    step: int
    ok: bool | None  # once done: did it succeed?
    message: str


def start(connection, *, what, actor=None):
    """Enqueue ``what`` ("check" or "lookups") for ``connection``; returns the job id."""
    job_id = f"psa-{what}-{connection.id}-{secrets.token_hex(8)}"
    args = (connection.id,) if what == "check" else (connection.id, getattr(actor, "id", None))
    enqueue(JOBS[what], *args, queue="psa", job_id=job_id, retries=(),
            result_ttl=RESULT_TTL, failure_ttl=RESULT_TTL)
    return job_id


def what_of(connection, job_id):
    """"check" or "lookups" when ``job_id`` is one of ``connection``'s, else None."""
    match = _JOB_ID.fullmatch(job_id or "")
    if match is None or int(match.group(2)) != connection.id:
        return None
    return match.group(1)


def progress(connection, job_id):
    """The ``Progress`` of one of ``connection``'s jobs (None: not one of its ids)."""
    what = what_of(connection, job_id)
    if what is None:
        return None
    try:
        job = Job.fetch(job_id, connection=get_redis())
    except NoSuchJobError:
        return Progress(what, job_id, 3, None, "This run's answer is no longer kept.")
    status = job.get_status(refresh=False)
    if status in ("queued", "deferred", "scheduled"):
        return Progress(what, job_id, 1, None, "Waiting for a worker…")
    if status == "started":
        return Progress(what, job_id, 2, None, "Running…")
    if status == "finished":
        ok, message = job.return_value()
        return Progress(what, job_id, 3, ok, message)
    error = (job.exc_info or "").strip().splitlines()
    return Progress(what, job_id, 3, False,
                    f"The job failed: {error[-1] if error else status}")
