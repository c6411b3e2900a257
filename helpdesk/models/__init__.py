"""The help desk's tables. Import models from here so Alembic and the app see all of them."""

from helpdesk.models.category import Category
from helpdesk.models.organisation import Organisation
from helpdesk.models.reply import Reply
from helpdesk.models.reseller import Reseller
from helpdesk.models.ticket import PRIORITIES, STATUSES, Ticket
from helpdesk.models.user import PERMISSIONS, ROLES, User

__all__ = [
    "PERMISSIONS",
    "PRIORITIES",
    "ROLES",
    "STATUSES",
    "Category",
    "Organisation",
    "Reply",
    "Reseller",
    "Ticket",
    "User",
]
