"""How an admin form post is answered, the same way on every admin page.

- Success: a plain post gets a flash and a redirect (303); an htmx post gets the page's
  fragment again, with the message in it.
- Refused input: the page (status 400) or, for htmx, the fragment (422, which htmx swaps)
  with the message beside the field and what was typed kept.
"""

from flask import flash, redirect, render_template

from helpdesk.pages import wants_fragment


def changed(message, url, *, fragment=None, **context):
    """The answer to a change that went through."""
    if fragment is not None and wants_fragment():
        return render_template(fragment, notice=message, **context), 200, {"Vary": "HX-Request"}
    flash(message, "info")
    return redirect(url, code=303)


def refused(page, fragment=None, **context):
    """The form again with its errors: 400 for a plain post, 422 for htmx (swapped in)."""
    if fragment is not None and wants_fragment():
        return render_template(fragment, **context), 422, {"Vary": "HX-Request"}
    return render_template(page, **context), 400, {"Vary": "HX-Request"}
