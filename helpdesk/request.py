"""The help desk's request: what it accepts from a browser before any view reads it.

Two rules live here, so no view has to remember them:

- **No NUL characters.** PostgreSQL refuses ``\\x00`` in text, so a NUL typed (or forged)
  into any field, even the sign-in email, failed the query with a 500. Query and form values
  (and their names) arrive without it: the rest of the text is kept, and no query can carry
  one.
- **Uploads past the caps are thrown away, not the form.** Werkzeug refuses a body over
  ``MAX_CONTENT_LENGTH`` outright, and the reply typed beside the file was lost. Instead,
  files are streamed through ``CappedUpload``: once the request's files pass
  ``MAX_UPLOAD_MB`` in all, their bytes are dropped and ``request.uploads_refused`` is set,
  while the text fields are still read. The forms then answer 413 with the text kept and
  nothing saved (``uploads_refused_message``). ``MAX_CONTENT_LENGTH`` stays as a hard
  ceiling, a few times the cap, past which the plain 413 page is the answer. (One file over
  ``MAX_ATTACHMENT_MB`` is the attachment service's to refuse: it names the file.)
"""

import tempfile

from flask import current_app, request
from htmx_flask.requests import HtmxAwareRequest
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from wtforms.validators import ValidationError

IN_MEMORY_BYTES = 500 * 1024  # Werkzeug's own threshold for spooling an upload to disk


def _without_nul(value):
    return value.replace("\x00", "") if isinstance(value, str) else value


class ParametersWithoutNul(ImmutableMultiDict):
    """``request.args``, ``request.form`` (and the names in ``request.files``) minus NULs."""

    def __init__(self, mapping=None):
        if mapping is not None:
            mapping = [(_without_nul(key), _without_nul(value))
                       for key, value in MultiDict(mapping).items(multi=True)]
        super().__init__(mapping)


class CappedUpload(tempfile.SpooledTemporaryFile):
    """Where one uploaded file's bytes go while the form is parsed; past the cap, nowhere."""

    def __init__(self, owner):
        super().__init__(max_size=IN_MEMORY_BYTES, mode="w+b")
        self.owner = owner

    def write(self, data):
        """Keep ``data`` until the request's files pass ``MAX_UPLOAD_MB``; then drop it all."""
        self.owner.upload_bytes += len(data)
        if self.owner.upload_bytes > current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024:
            self.owner.uploads_refused = True
        if self.owner.uploads_refused:
            self.truncate(0)  # nothing of a refused request is saved: free the space now
            return len(data)
        return super().write(data)


API_PREFIX = "/api/"


class Request(HtmxAwareRequest):
    """Flask's request (with htmx-flask's ``request.htmx``) and the two rules above."""

    parameter_storage_class = ParametersWithoutNul
    uploads_refused = False
    upload_bytes = 0

    @property
    def is_api(self):
        """A request to the JSON API (``helpdesk.api``): it carries a bearer token, never a
        session, so the session and the sign-in cookies are neither read nor written."""
        return self.path.startswith(API_PREFIX)

    def _get_file_stream(self, total_content_length, content_type, filename=None,
                         content_length=None):
        """Werkzeug's hook for where a file part's bytes go: a ``CappedUpload``."""
        return CappedUpload(self)


def uploads_refused_message():
    """What to tell someone whose files went past the caps; None when they did not."""
    if not request.uploads_refused:
        return None
    config = current_app.config
    return (f"The files were too large (max {config['MAX_ATTACHMENT_MB']} MB each, "
            f"{config['MAX_UPLOAD_MB']} MB in all); nothing was saved. Your text is kept: "
            "attach smaller files and send again.")


def uploads_within_limits(form, field):
    """WTForms validator for a file field: refuse the form when its files were dropped."""
    message = uploads_refused_message()
    if message:
        raise ValidationError(message)


def init_app(app):
    """Make every request a help desk ``Request`` (after ``htmx.init_app``, which sets its own)."""
    app.request_class = Request
