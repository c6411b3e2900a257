"""``/admin/categories``: add, rename, reorder, retire and restore ticket categories.

Every form is a plain post that redirects, and with htmx swaps the list in place. The rules
and the audit live in ``services.categories``; the queue's lists are renewed by its commit.
"""

from flask import Blueprint, abort, request, url_for
from flask_login import current_user

from helpdesk.admin.answers import changed, refused
from helpdesk.admin.views import admins_only
from helpdesk.extensions import db
from helpdesk.models import Category
from helpdesk.pages import render_page
from helpdesk.services import categories as service

bp = Blueprint("admin_categories", __name__, url_prefix="/admin/categories")
bp.before_request(admins_only)

PAGE, FRAGMENT = "admin/categories.html", "admin/_categories.html"


def _context(**extra):
    return {"categories": service.all_categories(), "errors": {}, "typed": {}, **extra}


def _category(category_id):
    return db.session.get(Category, category_id) or abort(404)


def _done(message):
    return changed(message, url_for("admin_categories.categories"), fragment=FRAGMENT,
                   **_context())


def _refused(error, key):
    """The list again with the message beside the input ``key`` and the text kept."""
    db.session.rollback()
    typed = {key: request.form.get("name", "")}
    return refused(PAGE, FRAGMENT, **_context(errors={key: str(error)}, typed=typed))


@bp.get("")
def categories():
    """Every category in order, active and retired, with their controls."""
    return render_page(PAGE, FRAGMENT, **_context())


@bp.post("")
def add():
    """Add a category at the end."""
    try:
        category = service.add_category(request.form.get("name"), actor=current_user)
    except service.CategoryError as error:
        return _refused(error, "new")
    return _done(f"Added {category.name}.")


@bp.post("/<int:category_id>/name")
def rename(category_id):
    """Rename a category."""
    category = _category(category_id)
    old = category.name
    try:
        service.rename_category(category, request.form.get("name"), actor=current_user)
    except service.CategoryError as error:
        return _refused(error, category.id)
    return _done(f"Renamed {old} to {category.name}." if old != category.name
                 else f"{old} is unchanged.")


@bp.post("/<int:category_id>/move")
def move(category_id):
    """Move a category one place up or down (``direction``)."""
    category = _category(category_id)
    direction = request.form.get("direction")
    if direction not in ("up", "down"):
        abort(400)
    service.move_category(category, up=direction == "up", actor=current_user)
    return _done(f"Moved {category.name} {direction}.")


@bp.post("/<int:category_id>/retire")
def retire(category_id):
    """Retire a category: no longer offered; tickets keep it."""
    category = service.set_category_active(_category(category_id), active=False,
                                           actor=current_user)
    return _done(f"Retired {category.name}: it is no longer offered for new tickets.")


@bp.post("/<int:category_id>/restore")
def restore(category_id):
    """Offer a retired category again."""
    category = service.set_category_active(_category(category_id), active=True,
                                           actor=current_user)
    return _done(f"Restored {category.name}.")
