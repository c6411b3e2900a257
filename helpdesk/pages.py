"""One helper decides whether a request gets a fragment or the full page."""

from flask import render_template, request


def wants_fragment():
    """An htmx request that is neither boosted nor a history restore wants just the fragment."""
    headers = request.htmx
    return bool(headers) and not headers.boosted and not headers.history_restore_request


def render_page(page_template, fragment_template, /, **context):
    """Render the fragment alone for htmx, else the page (which includes the same fragment)."""
    html = render_template(fragment_template if wants_fragment() else page_template, **context)
    return html, 200, {"Vary": "HX-Request"}
