"""Small formatting helpers for templates, and the access questions templates may ask.

Templates ask ``may(current_user, "edit", ticket)`` and ``may_administer(current_user)``
instead of repeating roles and permissions: the rule stays in ``helpdesk.access``.
"""

from markupsafe import Markup

from helpdesk.access import may, may_administer
from helpdesk.markdown import current_html, render_markdown
from helpdesk.models.ticket import customer_status, number_prefix
from helpdesk.time_zones import exact_time, viewer_zone

STATUS_LABELS = {
    "open": "Open",
    "in_progress": "In progress",
    "waiting_on_customer": "Waiting on customer",
    "waiting_on_vendor": "Waiting on vendor",
    "on_hold": "On hold",
    "resolved": "Resolved",
    "closed": "Closed",
}


def when(value, zone=None):
    """A time as people read it, in ``zone`` (the viewer's when not given; a page drawing
    many, such as the queue's rows, passes it): ``23 Nov 2026, 17:30 CET``. The date is the
    zone's, so a time just after midnight there is on that zone's day."""
    if value is None:
        return ""
    return exact_time(value, zone or viewer_zone())


SLA_LABELS = {"on_time": "On time", "at_risk": "At risk", "breached": "Breached",
              "paused": "Paused"}


def sla_label(state):
    """The human name of an SLA state (``helpdesk/sla/clock.py``)."""
    return SLA_LABELS.get(state, state or "")


def status_label(status):
    """The human name of a status."""
    return STATUS_LABELS.get(status, status)


def filesize(size):
    """A byte count as people read it: ``512 bytes``, ``3.4 KB``, ``12.0 MB``."""
    if size is None:
        return ""
    if size < 1024:
        return f"{size} byte{'' if size == 1 else 's'}"
    for unit in ("KB", "MB", "GB"):
        size /= 1024
        if size < 1024 or unit == "GB":
            return f"{size:.1f} {unit}"
    return ""


def body_html(item):
    """A ticket's or reply's body as HTML: the stored copy, or a fresh render when an older
    renderer made it. Either way it comes from ``helpdesk.markdown``, which sanitised it."""
    html = current_html(item.body, item.body_html, item.body_renderer)
    return Markup(html)  # noqa: S704 - sanitised by helpdesk.markdown


def markdown(source):
    """Markdown source rendered and sanitised by ``helpdesk.markdown`` (the reply preview)."""
    return Markup(render_markdown(source))  # noqa: S704 - sanitised by helpdesk.markdown


def now_iso():
    """The current UTC time, for "changed since" polling."""
    from helpdesk.models.timestamps import utcnow

    return utcnow().isoformat()


def init_app(app):
    """Register the filters."""
    app.add_template_global(now_iso)
    app.add_template_global(number_prefix)
    app.add_template_global(may)
    app.add_template_global(may_administer)
    app.add_template_global(viewer_zone)
    app.add_template_filter(when)
    app.add_template_filter(status_label)
    app.add_template_filter(sla_label)
    app.add_template_filter(body_html)
    app.add_template_filter(markdown)
    app.add_template_filter(filesize)
    app.add_template_filter(customer_status)
