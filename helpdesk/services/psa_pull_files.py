"""A PSA ticket's files, brought to the desk once each.

When the pull reads a ticket's actions it also has the list of its files
(``RemoteTicket.attachments``). Each file that is new here is downloaded (a request of the
budget each) and stored through the desk's attachment service with ``origin="psa"``, so it
is never sent back:
- on the reply its action became, when that reply is known here and as visible as the file
  (a file Halo keeps from the end user never sits on a public reply);
- otherwise on a reply of its own ("File added in HaloPSA: name"): an internal note when the
  PSA keeps the file from the end user, so a subscriber never sees it (the desk hides an
  internal note's files from customers, as it does for files added here), else public.

New means: not linked yet (``psa_links`` kind ``attachment``, written by the pull and by
the outbox when it uploads ours) and not the echo of one of our uploads (their marker,
``hd-attachment-<id>``, names a file of this ticket). Once each: the link is written in the
commit that stores the file's row (``linked_on_commit``), so a pull that runs twice, or dies
halfway, stores nothing twice; a file written to disk by a transaction that never committed
is removed by the attachment service.

A file larger than the desk's own limit (``MAX_ATTACHMENT_MB``) is not downloaded when the
PSA says its size, and never stored: the run's notes say so, and the ticket's timeline once
(staff only). A spent budget, or the PSA failing for now, leaves the rest for the next run
(the ticket's actions stay due); a file the PSA refuses to give is noted and skipped.
"""

import io
import re
from dataclasses import dataclass

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from helpdesk.extensions import db
from helpdesk.models import Attachment, PsaWrite, Reply, TicketEvent
from helpdesk.models.timestamps import utcnow
from helpdesk.psa.connector import BudgetSpent, PsaError
from helpdesk.services.attachments import max_attachment_bytes, store_attachments
from helpdesk.services.errors import TicketError
from helpdesk.services.psa_linking import (
    FROM_PSA,
    linked_external_ids,
    linked_on_commit,
    local_id_of,
)
from helpdesk.services.psa_outbox import psa_label
from helpdesk.services.psa_people import author_of, desk_user_of
from helpdesk.services.replies import add_reply
from helpdesk.services.tickets import mark_activity

_OUR_UPLOAD = re.compile(r"hd-attachment-(\d+)")


@dataclass
class FilesAdded:
    """What ``add_files`` did: files stored, and whether some wait for the next run."""

    added: int = 0
    waiting: bool = False


def _ours(ticket, markers):
    """Of ``markers``, those of our own uploads of this ticket's files."""
    markers = {m for m in markers if m}
    if not markers:
        return set()
    ours = set(db.session.scalars(select(PsaWrite.marker).where(
        PsaWrite.ticket_id == ticket.id, PsaWrite.marker.in_(markers))))
    numbered = {int(found.group(1)): marker for marker in markers - ours
                if (found := _OUR_UPLOAD.fullmatch(marker))}
    if numbered:
        ours |= {numbered[file_id] for file_id in db.session.scalars(select(Attachment.id).where(
            Attachment.ticket_id == ticket.id, Attachment.id.in_(numbered)))}
    return ours


def new_files(connection, ticket, attachments):
    """The files not on the desk yet: not linked, and not echoes of our uploads."""
    linked = linked_external_ids(connection.id, ("attachment",),
                                 [a.external_id for a in attachments])
    ours = _ours(ticket, [a.marker for a in attachments])
    fresh = [a for a in attachments
             if str(a.external_id) not in linked and not (a.marker and a.marker in ours)]
    return sorted(fresh, key=lambda a: (len(a.external_id), a.external_id))


def add_files(connection, ticket, remote, *, download, notes):
    """Store each new file of ``remote`` (a ``RemoteTicket`` read with its actions) on
    ``ticket``; ``download(external_id)`` fetches one file's bytes. Returns ``FilesAdded``."""
    done = FilesAdded()
    cap = max_attachment_bytes()
    actions = {action.external_id: action for action in remote.actions}
    for remote_file in new_files(connection, ticket, remote.attachments):
        if remote_file.size is not None and remote_file.size > cap:
            _too_large(connection, ticket, remote_file, size=remote_file.size, cap=cap,
                       notes=notes)
            continue
        try:
            content = download(remote_file.external_id)
        except BudgetSpent:
            done.waiting = True
            notes.append(f"{ticket.number}: its files wait for the next run (budget spent)")
            return done
        except PsaError as error:
            notes.append(f"{ticket.number}: file {remote_file.filename} not brought in: {error}")
            if error.transient:
                done.waiting = True
                return done
            continue
        if len(content) > cap:
            _too_large(connection, ticket, remote_file, size=len(content), cap=cap, notes=notes)
            continue
        action = actions.get(remote_file.action_external_id)
        author = author_of(connection, action.who) if action else desk_user_of(connection)
        try:
            _store(connection, ticket, remote_file, content, author=author)
        except TicketError as error:  # refused by the attachment service (its cap, say)
            db.session.rollback()
            notes.append(f"{ticket.number}: file {remote_file.filename} not brought in: {error}")
            continue
        done.added += 1
    return done


def _store(connection, ticket, remote_file, content, *, author):
    """One file on the reply its action became, else on a reply of its own (one commit,
    with its link)."""
    upload = FileStorage(stream=io.BytesIO(content), filename=remote_file.filename,
                         content_type=remote_file.content_type or "application/octet-stream")
    reply = _reply_of(connection, remote_file)
    with linked_on_commit(connection.id, "attachment", Attachment, remote_file.external_id):
        if reply is not None:
            store_attachments(ticket, uploader=author, files=[upload], reply=reply, **FROM_PSA)
            mark_activity(ticket, at=utcnow(), public=not reply.internal)
            db.session.commit()
            return
        add_reply(ticket, author=author,
                  body=f"File added in {psa_label(connection.kind)}: {remote_file.filename}",
                  internal=remote_file.internal,
                  status=None if remote_file.internal else ticket.status,
                  files=[upload], **FROM_PSA)


def _reply_of(connection, remote_file):
    """The reply the file's action is here, if it is as visible as the file."""
    local = local_id_of(connection.id, "reply", remote_file.action_external_id)
    reply = db.session.get(Reply, local) if local else None
    if reply is None or reply.internal != remote_file.internal:
        return None
    return reply


def _too_large(connection, ticket, remote_file, *, size, cap, notes):
    """Note a file over the desk's limit in the run's notes, and once in the timeline."""
    text = (f"{remote_file.filename} from {psa_label(connection.kind)} not brought in: "
            f"{_megabytes(size)}, over the desk's {_megabytes(cap)} limit")
    notes.append(f"{ticket.number}: {text}")
    said = db.session.scalar(select(TicketEvent.id).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "psa_sync",
        TicketEvent.new_value == text).limit(1))
    if said is None:
        db.session.add(TicketEvent(ticket_id=ticket.id, kind="psa_sync", internal=True,
                                   created_at=utcnow(), new_value=text))
        db.session.commit()


def _megabytes(size):
    """Bytes as people read them: ``25 MB``, ``1.5 MB``."""
    return f"{size / 2**20:.3g} MB"
