"""Attachments: storing uploaded files beside a ticket or reply, and opening them again.

The bytes live outside the web root, under ``ATTACHMENTS_PATH`` (default
``<instance>/attachments``) as ``<2 hex>/<storage_name>``, where ``storage_name`` is a random
uuid: nothing a user typed ever becomes part of a path. The row keeps the sanitised original
name for display and downloads.

``store_attachments`` adds rows and audit entries to the session and leaves the commit to the
caller, so a reply and its files land in one transaction. It asks ``helpdesk.access`` first:
files on a reply need what the reply needed, files on the opening message that the uploader
may open a ticket for its subscriber. Files it wrote are deleted again if
that transaction ends without a commit (rollback, failed flush, closed session), so a failed
submission leaves no orphans on disk.
"""

import hashlib
import logging
import mimetypes
import os
import re
import tempfile
import uuid
from pathlib import Path

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.utils import secure_filename

from helpdesk.extensions import db
from helpdesk.models import Attachment
from helpdesk.services import audit, psa_outbox
from helpdesk.services.errors import TicketError
from helpdesk.services.permissions import require, require_open_for

log = logging.getLogger(__name__)

CHUNK_SIZE = 64 * 1024
MAX_FILENAME_LENGTH = 255
MAX_CONTENT_TYPE_LENGTH = 127
FALLBACK_STEM = "attachment"
PENDING_KEY = "helpdesk.attachment_files_pending"
_MIMETYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")


def storage_root():
    """The folder holding every attachment: ``ATTACHMENTS_PATH`` or ``<instance>/attachments``."""
    configured = current_app.config.get("ATTACHMENTS_PATH")
    return Path(configured or Path(current_app.instance_path) / "attachments")


def attachment_path(attachment):
    """Where an attachment's bytes are: sharded by the first two hex digits of its name."""
    name = attachment.storage_name
    return storage_root() / name[:2] / name


def max_attachment_bytes():
    """The per-file cap in bytes, read at call time so config changes apply at once."""
    return int(current_app.config["MAX_ATTACHMENT_MB"] * 1024 * 1024)


def clean_filename(raw):
    """A display name safe anywhere: ``secure_filename``, with a readable fallback, ≤255 chars.

    ``secure_filename`` drops path parts and anything outside ASCII letters, digits, ``._-``.
    When that leaves no stem (a name written only in, say, Cyrillic), the file is called
    ``attachment`` with its extension kept, so people still recognise what it is.
    """
    raw = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = secure_filename(raw)
    _, dot, extension = raw.rpartition(".")
    extension = secure_filename(extension).lower() if dot else ""
    if not name or (extension and name.lower() == extension):
        name = f"{FALLBACK_STEM}.{extension}" if extension else FALLBACK_STEM
    if len(name) > MAX_FILENAME_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) < 16:
            name = stem[:MAX_FILENAME_LENGTH - len(extension) - 1] + "." + extension
        else:
            name = name[:MAX_FILENAME_LENGTH]
    return name


def declared_content_type(upload, filename):
    """The type the browser declared (or one guessed from the name), as a bare mimetype.

    It is kept for information only: downloads decide what to send from an allow-list. The
    browser's header is any text (a NUL, even, which PostgreSQL refuses), so only a
    well-formed ``type/subtype`` is kept.
    """
    mimetype = (upload.mimetype or "").strip().lower()
    if not _MIMETYPE.fullmatch(mimetype):
        mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return mimetype[:MAX_CONTENT_TYPE_LENGTH]


def _is_empty(upload):
    """A file input left blank arrives as a ``FileStorage`` without a name."""
    return upload is None or not upload.filename


def _write_to_disk(upload, filename, cap):
    """Stream one upload into place; return ``(storage_name, size, sha256)``.

    Chunks go to a temporary file in the target folder while size and hash are counted; the
    finished file is renamed into place, so a reader never sees half a file. Past the cap the
    temporary file is removed and a ``TicketError`` names the file.
    """
    storage_name = uuid.uuid4().hex
    folder = storage_root() / storage_name[:2]
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    handle = tempfile.NamedTemporaryFile(dir=folder, prefix=".upload-", delete=False)  # noqa: SIM115
    try:
        with handle:
            while chunk := upload.stream.read(CHUNK_SIZE):
                size += len(chunk)
                if size > cap:
                    raise TicketError(
                        f"{filename} is larger than the {_megabytes(cap)} limit for one "
                        "attachment. Make it smaller or share it another way.",
                        field="attachments")
                digest.update(chunk)
                handle.write(chunk)
        os.replace(handle.name, folder / storage_name)
    except BaseException:
        _remove(Path(handle.name))
        raise
    return storage_name, size, digest.hexdigest()


def _megabytes(size):
    """A cap in bytes as people read it: ``25 MB``."""
    megabytes = size / (1024 * 1024)
    return f"{megabytes:g} MB" if megabytes >= 1 else f"{size:,} bytes"


def store_attachments(ticket, *, uploader, files, reply=None, origin=None):
    """Store uploaded files on ``ticket`` (and ``reply``); the caller commits.

    ``files`` are Werkzeug ``FileStorage`` objects (``request.files.getlist(...)``); blank
    inputs are skipped. Returns the new ``Attachment`` rows, flushed so they have ids. A file
    over ``MAX_ATTACHMENT_MB`` raises ``TicketError(field="attachments")`` naming it, after
    removing every file this call had written: all or nothing. The caller should roll back
    on that error, as on any other ``TicketError``. An uploader who may not add to this
    reply (or open this ticket) gets ``NotAllowed`` before anything is written. Each file is
    written for the PSA too, within its cap, unless it came from there (``origin="psa"``).
    """
    _require_may_attach(uploader, ticket, reply)
    cap = max_attachment_bytes()
    if reply is not None and reply.id is None:
        db.session.flush()  # the reply needs its id before its files point at it
    written = []
    attachments = []
    try:
        for upload in files or ():
            if _is_empty(upload):
                continue
            filename = clean_filename(upload.filename)
            storage_name, size, sha256 = _write_to_disk(upload, filename, cap)
            written.append(storage_name)
            attachments.append(Attachment(
                ticket_id=ticket.id, reply_id=getattr(reply, "id", None),
                uploader_id=uploader.id, filename=filename,
                content_type=declared_content_type(upload, filename), size=size,
                sha256=sha256, storage_name=storage_name,
            ))
        for attachment in attachments:
            db.session.add(attachment)
            audit.record("attachment.add", actor=uploader, ticket=ticket, field="attachment",
                         new=f"{attachment.filename} ({attachment.size} bytes)")
        _remove_unless_committed(written)
        db.session.flush()
    except BaseException:
        _forget_pending(written)
        _remove_stored(written)
        raise
    for attachment in attachments:
        psa_outbox.record_attachment(ticket, attachment, origin=origin)
    return attachments


def _require_may_attach(uploader, ticket, reply):
    """Files go where their uploader may write: the reply's own action, or opening the ticket."""
    if reply is None:
        require(uploader, "view", ticket)
        require_open_for(uploader, ticket.subscriber)
    elif reply.internal:
        require(uploader, "internal_note", ticket)
    else:
        customer = uploader.is_authenticated and uploader.is_customer
        require(uploader, "comment" if customer else "reply", ticket)


def open_attachment(attachment):
    """The stored bytes as a binary file object, for ``send_file``.

    Raises ``FileNotFoundError`` when the file is gone from disk (restored database, lost
    volume); the download view answers that with a 404 and a log line.
    """
    return attachment_path(attachment).open("rb")


def thread_attachments(attachments):
    """Group attachments by reply id (None for the ticket's opening message), oldest first.

    Pass it rows from ``access.visible_attachments`` so internal notes' files stay hidden.
    """
    grouped = {}
    for attachment in sorted(attachments, key=lambda a: (a.created_at, a.id)):
        grouped.setdefault(attachment.reply_id, []).append(attachment)
    return grouped


def _remove(path):
    """Delete a file if it is there; a failure is logged, never raised over the real error."""
    try:
        path.unlink(missing_ok=True)
    except OSError:
        log.exception("could not remove attachment file %s", path)


def _remove_stored(storage_names):
    """Delete stored attachment files by storage name."""
    root = storage_root()
    for name in storage_names:
        _remove(root / name[:2] / name)


# Cleaning up after a transaction that does not commit. The session remembers which files
# this transaction wrote (with their folder, as no app context may be active when the
# transaction ends); a commit forgets them, any other end of the transaction deletes them.

def _remove_unless_committed(storage_names):
    """Register files written in the current transaction for removal if it fails."""
    root = storage_root()
    pending = db.session.info.setdefault(PENDING_KEY, [])
    pending.extend(root / name[:2] / name for name in storage_names)


def _forget_pending(storage_names):
    """Drop files from the pending list (they are being removed right now)."""
    pending = db.session.info.get(PENDING_KEY)
    if pending:
        names = set(storage_names)
        pending[:] = [path for path in pending if path.name not in names]


@event.listens_for(Session, "after_commit")
def _keep_committed_files(session):
    """The rows are saved, so their files stay (a savepoint's release saves nothing yet)."""
    if not session.in_nested_transaction():
        session.info.pop(PENDING_KEY, None)


@event.listens_for(Session, "after_transaction_end")
def _remove_uncommitted_files(session, transaction):
    """A transaction that ended without a commit leaves no files behind."""
    if transaction.parent is not None:
        return  # only the outermost transaction decides whether the rows were saved
    for path in session.info.pop(PENDING_KEY, None) or ():
        _remove(path)
