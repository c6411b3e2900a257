"""The SLA sweep, every minute on the ``automation`` queue (registered in ``jobs/cron.py``).

Safe to run twice, or two at once: each state change, escalation step and auto-close is
claimed before it is written (``helpdesk.sla.sweep``).
"""

from dataclasses import asdict

from helpdesk.sla.sweep import sweep


def sweep_sla():
    """Update SLA states, run escalations and auto-close; returns what it did."""
    return asdict(sweep())
