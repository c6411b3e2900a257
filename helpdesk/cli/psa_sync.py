"""``psa sync --connection NAME``: one pull in the foreground, with a progress bar.

The same run as the schedule's (``services.psa_pull.pull``), under the same lock, so a
script and the workers never pull one connection at once. Exit status 0 when the run read
every page (or stopped, as it should, at the end of the request budget: the next run goes
on); 1 with the reason when the connection is unknown or disabled, another run holds it, the
PSA failed, or some tickets could not be applied.

It joins the ``psa`` command group (``helpdesk/cli/psa.py``) as ``sync``.
"""

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import PsaConnection
from helpdesk.services.psa_pull import PullBusy, pull


def _connection(name):
    """The connection named ``name`` (or with that id), or stop saying which exist."""
    query = select(PsaConnection).where(PsaConnection.name == name)
    connection = db.session.scalar(query)
    if connection is None and name.isdigit():
        connection = db.session.get(PsaConnection, int(name))
    if connection is None:
        known = ", ".join(db.session.scalars(
            select(PsaConnection.name).order_by(PsaConnection.name))) or "none yet"
        raise click.ClickException(f"No PSA connection named {name!r} (connections: {known}).")
    return connection


class _Bar:
    """A progress bar drawn once the PSA has said how many tickets changed."""

    def __init__(self, name):
        self.name, self.bar = name, None

    def __call__(self, done, total):
        if self.bar is None:
            self.bar = click.progressbar(length=total, label=f"Pulling {self.name}",
                                         show_pos=True, file=sys.stderr)
            self.bar.__enter__()
        self.bar.length = max(self.bar.length or 0, total)
        self.bar.update(done - self.bar.pos)

    def close(self):
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@click.command("sync")
@click.option("--connection", "connection_name", required=True,
              help="The connection's name (or id).")
@with_appcontext  # added to a group with add_command, which does not wrap it
def sync(connection_name):
    """Pull the PSA's changes once now, with a progress bar."""
    connection = _connection(connection_name)
    if not connection.enabled:
        raise click.ClickException(f"{connection.name} is disabled: enable it to pull.")
    name, bar = connection.name, _Bar(connection.name)
    try:
        result = pull(connection.id, on_progress=bar)
    except PullBusy:
        raise click.ClickException(f"A pull of {name} is already running; try again when it "
                                   "is done.") from None
    finally:
        bar.close()
    click.echo(f"{name}: read {result.read:,} changed tickets: {result.created:,} new, "
               f"{result.updated:,} updated, {result.unchanged:,} unchanged, "
               f"{result.skipped:,} skipped; actions of {result.actions_read:,} tickets read, "
               f"{result.actions_added:,} added, {result.files_added:,} files.")
    for note in result.notes[-20:]:
        click.echo(f"  note: {note}")
    if result.budget_spent:
        click.echo("The request budget is spent for now: the next run goes on from here.")
    if result.error:
        raise click.ClickException(f"The pull of {name} stopped: {result.error}")
    if result.failed:
        raise click.ClickException(
            f"{result.failed} ticket{'s' if result.failed != 1 else ''} of {name} could not "
            "be applied (see the notes above); the rest were.")
