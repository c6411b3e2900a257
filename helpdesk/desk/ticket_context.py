"""What the ticket page and its fragment need, computed in one place."""

from helpdesk.access import may
from helpdesk.models import PRIORITIES, STATUSES
from helpdesk.services.categories import active_categories
from helpdesk.services.mail_senders import mail_panel
from helpdesk.services.psa_ticket_sync import ticket_sync
from helpdesk.services.teams import all_teams
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
    categories = active_categories() if can_edit else []
    can_set_team = may(user, "set_team", ticket)
    teams = all_teams() if can_set_team else []
    if can_edit and not ticket.category.active:  # it keeps its retired category, shown as such
        categories = [*categories, ticket.category]
    return {
        "ticket_version": ticket_version,
        "ticket": ticket,
        "timeline": items,
        "attachments": attachments_by_reply(user, ticket),
        "minutes_logged": minutes_logged(items),
        "can_reply": may(user, "reply", ticket),
        "can_edit": can_edit,
        "can_delete": may(user, "delete", ticket),
        "can_set_team": can_set_team and bool(teams),  # no teams yet: nothing to choose
        "assignees": assignees,
        "options": {  # (value, label) pairs for the header's inline controls
            "status": [(s, status_label(s)) for s in STATUSES],
            "priority": [(p, p.capitalize()) for p in PRIORITIES],
            "category": [(c.id, c.name if c.active else f"{c.name} (retired)")
                         for c in categories],
            "assignee": [("", "Unassigned"), *((u.id, u.name) for u in assignees)],
            "team": [("", "No team"), *((t.id, t.name) for t in teams)],
        },
        "statuses": STATUSES,
        "priorities": PRIORITIES,
        "draft": draft or {},
        "error": error,
        "error_place": error_place,
        "psa_sync": ticket_sync(ticket),  # None without a PSA connection (no query)
        "mail_intake": mail_panel(ticket),  # from an unknown sender; files left out
    }
