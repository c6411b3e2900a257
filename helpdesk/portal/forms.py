"""The portal's forms: a new ticket, a comment, and a satisfaction rating.

None of them has a subscriber, organisation or reseller field: those come from the session
user, so nothing posted can change whose ticket it is.
"""

from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    MultipleFileField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, Length, Optional, ValidationError

from helpdesk.extensions import db
from helpdesk.models import PRIORITIES, Category
from helpdesk.params import parse_int
from helpdesk.request import uploads_within_limits
from helpdesk.services.ratings import MAX_COMMENT_LENGTH
from helpdesk.services.replies import MAX_BODY_LENGTH
from helpdesk.services.tickets import MAX_SUBJECT_LENGTH

SCORE_LABELS = {1: "1 · Very poor", 2: "2 · Poor", 3: "3 · OK", 4: "4 · Good", 5: "5 · Excellent"}
SCORES = tuple(SCORE_LABELS)


def whole_number(value):
    """Coerce a posted choice to an int; junk becomes None so validators say what is wrong."""
    return parse_int(value.strip() if isinstance(value, str) else value)


def active_categories():
    """The categories a customer may pick, in their configured order."""
    return db.session.scalars(
        select(Category).where(Category.active.is_(True)).order_by(Category.position, Category.name)
    ).all()


class NewTicketForm(FlaskForm):
    """Subject, category, priority and a Markdown description."""

    subject = StringField("Subject", validators=[
        DataRequired("Give your ticket a subject."),
        Length(max=MAX_SUBJECT_LENGTH,
               message=f"The subject can be at most {MAX_SUBJECT_LENGTH} characters."),
    ])
    category = SelectField("Category", coerce=whole_number, validate_choice=False)
    priority = SelectField(
        "Priority", choices=[SelectChoice(p, p.capitalize()) for p in PRIORITIES], default="normal",
        validate_choice=False,
        validators=[AnyOf(PRIORITIES, message="Choose low, normal, high or urgent.")],
    )
    attachments = MultipleFileField("Attachments (optional)", validators=[uploads_within_limits])
    description = TextAreaField("Description", validators=[
        DataRequired("Describe the problem."),
        Length(max=MAX_BODY_LENGTH,
               message=f"The description can be at most {MAX_BODY_LENGTH:,} characters."),
    ], description="Markdown: **bold**, lists, `code` and links work.")

    def __init__(self, *args, **kwargs):
        """Offer the active categories; the choice is checked against the same list."""
        super().__init__(*args, **kwargs)
        self.categories = {category.id: category for category in active_categories()}
        self.category.choices = [SelectChoice(cid, c.name) for cid, c in self.categories.items()]

    def validate_category(self, field):
        """Only an active category will do (a stale or forged id gets a clear message)."""
        if field.data not in self.categories:
            raise ValidationError("Choose a category.")

    def chosen_category(self):
        """The Category picked (valid once ``validate`` passed)."""
        return self.categories.get(self.category.data)


class CommentForm(FlaskForm):
    """A customer's comment on their ticket."""

    body = TextAreaField("Add a comment", validators=[
        DataRequired("Write a comment first."),
        Length(max=MAX_BODY_LENGTH,
               message=f"A comment can be at most {MAX_BODY_LENGTH:,} characters."),
    ])
    attachments = MultipleFileField("Attach files (optional)",
                                    validators=[uploads_within_limits])


class RatingForm(FlaskForm):
    """A score from 1 to 5 and an optional comment."""

    rating = RadioField(
        "How did we do?", coerce=whole_number,
        choices=[SelectChoice(n, label) for n, label in SCORE_LABELS.items()],
        validate_choice=False,
        validators=[AnyOf(SCORES, message="Choose a rating from 1 to 5.")],
    )
    comment = TextAreaField("Anything to add? (optional)", validators=[
        Optional(),
        Length(max=MAX_COMMENT_LENGTH,
               message=f"The comment can be at most {MAX_COMMENT_LENGTH} characters."),
    ])
