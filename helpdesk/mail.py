"""Composing mail safely and sending it over SMTP (``smtplib``), configured by ``SMTP_*``.

No user text can add a header (header injection): text that goes into a header (a ticket's
subject, a person's name) is first folded to one line by ``one_line``, and every address is
parsed by ``email.headerregistry.Address``, which refuses CR, LF and anything that is not one
address, before ``email.utils.formataddr`` writes it.

Headers with user text are encoded and folded here, by ``email.header.Header`` (RFC 2047
encoded words, lines of at most 78 characters), and stored as written: the folding of the
standard library's default policy loses or adds a space where it breaks a long non-ASCII
header (seen on Python 3.11), and a subject must arrive as it was typed.

``compose`` raises one of ``MESSAGE_ERRORS`` when a message cannot be built at all (an address
that is not one): that is permanent, and a retry would fail the same way. ``deliver`` raises
``smtplib.SMTPException`` or ``OSError``: those may pass, and are worth a retry.
"""

import email.errors
import email.policy
import re
from email.header import Header
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from smtplib import SMTP

from flask import current_app

from helpdesk.models.timestamps import utcnow

SMTP_TIMEOUT_SECONDS = 20
# What building a message raises: header defects and non-ASCII addresses are ValueErrors
# (UnicodeError is one); an empty address, an IndexError.
MESSAGE_ERRORS = (ValueError, LookupError, TypeError, email.errors.MessageError)
# C0 and C1 control characters (CR, LF, TAB, NUL, ESC...), and Unicode's line and paragraph
# separators, which some mail readers also break lines on.
_CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# Headers with user text stay as ``_mailbox`` and ``_encoded`` folded them (never refolded).
_POLICY = email.policy.SMTP.clone(refold_source="none")
_MAX_LINE = 78


def mail_configured():
    """Is there a mail server to send through?"""
    return bool(current_app.config.get("SMTP_HOST"))


def one_line(text):
    """``text`` fit for a header: control characters and line breaks become single spaces.

    Folding rather than refusing: a ticket subject pasted with a line break is still worth a
    notification, with that break as a space.
    """
    return " ".join(_CONTROL_CHARACTERS.sub(" ", text or "").split())


def compose(*, to_email, to_name=None, subject, body, message_id=None, html=None,
            thread_id=None):
    """A message from ``MAIL_FROM`` to one person, ready for ``deliver``: plain text, or
    text and ``html`` as alternatives.

    ``message_id`` (``<...@domain>``, built from ids) lets a message that had to be sent
    twice carry the same Message-ID both times, so mail readers can show it once.
    ``thread_id`` (also ``<...@domain>``, built from ids) is the thread the message belongs
    to: ``In-Reply-To`` and ``References`` name it, so mail readers put every message about
    one ticket in one conversation.
    Raises one of ``MESSAGE_ERRORS`` when a header cannot be built.
    """
    sender = _sender()
    message = EmailMessage(policy=_POLICY)
    message.set_raw("From", _mailbox(sender.display_name, sender.addr_spec))
    message.set_raw("To", _mailbox(to_name, to_email))
    message.set_raw("Subject", _encoded("Subject", one_line(subject)))
    message["Date"] = format_datetime(utcnow())
    if message_id is not None:
        message["Message-ID"] = message_id
    if thread_id is not None:
        message["In-Reply-To"] = thread_id
        message["References"] = thread_id
    # RFC 3834: a machine wrote this, so out-of-office replies should not answer it.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    message.as_bytes()  # serialise once here, so a header that cannot be written fails now
    return message


def sender_domain():
    """The domain of ``MAIL_FROM`` (for Message-IDs)."""
    return _sender().domain or "localhost"


def _sender():
    """``MAIL_FROM`` parsed: one address, with or without a display name."""
    [sender] = HeaderRegistry()("From", current_app.config["MAIL_FROM"]).addresses
    return sender


def _mailbox(name, email_address):
    """``Name <address>`` for a header, from a checked address and a one-line name.

    A non-ASCII name is encoded and folded like a subject (``_encoded``).
    """
    address = Address(addr_spec=email_address).addr_spec  # refuses CR, LF, two addresses
    address.encode("ascii")  # a non-ASCII address needs SMTPUTF8, which we do not use
    name = one_line(name)
    if not name:
        return address
    if name.isascii() and "=?" not in name:
        return formataddr((name, address))  # quoted and escaped as RFC 5322 wants
    return f"{_encoded('To', name)} <{address}>"


def _encoded(name, text):
    """Unstructured header text (a subject) encoded (RFC 2047) unless it is plain ASCII,
    and folded to lines of at most 78 characters.

    ASCII that looks like an encoded word (``=?``) is encoded too, so that readers show it as
    it was typed rather than decode it.
    """
    charset = "us-ascii" if text.isascii() and "=?" not in text else "utf-8"
    return Header(text, charset, header_name=name, maxlinelen=_MAX_LINE).encode()


def deliver(message):
    """Send a composed message; raises ``smtplib.SMTPException`` or ``OSError`` on failure."""
    config = current_app.config
    with SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=SMTP_TIMEOUT_SECONDS) as smtp:
        if config["SMTP_STARTTLS"]:
            smtp.starttls()
        if config["SMTP_USERNAME"]:
            smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
        smtp.send_message(message)
