"""The SLA sweep, every minute on the ``automation`` queue (registered in ``jobs/cron.py``).

Safe to run twice, or two at once: each state change, escalation step and auto-close is
claimed before it is written (``helpdesk.sla.sweep``).
"""

from dataclasses import asdict

from helpdesk.queues import enqueue
from helpdesk.sla.sweep import recompute, sweep


def sweep_sla():
    """Update SLA states, run escalations and auto-close; returns what it did. A run that
    left tickets due (a backlog: each run changes at most ``CHANGES_PER_RUN``) runs again at
    once, so a backlog drains in runs of under a second each."""
    result = sweep()
    if result.more:
        enqueue(sweep_sla, queue="automation", retries=())
    return asdict(result)


def recompute_clocks(after_id=0):
    """Recompute the live tickets' clocks under new SLA settings, a batch per job, each
    enqueueing the next (``helpdesk.services.sla`` starts it after a change). Enqueued twice,
    it recomputes twice: the same values."""
    last = recompute(after_id=after_id)
    if last is not None:
        enqueue(recompute_clocks, last, queue="automation",
                job_id=f"sla-recompute-after-{last}")
    return last
