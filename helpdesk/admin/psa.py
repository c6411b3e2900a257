"""``/admin/psa``: PSA connections: the list, a new one, one connection's settings, its
webhook, "Test connection" and "Refresh lookups".

The rules live in ``services.psa_connections`` (shared with the CLI); the two PSA calls run
as jobs (``services.psa_admin_jobs``): an htmx click gets a progress widget that polls until
the job is done, a plain form post runs the call in the request and redirects with the
answer. The mappings and links are ``helpdesk/admin/psa_mappings.py``; the sync dashboard
panel and the dead letters are the pull's and the push's.
"""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from helpdesk.admin.answers import changed, refused
from helpdesk.admin.views import admins_only
from helpdesk.extensions import db
from helpdesk.models import PsaConnection
from helpdesk.models.psa_connection import (
    DEFAULT_PULL_MINUTES,
    DEFAULT_REQUEST_BUDGET,
    PSA_KINDS,
)
from helpdesk.models.timestamps import utcnow
from helpdesk.pages import render_page, wants_fragment
from helpdesk.psa.connector import PsaError
from helpdesk.services import psa_admin_jobs, psa_mappings, psa_pull_status
from helpdesk.services import psa_connections as service

bp = Blueprint("admin_psa", __name__, url_prefix="/admin/psa")
bp.before_request(admins_only)


def ago(value):
    """How long ago ``value`` was, in words ("never" for None): the status lines' ages."""
    if value is None:
        return "never"
    seconds = max(0, int((utcnow() - value).total_seconds()))
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return "just now"


bp.context_processor(lambda: {"ago": ago})

LIST, NEW, DETAIL = (
    "admin/psa_connections.html", "admin/psa_new.html", "admin/psa_connection.html")
LOOKUPS = "admin/psa_lookups.html"
PROGRESS, PROGRESS_PAGE = "admin/_psa_progress.html", "admin/psa_progress.html"
FIELDS = ("name", "kind", "base_url", "auth_url", "tenant", "client_id", "request_budget",
          "pull_minutes")


def connection_or_404(connection_id):
    """The connection, or 404."""
    return db.session.get(PsaConnection, connection_id) or abort(404)


def _typed():
    """The form's values (the secret never comes back into the page)."""
    return {key: request.form.get(key, "") for key in FIELDS}


def _form_context(errors=None, typed=None):
    return {"kinds": [(kind, service.kind_label(kind)) for kind in PSA_KINDS],
            "errors": errors or {}, "typed": typed or {}, "labels": service.kind_label}


@bp.get("")
def connections():
    """Every connection with a status line: enabled, last check, lookups' age."""
    return render_template(LIST, connections=service.all_connections(),
                           passed=service.check_passed, labels=service.kind_label)


@bp.get("/new")
def new():
    """The form for a new connection."""
    return render_template(NEW, **_form_context(typed={
        "kind": PSA_KINDS[0], "request_budget": str(DEFAULT_REQUEST_BUDGET),
        "pull_minutes": str(DEFAULT_PULL_MINUTES)}))


@bp.post("")
def create():
    """Create a connection (enabled; its secret sealed) and go to its page."""
    typed = _typed()
    try:
        connection = service.create_connection(
            **{key: typed[key] for key in FIELDS}, client_secret=request.form.get(
                service.SECRET_FIELD, ""), actor=current_user)
    except service.PsaSetupError as error:
        db.session.rollback()
        return refused(NEW, **_form_context(error.errors, typed))
    return changed(f"Created the connection {connection.name}. Test it, then fetch its "
                   "lookups.", url_for("admin_psa.connection", connection_id=connection.id))


def _detail(connection, *, errors=None, typed=None):
    public_url = current_app.config["PUBLIC_URL"]
    return {"connection": connection, **_form_context(errors, typed or _settings(connection)),
            "passed": service.check_passed(connection),
            "webhook_url": service.webhook_url(connection, public_url=public_url),
            "webhook_secret": service.webhook_secret(connection),
            "lookup_counts": psa_mappings.lookup_counts(connection),
            "sync": psa_pull_status.status_of(connection),
            "dead_letters_url": url_for("admin_psa_dead_letters.dead_letters"),
            "tab": "settings"}


def _settings(connection):
    return {key: "" if getattr(connection, key) is None else str(getattr(connection, key))
            for key in FIELDS}


@bp.get("/<int:connection_id>")
def connection(connection_id):
    """One connection: its status, "Test connection", settings, webhook and lookups."""
    return render_template(DETAIL, **_detail(connection_or_404(connection_id)))


@bp.post("/<int:connection_id>")
def update(connection_id):
    """Change the settings; an empty secret keeps the stored one."""
    connection = connection_or_404(connection_id)
    typed = _typed()
    try:
        done = service.update_connection(
            connection, **{key: typed[key] for key in FIELDS},
            client_secret=request.form.get(service.SECRET_FIELD, ""), actor=current_user)
    except service.PsaSetupError as error:
        db.session.rollback()
        return refused(DETAIL, **_detail(connection_or_404(connection_id), errors=error.errors,
                                         typed=typed))
    message = "Saved." if done else "Nothing changed."
    return changed(message, url_for("admin_psa.connection", connection_id=connection_id))


@bp.post("/<int:connection_id>/enabled")
def set_enabled(connection_id):
    """Turn sync on (``enabled=1``) or off."""
    connection = connection_or_404(connection_id)
    enabled = request.form.get("enabled") == "1"
    service.set_enabled(connection, enabled=enabled, actor=current_user)
    return changed(f"{connection.name} is {'enabled' if enabled else 'disabled'}.",
                   url_for("admin_psa.connection", connection_id=connection_id))


@bp.post("/<int:connection_id>/webhook-secret")
def renew_webhook_secret(connection_id):
    """A new webhook secret: the PSA's webhook must be given it."""
    connection = connection_or_404(connection_id)
    service.renew_webhook_secret(connection, actor=current_user)
    return changed("A new webhook secret is set: paste it into the PSA's webhook.",
                   url_for("admin_psa.connection", connection_id=connection_id) + "#webhook")


def _run_now(connection, what):
    """The call in this request, for a form post without JavaScript: ``(ok, message)``."""
    if what == "check":
        result = service.check(connection)
        return service.check_passed(connection), result
    try:
        counts = service.refresh_lookups(connection, actor=current_user)
    except PsaError as error:
        db.session.rollback()
        return False, " ".join(str(error).split())
    return True, "Fetched " + service.describe_counts(counts) + "."


def _start(connection_id, what):
    """htmx: enqueue the job and answer with its progress widget. A plain post: run it
    here and redirect to the page with the answer."""
    connection = connection_or_404(connection_id)
    if wants_fragment():
        job_id = psa_admin_jobs.start(connection, what=what, actor=current_user)
        return render_template(PROGRESS, connection=connection,
                               progress=psa_admin_jobs.progress(connection, job_id))
    ok, message = _run_now(connection, what)
    flash(message, "info" if ok else "error")
    endpoint = "admin_psa.lookups" if what == "lookups" else "admin_psa.connection"
    return redirect(url_for(endpoint, connection_id=connection.id), code=303)


def lookups_context(connection):
    """The lookups page: counts and age, the short lists in full, clients and users counted
    (they are on the organisations' and subscribers' pages)."""
    return {"connection": connection, "tab": "lookups", "labels": psa_mappings.LOOKUP_LABELS,
            "lookup_counts": psa_mappings.lookup_counts(connection),
            "short_lists": [(kind, psa_mappings.LOOKUP_LABELS[kind],
                             psa_mappings.lookups_of(connection, kind))
                            for kind in ("status", "priority", "ticket_type", "agent")]}


@bp.get("/<int:connection_id>/lookups")
def lookups(connection_id):
    """The PSA's cached lists and when they were fetched, with "Refresh"."""
    return render_template(LOOKUPS, **lookups_context(connection_or_404(connection_id)))


@bp.post("/<int:connection_id>/check")
def check(connection_id):
    """Test the connection: sign in and one read."""
    return _start(connection_id, "check")


@bp.post("/<int:connection_id>/lookups")
def refresh_lookups(connection_id):
    """Fetch the PSA's statuses, priorities, ticket types, clients, users and agents."""
    return _start(connection_id, "lookups")


@bp.get("/<int:connection_id>/jobs/<job_id>")
def job(connection_id, job_id):
    """Where a check or refresh stands: the widget polls this until it is done."""
    connection = connection_or_404(connection_id)
    progress = psa_admin_jobs.progress(connection, job_id) or abort(404)
    return render_page(PROGRESS_PAGE, PROGRESS, connection=connection, progress=progress)
