"""``/admin/organisations``: subscriber companies, their reseller, their people and who is
their company admin (``services.organisations``)."""

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from helpdesk.admin.answers import changed, refused
from helpdesk.admin.views import admins_only
from helpdesk.extensions import db
from helpdesk.models import Organisation, Reseller, User
from helpdesk.params import parse_id
from helpdesk.services import organisations as service
from helpdesk.services.accounts import AccountError

bp = Blueprint("admin_organisations", __name__, url_prefix="/admin/organisations")
bp.before_request(admins_only)

LIST, DETAIL = "admin/organisations.html", "admin/organisation.html"


def _organisation(organisation_id):
    return db.session.get(Organisation, organisation_id) or abort(404)


def _chosen_reseller():
    """The reseller picked in the form: None for "the operator"; an unknown id is refused."""
    text = request.form.get("reseller", "")
    if not text:
        return None
    reseller = db.session.get(Reseller, parse_id(text)) if parse_id(text) else None
    if reseller is None:
        raise AccountError("Choose a reseller from the list.", field="reseller")
    return reseller


def _rows(*, text, after, limit):
    """A page of organisations by name, with how many people each has, filtered by ``text``
    in the name, after the name ``after``: ``(rows, the name to continue after or None)``."""
    people = (select(func.count(User.id)).where(User.organisation_id == Organisation.id)
              .scalar_subquery())
    query = select(Organisation, people).order_by(Organisation.name).limit(limit + 1)
    if text:
        query = query.where(func.lower(Organisation.name).contains(text.lower(), autoescape=True))
    if after:
        query = query.where(Organisation.name > after)
    rows = db.session.execute(query).all()
    return rows[:limit], rows[limit - 1][0].name if len(rows) > limit else None


def _list(errors=None):
    text, after = request.args.get("q", "").strip(), request.args.get("after", "")
    rows, next_after = _rows(text=text, after=after or None,
                             limit=current_app.config["USERS_PER_PAGE"])
    return {"rows": rows, "next_after": next_after, "text": text, "paged": bool(after),
            "resellers": service.all_resellers(), "errors": errors or {},
            "typed": dict(request.form) if errors else {}}


@bp.get("")
def organisations():
    """The organisations by name (a page at a time, ``q`` to find one by name), each with
    its reseller and how many people it has; a form to add one."""
    return render_template(LIST, **_list())


@bp.post("")
def create():
    """Create an organisation, a customer of a reseller or of the operator."""
    try:
        organisation = service.create_organisation(
            request.form.get("name"), reseller=_chosen_reseller(), actor=current_user)
    except AccountError as error:
        db.session.rollback()
        return refused(LIST, **_list({error.field or "name": str(error)}))
    return changed(f"Created organisation {organisation.name}.",
                   url_for("admin_organisations.organisation", organisation_id=organisation.id))


def _detail(organisation, errors=None):
    return {"organisation": organisation, "people": service.people_of(organisation),
            "resellers": service.all_resellers(), "errors": errors or {},
            "typed": dict(request.form) if errors else {}}


@bp.get("/<int:organisation_id>")
def organisation(organisation_id):
    """One organisation: its name, reseller and people."""
    return render_template(DETAIL, **_detail(_organisation(organisation_id)))


def _change(organisation_id, action, message):
    organisation = _organisation(organisation_id)
    try:
        done = action(organisation)
    except AccountError as error:
        db.session.rollback()
        return refused(DETAIL, **_detail(_organisation(organisation_id),
                                         {error.field or "name": str(error)}))
    return changed(message(organisation, done), url_for(
        "admin_organisations.organisation", organisation_id=organisation_id))


@bp.post("/<int:organisation_id>/name")
def rename(organisation_id):
    """Rename an organisation."""
    return _change(organisation_id, lambda organisation: service.rename_organisation(
        organisation, request.form.get("name"), actor=current_user),
        lambda organisation, _: f"Renamed to {organisation.name}.")


@bp.post("/<int:organisation_id>/reseller")
def change_reseller(organisation_id):
    """Make the organisation a customer of another reseller (or of the operator)."""
    return _change(organisation_id, lambda organisation: service.change_reseller(
        organisation, _chosen_reseller(), actor=current_user),
        lambda organisation, moved: (
            f"{organisation.name} is now a customer of "
            f"{organisation.reseller.name if organisation.reseller else 'the operator'}; "
            f"{moved} ticket{'' if moved == 1 else 's'} moved with it."))


@bp.post("/<int:organisation_id>/people/<int:user_id>/role")
def set_role(organisation_id, user_id):
    """Make one of the organisation's people its company admin, or back a subscriber."""
    organisation = _organisation(organisation_id)
    person = db.session.get(User, user_id)
    if person is None or person.organisation_id != organisation.id:
        abort(404)
    company_admin = request.form.get("role") == "company_admin"
    return _change(organisation_id, lambda _: service.set_company_admin(
        person, company_admin=company_admin, actor=current_user),
        lambda _organisation, _done: (
            f"{person.name} is {'a company admin' if company_admin else 'a subscriber'} now."))
