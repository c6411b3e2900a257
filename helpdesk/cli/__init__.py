"""Command-line tools, run as ``flask --app wsgi <command>``."""

from helpdesk.cli import (
    counters,
    demo,
    mail,
    markdown,
    processes,
    psa,
    psa_sync,
    search,
    sla,
    tokens,
    users,
)


def init_app(app):
    """Register every command group."""
    app.cli.add_command(users.users)
    app.cli.add_command(users.resellers)
    app.cli.add_command(users.organisations)
    app.cli.add_command(demo.seed_demo)
    app.cli.add_command(markdown.rerender_markdown)
    app.cli.add_command(search.search_group)
    app.cli.add_command(counters.counters)
    app.cli.add_command(sla.sla)
    psa.psa.add_command(psa_sync.sync)
    app.cli.add_command(psa.psa)
    app.cli.add_command(mail.mail)
    app.cli.add_command(processes.check)
    app.cli.add_command(processes.worker)
    app.cli.add_command(processes.cron)
    app.cli.add_command(tokens.tokens)
