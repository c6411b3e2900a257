"""``/admin/users``: every user with their open sign-ins; creating and editing a user;
disabling, enabling, mailing a password reset link and "sign out everywhere" for one.

The rules (what a role needs, the last admin) live in ``services.accounts``, shared with the
CLI; the views read the form, call the service and show its refusal beside the field.

Its own blueprint under ``/admin``, behind the same admins-only check as the other admin
pages (404 for everyone else).
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

from helpdesk.admin.forms import NewUserForm, UserForm
from helpdesk.admin.views import admins_only
from helpdesk.auth.views import safe_next, sign_out_everywhere_here
from helpdesk.extensions import db
from helpdesk.models import Organisation, Reseller, User
from helpdesk.services import accounts, password_reset, sign_ins

bp = Blueprint("admin_users", __name__, url_prefix="/admin/users")
bp.before_request(admins_only)

@bp.get("")
def users():
    """Users by email, filtered by ``q`` (name or email), paged by ``after`` (an email)."""
    text, after = request.args.get("q", ""), request.args.get("after", "")
    rows, next_after = accounts.users_page(text=text, after=after or None,
                                           limit=current_app.config["USERS_PER_PAGE"])
    return render_template("admin/users.html", rows=rows, next_after=next_after, text=text,
                           paged=bool(after))


@bp.post("/<int:user_id>/sign-out-everywhere")
def sign_out_everywhere(user_id):
    """End every sign-in of one user (the admin's own too, if it is them)."""
    user = db.session.get(User, user_id) or abort(404)
    if user.id == current_user.id:
        return sign_out_everywhere_here(user, actor=user)
    ended = sign_ins.sign_out_everywhere(user, actor=current_user)
    flash(f"{user.name} is signed out everywhere ({sign_ins.counted(ended)} ended).", "info")
    return redirect(safe_next(request.form.get("back")) or url_for("admin_users.users"))


def _user(user_id):
    return db.session.get(User, user_id) or abort(404)


def _links(form):
    """The chosen reseller and organisation, or an error beside the field for an unknown id."""
    chosen = {}
    for field, model in (("reseller", Reseller), ("organisation", Organisation)):
        value = getattr(form, field).data
        chosen[field] = db.session.get(model, value) if value is not None else None
        if request.form.get(field) and chosen[field] is None:
            raise accounts.AccountError(f"Choose a {field} from the list.", field=field)
    return chosen


def _permissions(form):
    """Reseller permissions apply to reseller users only: other roles' boxes are ignored."""
    return list(form.permissions.data or []) if form.role.data == "reseller" else []


def _beside_its_field(form, error):
    """Put the service's refusal beside the field it names (the email when it names none)."""
    db.session.rollback()
    field = getattr(form, error.field or "", None) or form.email
    field.errors = [*field.errors, str(error)]


@bp.route("/new", methods=["GET", "POST"])
def new_user():
    """Create a user: role, name, email, password or a set-password link, links, permissions."""
    form = NewUserForm()
    if request.method == "GET":
        form.permissions.data = list(accounts.DEFAULT_RESELLER_PERMISSIONS)
        return render_template("admin/user_new.html", form=form)
    if not form.validate():
        return render_template("admin/user_new.html", form=form), 400
    password = None if form.send_link.data else (form.password.data or "")
    try:
        user = accounts.create_user(
            email=form.email.data, name=form.name.data, role=form.role.data,
            password=password, permissions=_permissions(form), actor=current_user,
            **_links(form))
    except accounts.AccountError as error:
        _beside_its_field(form, error)
        return render_template("admin/user_new.html", form=form), 400
    flash(f"Created {user.name} ({user.email})"
          + (": a link to set their password is on its way." if password is None else "."),
          "info")
    return redirect(url_for("admin_users.edit_user", user_id=user.id), code=303)


def _edit_page(user, form, status=200):
    return render_template("admin/user_edit.html", user=user, form=form,
                           open_sign_ins=len(sign_ins.open_for(user))), status


@bp.route("/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id):
    """A user's details, changed all at once; and their account actions."""
    user = _user(user_id)
    if request.method == "GET":
        form = UserForm(formdata=None, name=user.name, email=user.email, role=user.role,
                        reseller=user.reseller_id, organisation=user.organisation_id,
                        permissions=sorted(user.permissions))
        return _edit_page(user, form)
    form = UserForm()
    if not form.validate():
        return _edit_page(user, form, 400)
    try:
        accounts.update_user(
            user, actor=current_user, name=form.name.data, email=form.email.data,
            role=form.role.data, permissions=_permissions(form), **_links(form))
    except accounts.AccountError as error:
        _beside_its_field(form, error)
        return _edit_page(_user(user_id), form, 400)
    flash(f"Saved {user.name}.", "info")
    return redirect(url_for("admin_users.edit_user", user_id=user.id), code=303)


def _account_action(user_id, action, message):
    """Run ``action(user)``; a refusal comes back as a message on the user's page."""
    user = _user(user_id)
    try:
        action(user)
    except accounts.AccountError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("admin_users.edit_user", user_id=user_id), code=303)
    flash(message.format(name=user.name), "info")
    return redirect(safe_next(request.form.get("back"))
                    or url_for("admin_users.edit_user", user_id=user_id), code=303)


@bp.post("/<int:user_id>/disable")
def disable_user(user_id):
    """Disable a user: every sign-in ends; they cannot sign in."""
    return _account_action(
        user_id, lambda user: accounts.set_disabled(user, disabled=True, actor=current_user),
        "Disabled {name}; their sign-ins have ended.")


@bp.post("/<int:user_id>/enable")
def enable_user(user_id):
    """Let a disabled user sign in again."""
    return _account_action(
        user_id, lambda user: accounts.set_disabled(user, disabled=False, actor=current_user),
        "Enabled {name}.")


@bp.post("/<int:user_id>/password-reset")
def send_password_reset(user_id):
    """Mail the user a password reset link."""
    return _account_action(
        user_id, lambda user: password_reset.send_reset_link(user, actor=current_user),
        "A password reset link is on its way to {name}.")
