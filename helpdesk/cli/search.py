"""``search rebuild``: build every ticket's search document again from the tickets."""

import time

import click
from flask.cli import with_appcontext

from helpdesk import search
from helpdesk.extensions import db


@click.group("search")
def search_group():
    """The full-text search index."""


@search_group.command("rebuild")
@with_appcontext
def rebuild():
    """Rebuild the whole index in one transaction, set-based (a few minutes at a million
    tickets on PostgreSQL). The services keep it current; run this after restoring tickets
    by hand, or when the index is suspected to have drifted."""
    started = time.perf_counter()
    search.rebuild(db.session.connection())
    db.session.commit()
    click.echo(f"Search index rebuilt in {time.perf_counter() - started:.1f} s.")
