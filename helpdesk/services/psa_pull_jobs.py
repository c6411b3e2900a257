"""Asking for pulls: the jobs of ``jobs/psa_pull.py``, by dotted name and one id each.

``psa-pull-<connection>`` for a connection's run (the schedule, "Pull now"), and
``psa-ticket-<connection>-<ticket>`` for one ticket a webhook named. A job already waiting or
running under its id is not enqueued again, so a double click, a redelivered webhook or a
schedule that fires during a long run adds nothing; once it has run, the same id may run
again (a later change needs a later read).
"""

from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from helpdesk.queues import enqueue, get_redis

PULL_JOB = "jobs.psa_pull.pull_connection"
TICKET_JOB = "jobs.psa_pull.pull_ticket"
ACTIVE = frozenset({JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED,
                    JobStatus.DEFERRED})


def pull_job_id(connection_id):
    return f"psa-pull-{connection_id}"


def ticket_job_id(connection_id, external_id):
    return f"psa-ticket-{connection_id}-{external_id}"


def job_waiting(job_id):
    """Is a job with this id waiting or running?"""
    try:
        return Job.fetch(job_id, connection=get_redis()).get_status() in ACTIVE
    except NoSuchJobError:
        return False


def enqueue_once(function, *args, job_id):
    """Enqueue on the psa queue unless ``job_id`` is waiting or running; returns whether it
    was enqueued. No retries: the next minute's schedule, or the next hint, is the retry."""
    if job_waiting(job_id):
        return False
    enqueue(function, *args, queue="psa", job_id=job_id, retries=(), result_ttl=3600)
    return True


def request_pull(connection_id):
    """A run of the connection's pull, soon; False when one is waiting or running."""
    return enqueue_once(PULL_JOB, connection_id, job_id=pull_job_id(connection_id))


def hint_tickets(connection_id, external_ids):
    """A read of each PSA ticket named; returns how many jobs were enqueued."""
    return sum(enqueue_once(TICKET_JOB, connection_id, external_id,
                            job_id=ticket_job_id(connection_id, external_id))
               for external_id in dict.fromkeys(external_ids))
