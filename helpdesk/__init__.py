"""The help desk: a Flask app built by ``create_app``."""

import os
from datetime import timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy.orm import configure_mappers
from werkzeug.middleware.proxy_fix import ProxyFix

from helpdesk import (
    cli,
    drafts,
    errors,
    params,
    plans,
    queues,
    request,
    security_headers,
    template_filters,
)
from helpdesk.config import check_host_cookies, config_for_environment
from helpdesk.extensions import csrf, db, htmx, limiter, login_manager, migrate
from helpdesk.models.timestamps import render_migration_type
from helpdesk.search import include_in_migrations

ROOT = Path(__file__).resolve().parent.parent


def create_app(config=None):
    """Build the app; ``config`` (a dict) overrides the settings read from the environment."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=(config or {}).get("INSTANCE_PATH") or _instance_path(),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_object(config_for_environment(app.instance_path))
    app.config.update(config or {})
    check_host_cookies(app.config)
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=app.config["SESSION_MAX_HOURS"])
    app.config["REMEMBER_COOKIE_DURATION"] = timedelta(days=app.config["REMEMBER_COOKIE_DAYS"])
    params.init_app(app)
    security_headers.init_app(app)
    if app.config["PROXY_COUNT"]:
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=app.config["PROXY_COUNT"], x_proto=app.config["PROXY_COUNT"]
        )

    queues.init_app(app)
    db.init_app(app)
    plans.init_app(app)
    migrate.init_app(
        app, db, directory=str(ROOT / "migrations"), render_item=render_migration_type,
        include_object=include_in_migrations,
    )
    login_manager.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    request.init_app(app)
    limiter.init_app(app)
    errors.init_app(app)
    drafts.init_app(app)
    template_filters.init_app(app)
    cli.init_app(app)

    from helpdesk import (
        admin,
        api,
        auth,
        bell,
        desk,
        health,
        portal,
        profile,
        psa_webhooks,
        reports,
    )

    admin.init_app(app)
    auth.init_app(app)
    desk.init_app(app)
    portal.init_app(app)
    profile.init_app(app)
    bell.init_app(app)
    health.init_app(app)
    reports.init_app(app)
    psa_webhooks.init_app(app)
    api.init_app(app)
    # Every model is imported by now: configure the mappers here, once, not in whichever
    # request first touches the ORM while other threads build statements from half-ready
    # ones (a gthread worker's first requests arrive together; a statement built then, and
    # kept, joined the wrong tables).
    configure_mappers()
    return app


def _instance_path():
    """``HELPDESK_INSTANCE_PATH`` or ``instance/`` beside the code."""
    return os.environ.get("HELPDESK_INSTANCE_PATH") or str(ROOT / "instance")
