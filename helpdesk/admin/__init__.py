"""Admin pages: the audit log, users (and, later, settings). Admins only; others get 404."""

from helpdesk.admin import (
    categories,
    inbound_mail,
    jobs,
    mail,
    organisations,
    psa,
    psa_dashboard,
    psa_dead_letters,
    psa_mappings,
    resellers,
    routing,
    sla,
    teams,
    users,
    webhooks,
)
from helpdesk.admin.views import bp


def init_app(app):
    """Register the blueprints."""
    app.register_blueprint(bp)
    app.register_blueprint(users.bp)
    app.register_blueprint(categories.bp)
    app.register_blueprint(mail.bp)
    app.register_blueprint(inbound_mail.bp)
    app.register_blueprint(organisations.bp)
    app.register_blueprint(resellers.bp)
    app.register_blueprint(teams.bp)
    app.register_blueprint(routing.bp)
    app.register_blueprint(jobs.bp)
    app.register_blueprint(sla.bp)
    app.register_blueprint(psa.bp)
    app.register_blueprint(psa_mappings.bp)
    app.register_blueprint(psa_dead_letters.bp)
    app.register_blueprint(psa_dashboard.bp)
    app.register_blueprint(webhooks.bp)
