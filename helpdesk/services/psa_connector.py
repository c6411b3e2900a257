"""The adapter of a stored PSA connection, ready to send: the one way the core gets one.

Decrypts the client secret, applies the connection's request budget, shares the access
token through Redis (sealed, like the secret), and picks the adapter by the connection's kind
(``helpdesk.psa.connector.ADAPTERS``).
"""

import hashlib
import math
import time

from helpdesk.psa.connector import ConnectionSettings, PsaError, TokenCache, connector_for
from helpdesk.psa.secrets import SecretUnreadable, seal, unseal
from helpdesk.queues import get_redis
from helpdesk.services.psa_budget import budget_of


class RedisTokenCache(TokenCache):
    """A connection's access token in Redis, sealed, expiring with the token: every worker
    and web process uses the same one until it runs out."""

    def __init__(self, connection_id, settings=None):
        # The settings' fingerprint in the key: a token of other settings is never used.
        where = "" if settings is None else hashlib.sha256("|".join(
            (settings.base_url, settings.auth_url, settings.client_id, settings.tenant or "")
        ).encode()).hexdigest()[:16]
        self.key = f"helpdesk:psa-token:{connection_id}:{where}"

    def load(self):
        """The kept token and its expiry (epoch seconds), or None."""
        kept = get_redis().get(self.key)
        if not kept:
            return None
        try:
            expires_at, sealed = kept.decode().split(" ", 1)
            return unseal(sealed), float(expires_at)
        except (ValueError, SecretUnreadable):
            return None

    def save(self, token, expires_at):
        """Keep the token until it expires."""
        seconds = math.floor(expires_at - time.time())
        if seconds > 0:
            get_redis().set(self.key, f"{expires_at} {seal(token)}", ex=seconds)

    def clear(self, token):
        """Forget the token if it is still the one kept (another may have replaced it)."""
        kept = self.load()
        if kept is not None and kept[0] == token:
            get_redis().delete(self.key)


def settings_of(connection):
    """The ``ConnectionSettings`` of a ``PsaConnection``, its secret decrypted."""
    try:
        secret = unseal(connection.client_secret_encrypted)
    except SecretUnreadable as error:
        raise PsaError(f"{connection.name}: {error}") from None
    return ConnectionSettings(base_url=connection.base_url, auth_url=connection.auth_url,
                              client_id=connection.client_id, client_secret=secret,
                              tenant=connection.tenant or None)


def connector_of(connection, *, budget=None, shared_token=True):
    """A ``Connector`` for ``connection`` spending from its budget (or ``budget``), using
    the token every process shares unless ``shared_token`` is False (a "Test connection",
    which must sign in to prove the credentials)."""
    settings = settings_of(connection)
    return connector_for(connection.kind, settings, budget=budget or budget_of(connection),
                         token_cache=RedisTokenCache(connection.id, settings)
                         if shared_token else None)


def forget_token(connection):
    """Drop the connection's shared tokens (its settings changed)."""
    redis = get_redis()
    for key in redis.scan_iter(match=f"helpdesk:psa-token:{connection.id}:*", count=100):
        redis.delete(key)
