"""``seed-demo``: load the demo data."""

import click
from flask.cli import with_appcontext

from helpdesk.demo_data import (
    DEMO_PASSWORD,
    database_is_empty,
    demo_is_loaded,
    enqueue_demo_jobs,
    load_demo,
)


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Only load into a database with no users.")
@with_appcontext
def seed_demo(if_empty):
    """Load the demo resellers, logins and tickets (password: demo-pass-2026)."""
    if demo_is_loaded():
        click.echo("Demo data is already loaded.")
        return
    if if_empty and not database_is_empty():
        click.echo("The database has users already; demo data not loaded.")
        return
    load_demo()
    enqueue_demo_jobs()
    click.echo(f"Demo data loaded. Every demo login uses the password {DEMO_PASSWORD}.")
