"""Admin pages: the audit log (and, later, settings). Admins only; everyone else gets 404."""

from helpdesk.admin.views import bp


def init_app(app):
    """Register the blueprint."""
    app.register_blueprint(bp)
