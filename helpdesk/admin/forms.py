"""The admin pages' forms. What the values must satisfy together is the services' rule
(``services.accounts``, ``services.organisations``); the forms only read what was typed."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from helpdesk.models import PERMISSIONS, ROLES
from helpdesk.params import parse_id
from helpdesk.services import organisations

ROLE_LABELS = {"subscriber": "Subscriber", "company_admin": "Company admin",
               "reseller": "Reseller", "agent": "Agent", "admin": "Admin"}
PERMISSION_LABELS = {
    "tickets.view": "View their subscribers' tickets",
    "tickets.view_all": "View all tickets",
    "tickets.create": "Open tickets",
    "tickets.edit": "Change status, priority, category, assignee",
    "tickets.reply": "Reply and write internal notes",
    "tickets.delete": "Delete tickets",
}


def optional_id(value):
    """A posted choice as an id, or None for "none" and for junk (the view then says so)."""
    if value in (None, ""):
        return None
    return parse_id(value) if isinstance(value, str) else value


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserForm(FlaskForm):
    """A user's name, email, role, reseller, organisation and reseller permissions."""

    name = StringField("Name", validators=[Length(max=200)])
    email = EmailField("Email", validators=[DataRequired("Enter an email address."),
                                            Length(max=254)])
    role = SelectField("Role", choices=[SelectChoice(role, ROLE_LABELS[role]) for role in ROLES])
    reseller = SelectField("Reseller", coerce=optional_id, validate_choice=False)
    organisation = SelectField("Organisation", coerce=optional_id, validate_choice=False)
    permissions = CheckboxesField(
        "Reseller permissions (reseller users only)",
        choices=[SelectChoice(name, PERMISSION_LABELS[name]) for name in PERMISSIONS],
        validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reseller.choices = [SelectChoice("", "None (the operator)")] + [
            SelectChoice(r.id, r.name) for r in organisations.all_resellers()]
        self.organisation.choices = [SelectChoice("", "None")] + [
            SelectChoice(o.id, o.name + (f" ({o.reseller.name})" if o.reseller else ""))
            for o in organisations.all_organisations()]


class NewUserForm(UserForm):
    """A new user: as ``UserForm``, and a password or a set-password link by mail."""

    password = PasswordField("Password", validators=[Length(max=1024)],
                             render_kw={"autocomplete": "new-password"})
    send_link = BooleanField("No password: mail them a link to set their own")
