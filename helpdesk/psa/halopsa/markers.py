"""Our marker inside HaloPSA text fields, for the writes whose marker has no field of its own.

Tickets keep ours in ``third_party_id_string``. Actions and attachments have no field the spec
promises to keep (an action's ``guid`` may be replaced by the server's own), so the marker
travels as a short visible reference, ``[ref:hd-w123]``: at the end of an action's note (its
own paragraph) and as an attachment's ``note``. Plain text survives what HTML might not: Halo's
HTML sanitiser, its plain-text ``note`` derived from ``note_html``, and the e-mail sent to the
end user. Reading an action back, the reference is parsed out and stripped from the note shown
in the desk, so a technician's text is never mistaken for it (only a whole ``[ref:...]`` token
counts, and the last one wins).
"""

import re

from helpdesk.psa.connector import PsaError

# What a marker may hold: the outbox's markers (``String(64)``) in a form no text mangles.
MARKER = re.compile(r"[A-Za-z0-9_.:\-]{1,64}")
_REFERENCE = re.compile(r"\[ref:([A-Za-z0-9_.:\-]{1,64})\]")
# The paragraph we add, however Halo rewrites its spacing or attributes.
_REFERENCE_PARAGRAPH = re.compile(
    r"\s*<p[^>]*>\s*\[ref:[A-Za-z0-9_.:\-]{1,64}\]\s*</p>\s*$", re.IGNORECASE)
_TRAILING_REFERENCE = re.compile(r"\s*\[ref:[A-Za-z0-9_.:\-]{1,64}\]\s*$")


def reference(marker):
    """The text that carries ``marker``; refused if text could mangle the marker."""
    if not MARKER.fullmatch(marker or ""):
        raise PsaError(f"marker {marker!r} must be 1-64 of A-Z a-z 0-9 _ . : -",
                       transient=False)
    return f"[ref:{marker}]"


def note_with_marker(note_html, marker):
    """An action's HTML with our reference as its last paragraph."""
    return f"{note_html or ''}\n<p>{reference(marker)}</p>"


def marker_in(*texts):
    """The marker referenced last in the first of ``texts`` that holds one, else None."""
    for text in texts:
        found = _REFERENCE.findall(text or "")
        if found:
            return found[-1]
    return None


def without_marker(note_html):
    """``note_html`` without the reference we added (the technician's own text untouched)."""
    if not note_html:
        return note_html or ""
    stripped = _REFERENCE_PARAGRAPH.sub("", note_html)
    if stripped == note_html:
        stripped = _TRAILING_REFERENCE.sub("", note_html)
    return stripped
