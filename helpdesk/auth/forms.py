"""The sign-in form."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    """Email, password and "remember me"."""

    email = EmailField("Email", validators=[DataRequired("Enter your email."), Length(max=254)])
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password."), Length(max=1024)]
    )
    remember = BooleanField("Keep me signed in on this device")


class ForgotPasswordForm(FlaskForm):
    """The email to send a reset link to."""

    email = EmailField("Email", validators=[DataRequired("Enter your email."), Length(max=254)])


class ResetPasswordForm(FlaskForm):
    """The new password, twice. The minimum length is the service's rule."""

    new_password = PasswordField(
        "New password", validators=[DataRequired("Enter a new password."), Length(max=1024)],
        render_kw={"autocomplete": "new-password"})
    new_password_again = PasswordField(
        "New password again",
        validators=[DataRequired("Enter the new password again."),
                    EqualTo("new_password", "The two passwords are not the same.")],
        render_kw={"autocomplete": "new-password"})
