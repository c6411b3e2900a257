"""Telling Halo's own records of what happened from what a person wrote.

Halo logs a status change made in its UI (and other automatic events) as an action of the
ticket: an outcome such as "Status Change" and a note of its own making, "Status changed
from In Progress to Resolved", usually hidden from the end user. The pull must not add that
as an internal note: the change itself arrives as the ticket's field, and the timeline
already says it once. A technician's real note must stay, whatever its outcome.

So an action is the system's when nothing in it is a person's: no time taken, and a note
that is empty or only Halo's automatic lines ("<field> changed from X to Y"), and it comes
from the system: a system outcome (``SYSTEM_OUTCOMES``), a ``action_systemid`` (Halo gives
its built-in outcomes a system id), or no outcome at all. A "Private Note" that happens to
read "Status changed from 1 to 2" is a person's and is kept; so is a "Status Change" with
words of the technician's beside Halo's line.
"""

import re

from helpdesk.psa.note_text import note_text

# Outcomes Halo uses for what it records by itself (compared in lower case).
SYSTEM_OUTCOMES = frozenset({
    "status change", "status changed", "change status", "changed status",
    "priority change", "priority changed", "sla hold", "sla release", "sla status change",
})
# One automatic line: "Status changed from New to In Progress", "Priority changed to High".
_AUTOMATIC_LINE = re.compile(
    r"(?i)^\s*(status|priority|ticket type|sla status|team|agent)\s+(was\s+)?changed"
    r"(\s+from\s+.+?)?\s+to\s+.+$")


def _number(value):
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _hours(value):
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


def is_system_action(item):
    """Is Halo's action ``item`` its own record of an event, with no person's words or time?"""
    if _hours(item.get("timetaken")) > 0:
        return False
    outcome = (item.get("outcome") or "").strip().lower()
    from_system = (outcome in SYSTEM_OUTCOMES or _number(item.get("action_systemid")) > 0
                   or not outcome)
    if not from_system:
        return False
    text = note_text(item.get("note_html") or "") if item.get("note_html") else \
        (item.get("note") or "")
    lines = [line for line in text.splitlines() if line.strip()]
    return all(_AUTOMATIC_LINE.match(line) for line in lines)
