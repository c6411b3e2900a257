"""``/admin/users``: every user with their open sign-ins, and "sign out everywhere" for one.

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

from helpdesk.admin.views import admins_only
from helpdesk.auth.views import safe_next, sign_out_everywhere_here
from helpdesk.extensions import db
from helpdesk.models import User
from helpdesk.services import accounts, sign_ins

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
