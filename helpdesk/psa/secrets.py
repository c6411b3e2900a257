"""Secrets at rest: a PSA connection's client secret and webhook secret, encrypted.

Fernet (AES-128-CBC with an HMAC, from the ``cryptography`` package): the key is
``PSA_SECRET_KEY`` when set (a Fernet key: ``python -c "from cryptography.fernet import
Fernet; print(Fernet.generate_key().decode())"``), else derived from ``SECRET_KEY`` with
HKDF, so a database copied without the app's settings holds nothing usable. Changing the key
makes the stored secrets unreadable: ``unseal`` then says to enter the secret again.
"""

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


class SecretUnreadable(Exception):
    """A stored secret was sealed with another key."""


def _fernet():
    """The Fernet of this app's key."""
    key = current_app.config.get("PSA_SECRET_KEY")
    if not key:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                       info=b"helpdesk psa secrets").derive(
                           current_app.config["SECRET_KEY"].encode())
        key = base64.urlsafe_b64encode(derived)
    return Fernet(key)


def seal(secret):
    """``secret`` encrypted, as text for a database column ('' stays '')."""
    if not secret:
        return ""
    return _fernet().encrypt(secret.encode()).decode()


def unseal(sealed):
    """The secret in ``sealed`` ('' stays ''); ``SecretUnreadable`` if the key changed."""
    if not sealed:
        return ""
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "the stored secret cannot be read with this SECRET_KEY/PSA_SECRET_KEY: "
            "enter it again") from None
