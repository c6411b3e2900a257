"""PostgreSQL's plans kept from one request to the next.

Planning the queue's joins cost PostgreSQL more than running them (0.7 ms against 0.1 ms
for the page's rows at 1,000,000 tickets), and every request planned each of its statements
afresh. psycopg prepares a statement once it has run ``prepare_threshold`` times on a
connection, so PostgreSQL plans it once; but it forgets every prepared statement when the
connection rolls back (a rolled-back transaction may have dropped what a plan names), and
each request ended in a rollback: Flask-SQLAlchemy closes the session at the end of the
request, which rolls back whatever was not committed.

So a request that only read ends with a commit, which for a transaction without writes is
the same as a rollback to the data, and the connection keeps its plans. Anything else is
left as it was: a request that ran a statement other than a plain ``SELECT`` (an insert,
an update, a ``WITH``) and did not commit it, or holds unflushed changes, is rolled back
(the error pages roll back first: helpdesk/errors.py), so no half-done write is ever saved
by this. A commit that fails (the connection lost) is logged and the session rolled back
and closed as before; the answer already made stands.

A plan kept across requests must still fit the table: after a migration that changes a
column's type, restart the web processes (a deploy does) or PostgreSQL refuses the old plan.

Behind PgBouncer in transaction mode, prepared statements need PgBouncer 1.22 and libpq 17
(psycopg's documentation); ``DATABASE_PREPARED_STATEMENTS=0`` turns them off.
"""

import os

from flask import current_app
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError

from helpdesk.extensions import db

WROTE = "helpdesk_wrote"  # in a connection's ``info`` while its transaction may have written


def init_app(app):
    """Count which connections wrote, and end read-only requests with a commit."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "postgresql":
        return
    if os.environ.get("DATABASE_PREPARED_STATEMENTS", "1") == "0":
        event.listen(engine, "connect", _never_prepare)
        return
    event.listen(engine, "before_cursor_execute", _note_writes)
    event.listen(engine, "commit", _forget_writes)
    event.listen(engine, "rollback", _forget_writes)
    # Registered after db.init_app, so it runs before Flask-SQLAlchemy's session.remove().
    app.teardown_appcontext(_end_read_only_transaction)


def _never_prepare(connection, _record):
    connection.prepare_threshold = None


def _note_writes(connection, _cursor, statement, _parameters, _context, _executemany):
    if statement.lstrip()[:6].upper() != "SELECT":
        connection.info[WROTE] = True


def _forget_writes(connection):
    connection.info.pop(WROTE, None)


def _end_read_only_transaction(error):
    """Commit a transaction that only read (its connection keeps its prepared statements)."""
    session = db.session()  # this request's session (the scoped proxy lacks in_transaction)
    if error is not None or not session.in_transaction() or session.dirty or session.new \
            or session.deleted:
        return
    if session.connection().info.get(WROTE):
        return
    session.expire_on_commit = False  # the session ends here: what it loaded stays as loaded
    try:
        session.commit()
    except SQLAlchemyError as failure:  # nothing was written; remove() rolls back and closes
        current_app.logger.warning("ending a read-only request: %s", failure)
        session.rollback()
