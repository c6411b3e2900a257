"""``/login`` and ``/logout``, and ``/`` which sends each role to its page."""

import math
import time
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from helpdesk.auth.forms import LoginForm
from helpdesk.extensions import limiter
from helpdesk.services import audit, sign_ins
from helpdesk.services.accounts import authenticate, normalise_email

bp = Blueprint("auth", __name__)

# Set in the session when a request came with a sign-in that has ended, so the sign-in page
# (reached by any redirect, htmx's included) can say why.
SESSION_ENDED = "session_ended"
SESSION_ENDED_MESSAGE = "Your session has ended; sign in again."


def landing_url(user):
    """Where a role lands after signing in: the portal for customers, the queue for the rest."""
    return url_for("portal.tickets" if user.is_customer else "desk.queue")


def safe_next(target):
    """Only follow a ``next`` that stays on this site.

    Browsers read ``\\`` as ``/`` and drop control characters, so ``/\\evil.example`` would
    leave the site just as ``//evil.example`` does: neither is followed.
    """
    if not target:
        return None
    parts = urlsplit(target)
    if (parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//")
            or "\\" in target or not target.isprintable()):
        return None
    return target


def _account_key():
    """Rate-limit key for the per-account limit: the normalised email typed in."""
    return "account:" + normalise_email(request.form.get("email"))


def _login_failed(response):
    """Only failed sign-ins count against the limits."""
    return bool(g.get("login_failed"))


def _too_many_attempts(who):
    """A breach callback: answer with the form, the email kept and a clear message."""

    def answer(request_limit):
        return _too_many_attempts_page(who, request_limit)

    return answer


def _too_many_attempts_page(who, request_limit):
    """The sign-in form again, status 429, saying how long to wait."""
    minutes = max(1, math.ceil((request_limit.reset_at - time.time()) / 60))
    form = LoginForm(formdata=None, email=request.form.get("email", ""))
    message = (
        f"Too many failed sign-in attempts for {who}. Wait {minutes} minute"
        f"{'s' if minutes != 1 else ''} and try again."
    )
    page = render_template("auth/login.html", form=form, error=message)
    return current_app.response_class(page, status=429, headers={"Retry-After": str(minutes * 60)})


def end_browser_session():
    """Forget the sign-in in this browser: clear the session, delete the remember cookie.

    The order matters: ``logout_user`` marks the remember cookie for deletion in the session,
    which a ``session.clear()`` after it would undo (and the cookie would sign the user back
    in). The sign-in row itself is ended by the caller, for every copy of the cookies.
    """
    session.clear()
    logout_user()


def sign_out_this_browser():
    """End this browser's sign-in and forget it here; off to the sign-in page."""
    sign_ins.sign_out(g.sign_in, user=current_user._get_current_object())
    end_browser_session()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


def sign_out_everywhere_here(user, *, actor):
    """End every sign-in of ``user``, the person signed in on this browser (asked by
    themselves on their profile, or as an admin on their own row): this browser is forgotten
    too; off to the sign-in page."""
    ended = sign_ins.sign_out_everywhere(user, actor=actor)
    end_browser_session()  # before the message, which lives in the session it clears
    flash(f"You are signed out everywhere ({sign_ins.counted(ended)} ended).", "info")
    return redirect(url_for("auth.login"))


def start_browser_session(user, *, remember):
    """A new session for a fresh sign-in; nothing the session held before survives."""
    session.clear()
    g.sign_in = sign_ins.start(user, remember=remember, ip=audit.client_ip(),
                               user_agent=request.user_agent.string)
    login_user(user, remember=remember)
    session.permanent = True


@bp.get("/")
def home():
    """Send visitors to their landing page, or to sign in."""
    if current_user.is_authenticated:
        return redirect(landing_url(current_user))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], key_func=_account_key,
    methods=["POST"], deduct_when=_login_failed, on_breach=_too_many_attempts("this account"),
    scope="login-account",
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"],
    deduct_when=_login_failed, on_breach=_too_many_attempts("your network"),
    scope="login-ip",
)
def login():
    """Sign in with email and password; a new session starts at every sign-in."""
    if current_user.is_authenticated:
        return redirect(landing_url(current_user))
    if session.pop(SESSION_ENDED, False) and request.method == "GET":
        flash(SESSION_ENDED_MESSAGE, "info")  # the sign-in ended, and the page asked is this
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            start_browser_session(user, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next")) or landing_url(user))
        g.login_failed = True
        error = "That email and password do not match an active account."
    status = 401 if error else (400 if form.errors else 200)
    return render_template("auth/login.html", form=form, error=error), status


@bp.post("/logout")
@login_required
def logout():
    """Sign out: this sign-in ends, so its cookies stop working here and in any copy."""
    return sign_out_this_browser()
