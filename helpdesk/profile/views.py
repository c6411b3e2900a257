"""``/profile`` and its actions: every one a plain form post that redirects with a message,
but making an API token, whose answer is the page showing the token this once (a redirect
would have to carry the secret in the session cookie)."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from helpdesk.auth.views import sign_out_everywhere_here, sign_out_this_browser
from helpdesk.extensions import limiter
from helpdesk.models.api_token import MAX_NAME_LENGTH as MAX_TOKEN_NAME_LENGTH
from helpdesk.profile.forms import PasswordChangeForm, ProfileForm
from helpdesk.services import (
    accounts,
    api_tokens,
    notification_preferences,
    profiles,
    sign_ins,
)
from helpdesk.time_zones import browser_zone_name, viewer_zone, zone_groups

bp = Blueprint("profile", __name__, url_prefix="/profile")


def _page(form=None, profile_form=None, status=200, new_token=None, token_error=None,
          token_name=""):
    """The profile page, with this browser's sign-in marked among the open ones; a form
    given is one refused, shown with what was typed and what is wrong. ``new_token``: a
    token just made, ``(token, secret)``, whose secret the page shows this once."""
    if profile_form is None:
        profile_form = ProfileForm(formdata=None, data={
            "name": current_user.name, "time_zone": current_user.time_zone or ""})
    html = render_template(
        "profile/profile.html", form=form or PasswordChangeForm(formdata=None),
        profile_form=profile_form, zone_groups=zone_groups(profile_form.time_zone.data),
        browser_zone=browser_zone_name(), shown_zone=viewer_zone().key,
        sign_ins=sign_ins.open_for(current_user),
        this_sign_in=g.sign_in, min_password_length=accounts.MIN_PASSWORD_LENGTH,
        notification_choices=notification_preferences.choices_for(current_user),
        api_tokens=api_tokens.tokens_of(current_user), new_token=new_token,
        token_error=token_error, token_name=token_name,
        token_name_length=MAX_TOKEN_NAME_LENGTH,
    )
    return html, status


@bp.get("")
@login_required
def profile():
    """Name and time zone, open sign-ins and the password form."""
    return _page()


@bp.post("/details")
@login_required
def update_details():
    """Change your name and time zone (empty: your browser's); each change is audited."""
    form = ProfileForm()
    if form.validate_on_submit():
        try:
            changed = profiles.update_profile(
                current_user, name=form.name.data, time_zone=form.time_zone.data,
                actor=current_user)
        except accounts.AccountError as error:
            getattr(form, error.field).errors.append(str(error))
        else:
            flash(_saved_message(changed), "info")
            return redirect(url_for("profile.profile"))
    return _page(profile_form=form, status=400)


def _saved_message(changed):
    if not changed:
        return "Nothing to change."
    if "time_zone" not in changed:
        return "Your name is changed."
    zone = current_user.time_zone
    shown = f"times show in {zone}" if zone else "times show in your browser's zone"
    return f"Your {'name and time zone are' if 'name' in changed else 'time zone is'} " \
        f"changed: {shown}."


@bp.post("/notifications")
@login_required
def update_notifications():
    """Keep on the channels ticked (``<event>.email``, ``<event>.in_app``), turn off the
    rest; each event changed is audited."""
    Channels = notification_preferences.Channels
    chosen = {
        event: Channels(email=f"{event}.email" in request.form,
                        in_app=f"{event}.in_app" in request.form)
        for event in notification_preferences.events_for(current_user)
    }
    changed = notification_preferences.set_channels(current_user, chosen, actor=current_user)
    flash("Your notification channels are saved." if changed else "Nothing to change.", "info")
    return redirect(url_for("profile.profile", _anchor="notifications-heading"))


@bp.post("/sign-ins/<int:sign_in_id>/end")
@login_required
def end_sign_in(sign_in_id):
    """Sign out one of your sign-ins; this browser's own is a plain sign-out."""
    sign_in = sign_ins.find_open_for(current_user, sign_in_id)
    if sign_in is None:
        abort(404)
    if sign_in.id == g.sign_in.id:
        return sign_out_this_browser()
    sign_ins.end(sign_in, actor=current_user)
    flash(f"Signed out {sign_in.device} ({sign_in.ip or 'unknown address'}).", "info")
    return redirect(url_for("profile.profile"))


@bp.post("/sign-out-everywhere")
@login_required
def sign_out_everywhere():
    """End every sign-in of yours, this one included."""
    user = current_user._get_current_object()
    return sign_out_everywhere_here(user, actor=user)


def _password_key():
    return f"password-change:{current_user.id}"


@bp.post("/password")
@login_required
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], key_func=_password_key,
    deduct_when=lambda response: bool(g.get("wrong_password")), scope="password-change",
)
def change_password():
    """Change the password; every other sign-in ends, this one stays.

    Wrong current passwords count against the sign-in limit per account, so a borrowed
    session cannot be used to guess the password.
    """
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            ended = accounts.change_password(
                current_user, current_password=form.current_password.data,
                new_password=form.new_password.data, keep=g.sign_in,
            )
        except accounts.AccountError as error:
            g.wrong_password = error.field == "current_password"
            getattr(form, error.field).errors.append(str(error))
        else:
            flash(f"Your password is changed; {sign_ins.counted(ended, other=True)} ended.",
                  "info")
            return redirect(url_for("profile.profile"))
    return _page(form=form, status=400)


@bp.post("/api-tokens")
@login_required
def create_api_token():
    """Make a personal API token and show it, once, on the page (copy it now)."""
    name = request.form.get("name", "")
    try:
        made = api_tokens.create_token(current_user, name=name, actor=current_user)
    except api_tokens.TokenError as error:
        return _page(status=400, token_error=str(error), token_name=name)
    return _page(new_token=made)


@bp.post("/api-tokens/<int:token_id>/revoke")
@login_required
def revoke_api_token(token_id):
    """Revoke one of your API tokens: scripts using it get 401 from now on."""
    token = api_tokens.find_token_of(current_user, token_id)
    if token is None:
        abort(404)
    api_tokens.revoke(token, actor=current_user)
    flash(f"Revoked the API token “{token.name}”: it no longer works.", "info")
    return redirect(url_for("profile.profile", _anchor="api-tokens-heading"))
