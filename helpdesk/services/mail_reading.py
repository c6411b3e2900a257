"""Reading one received message: who sent it, what it answers, its text and its files, and
whether a machine wrote it (then it must never open a ticket or add a reply).

The standard library parses (``email`` with ``policy.default``); a message it cannot make
sense of raises ``UnreadableMail``, and the intake keeps it for admins. The text is the
plain part, else the HTML part turned into text (``html2text``); on a reply the quoted
history is cut by ``mail-parser-reply``, which knows the "On ... wrote:" and Outlook "From:
... Sent:" headers of many languages.

Machines' mail (RFC 3834 and what mail servers do in practice): ``Auto-Submitted`` other than
``no``, ``Precedence`` bulk, junk, list or auto_reply, ``X-Autoreply`` and ``X-Autorespond``;
bounces (a ``multipart/report`` delivery report, a MAILER-DAEMON or postmaster sender, an
empty ``Return-Path``); and loops, our own mail coming back (a Message-ID we make, or our own
address as the sender).
"""

import email
import email.policy
import hashlib
import re
from dataclasses import dataclass, field
from email.utils import parseaddr

import html2text
from mailparser_reply import EmailReplyParser

from helpdesk.models.inbound_message import MAX_KEY_LENGTH

# Message-IDs we write (``helpdesk.notification_mail``, ``jobs.mail``): a ticket's thread,
# a notification, account mail.
OUR_MESSAGE_ID = re.compile(r"<(ticket|notification|mail)\.([0-9.]+)@([^>\s]+)>", re.IGNORECASE)
MESSAGE_ID = re.compile(r"<[^<>\s]+>")
REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pl", "sv"]
BOUNCE_SENDERS = ("mailer-daemon", "postmaster")
BULK_PRECEDENCE = ("bulk", "junk", "list", "auto_reply")
AUTO_HEADERS = ("x-autoreply", "x-autorespond")
MAX_SUBJECT = 500
_CONTROL = re.compile("[\x00-\x1f\x7f]")
_CONTROL_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class UnreadableMail(Exception):
    """The message cannot be read well enough to act on (no sender, say)."""


@dataclass
class MailFile:
    """One attached file: its name, declared type and bytes."""

    filename: str
    content_type: str
    data: bytes


@dataclass
class IncomingMail:
    """What the intake needs of one message."""

    message_id: str | None
    sender: str  # the From address, lower case
    sender_name: str
    subject: str
    text: str  # the whole text
    # In-Reply-To first, then References, newest first.
    references: list = field(default_factory=list)
    files: list = field(default_factory=list)
    headers: object = None  # the parsed message, for ``why_ignored``

    @property
    def reply_text(self):
        """The text without the quoted history (the whole text if cutting leaves nothing)."""
        return strip_quoted_history(self.text) or self.text


def parse(raw):
    """The parsed message (``email.message.EmailMessage``) of ``raw`` bytes."""
    return email.message_from_bytes(raw, policy=email.policy.default)


def message_key(raw, message=None):
    """The row's unique key: the Message-ID, else (none, or too long) a hash of the bytes."""
    try:
        message = message if message is not None else parse(raw)
        found = MESSAGE_ID.search(str(message.get("Message-ID") or ""))
    except Exception:  # noqa: BLE001 - a header the parser chokes on: the bytes decide
        found = None
    if found and len(found.group(0)) <= MAX_KEY_LENGTH and found.group(0).isprintable():
        return found.group(0)
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def summary(raw):
    """``(from address, subject)`` for the row, as well as they can be read (else None)."""
    try:
        message = parse(raw)
        address = parseaddr(str(message.get("From") or ""))[1].strip().lower() or None
        address = address if address and address.isprintable() else None
        subject = _one_line(str(message.get("Subject") or ""))[:MAX_SUBJECT] or None
    except Exception:  # noqa: BLE001 - whatever fails here is reported by ``read``
        return None, None
    return (address[:254] if address else None), subject


def read(raw):
    """An ``IncomingMail`` from ``raw`` bytes; ``UnreadableMail`` when it cannot be acted on."""
    if not raw or not raw.strip():
        raise UnreadableMail("the message is empty")
    try:
        message = parse(raw)
        sender_name, sender = parseaddr(str(message.get("From") or ""))
        subject = _one_line(str(message.get("Subject") or ""))
        references = referenced_ids(message)
        text = _text_of(message)
        files = list(_files_of(message))
    except UnreadableMail:
        raise
    except Exception as error:  # the parser's many ways of failing, one answer
        raise UnreadableMail(f"the message cannot be parsed: {type(error).__name__}: {error}") \
            from error
    sender = sender.strip().lower()
    if not sender or "@" not in sender or not sender.isprintable() or " " in sender:
        raise UnreadableMail("the message has no sender address (From)")
    found = MESSAGE_ID.search(str(message.get("Message-ID") or ""))
    return IncomingMail(message_id=found.group(0) if found else None, sender=sender[:254],
                        sender_name=_one_line(sender_name), subject=subject[:MAX_SUBJECT],
                        text=_readable(text), references=references, files=files,
                        headers=message)


def referenced_ids(message):
    """The Message-IDs a message answers: ``In-Reply-To`` first, then ``References`` from
    the newest (the last) back."""
    ids = MESSAGE_ID.findall(str(message.get("In-Reply-To") or ""))
    ids += reversed(MESSAGE_ID.findall(str(message.get("References") or "")))
    seen = []
    for found in ids:
        if found not in seen:
            seen.append(found)
    return seen


def why_ignored(mail, *, our_domain, our_address):
    """Why a machine wrote this message (so it must not open a ticket or add a reply), or
    None for a person's message."""
    headers = mail.headers
    domain = our_domain.lower()
    own = OUR_MESSAGE_ID.fullmatch(mail.message_id or "")
    if own and own.group(3).lower() == domain:
        return "loop: the message is one of our own (its Message-ID is ours)"
    if our_address and mail.sender == our_address.lower():
        return "loop: the message is from our own address"
    if headers.get_content_type() == "multipart/report":
        return "bounce: a delivery status report (multipart/report)"
    if mail.sender.split("@", 1)[0] in BOUNCE_SENDERS:
        return f"bounce: sent by {mail.sender.split('@', 1)[0].upper()}"
    return_path = headers.get("Return-Path")
    if return_path is not None and str(return_path).strip() in ("<>", ""):
        return "bounce: empty Return-Path (<>)"
    auto = str(headers.get("Auto-Submitted") or "").split(";", 1)[0].strip().lower()
    if auto and auto != "no":
        return f"auto-reply: Auto-Submitted: {auto}"
    precedence = str(headers.get("Precedence") or "").strip().lower()
    if precedence in BULK_PRECEDENCE:
        return f"auto-reply: Precedence: {precedence}"
    for name in AUTO_HEADERS:
        if headers.get(name) is not None:
            return f"auto-reply: {name.title()} header"
    return None


def strip_quoted_history(text):
    """``text`` without the quoted message it answers (and the signature separator on)."""
    try:
        return EmailReplyParser(languages=REPLY_LANGUAGES).parse_reply(text).strip()
    except Exception:  # noqa: BLE001 - a library hiccup must not lose the reply: keep it whole
        return text.strip()


def html_to_text(html):
    """The text of an HTML-only message: Markdown-ish, quotes as ``>`` lines, no images."""
    converter = html2text.HTML2Text()
    converter.body_width = 0
    converter.ignore_images = True
    converter.ignore_emphasis = False
    return converter.handle(html).strip()


def _text_of(message):
    """The message's text: its plain part, else its HTML part as text ('' when none)."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = _content(part)
    if part.get_content_type() == "text/html":
        content = html_to_text(content)
    return content.replace("\r\n", "\n").strip()


def _content(part):
    """A text part's content, even with a charset Python does not know (then as UTF-8 with
    replacement characters rather than not at all)."""
    try:
        return part.get_content()
    except (LookupError, UnicodeError):
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", errors="replace")


def _files_of(message):
    """Every attached file (inline images with a name count), with its bytes."""
    for part in message.iter_attachments() if message.is_multipart() else ():
        if part.is_multipart():
            if part.get_content_type() == "message/rfc822":
                continue
            yield from _files_of(part)
            continue
        filename = part.get_filename()
        if not filename and part.get_content_disposition() != "attachment":
            continue
        data = part.get_payload(decode=True) or b""
        yield MailFile(filename=filename or "attachment", content_type=part.get_content_type(),
                       data=data)


def _one_line(text):
    """Header text on one line, runs of whitespace (folding, tabs) as single spaces, and no
    control characters (a NUL, which PostgreSQL refuses in text, or an escape)."""
    return " ".join(_CONTROL.sub(" ", text or "").split())


def _readable(text):
    """A body without the control characters no reader wants (line breaks and tabs kept)."""
    return _CONTROL_IN_TEXT.sub("", text)

