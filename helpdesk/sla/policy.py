"""SLA policy: the workspace calendar, the targets per priority and the escalation levels.

Defaults, used until an admin saves ``/admin/sla`` (``SlaSettings`` and ``SlaTarget`` rows):

- calendar: Monday to Friday 09:00-17:00 in ``Europe/London``, no holidays;
- targets (first response / resolution): urgent 1 h / 4 h, high 4 h / 1 business day, normal
  1 / 3 business days, low 3 / 5 business days. A **business day** is the calendar's longest
  day of opening hours (8 hours for 09:00-17:00), so "1 d" is a full working day whichever
  hour the clock starts;
- at risk at 80% of a target; breached when it is due;
- escalation at 70% (notify the assignee), 85% (the assignee and the team) and 95% (admins,
  and raise the priority one step);
- auto-close: off.

Targets are stored in business minutes; an organisation's target wins over its reseller's, and
a reseller's over the workspace's. A blank override inherits.
"""

import json
import re
from dataclasses import dataclass
from datetime import time
from zoneinfo import ZoneInfo

from flask import g
from sqlalchemy import or_, select

from helpdesk.extensions import db
from helpdesk.models import PRIORITIES, SlaSettings, SlaTarget
from helpdesk.sla.business_time import WEEKDAYS, Calendar, parse_date

DEFAULT_ZONE = "Europe/London"
DEFAULT_HOURS = dict.fromkeys(WEEKDAYS[:5], ("09:00", "17:00")) | {"sat": None, "sun": None}
# (first response, resolution) as typed in the admin page: "h" hours, "d" business days.
DEFAULT_TARGETS = {
    "urgent": ("1h", "4h"), "high": ("4h", "1d"), "normal": ("1d", "3d"), "low": ("3d", "5d"),
}
DEFAULT_AT_RISK = 80
NOTIFY_CHOICES = ("assignee", "team", "admins")
DEFAULT_LEVELS = (
    {"percent": 70, "notify": ["assignee"], "raise_priority": False, "reassign_to": None},
    {"percent": 85, "notify": ["assignee", "team"], "raise_priority": False,
     "reassign_to": None},
    {"percent": 95, "notify": ["admins"], "raise_priority": True, "reassign_to": None},
)
SETTINGS_ID = 1
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|h|d)?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class EscalationLevel:
    """One level: at ``percent`` of the running target, notify, raise, reassign."""

    percent: int
    notify: tuple = ()
    raise_priority: bool = False
    reassign_to: int | None = None  # a user id


@dataclass(frozen=True)
class Policy:
    """The workspace's SLA rules, read once per request or sweep (``load``)."""

    calendar: Calendar
    at_risk_percent: int = DEFAULT_AT_RISK
    levels: tuple = ()
    auto_close_days: int | None = None

    @property
    def day_minutes(self):
        """A business day in minutes (see the module docstring)."""
        return self.calendar.day_seconds() // 60


def parse_hours(text):
    """``"09:00-17:00"`` as (opens, closes) times, blank as None; ``24:00`` closes at midnight.
    ValueError when it is neither."""
    text = (text or "").strip()
    if not text:
        return None
    match = re.fullmatch(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})", text)
    if not match:
        raise ValueError("Write opening hours as 09:00-17:00, or leave the day blank.")
    oh, om, ch, cm = (int(part) for part in match.groups())
    if oh > 23 or om > 59 or cm > 59 or ch > 24 or (ch == 24 and cm):
        raise ValueError("Hours run from 00:00 to 24:00.")
    opens, closes = time(oh, om), time(0) if ch == 24 else time(ch, cm)
    if ch != 24 and (ch, cm) <= (oh, om):
        raise ValueError("Closing comes after opening.")
    return opens, closes


def format_hours(hours):
    """(opens, closes) back as ``"09:00-17:00"``; None as blank."""
    if hours is None:
        return ""
    opens, closes = hours
    return f"{opens:%H:%M}-{'24:00' if closes == time(0) else f'{closes:%H:%M}'}"


def parse_duration(text, *, day_minutes):
    """A target as typed (``90m``, ``4h``, ``1.5d``, a bare number is hours) in business
    minutes; blank is None. ValueError when it is not a positive duration."""
    text = (text or "").strip()
    if not text:
        return None
    match = _DURATION.match(text)
    if not match:
        raise ValueError("Write a target as minutes (90m), hours (4h) or business days (1d).")
    amount, unit = float(match.group(1)), (match.group(2) or "h").lower()
    minutes = round(amount * {"m": 1, "min": 1, "h": 60, "d": day_minutes}[unit])
    if not 1 <= minutes <= 366 * 24 * 60:
        raise ValueError("A target is between one minute and a year.")
    return minutes


def format_duration(minutes, *, day_minutes):
    """Business minutes as the admin page writes them: ``1d``, ``4h``, ``90m``."""
    if minutes is None:
        return ""
    if minutes % day_minutes == 0:
        return f"{minutes // day_minutes}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


def settings_row():
    """The saved settings, or None (the defaults apply)."""
    return db.session.get(SlaSettings, SETTINGS_ID)


def load():
    """The workspace's ``Policy``: saved settings or the defaults; read once per app context
    (a request, a job), which ``forget`` ends when the settings change."""
    if "sla_policy" not in g:
        g.sla_policy = _read()
    return g.sla_policy


def forget():
    """The settings changed: the next ``load`` in this context reads them again."""
    g.pop("sla_policy", None)
    g.pop("sla_targets", None)


def _read():
    row = settings_row()
    if row is None:
        return Policy(calendar=calendar_from(DEFAULT_ZONE, DEFAULT_HOURS, ""),
                      levels=tuple(EscalationLevel(**_level(level)) for level in DEFAULT_LEVELS))
    return Policy(
        calendar=calendar_from(row.time_zone, json.loads(row.hours), row.holidays),
        at_risk_percent=row.at_risk_percent,
        levels=tuple(sorted((EscalationLevel(**_level(level))
                             for level in json.loads(row.escalation_levels or "[]")),
                            key=lambda level: level.percent)),
        auto_close_days=row.auto_close_days,
    )


def _level(level):
    return {**level, "notify": tuple(level.get("notify") or ())}


def calendar_from(zone, hours, holidays):
    """A ``Calendar`` from stored text: a zone name, ``{"mon": ["09:00", "17:00"]}``, and ISO
    dates one a line."""
    week = tuple(parse_hours("-".join(hours[day])) if hours.get(day) else None
                 for day in WEEKDAYS)
    days = frozenset(parse_date(line) for line in (holidays or "").splitlines() if line.strip())
    return Calendar(ZoneInfo(zone), week, days)


def default_minutes(priority, *, day_minutes):
    """The built-in (first response, resolution) targets of ``priority`` in minutes."""
    return tuple(parse_duration(text, day_minutes=day_minutes)
                 for text in DEFAULT_TARGETS[priority])


def workspace_targets(policy):
    """Every priority's workspace targets (saved or built in), as {priority: (fr, res)}."""
    rows = db.session.scalars(select(SlaTarget).where(
        SlaTarget.organisation_id.is_(None), SlaTarget.reseller_id.is_(None))).all()
    saved = {row.priority: row for row in rows}
    return {priority: _pick([saved.get(priority)],
                            default_minutes(priority, day_minutes=policy.day_minutes))
            for priority in PRIORITIES}


def targets_for(ticket, policy):
    """``ticket``'s (first response, resolution) targets in business seconds: organisation,
    then reseller, then workspace, then the defaults, each field on its own. One query per
    priority, organisation and reseller in an app context (the sweep asks for hundreds of
    tickets that share a few), kept until ``forget``."""
    key = (ticket.priority, ticket.organisation_id, ticket.reseller_id, policy.day_minutes)
    known = g.setdefault("sla_targets", {})
    if key not in known:
        known[key] = _targets(ticket, policy)
    return known[key]


def _targets(ticket, policy):
    scopes = [(SlaTarget.organisation_id.is_(None) & SlaTarget.reseller_id.is_(None))]
    if ticket.organisation_id is not None:
        scopes.append(SlaTarget.organisation_id == ticket.organisation_id)
    if ticket.reseller_id is not None:
        scopes.append(SlaTarget.reseller_id == ticket.reseller_id)
    rows = db.session.scalars(select(SlaTarget).where(
        SlaTarget.priority == ticket.priority, or_(*scopes))).all()

    def rank(row):
        return 0 if row.organisation_id is not None else 1 if row.reseller_id is not None else 2

    minutes = _pick(sorted(rows, key=rank),
                    default_minutes(ticket.priority, day_minutes=policy.day_minutes))
    return tuple(value * 60 for value in minutes)


def _pick(rows, defaults):
    """The first set value of each field among ``rows`` (best first), else the default."""
    first = next((r.first_response_minutes for r in rows
                  if r is not None and r.first_response_minutes), defaults[0])
    resolution = next((r.resolution_minutes for r in rows
                       if r is not None and r.resolution_minutes), defaults[1])
    return first, resolution
