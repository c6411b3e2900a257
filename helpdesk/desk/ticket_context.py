"""What the ticket page and its fragment need, computed in one place."""

from sqlalchemy import select

from helpdesk.access import may
from helpdesk.extensions import db
from helpdesk.models import PRIORITIES, STATUSES, Category
from helpdesk.services.tickets import assignable_users
from helpdesk.template_filters import status_label
from helpdesk.timeline import (
    attachments_by_reply,
    minutes_logged,
    ticket_version,
    timeline_for,
)


def ticket_context(user, ticket, *, draft=None, error=None, error_place=None):
    """Template context for a ticket as ``user`` sees it; ``draft`` refills the reply box."""
    items = timeline_for(user, ticket)
    can_edit = may(user, "edit", ticket)
    assignees = assignable_users(ticket) if can_edit else []
    categories = db.session.scalars(
        select(Category).where(Category.active.is_(True)).order_by(Category.position)
    ).all() if can_edit else []
    return {
        "ticket_version": ticket_version,
        "ticket": ticket,
        "timeline": items,
        "attachments": attachments_by_reply(user, ticket),
        "minutes_logged": minutes_logged(items),
        "can_reply": may(user, "reply", ticket),
        "can_edit": can_edit,
        "can_delete": may(user, "delete", ticket),
        "assignees": assignees,
        "options": {  # (value, label) pairs for the header's inline controls
            "status": [(s, status_label(s)) for s in STATUSES],
            "priority": [(p, p.capitalize()) for p in PRIORITIES],
            "category": [(c.id, c.name) for c in categories],
            "assignee": [("", "Unassigned"), *((u.id, u.name) for u in assignees)],
        },
        "statuses": STATUSES,
        "priorities": PRIORITIES,
        "draft": draft or {},
        "error": error,
        "error_place": error_place,
    }
