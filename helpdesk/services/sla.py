"""SLA settings as an admin changes them: the calendar, the targets and the escalation levels.

Each save reads what was typed, refuses what does not make sense (``SlaError`` names the
field; nothing is saved), and writes one audit entry saying what changed. A change then
enqueues ``jobs.sla.recompute_clocks``, which recomputes the live tickets' due times in
batches on the automation queue (by its dotted name: jobs import the services, not back).
"""

import json
from datetime import date

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import PRIORITIES, Organisation, Reseller, SlaSettings, SlaTarget, User
from helpdesk.models.timestamps import utcnow
from helpdesk.queues import enqueue
from helpdesk.services import audit
from helpdesk.services.errors import Refused
from helpdesk.sla import policy as policies
from helpdesk.sla.business_time import WEEKDAYS, CalendarError
from helpdesk.time_zones import zone_named

MAX_LEVELS = 5
MAX_HOLIDAYS = 400
MAX_AUTO_CLOSE_DAYS = 365


class SlaError(Refused):
    """A setting refused; ``field`` names the input."""


def _row():
    """The settings row, made from the defaults on first save."""
    row = policies.settings_row()
    if row is None:
        row = SlaSettings(
            id=policies.SETTINGS_ID, time_zone=policies.DEFAULT_ZONE,
            hours=json.dumps(policies.DEFAULT_HOURS), holidays="",
            at_risk_percent=policies.DEFAULT_AT_RISK,
            escalation_levels=json.dumps(list(policies.DEFAULT_LEVELS)), auto_close_days=None)
        db.session.add(row)
    return row


def calendar_values():
    """The calendar's fields as the form shows them."""
    row = policies.settings_row()
    hours = json.loads(row.hours) if row else policies.DEFAULT_HOURS
    return {
        "time_zone": row.time_zone if row else policies.DEFAULT_ZONE,
        **{day: "-".join(hours[day]) if hours.get(day) else "" for day in WEEKDAYS},
        "holidays": row.holidays if row else "",
        "at_risk_percent": str(row.at_risk_percent if row else policies.DEFAULT_AT_RISK),
        "auto_close_days": str(row.auto_close_days or "") if row else "",
    }


def _recompute_clocks():
    """Have a worker recompute every live ticket's clock under the saved settings."""
    enqueue("jobs.sla.recompute_clocks", 0, queue="automation")


def _whole(text, *, field, low, high, label):
    text = (text or "").strip()
    if not text.isdigit() or not low <= int(text) <= high:
        raise SlaError(f"{label} is a whole number from {low} to {high}.", field=field)
    return int(text)


def save_calendar(values, *, actor):
    """Save the time zone, hours per weekday, holidays, at-risk share and auto-close."""
    zone = (values.get("time_zone") or "").strip()
    if zone_named(zone) is None:
        raise SlaError(f"{zone or 'An empty name'} is not a time zone (e.g. Europe/London).",
                       field="time_zone")
    hours = {}
    for day in WEEKDAYS:
        try:
            parsed = policies.parse_hours(values.get(day))
        except ValueError as error:
            raise SlaError(str(error), field=day) from None
        hours[day] = policies.format_hours(parsed).split("-") if parsed else None
    holidays = []
    for line in (values.get("holidays") or "").splitlines():
        if line.strip():
            try:
                holidays.append(date.fromisoformat(line.strip()))
            except ValueError:
                raise SlaError(f"{line.strip()} is not a date: write one a line, as "
                               "2026-12-25.", field="holidays") from None
    if len(holidays) > MAX_HOLIDAYS:
        raise SlaError(f"At most {MAX_HOLIDAYS} holidays.", field="holidays")
    at_risk = _whole(values.get("at_risk_percent"), field="at_risk_percent", low=1, high=99,
                     label="At risk")
    auto_close = None
    if (values.get("auto_close_days") or "").strip():
        auto_close = _whole(values.get("auto_close_days"), field="auto_close_days", low=1,
                            high=MAX_AUTO_CLOSE_DAYS, label="Auto-close")
    try:
        policies.calendar_from(zone, hours, "")
    except CalendarError as error:
        raise SlaError(str(error), field="mon") from None
    row = _row()
    before = calendar_values()
    row.time_zone, row.hours = zone, json.dumps(hours)
    row.holidays = "\n".join(day.isoformat() for day in sorted(set(holidays)))
    row.at_risk_percent, row.auto_close_days = at_risk, auto_close
    row.updated_at = utcnow()
    db.session.flush()
    after = calendar_values()
    changed = {key: after[key] for key in after if after[key] != before[key]}
    if changed:
        audit.record("sla.calendar", actor=actor, field="calendar",
                     old=_summary({key: before[key] for key in changed}),
                     new=_summary(changed))
    db.session.commit()
    policies.forget()
    if changed:
        _recompute_clocks()
    return changed


def _summary(values):
    return "; ".join(f"{key}: {value or 'none'}".replace("\n", ", ")
                     for key, value in values.items())


def scope_of(text):
    """``organisation:3``, ``reseller:2`` or blank (the workspace) as (kind, object); a
    scope that names nothing is refused."""
    text = (text or "").strip()
    if not text:
        return None, None
    kind, _, ident = text.partition(":")
    model = {"organisation": Organisation, "reseller": Reseller}.get(kind)
    found = db.session.get(model, int(ident)) if model and ident.isdigit() else None
    if found is None:
        raise SlaError("Choose an organisation or a reseller.", field="scope")
    return kind, found


def _scoped(kind, owner):
    query = select(SlaTarget)
    if kind == "organisation":
        return query.where(SlaTarget.organisation_id == owner.id)
    if kind == "reseller":
        return query.where(SlaTarget.reseller_id == owner.id)
    return query.where(SlaTarget.organisation_id.is_(None), SlaTarget.reseller_id.is_(None))


def target_values(kind=None, owner=None):
    """{priority: (first response, resolution)} as typed text for one scope (blank:
    inherits; the workspace shows the defaults it inherits)."""
    day = policies.load().day_minutes
    rows = {row.priority: row for row in db.session.scalars(_scoped(kind, owner))}
    values = {}
    for priority in PRIORITIES:
        row = rows.get(priority)
        first, resolution = (row.first_response_minutes, row.resolution_minutes) if row else (
            None, None)
        if kind is None:
            defaults = policies.default_minutes(priority, day_minutes=day)
            first, resolution = first or defaults[0], resolution or defaults[1]
        values[priority] = (policies.format_duration(first, day_minutes=day),
                            policies.format_duration(resolution, day_minutes=day))
    return values


def save_targets(kind, owner, values, *, actor):
    """Save one scope's targets: ``values`` maps ``first_response-<priority>`` and
    ``resolution-<priority>`` to typed text. The workspace needs every target; an override's
    blank inherits, and an override with nothing set is removed."""
    day = policies.load().day_minutes
    parsed = {}
    for priority in PRIORITIES:
        pair = []
        for clock in ("first_response", "resolution"):
            field = f"{clock}-{priority}"
            try:
                minutes = policies.parse_duration(values.get(field), day_minutes=day)
            except ValueError as error:
                raise SlaError(str(error), field=field) from None
            if minutes is None and kind is None:
                raise SlaError("The workspace needs every target.", field=field)
            pair.append(minutes)
        if pair[0] and pair[1] and pair[1] < pair[0]:
            raise SlaError("Resolution cannot be due before the first response.",
                           field=f"resolution-{priority}")
        parsed[priority] = tuple(pair)
    before = target_values(kind, owner)
    rows = {row.priority: row for row in db.session.scalars(_scoped(kind, owner))}
    for priority, (first, resolution) in parsed.items():
        row = rows.get(priority)
        if first is None and resolution is None:
            if row is not None:
                db.session.delete(row)
            continue
        if row is None:
            row = SlaTarget(priority=priority,
                            organisation_id=owner.id if kind == "organisation" else None,
                            reseller_id=owner.id if kind == "reseller" else None)
            db.session.add(row)
        row.first_response_minutes, row.resolution_minutes = first, resolution
    db.session.flush()
    after = target_values(kind, owner)
    changed = [p for p in PRIORITIES if before[p] != after[p]]
    if changed:
        audit.record("sla.targets", actor=actor, field=scope_label(kind, owner)[:64],
                     old=_targets_text(before, changed), new=_targets_text(after, changed))
    db.session.commit()
    if changed:
        _recompute_clocks()
    return changed


def _targets_text(values, priorities):
    return "; ".join(f"{p} {values[p][0] or 'inherit'} / {values[p][1] or 'inherit'}"
                     for p in priorities)


def scope_label(kind, owner):
    """How a scope reads: "the workspace", "Acme (organisation)"."""
    return "the workspace" if kind is None else f"{owner.name} ({kind})"


def overrides():
    """Every organisation and reseller with targets of its own, as (kind, owner, values)."""
    rows = db.session.scalars(select(SlaTarget).where(
        (SlaTarget.organisation_id.isnot(None)) | (SlaTarget.reseller_id.isnot(None)))).all()
    owners = {}
    for row in rows:
        key = ("organisation", row.organisation) if row.organisation_id else (
            "reseller", row.reseller)
        owners[(key[0], key[1].id)] = key
    found = [(kind, owner, target_values(kind, owner)) for kind, owner in owners.values()]
    return sorted(found, key=lambda item: (item[0], item[1].name))


def level_values():
    """The escalation levels as the form shows them, with one blank row to add another."""
    levels = [
        {"percent": str(level.percent), "notify": list(level.notify),
         "raise_priority": level.raise_priority, "reassign_to": level.reassign_to or ""}
        for level in policies.load().levels
    ]
    if len(levels) < MAX_LEVELS:
        levels.append({"percent": "", "notify": [], "raise_priority": False,
                       "reassign_to": ""})
    return levels


def staff():
    """Who a level may reassign to: active agents and admins."""
    return db.session.scalars(select(User).where(
        User.role.in_(("agent", "admin")), User.disabled_at.is_(None)).order_by(User.name)).all()


def save_levels(form, *, actor):
    """Save the escalation levels from rows ``percent-N``, ``notify-N`` (several),
    ``raise-N``, ``reassign-N``; a row without a percentage is dropped."""
    levels = []
    staff_ids = {person.id for person in staff()}
    for n in range(MAX_LEVELS):
        percent = (form.get(f"percent-{n}") or "").strip()
        if not percent:
            continue
        value = _whole(percent, field=f"percent-{n}", low=1, high=100, label="A level")
        notify = [name for name in form.getlist(f"notify-{n}")
                  if name in policies.NOTIFY_CHOICES]
        reassign = (form.get(f"reassign-{n}") or "").strip()
        if reassign and (not reassign.isdigit() or int(reassign) not in staff_ids):
            raise SlaError("Reassign to an active agent or admin.", field=f"reassign-{n}")
        levels.append({"percent": value, "notify": notify,
                       "raise_priority": bool(form.get(f"raise-{n}")),
                       "reassign_to": int(reassign) if reassign else None})
    percents = [level["percent"] for level in levels]
    if len(set(percents)) != len(percents):
        raise SlaError("Each level needs its own percentage.", field="levels")
    levels.sort(key=lambda level: level["percent"])
    row = _row()
    old = row.escalation_levels
    row.escalation_levels = json.dumps(levels)
    row.updated_at = utcnow()
    changed = json.loads(old or "[]") != levels
    if changed:
        audit.record("sla.escalation", actor=actor, field="escalation levels",
                     old=_levels_text(json.loads(old or "[]")), new=_levels_text(levels))
    db.session.commit()
    policies.forget()
    if changed:
        _recompute_clocks()
    return levels


def _levels_text(levels):
    return "; ".join(
        f"{level['percent']}%: " + ", ".join(
            [f"notify {' and '.join(level['notify'])}"] * bool(level["notify"])
            + ["raise priority"] * bool(level["raise_priority"])
            + ([f"reassign to user {level['reassign_to']}"] if level["reassign_to"] else [])
        ) for level in levels) or "none"

