"""``users``, ``resellers`` and ``organisations``: account administration for operators."""

import os

import click
from flask.cli import AppGroup
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import PERMISSIONS, ROLES, Organisation, Reseller, User
from helpdesk.services import accounts, sign_ins
from helpdesk.services import organisations as organisation_service

PASSWORD_VARIABLE = "HELPDESK_USER_PASSWORD"  # noqa: S105 - a variable name, not a secret


def _fail(message):
    """Stop the command with a message and exit status 1."""
    raise click.ClickException(message)


def _lookup(finder, name, kind):
    """Find a reseller or organisation by name, or stop saying how to create it."""
    if name is None:
        return None
    found = finder(name)
    if found is None:
        _fail(f"No {kind} named {name!r}. Create it first: flask --app wsgi {kind}s create ...")
    return found


@click.group(cls=AppGroup)
def users():
    """Create, list, disable and enable users, and sign them out."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--name", default=None, help="Display name (defaults to the email's local part).")
@click.option("--reseller", default=None, help="Reseller name (reseller staff and subscribers).")
@click.option("--organisation", default=None, help="Organisation name (customers).")
@click.option("--permission", "permissions", multiple=True, type=click.Choice(PERMISSIONS),
              help="A tickets.* permission for a reseller user; repeat for several. "
                   "Default: view, create, edit, reply.")
def create_user(email, role, name, reseller, organisation, permissions):
    """Create a user. The password is prompted for, or read from $HELPDESK_USER_PASSWORD."""
    password = os.environ.get(PASSWORD_VARIABLE)
    if not password:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = accounts.create_user(
            email=email, name=name, role=role, password=password,
            reseller=_lookup(organisation_service.find_reseller, reseller, "reseller"),
            organisation=_lookup(organisation_service.find_organisation, organisation,
                                 "organisation"),
            permissions=list(permissions) or None,
        )
    except accounts.AccountError as error:
        _fail(str(error))
    click.echo(f"Created {user.role} {user.email} (id {user.id}).")


def _user_or_fail(email):
    """The user with this email, or stop with a message."""
    user = accounts.find_user(email)
    if user is None:
        _fail(f"No user with the email {email}.")
    return user


@users.command("disable")
@click.option("--email", required=True)
def disable_user(email):
    """Disable a user: they cannot sign in, and their open sessions end at once."""
    try:
        user = accounts.set_disabled(_user_or_fail(email), disabled=True)
    except accounts.AccountError as error:
        _fail(str(error))
    click.echo(f"Disabled {user.email}; their sessions have ended.")


@users.command("sign-out")
@click.option("--email", required=True)
def sign_out_user(email):
    """Sign a user out everywhere: every session and "keep me signed in" cookie ends."""
    user = _user_or_fail(email)
    ended = sign_ins.sign_out_everywhere(user, actor=None)
    click.echo(f"Signed {user.email} out everywhere ({sign_ins.counted(ended)} ended).")


@users.command("enable")
@click.option("--email", required=True)
def enable_user(email):
    """Let a disabled user sign in again."""
    user = accounts.set_disabled(_user_or_fail(email), disabled=False)
    click.echo(f"Enabled {user.email}.")


@users.command("list")
@click.option("--role", type=click.Choice(ROLES), default=None)
def list_users(role):
    """List users with role, reseller, organisation and state."""
    query = select(User).order_by(User.role, User.email)
    if role:
        query = query.where(User.role == role)
    rows = [("EMAIL", "ROLE", "RESELLER", "ORGANISATION", "PERMISSIONS", "STATE")]
    for user in db.session.scalars(query):
        rows.append((
            user.email, user.role, user.reseller.name if user.reseller else "-",
            user.organisation.name if user.organisation else "-",
            ",".join(sorted(p.removeprefix("tickets.") for p in user.permissions)) or "-",
            "disabled" if user.disabled_at else "active",
        ))
    _print_table(rows)


def _print_table(rows):
    """Print rows as aligned columns (the first row is the header)."""
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = (str(cell).ljust(width) for cell, width in zip(row, widths, strict=True))
        click.echo("  ".join(cells).rstrip())


@click.group(cls=AppGroup)
def resellers():
    """Create and list resellers."""


@resellers.command("create")
@click.argument("name")
def create_reseller(name):
    """Create a reseller."""
    try:
        reseller = organisation_service.create_reseller(name)
    except accounts.AccountError as error:
        _fail(str(error))
    click.echo(f"Created reseller {reseller.name} (id {reseller.id}).")


@resellers.command("list")
def list_resellers():
    """List resellers."""
    rows = [("ID", "NAME")]
    rows += [(r.id, r.name) for r in db.session.scalars(select(Reseller).order_by(Reseller.name))]
    _print_table(rows)


@click.group(cls=AppGroup)
def organisations():
    """Create and list organisations (subscriber companies)."""


@organisations.command("create")
@click.argument("name")
@click.option("--reseller", default=None,
              help="The reseller it is a customer of (default: the operator).")
def create_organisation(name, reseller):
    """Create an organisation."""
    try:
        organisation = organisation_service.create_organisation(
            name, reseller=_lookup(organisation_service.find_reseller, reseller, "reseller")
        )
    except accounts.AccountError as error:
        _fail(str(error))
    click.echo(f"Created organisation {organisation.name} (id {organisation.id}).")


@organisations.command("list")
def list_organisations():
    """List organisations with their reseller."""
    rows = [("ID", "NAME", "RESELLER")]
    for org in db.session.scalars(select(Organisation).order_by(Organisation.name)):
        rows.append((org.id, org.name, org.reseller.name if org.reseller else "(operator)"))
    _print_table(rows)
