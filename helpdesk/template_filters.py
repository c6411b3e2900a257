"""Small formatting helpers for templates."""

from markupsafe import Markup

STATUS_LABELS = {
    "open": "Open",
    "in_progress": "In progress",
    "waiting_on_customer": "Waiting on customer",
    "waiting_on_vendor": "Waiting on vendor",
    "on_hold": "On hold",
    "resolved": "Resolved",
    "closed": "Closed",
}


def when(value):
    """A timestamp as people read it: ``23 Nov 2026, 16:30 UTC``."""
    if value is None:
        return ""
    return value.strftime("%d %b %Y, %H:%M UTC")


def status_label(status):
    """The human name of a status."""
    return STATUS_LABELS.get(status, status)


def stored_html(html):
    """HTML produced and sanitised by helpdesk.markdown, stored with the reply."""
    return Markup(html)  # noqa: S704 - sanitised by helpdesk.markdown before it was stored


def now_iso():
    """The current UTC time, for "changed since" polling."""
    from helpdesk.models.timestamps import utcnow

    return utcnow().isoformat()


def init_app(app):
    """Register the filters."""
    app.add_template_global(now_iso)
    app.add_template_filter(when)
    app.add_template_filter(status_label)
    app.add_template_filter(stored_html)
