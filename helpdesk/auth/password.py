"""``/password/forgot`` and ``/password/reset/<token>``: a password reset by email.

Asking for a link answers the same whatever was typed (no account enumeration): the work
behind it (``services.password_reset.request_reset``) is one lookup, and one small insert
when an active account has that email. Requests are rate-limited per email typed and per
client address. The link works once, for ``PASSWORD_RESET_MINUTES``.
"""

import math
import time

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from helpdesk.auth.forms import ForgotPasswordForm, ResetPasswordForm
from helpdesk.auth.views import bp, end_browser_session
from helpdesk.extensions import limiter
from helpdesk.services import password_reset
from helpdesk.services.accounts import MIN_PASSWORD_LENGTH, AccountError, normalise_email

SENT_MESSAGE = ("If an account uses {email}, a link to reset its password is on its way. "
                "It works once, for {minutes} minutes.")


def _email_key():
    return "reset:" + normalise_email(request.form.get("email"))


def _too_many(request_limit):
    """The form again, 429, saying how long to wait (the same for every email)."""
    minutes = max(1, math.ceil((request_limit.reset_at - time.time()) / 60))
    form = ForgotPasswordForm(formdata=None, email=request.form.get("email", ""))
    error = (f"Too many reset requests. Wait {minutes} minute{'s' if minutes != 1 else ''} "
             "and try again.")
    page = render_template("auth/forgot_password.html", form=form, error=error)
    return current_app.response_class(page, status=429, headers={"Retry-After": str(minutes * 60)})


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["PASSWORD_RESET_LIMIT_PER_ACCOUNT"],
               key_func=_email_key, methods=["POST"], on_breach=_too_many,
               scope="password-reset-account")
@limiter.limit(lambda: current_app.config["PASSWORD_RESET_LIMIT_PER_IP"], methods=["POST"],
               on_breach=_too_many, scope="password-reset-ip")
def forgot_password():
    """Ask for a reset link by email; the answer never tells whether the account exists."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        password_reset.request_reset(form.email.data)
        flash(SENT_MESSAGE.format(email=normalise_email(form.email.data),
                                  minutes=password_reset.minutes_valid()), "info")
        return redirect(url_for("auth.login"), code=303)
    status = 400 if form.errors else 200
    return render_template("auth/forgot_password.html", form=form, error=None), status


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token):
    """Set a new password through a mailed link; then sign in with it."""
    try:
        user = password_reset.user_for_token(token)  # refuse a dead link before the form
    except password_reset.ResetLinkError as error:
        return render_template("auth/reset_password.html", form=None, error=str(error)), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            password_reset.reset_password(token, new_password=form.new_password.data)
        except AccountError as error:
            form.new_password.errors.append(str(error))
        except password_reset.ResetLinkError as error:  # used meanwhile, in another tab
            return render_template("auth/reset_password.html", form=None, error=str(error)), 400
        else:
            if current_user.is_authenticated:  # every sign-in of theirs has just ended
                end_browser_session()
            flash("Your password is set. Sign in with it.", "info")
            return redirect(url_for("auth.login"), code=303)
    status = 400 if form.errors else 200
    return render_template("auth/reset_password.html", form=form, user=user, error=None,
                           min_password_length=MIN_PASSWORD_LENGTH), status
