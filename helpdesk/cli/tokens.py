"""``tokens``: personal API tokens for scripts, made from the command line.

``flask --app wsgi tokens create --email EMAIL --name NAME`` prints the token alone on
standard output, so a script can capture it (``TOKEN=$(flask ... tokens create ...)``);
anything else goes to standard error, and a refusal exits with status 1.
"""

import click
from flask.cli import AppGroup

from helpdesk.services import accounts, api_tokens


@click.group(cls=AppGroup)
def tokens():
    """Make personal API tokens (they act as their user)."""


@tokens.command("create")
@click.option("--email", required=True, help="The user the token acts as.")
@click.option("--name", required=True, help="What the token is for, shown on their profile.")
def create_token(email, name):
    """Make a token for a user and print it (only the token) on standard output."""
    user = accounts.find_user(email)
    if user is None:
        raise click.ClickException(f"No user with the email {email}.")
    if not user.is_active:
        raise click.ClickException(f"{user.email} is disabled: enable them first.")
    try:
        token, secret = api_tokens.create_token(user, name=name, actor=None)
    except api_tokens.TokenError as error:
        raise click.ClickException(str(error)) from None
    click.echo(secret)
    click.echo(f"Made the API token “{token.name}” for {user.email}; it is shown only now.",
               err=True)
