"""``mail``: email to tickets from the command line.

``mail intake`` is how an MTA hands the desk a message (a Postfix ``pipe`` transport, an
``/etc/aliases`` pipe, procmail: see the README): one message on standard input; it prints
the ticket's number and exits 0 when the message landed or was set aside on purpose (an
auto-reply, a bounce). The exit codes follow ``sysexits.h``, which MTAs read: 65 (data error:
the MTA bounces it) for a message that cannot be read, which is kept for admins all the same;
75 (temporary failure: the MTA tries again later) when the database cannot be reached.

``mail fetch`` runs one IMAP fetch in the foreground, as the cron job does every minute.
"""

import sys

import click
from flask.cli import AppGroup
from sqlalchemy.exc import OperationalError

from helpdesk.extensions import db
from helpdesk.models import Ticket
from helpdesk.services import mail_intake
from helpdesk.services.mail_fetch import FetchBusy, fetch, imap_configured

EX_DATAERR = 65
EX_TEMPFAIL = 75
MAX_MESSAGE_BYTES = 200 * 1024 * 1024  # far above any mail server's own limit


@click.group(cls=AppGroup)
def mail():
    """Email to tickets: take in a message, fetch the mailbox."""


@mail.command("intake")
def intake():
    """Take one message (RFC 5322) from standard input; print the ticket's number."""
    raw = sys.stdin.buffer.read(MAX_MESSAGE_BYTES + 1)
    if not raw.strip():
        click.echo("No message on standard input.", err=True)
        sys.exit(EX_DATAERR)
    if len(raw) > MAX_MESSAGE_BYTES:
        click.echo(f"The message is larger than {MAX_MESSAGE_BYTES // (1024 * 1024)} MB.",
                   err=True)
        sys.exit(EX_DATAERR)
    try:
        row = mail_intake.take_in(raw, source="mta")
    except OperationalError as error:
        click.echo(f"The database cannot be reached, try again later: {error.orig}", err=True)
        sys.exit(EX_TEMPFAIL)
    if row.state == "processed":
        ticket = db.session.get(Ticket, row.ticket_id)
        click.echo(ticket.number)
    elif row.state == "ignored":
        click.echo(f"Ignored: {row.reason}", err=True)
    elif row.state == "failed":
        click.echo(f"The message was not taken in ({row.reason}); it is kept for admins at "
                   f"/admin/mail/inbound (message {row.id}).", err=True)
        sys.exit(EX_DATAERR)
    else:
        click.echo(f"Message {row.id} is {row.state}.", err=True)


@mail.command("fetch")
def fetch_now():
    """Fetch the mailbox's unseen messages once now (the cron job does it every minute)."""
    if not imap_configured():
        raise click.ClickException("IMAP_HOST is not set: there is no mailbox to fetch from.")
    try:
        result = fetch()
    except FetchBusy as error:
        raise click.ClickException(f"{error}; try again in a minute.") from error
    summary = result.summary()
    click.echo(f"{summary[0].upper()}{summary[1:]}.")
