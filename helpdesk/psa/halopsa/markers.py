"""Our marker inside HaloPSA text fields, for the writes whose marker has no field of its own.

Tickets keep ours in ``third_party_id_string``. Actions and attachments have no field the spec
promises to keep (an action's ``guid`` may be replaced by the server's own), so the marker
travels as a short visible reference, ``[ref:hd-w123]``: as the last paragraph of an action's
note, and as an attachment's ``note``. Plain text survives what HTML might not: Halo's HTML
sanitiser, its plain-text ``note`` derived from ``note_html``, and the e-mail sent to the end
user. Only a reference where we put it counts: the note's last paragraph (or, in plain text,
its last line, not a quoted one). A technician who mentions it, or a customer's e-mail reply
quoting our note (Halo makes that an action too), is not taken for our write. Reading an
action back, the reference is stripped from the note shown in the desk.
"""

import re

from helpdesk.psa.connector import PsaError

_MARKER = r"[A-Za-z0-9_.:\-]{1,64}"
MARKER = re.compile(_MARKER)
# Our paragraph at the very end of the HTML, however Halo rewrites its spacing or attributes.
_LAST_PARAGRAPH = re.compile(rf"\s*<(p|div)\b[^>]*>\s*\[ref:({_MARKER})\]\s*</\1>\s*\Z",
                             re.IGNORECASE)
# In plain text: the last words of the last line, unless that line is quoted ("> ...").
_LAST_LINE = re.compile(rf"(?m)^(?![ \t]*>)(?:.*\s)?\[ref:({_MARKER})\]\s*\Z")


def reference(marker):
    """The text that carries ``marker``; refused if text could mangle the marker."""
    if not MARKER.fullmatch(marker or ""):
        raise PsaError(f"marker {marker!r} must be 1-64 of A-Z a-z 0-9 _ . : -",
                       transient=False)
    return f"[ref:{marker}]"


def note_with_marker(note_html, marker):
    """An action's HTML with our reference as its last paragraph."""
    return f"{note_html or ''}\n<p>{reference(marker)}</p>"


def marker_in(note_html=None, note=None):
    """Our marker at the end of an action's HTML note (or, with no HTML, of its plain
    ``note``: the plain text of HTML loses the quoting that tells a quote from ours)."""
    if note_html:
        found = _LAST_PARAGRAPH.search(note_html)
        return found.group(2) if found else None
    found = _LAST_LINE.search(note or "")
    return found.group(1) if found else None


def without_marker(note_html):
    """``note_html`` without the reference we added (the technician's own text untouched)."""
    return _LAST_PARAGRAPH.sub("", note_html or "")
