"""Background jobs as admins see them: each queue's tallies, and the failed jobs, built on
RQ's own registries (nothing of ours is stored about a job).

A job lands in a queue's ``FailedJobRegistry`` when it has used up its retries (or had none),
or when its worker died and RQ's clean-up found no retry left. From here an admin retries it
(RQ puts it back on its queue, as it was) or discards it (RQ deletes it). Both are audited,
as ``job.retry`` and ``job.discard`` with the job's id, and per queue as ``job.retry_all`` and
``job.discard_all`` with how many.
"""

from dataclasses import dataclass
from datetime import datetime

from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import (
    FailedJobRegistry,
    FinishedJobRegistry,
    ScheduledJobRegistry,
    StartedJobRegistry,
)

from helpdesk.extensions import db
from helpdesk.queues import QUEUE_NAMES, get_queue, get_redis
from helpdesk.services import audit

PAGE_SIZE = 25
ARGUMENTS_SHOWN = 300  # characters of a job's arguments on the page


class JobError(ValueError):
    """A job id that no failed job has (retried or discarded meanwhile, or never was)."""


@dataclass(frozen=True)
class QueueTally:
    """How many jobs of one queue wait, run, wait for their time (retries), finished lately
    (RQ keeps a finished job's result for a few minutes) and failed."""

    name: str
    queued: int
    started: int
    scheduled: int
    finished: int
    failed: int


@dataclass(frozen=True)
class FailedJob:
    """One failed job as the page shows it."""

    id: str
    queue: str
    function: str
    arguments: str
    failed_at: datetime | None
    error: str  # the traceback's last line: the exception and its message
    traceback: str

    @classmethod
    def of(cls, job, queue):
        traceback = _traceback(job)
        lines = [line for line in traceback.strip().splitlines() if line.strip()]
        return cls(id=job.id, queue=queue, function=job.func_name or "?",
                   arguments=_arguments(job), failed_at=job.ended_at,
                   error=lines[-1].strip() if lines else "no error was recorded",
                   traceback=traceback)


def _traceback(job):
    """The traceback RQ kept: the latest result's, or the text it wrote when it gave up on
    a job whose worker died."""
    try:
        result = job.latest_result()
    except Exception:  # noqa: BLE001 - a result RQ cannot read still leaves the job listed
        result = None
    text = getattr(result, "exc_string", None) if result is not None else None
    return text or job._exc_info or ""


def _arguments(job):
    """``12, 'x', key=3``: the call's arguments as Python would write them, cut short."""
    try:
        parts = [repr(arg) for arg in job.args] + [f"{k}={v!r}" for k, v in job.kwargs.items()]
    except Exception as error:  # noqa: BLE001 - an unreadable payload is shown, not raised
        return f"(cannot be read: {type(error).__name__})"
    text = ", ".join(parts)
    return text if len(text) <= ARGUMENTS_SHOWN else text[:ARGUMENTS_SHOWN - 1] + "…"


def _failed_registry(queue):
    if queue not in QUEUE_NAMES:
        raise JobError(f"There is no queue {queue!r}.")
    return FailedJobRegistry(queue, connection=get_redis())


def tallies():
    """Each queue's counts, in the order of ``QUEUE_NAMES``."""
    connection = get_redis()
    return [QueueTally(
        name=name, queued=get_queue(name).count,
        started=StartedJobRegistry(name, connection=connection).count,
        scheduled=ScheduledJobRegistry(name, connection=connection).count,
        finished=FinishedJobRegistry(name, connection=connection).count,
        failed=FailedJobRegistry(name, connection=connection).count,
    ) for name in QUEUE_NAMES]


def failed_page(queue, *, page=1):
    """One page of a queue's failed jobs, newest first: ``(jobs, has_next)``."""
    registry = _failed_registry(queue)
    start = (page - 1) * PAGE_SIZE
    ids = registry.get_job_ids(start, start + PAGE_SIZE, desc=True)  # one more: is there next?
    jobs = Job.fetch_many(ids[:PAGE_SIZE], connection=registry.connection)
    listed = [FailedJob.of(job, queue) for job in jobs if job is not None]
    return listed, len(ids) > PAGE_SIZE


def _failed_job(queue, job_id):
    registry = _failed_registry(queue)
    if registry.connection.zscore(registry.key, job_id) is None:
        raise JobError(f"Job {job_id} is not among the failed jobs of {queue} any more.")
    try:
        return registry, Job.fetch(job_id, connection=registry.connection)
    except NoSuchJobError:
        registry.remove(job_id)  # its data expired: nothing left to retry or show
        raise JobError(f"Job {job_id} has expired.") from None


def retry(queue, job_id, *, actor):
    """Put a failed job back on its queue; audited. Raises ``JobError`` when it is gone."""
    registry, job = _failed_job(queue, job_id)
    try:
        registry.requeue(job)
    except InvalidJobOperation:  # another admin was quicker
        raise JobError(f"Job {job_id} is not among the failed jobs of {queue} any more.") \
            from None
    audit.record("job.retry", actor=actor, field=queue, new=job_id)
    db.session.commit()
    return job


def discard(queue, job_id, *, actor):
    """Delete a failed job for good; audited. Raises ``JobError`` when it is gone."""
    registry, job = _failed_job(queue, job_id)
    registry.remove(job, delete_job=True)
    audit.record("job.discard", actor=actor, field=queue, new=job_id)
    db.session.commit()
    return job


def _every_failed_id(queue):
    return _failed_registry(queue).get_job_ids()


def retry_all(queue, *, actor):
    """Put every failed job of a queue back on it; audited once with the count."""
    registry = _failed_registry(queue)
    retried = 0
    for job_id in _every_failed_id(queue):
        try:
            registry.requeue(job_id)
        except (InvalidJobOperation, NoSuchJobError):
            registry.remove(job_id)
            continue
        retried += 1
    if retried:
        audit.record("job.retry_all", actor=actor, field=queue, new=retried)
        db.session.commit()
    return retried


def discard_all(queue, *, actor):
    """Delete every failed job of a queue; audited once with the count."""
    registry = _failed_registry(queue)
    ids = _every_failed_id(queue)
    for job_id in ids:
        try:
            registry.remove(job_id, delete_job=True)
        except NoSuchJobError:  # its data had expired; the registry entry is gone now
            continue
    if ids:
        audit.record("job.discard_all", actor=actor, field=queue, new=len(ids))
        db.session.commit()
    return len(ids)
