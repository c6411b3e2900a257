"""``check``, ``worker`` and ``cron``: start-up checks and the background processes."""

import sys

import click
import redis
from flask import current_app
from flask.cli import with_appcontext
from rq.cron import CronScheduler
from sqlalchemy import text
from sqlalchemy.engine import make_url

from helpdesk.extensions import db
from helpdesk.queues import QUEUE_NAMES, get_redis
from helpdesk.services import accounts


def _first_line(error):
    """The first line of a driver's error: enough to act on, without the noise."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def startup_problems(app):
    """Say, in words an operator can act on, what would stop the desk: the database or Redis
    out of reach, or a password hash profile that does not exist."""
    problems = []
    try:
        accounts.hash_parameters(app.config["PASSWORD_HASH_PROFILE"])
    except ValueError as error:
        problems.append(str(error))
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - any failure is reported the same way
        problems.append(
            f"Cannot reach the database at {url.render_as_string(hide_password=True)}: "
            f"{_first_line(error)}\n  Fix DATABASE_URL (or unset it to use SQLite in "
            f"{app.instance_path})."
        )
    try:
        get_redis().ping()
    except Exception as error:  # noqa: BLE001
        where = "the embedded Redis" if app.config["REDIS_EMBEDDED"] else app.config["REDIS_URL"]
        problems.append(
            f"Cannot reach Redis at {where}: {_first_line(error)}\n  Fix REDIS_URL (or unset it "
            "to run the embedded Redis)."
        )
    return problems


@click.command("check")
@with_appcontext
def check():
    """Check the database, Redis and the settings; exit 1 naming the variable to fix."""
    problems = startup_problems(current_app)
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        sys.exit(1)
    click.echo("Database and Redis are reachable.")


@click.command("worker")
@click.option("--queue", "queues", multiple=True, type=click.Choice(QUEUE_NAMES),
              help="Queue to work (repeatable; default: all).")
@click.option("--burst", is_flag=True, help="Work until the queues are empty, then stop.")
@with_appcontext
def worker(queues, burst):
    """Run an RQ worker (with RQ's scheduler for delayed and retried jobs)."""
    from jobs.worker import make_worker

    make_worker(current_app._get_current_object(), queues=queues or QUEUE_NAMES).work(
        with_scheduler=True, burst=burst
    )


@click.command("cron")
@with_appcontext
def cron():
    """Run RQ's cron scheduler with the periodic jobs of ``jobs/cron.py``."""
    try:
        scheduler = CronScheduler(connection=get_redis())
    except redis.RedisError as error:
        raise click.ClickException(f"Cannot reach Redis: {error}. Fix REDIS_URL.") from error
    scheduler.load_config_from_file("jobs.cron")
    try:
        scheduler.start()
    except KeyboardInterrupt:
        click.echo("Cron scheduler stopped.")
