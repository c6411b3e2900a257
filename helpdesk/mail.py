"""Sending mail over SMTP (the standard library's ``smtplib``), configured by ``SMTP_*``."""

from email.message import EmailMessage
from smtplib import SMTP

from flask import current_app

SMTP_TIMEOUT_SECONDS = 20


def mail_configured():
    """Is there a mail server to send through?"""
    return bool(current_app.config.get("SMTP_HOST"))


def send_mail(*, to, subject, body):
    """Send one plain-text message; raises ``smtplib.SMTPException`` or ``OSError`` on failure."""
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    with SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=SMTP_TIMEOUT_SECONDS) as smtp:
        if config["SMTP_STARTTLS"]:
            smtp.starttls()
        if config["SMTP_USERNAME"]:
            smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
        smtp.send_message(message)
