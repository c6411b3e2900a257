"""``sla``: the SLA clocks, for operators."""

import click
from flask.cli import AppGroup

from helpdesk.sla.sweep import recompute as recompute_batch
from helpdesk.sla.sweep import sweep


@click.group(cls=AppGroup)
def sla():
    """SLA clocks and the sweep."""


@sla.command("recompute")
def recompute():
    """Recompute every unresolved ticket's due times under the current settings, a batch at
    a time: tickets from before the clocks get theirs (counted from their opening). Safe to
    run at any time, and again."""
    done, after = 0, 0
    while after is not None:
        after = recompute_batch(after_id=after)
        done += 1
    click.echo(f"Recomputed the SLA clocks ({done} batch{'es' if done != 1 else ''}).")


@sla.command("sweep")
def run_sweep():
    """Run the sweep once now (the cron job does it every minute)."""
    result = sweep()
    click.echo(f"Checked {result.checked}, {result.state_changes} state changes, "
               f"{result.escalations} escalations, {result.closed} closed.")
