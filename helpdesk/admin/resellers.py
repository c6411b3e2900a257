"""``/admin/resellers``: the resellers, creating and renaming them (``services.organisations``)."""

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from helpdesk.admin.answers import changed, refused
from helpdesk.admin.views import admins_only
from helpdesk.extensions import db
from helpdesk.models import Organisation, Reseller, User
from helpdesk.services import organisations as service
from helpdesk.services.accounts import AccountError

bp = Blueprint("admin_resellers", __name__, url_prefix="/admin/resellers")
bp.before_request(admins_only)

PAGE = "admin/resellers.html"


def _rows():
    """Each reseller with how many organisations and active staff (reseller users) it has.

    Staff, not every user: a reseller's subscribers run to the thousands, and counting them
    per row would grow with them. The staff are read once, by the active-users-by-role index.
    """
    organisations = (select(func.count(Organisation.id))
                     .where(Organisation.reseller_id == Reseller.id).scalar_subquery())
    staff = (select(User.reseller_id, func.count().label("people"))
             .where(User.role == "reseller", User.disabled_at.is_(None))
             .group_by(User.reseller_id).subquery())
    return db.session.execute(
        select(Reseller, organisations, func.coalesce(staff.c.people, 0))
        .outerjoin(staff, staff.c.reseller_id == Reseller.id).order_by(Reseller.name)).all()


def _page(errors=None, typed=None):
    return {"rows": _rows(), "errors": errors or {}, "typed": typed or {}}


def _refused(error, key):
    db.session.rollback()
    return refused(PAGE, **_page({key: str(error)}, {key: request.form.get("name", "")}))


@bp.get("")
def resellers():
    """Every reseller, with a form to add one and one to rename each."""
    return render_template(PAGE, **_page())


@bp.post("")
def create():
    """Create a reseller."""
    try:
        reseller = service.create_reseller(request.form.get("name"), actor=current_user)
    except AccountError as error:
        return _refused(error, "new")
    return changed(f"Created reseller {reseller.name}.", url_for("admin_resellers.resellers"))


@bp.post("/<int:reseller_id>/name")
def rename(reseller_id):
    """Rename a reseller."""
    reseller = db.session.get(Reseller, reseller_id) or abort(404)
    old = reseller.name
    try:
        service.rename_reseller(reseller, request.form.get("name"), actor=current_user)
    except AccountError as error:
        return _refused(error, reseller_id)
    return changed(f"Renamed {old} to {reseller.name}.", url_for("admin_resellers.resellers"))
