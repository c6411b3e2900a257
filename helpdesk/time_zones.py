"""Time zones: which one a person reads times in, and the names they may choose from.

Times are stored in UTC (``models.timestamps``) and shown in the viewer's zone: the one they
chose on their profile (``users.time_zone``), else their browser's, which static/app.js
records in the ``tz`` cookie (``Intl.DateTimeFormat().resolvedOptions().timeZone``) on every
page, the sign-in page included, so the first page after signing in is drawn right; else UTC.
A name counts only when the IANA database knows it (``zoneinfo``: the system's files, or the
``tzdata`` package where a system has none); a cookie or a form naming anything else counts
as no zone at all.

A request works its zone out once (``viewer_zone``): a page of fifty rows converts with one
``ZoneInfo``. Mail, written by a worker outside any request, uses ``zone_of(person)``: their
chosen zone, else UTC (the server never learns a browser's zone without a request).
"""

from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from zoneinfo import ZoneInfo, available_timezones

from flask import g, has_request_context, request
from flask_login import current_user

COOKIE = "tz"
UTC_ZONE = ZoneInfo("UTC")  # the fallback, as a ZoneInfo: every zone here has a ``key``
MAX_NAME_LENGTH = 64  # users.time_zone
# Names in the database that are not places: the build's placeholder and the files that
# stand for the server's own zone.
NOT_ZONES = frozenset({"Factory", "localtime", "posixrules"})
# The continents and oceans of zone.tab: the profile's select groups its zones by them.
REGIONS = ("Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia",
           "Europe", "Indian", "Pacific")


@lru_cache(maxsize=1)
def zone_names():
    """Every name a zone may be given by: the IANA database's, links (``US/Eastern``,
    ``Asia/Calcutta``) included, as browsers send some of them. Read from disk once."""
    return frozenset(name for name in available_timezones()
                     if name not in NOT_ZONES and not name.startswith(("posix/", "right/")))


def known(name):
    """Whether ``name`` is a zone (a string the IANA database knows)."""
    return isinstance(name, str) and name in zone_names()


def zone_named(name):
    """The ``ZoneInfo`` called ``name``, or None when there is no such zone."""
    return ZoneInfo(name) if known(name) else None


def browser_zone_name():
    """The zone this request's browser said it is in (the ``tz`` cookie), or None."""
    if not has_request_context():
        return None
    name = request.cookies.get(COOKIE)
    return name if known(name) else None


def zone_of(person):
    """The zone ``person`` chose, else UTC: for what is written outside a request (mail)."""
    return zone_named(getattr(person, "time_zone", None)) or UTC_ZONE


def viewer_zone():
    """The zone of whoever this request is for: theirs, their browser's, or UTC. Worked out
    once per request; UTC outside one."""
    if not has_request_context():
        return UTC_ZONE
    zone = g.get("viewer_zone")
    if zone is None:
        chosen = getattr(current_user, "time_zone", None)
        zone = zone_named(chosen) or zone_named(browser_zone_name()) or UTC_ZONE
        g.viewer_zone = zone
    return zone


def exact_time(value, zone):
    """``value`` (an aware time, or a naive one read as UTC) as people read it in ``zone``,
    its abbreviation (or offset) after it: ``23 Nov 2026, 17:30 CET``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(zone)
    return f"{local:%d %b %Y, %H:%M} {local.tzname()}"


def zone_groups(chosen=None, now=None):
    """The profile's choices: ``[(region, [(name, label), ...]), ...]``, UTC first, then each
    region's zones by name, labelled with the place and its offset now (``New York
    (UTC-05:00)``). The places are zone.tab's (one or more zones per country); any zone can be
    chosen, and ``chosen`` (a zone) when not among them is added under "Other"."""
    now = now or datetime.now(UTC)
    listed = _listed_zones()
    groups = [("UTC", [("UTC", "UTC")])]
    for region, zones in listed:
        groups.append((region, [(zone.key, f"{_place(zone.key)} ({_offset(now, zone)})")
                                for zone in zones]))
    if known(chosen) and chosen != "UTC" \
            and not any(chosen == zone.key for _, zones in listed for zone in zones):
        groups.append(("Other", [(chosen, f"{chosen} ({_offset(now, ZoneInfo(chosen))})")]))
    return groups


@lru_cache(maxsize=1)
def _listed_zones():
    """zone.tab's zones by region, as ``ZoneInfo``s, read once (the ``tzdata`` package's copy
    of the table; without it, every regional name the database has). Kept, so the page's
    offsets are worked out without reading a file per zone."""
    try:
        table = (resources.files("tzdata") / "zoneinfo" / "zone.tab").read_text("utf-8")
        names = {line.split("\t")[2] for line in table.splitlines()
                 if line and not line.startswith("#")}
    except (ModuleNotFoundError, FileNotFoundError, IndexError):
        names = zone_names()
    by_region = {}
    for name in sorted(names & zone_names()):
        region = name.split("/", 1)[0]
        if region in REGIONS and "/" in name:
            by_region.setdefault(region, []).append(name)
    return tuple((region, tuple(ZoneInfo(name) for name in by_region[region]))
                 for region in REGIONS if region in by_region)


def _place(name):
    """``America/Argentina/Buenos_Aires`` -> ``Argentina / Buenos Aires``."""
    return name.split("/", 1)[1].replace("_", " ").replace("/", " / ")


def _offset(now, zone):
    """The zone's offset from UTC at ``now``: ``UTC+05:30``, ``UTC-03:00``, ``UTC+00:00``."""
    seconds = int(now.astimezone(zone).utcoffset().total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"
