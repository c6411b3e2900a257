"""``counters``: the queue counters' tallies, for operators."""

import click
from flask.cli import AppGroup

from helpdesk.extensions import db
from helpdesk.services import tallies


@click.group(cls=AppGroup)
def counters():
    """The tallies behind the queue's counters."""


@counters.command("rebuild")
def rebuild():
    """Recount the tallies from the tickets, in one transaction.

    Every change made through the help desk keeps them right; run this after writing tickets
    with plain SQL (a bulk import, a repair by hand). Safe to run at any time: on PostgreSQL
    ticket changes wait until it commits.
    """
    tally_rows, day_rows, assignee_rows, report_rows, organisation_rows = tallies.rebuild(
        db.session.connection())
    db.session.commit()
    click.echo(f"Rebuilt the counters: {tally_rows} tallies, {day_rows} days, "
               f"{assignee_rows} assignee tallies, {report_rows} report days, "
               f"{organisation_rows} organisation days.")
