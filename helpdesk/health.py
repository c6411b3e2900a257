"""``GET /healthz``: can this process reach its database and Redis?"""

from flask import Blueprint, jsonify
from sqlalchemy import text

from helpdesk.extensions import db
from helpdesk.queues import get_redis

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """``{"database": "ok", "redis": "ok"}`` with 200, or 503 with the failing part's error."""
    report = {"database": "ok", "redis": "ok"}
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - any failure means "down"
        db.session.rollback()
        report["database"] = f"down: {type(error).__name__}"
    try:
        get_redis().ping()
    except Exception as error:  # noqa: BLE001
        report["redis"] = f"down: {type(error).__name__}"
    healthy = all(value == "ok" for value in report.values())
    response = jsonify(report)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app):
    """Register the blueprint; health checks need no CSRF and no sign-in."""
    app.register_blueprint(bp)
