"""Ticket categories: adding, renaming, reordering, retiring and restoring them.

Nothing is ever deleted: a retired category (``active`` false) is no longer offered for new
tickets or for re-categorising (``open_ticket`` and ``change_category`` refuse it), but the
tickets that have it keep it and the queue can still filter by it. Every change is audited,
and every commit that touches a category renews the queue's choices token
(``helpdesk.desk.choices``), so each process reads its lists again.
"""

from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.models import Category
from helpdesk.services import audit
from helpdesk.services.errors import Refused
from helpdesk.services.ordering import swap_with_neighbour

MAX_NAME_LENGTH = 100  # the column's size


class CategoryError(Refused):
    """A category change was refused; the message says why, ``field`` names the input."""

    FIELD = "name"


def all_categories():
    """Every category, active and retired, in their order."""
    return db.session.scalars(select(Category).order_by(Category.position, Category.id)).all()


def active_categories():
    """The categories offered for new tickets and re-categorising, in their order."""
    return db.session.scalars(
        select(Category).where(Category.active.is_(True))
        .order_by(Category.position, Category.name)
    ).all()


def find_category(name):
    """A category by name, case-insensitively, or None."""
    return db.session.scalar(
        select(Category).where(func.lower(Category.name) == (name or "").strip().lower()))


def _checked_name(name, *, category=None):
    name = " ".join((name or "").split())
    if not name:
        raise CategoryError("A category needs a name.")
    if len(name) > MAX_NAME_LENGTH:
        raise CategoryError(f"A category name can be at most {MAX_NAME_LENGTH} characters.")
    same = find_category(name)
    if same is not None and same is not category:
        raise CategoryError(f"A category named {same.name} already exists.")
    return name


def add_category(name, *, actor):
    """Add an active category at the end of the list."""
    name = _checked_name(name)
    last = db.session.scalar(select(func.max(Category.position)))
    category = Category(name=name, position=(last or 0) + 1, active=True)
    db.session.add(category)
    db.session.flush()
    audit.record("category.add", actor=actor, field="category", new=name)
    db.session.commit()
    return category


def rename_category(category, name, *, actor):
    """Give a category a new name; tickets that have it show the new one."""
    name = _checked_name(name, category=category)
    if name != category.name:
        old, category.name = category.name, name
        audit.record("category.rename", actor=actor, field="category", old=old, new=name)
        db.session.commit()
    return category


def move_category(category, *, up, actor):
    """Swap a category with its neighbour above (``up``) or below; at either end, nothing."""
    if not swap_with_neighbour(all_categories(), category, up=up):
        return category
    audit.record("category.move", actor=actor, field="category", old=category.name,
                 new="up" if up else "down")
    db.session.commit()
    return category


def set_category_active(category, *, active, actor):
    """Retire (``active`` false) or restore a category; audited when it changes."""
    if category.active != active:
        category.active = active
        audit.record("category.restore" if active else "category.retire", actor=actor,
                     field="category", new=category.name)
        db.session.commit()
    return category
