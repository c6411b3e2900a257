"""The profile's forms: name and time zone, and the password."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from helpdesk.services import profiles
from helpdesk.services.accounts import AccountError


def _service_rule(clean):
    """A field validator that asks the service's own rule (``profiles.clean_*``)."""

    def validate(_form, field):
        try:
            clean(field.data)
        except AccountError as error:
            raise ValidationError(str(error)) from None

    return validate


class ProfileForm(FlaskForm):
    """Name and time zone. The page draws the time zone as a select of zones grouped by region
    (``time_zones.zone_groups``), the browser's zone ("") first; any zone the database knows
    is accepted."""

    name = StringField(
        "Name", validators=[_service_rule(profiles.clean_name)],
        render_kw={"autocomplete": "name", "maxlength": profiles.MAX_NAME_LENGTH},
    )
    time_zone = StringField("Time zone", validators=[_service_rule(profiles.clean_time_zone)])


class PasswordChangeForm(FlaskForm):
    """Current password, and the new one twice. The minimum length is the service's rule."""

    current_password = PasswordField(
        "Current password",
        validators=[DataRequired("Enter your current password."), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        "New password", validators=[DataRequired("Enter a new password."), Length(max=1024)],
        render_kw={"autocomplete": "new-password"},
    )
    new_password_again = PasswordField(
        "New password again",
        validators=[DataRequired("Enter the new password again."),
                    EqualTo("new_password", "The two new passwords are not the same.")],
        render_kw={"autocomplete": "new-password"},
    )
