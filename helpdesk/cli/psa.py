"""``psa``: PSA connections from scripts: add one, see how each stands, test one, fetch its
lookups. The pull's ``psa sync`` joins this group: one more ``@psa.command`` function.

Every command goes through the same services as the admin pages (``services.psa_*``), so a
connection made here is checked, sealed and audited the same way (the actor: the system).
"""

import json
import os

import click
from flask.cli import AppGroup

from helpdesk.extensions import db
from helpdesk.psa.connector import PsaError
from helpdesk.services import psa_connections
from helpdesk.services.psa_status import sync_status

SECRET_VARIABLE = "PSA_CLIENT_SECRET"  # noqa: S105 - a variable name, not a secret


def _fail(message):
    """Stop with ``message`` and exit status 1."""
    raise click.ClickException(message)


def connection_option(function):
    """``--connection NAME`` (or its id), required."""
    return click.option("--connection", "connection_name", required=True,
                        help="The connection's name (or id).")(function)


def find_connection(name):
    """The connection named ``name`` (or with that id), or stop saying which exist."""
    connection = psa_connections.find_connection(name)
    if connection is None:
        known = ", ".join(c.name for c in psa_connections.all_connections()) or "none yet"
        _fail(f"No PSA connection named {name!r} (connections: {known}).")
    return connection


@click.group(cls=AppGroup)
def psa():
    """PSA connections: add, status, check, lookups (and sync)."""


@psa.command("add-halopsa")
@click.option("--name", required=True, help="A name of your choice, unique.")
@click.option("--base-url", required=True, help="https://example.halopsa.com")
@click.option("--auth-url", required=True, help="https://example.halopsa.com/auth")
@click.option("--tenant", default=None, help="The tenant (hosted instances).")
@click.option("--client-id", required=True)
def add_halopsa(name, base_url, auth_url, tenant, client_id):
    """Add a HaloPSA connection; the client secret is read from $PSA_CLIENT_SECRET."""
    secret = os.environ.get(SECRET_VARIABLE, "")
    if not secret.strip():
        _fail(f"Set {SECRET_VARIABLE} to the client secret (it is never taken as an "
              "option, so it stays out of the shell's history).")
    try:
        connection = psa_connections.create_connection(
            name=name, kind="halopsa", base_url=base_url, auth_url=auth_url, tenant=tenant,
            client_id=client_id, client_secret=secret, actor=None)
    except psa_connections.PsaSetupError as error:
        db.session.rollback()
        _fail("; ".join(error.errors.values()))
    click.echo(f"Created PSA connection {connection.id}: {connection.name}")


def _line(status):
    pull = status.last_pull or "never"
    return (f"{status.name}\t{status.kind}\t{'enabled' if status.enabled else 'disabled'}\t"
            f"last pull {pull}\tqueued {status.queued_writes}\tdead {status.dead_letters}\t"
            f"budget left {status.budget_left}/{status.budget}")


@psa.command("status")
@click.option("--json", "as_json", is_flag=True, help="One JSON list, for scripts.")
def status(as_json):
    """One line per connection: name, kind, enabled, last pull, queued writes, dead
    letters, request budget left."""
    found = sync_status(psa_connections.all_connections())
    if as_json:
        click.echo(json.dumps([item.as_dict() for item in found], indent=2))
    elif not found:
        click.echo("No PSA connections.")
    for item in [] if as_json else found:
        click.echo(_line(item))


@psa.command("check")
@connection_option
def check(connection_name):
    """Test a connection (a token and one read); exit 1 when it fails."""
    connection = find_connection(connection_name)
    result = psa_connections.check(connection)
    if not psa_connections.check_passed(connection):
        _fail(result)
    click.echo(result)


@psa.command("lookups")
@connection_option
def lookups(connection_name):
    """Fetch the PSA's statuses, priorities, ticket types, clients, users and agents."""
    connection = find_connection(connection_name)
    try:
        counts = psa_connections.refresh_lookups(connection)
    except PsaError as error:
        db.session.rollback()
        _fail(" ".join(str(error).split()))
    click.echo(f"Fetched {psa_connections.describe_counts(counts)}.")
