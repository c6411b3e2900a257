"""``/admin/sla``: the SLA calendar, targets per priority (with organisation and reseller
overrides) and escalation levels. Plain posts that redirect; refused input comes back with
the page (400), the message beside the field and what was typed kept. The rules and the audit
live in ``services.sla``.
"""

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user

from helpdesk.admin.answers import changed, refused
from helpdesk.admin.views import admins_only
from helpdesk.extensions import db
from helpdesk.models import PRIORITIES
from helpdesk.services import organisations
from helpdesk.services import sla as service
from helpdesk.sla.business_time import WEEKDAYS
from helpdesk.sla.policy import NOTIFY_CHOICES

bp = Blueprint("admin_sla", __name__, url_prefix="/admin/sla")
bp.before_request(admins_only)

PAGE = "admin/sla.html"
DAY_NAMES = dict(zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                "Saturday", "Sunday"), strict=True))


def _context(*, scope_text="", errors=None, typed=None, kind=None, owner=None):
    """Everything the page shows; ``typed`` replaces one form's values after a refusal."""
    typed = typed or {}
    return {
        "calendar": typed.get("calendar") or service.calendar_values(),
        "targets": typed.get("targets") or service.target_values(),
        "override": typed.get("override") or (
            service.target_values(kind, owner) if kind else dict.fromkeys(PRIORITIES, ("", ""))),
        "scope_text": scope_text, "scope_label": service.scope_label(kind, owner),
        "overrides": service.overrides(), "levels": typed.get("levels") or service.level_values(),
        "staff": service.staff(), "organisations": organisations.all_organisations(),
        "resellers": organisations.all_resellers(), "errors": errors or {},
        "priorities": PRIORITIES, "weekdays": WEEKDAYS, "day_names": DAY_NAMES,
        "notify_choices": NOTIFY_CHOICES,
    }


def _refused(error, **typed):
    """The page again, 400, with the message beside the field of the form that was sent
    (``errors[form][field]``) and that form's typed values."""
    db.session.rollback()
    (form,) = typed
    return refused(PAGE, **_context(errors={form: {error.field: str(error)}}, typed=typed,
                                    scope_text=request.form.get("scope", "")))


def _done(message):
    return changed(message, url_for("admin_sla.sla"))


@bp.get("")
def sla():
    """The settings; ``scope`` (``organisation:3``) opens that override in its form."""
    scope_text = request.args.get("scope", "")
    try:
        kind, owner = service.scope_of(scope_text)
    except service.SlaError:
        kind, owner, scope_text = None, None, ""
    return render_template(PAGE, **_context(scope_text=scope_text if kind else "", kind=kind,
                                            owner=owner))


@bp.post("/calendar")
def calendar():
    """Save the calendar, at-risk share and auto-close."""
    values = {key: request.form.get(key, "") for key in
              ("time_zone", "holidays", "at_risk_percent", "auto_close_days", *WEEKDAYS)}
    try:
        changes = service.save_calendar(values, actor=current_user)
    except service.SlaError as error:
        return _refused(error, calendar=values)
    return _done("Saved the calendar." if changes else "The calendar is unchanged.")


def _typed_targets():
    return {priority: (request.form.get(f"first_response-{priority}", ""),
                       request.form.get(f"resolution-{priority}", ""))
            for priority in PRIORITIES}


@bp.post("/targets")
def targets():
    """Save the workspace's targets, or (``scope``) an organisation's or reseller's."""
    scope_text = request.form.get("scope", "")
    try:
        kind, owner = service.scope_of(scope_text)
        changes = service.save_targets(kind, owner, request.form, actor=current_user)
    except service.SlaError as error:
        key = "override" if scope_text.strip() else "targets"
        return _refused(error, **{key: _typed_targets()})
    label = service.scope_label(kind, owner)
    return _done(f"Saved the targets of {label}." if changes
                 else f"The targets of {label} are unchanged.")


@bp.post("/escalation")
def escalation():
    """Save the escalation levels."""
    try:
        service.save_levels(request.form, actor=current_user)
    except service.SlaError as error:
        typed = [{"percent": request.form.get(f"percent-{n}", ""),
                  "notify": request.form.getlist(f"notify-{n}"),
                  "raise_priority": bool(request.form.get(f"raise-{n}")),
                  "reassign_to": request.form.get(f"reassign-{n}", "")}
                 for n in range(service.MAX_LEVELS)
                 if request.form.get(f"percent-{n}") is not None]
        return _refused(error, levels=typed)
    return _done("Saved the escalation levels.")
