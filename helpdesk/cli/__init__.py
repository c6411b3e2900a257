"""Command-line tools, run as ``flask --app wsgi <command>``."""

from helpdesk.cli import counters, demo, markdown, processes, psa_sync, search, sla, users


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
    app.cli.add_command(processes.check)
    app.cli.add_command(processes.worker)
    app.cli.add_command(processes.cron)
    # TODO(psa-admin): once helpdesk/cli/psa.py is merged: psa.psa.add_command(psa_sync.sync)
    app.cli.add_command(psa_sync.psa_group)
