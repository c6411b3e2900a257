"""Desk forms."""

from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, MultipleFileField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from helpdesk.extensions import db
from helpdesk.models import PRIORITIES, Category
from helpdesk.params import parse_id
from helpdesk.request import uploads_within_limits


class NewTicketForm(FlaskForm):
    """A ticket opened by staff or a reseller for one of their subscribers."""

    subscriber = EmailField("Subscriber's email",
                            validators=[DataRequired("Whose ticket is it?"), Length(max=254)])
    subject = StringField("Subject", validators=[
        DataRequired("A ticket needs a subject."),
        Length(max=500, message="The subject can be at most 500 characters.")])
    category = SelectField("Category", coerce=parse_id)
    priority = SelectField(
        "Priority", choices=[SelectChoice(p, p.capitalize()) for p in PRIORITIES],
        default="normal")
    body = TextAreaField("Description", validators=[
        DataRequired("Describe the problem."), Length(max=100_000)])
    attachments = MultipleFileField("Attachments (optional)", validators=[uploads_within_limits])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._categories = db.session.scalars(
            select(Category).where(Category.active.is_(True)).order_by(Category.position)
        ).all()
        self.category.choices = [SelectChoice(c.id, c.name) for c in self._categories]

    def category_choice(self):
        """The chosen Category object."""
        return next((c for c in self._categories if c.id == self.category.data), None)
