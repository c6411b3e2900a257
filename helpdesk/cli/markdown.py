"""``rerender-markdown``: bring stored HTML up to the current Markdown renderer."""

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.markdown import RENDERER_VERSION, render_markdown
from helpdesk.models import Reply, Ticket

BATCH = 500


@click.command("rerender-markdown")
@with_appcontext
def rerender_markdown():
    """Render again every ticket body and reply that an older renderer stored.

    Threads already show a fresh render of stale rows (``helpdesk.markdown.current_html``);
    this makes the stored copies current, so they are served without re-parsing. Safe to run
    again: rows already current are skipped. Works in batches by id, one commit each.
    """
    for model in (Ticket, Reply):
        changed, last_id = 0, 0
        while True:
            rows = db.session.scalars(
                select(model).where(model.id > last_id,
                                    model.body_renderer != RENDERER_VERSION)
                .order_by(model.id).limit(BATCH)
            ).all()
            if not rows:
                break
            for row in rows:
                row.body_html, row.body_renderer = render_markdown(row.body), RENDERER_VERSION
            last_id = rows[-1].id
            changed += len(rows)
            db.session.commit()
        click.echo(f"{model.__tablename__}: {changed} rendered again.")
