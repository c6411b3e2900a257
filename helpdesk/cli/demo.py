"""``seed-demo``: load the demo data (and connect the demo HaloPSA when told where it is)."""

import click
from flask.cli import with_appcontext

from helpdesk.demo_data import (
    DEMO_PASSWORD,
    database_is_empty,
    demo_is_loaded,
    enqueue_demo_jobs,
    load_demo,
)
from helpdesk.demo_psa import connect_demo_halopsa


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Only load into a database with no users.")
@click.option("--halopsa-url", envvar="DEMO_HALOPSA_URL", default=None, metavar="URL",
              help="The demo HaloPSA (tests/halo_demo.py) to connect the demo to; "
                   "make run sets DEMO_HALOPSA_URL.")
@with_appcontext
def seed_demo(if_empty, halopsa_url):
    """Load the demo resellers, logins and tickets (password: demo-pass-2026)."""
    if demo_is_loaded():
        click.echo("Demo data is already loaded.")
        _connect_halopsa(halopsa_url)
        return
    if if_empty and not database_is_empty():
        click.echo("The database has users already; demo data not loaded.")
        return
    load_demo()
    enqueue_demo_jobs()
    click.echo(f"Demo data loaded. Every demo login uses the password {DEMO_PASSWORD}.")
    _connect_halopsa(halopsa_url)


def _connect_halopsa(url):
    """The demo's connection to the demo HaloPSA at ``url`` (none without a URL)."""
    if url:
        click.echo(connect_demo_halopsa(url))
