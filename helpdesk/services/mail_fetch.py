"""Fetching mail from a mailbox over IMAP (``imap-tools``), settings ``IMAP_*``.

One run (``fetch``, from the cron job ``jobs.mail_intake.fetch_mail`` every minute, or
``flask --app wsgi mail fetch``) asks the folder for its unseen messages and, a batch at a
time, for each one:

1. stores its bytes (``mail_intake.receive``, which commits);
2. only then marks it seen in the mailbox;
3. acts on it (``mail_intake.process``).

A run that dies anywhere in there loses nothing and repeats nothing: died before 2, the
message is unseen still and read again, and its row is found by its unique key; died before
3, the next run acts on the rows left ``received`` (``process_left_behind``); ``process``
itself acts on a row once. A lock in Redis keeps two runs apart (a slow run and the next
minute's), renewed with each message.
"""

import logging
import re
from dataclasses import dataclass, field
from itertools import pairwise

from flask import current_app
from imap_tools import AND, MailBox, MailBoxStartTls, MailBoxUnencrypted, MailMessageFlags
from imap_tools.errors import MailboxFetchError
from redis.exceptions import LockError

from helpdesk.queues import get_redis
from helpdesk.services import mail_intake

log = logging.getLogger(__name__)

LOCK_NAME = "helpdesk:mail-fetch"
LOCK_SECONDS = 300  # renewed with every message; a dead run's lock lapses after this
TIMEOUT_SECONDS = 60
FETCH_BYTES = 25 * 1024 * 1024  # messages asked for in one command add up to this at most


class FetchBusy(Exception):
    """Another fetch run holds the lock."""


@dataclass
class Fetched:
    """What one run did: messages read from the mailbox, stored new, and the states."""

    read: int = 0
    stored: int = 0
    states: dict = field(default_factory=dict)
    tickets: list = field(default_factory=list)  # ids of the tickets opened or replied to

    def summary(self):
        """What the run did, in words: ``read 3 messages, 2 new: 2 processed, 1 ignored``."""
        states = ", ".join(f"{count} {state}" for state, count in sorted(self.states.items()))
        words = f"read {self.read} message{'' if self.read == 1 else 's'}, {self.stored} new"
        return words + (f": {states}" if states else "")

    def count(self, row):
        """Count one message's row by the state it ended in."""
        if row is None:
            return
        self.states[row.state] = self.states.get(row.state, 0) + 1
        if row.state == "processed" and row.ticket_id:
            self.tickets.append(row.ticket_id)


def imap_configured():
    """Is there a mailbox to fetch from?"""
    return bool(current_app.config.get("IMAP_HOST"))


def mailbox():
    """The configured mailbox, not logged in yet (TLS, STARTTLS or, for loopback, plain)."""
    config = current_app.config
    host, port = config["IMAP_HOST"], config["IMAP_PORT"]
    if config["IMAP_SSL"]:
        return MailBox(host, port, timeout=TIMEOUT_SECONDS)
    if config["IMAP_STARTTLS"]:
        return MailBoxStartTls(host, port, timeout=TIMEOUT_SECONDS)
    return MailBoxUnencrypted(host, port, timeout=TIMEOUT_SECONDS)


def fetch(*, batch_size=None):
    """One run over the folder's unseen messages (see the module docstring): ``Fetched``.
    ``FetchBusy`` when another run holds the lock."""
    if not imap_configured():
        raise RuntimeError("IMAP_HOST is not set: there is no mailbox to fetch from.")
    config = current_app.config
    batch_size = batch_size or config["IMAP_BATCH_SIZE"]
    lock = get_redis().lock(LOCK_NAME, timeout=LOCK_SECONDS)
    if not lock.acquire(blocking=False):
        raise FetchBusy("another mail fetch is under way")
    result = Fetched()
    try:
        for row in mail_intake.process_left_behind():
            result.count(row)
        with mailbox().login(config["IMAP_USERNAME"] or "", config["IMAP_PASSWORD"] or "",
                             initial_folder=config["IMAP_FOLDER"]) as box:
            uids = box.uids(AND(seen=False))
            for start in range(0, len(uids), batch_size):
                lock.reacquire()
                for uid, raw in _raw_messages(box, uids[start:start + batch_size]):
                    lock.reacquire()
                    result.read += 1
                    row, new = mail_intake.receive(raw, source="imap")
                    result.stored += new
                    box.flag(uid, MailMessageFlags.SEEN, True)
                    result.count(mail_intake.process(row.id))
    finally:
        try:
            lock.release()
        except LockError:  # it lapsed, and another run may hold it now: not ours to free
            log.warning("the mail fetch lock lapsed before the run ended")
    return result


def _raw_messages(box, uids):
    """``(uid, bytes)`` of each message, exactly as the server keeps it, without marking it
    seen (``BODY.PEEK``): seen comes after the bytes are stored. A batch is asked for in one
    command while its messages add up to ``FETCH_BYTES``; a larger message comes alone, so
    memory stays bounded and the lock is renewed between large downloads."""
    for chunk in _chunks_by_size(box, uids):
        data = _command(box, ",".join(chunk), "(UID BODY.PEEK[])")
        for item in data:
            if isinstance(item, tuple) and (uid := _uid_in(item[0])) is not None:
                yield uid, item[1]


def _chunks_by_size(box, uids):
    """``uids`` in runs whose messages add up to at most ``FETCH_BYTES`` (one message alone
    when it is larger), from the sizes the server reports (``RFC822.SIZE``)."""
    if not uids:
        return
    data = _command(box, ",".join(uids), "(UID RFC822.SIZE)")
    sizes = {}
    for item in data:
        head = item[0] if isinstance(item, tuple) else item
        if isinstance(head, bytes) and (uid := _uid_in(head)) is not None:
            found = re.search(rb"RFC822\.SIZE (\d+)", head)
            sizes[uid] = int(found.group(1)) if found else 0
    chunk, total = [], 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if chunk and total + size > FETCH_BYTES:
            yield chunk
            chunk, total = [], 0
        chunk.append(uid)
        total += size
    if chunk:
        yield chunk


def _command(box, uid_set, parts):
    """One ``UID FETCH``: the server's answer, or its refusal raised."""
    status, data = box.client.uid("fetch", uid_set, parts)
    if status != "OK":
        raise MailboxFetchError(f"the mailbox refused to hand over messages: {data!r}")
    return data or []


def _uid_in(head):
    """The UID in a FETCH response's head (``b'3 (UID 17 BODY[] {1234}'``)."""
    words = head.decode("ascii", errors="replace").replace("(", " ").split()
    for before, after in pairwise(words):
        if before.upper() == "UID" and after.isdigit():
            return after
    return None
