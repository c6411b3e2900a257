"""The adapter of a stored PSA connection, ready to send: the one way the core gets one.

Decrypts the client secret, applies the connection's request budget, and picks the adapter
by the connection's kind (``helpdesk.psa.connector.ADAPTERS``).
"""

from helpdesk.psa.connector import ConnectionSettings, PsaError, connector_for
from helpdesk.psa.secrets import SecretUnreadable, unseal
from helpdesk.services.psa_budget import budget_of


def settings_of(connection):
    """The ``ConnectionSettings`` of a ``PsaConnection``, its secret decrypted."""
    try:
        secret = unseal(connection.client_secret_encrypted)
    except SecretUnreadable as error:
        raise PsaError(f"{connection.name}: {error}") from None
    return ConnectionSettings(base_url=connection.base_url, auth_url=connection.auth_url,
                              client_id=connection.client_id, client_secret=secret,
                              tenant=connection.tenant or None)


def connector_of(connection, *, budget=None):
    """A ``Connector`` for ``connection`` spending from its budget (or ``budget``)."""
    return connector_for(connection.kind, settings_of(connection),
                         budget=budget or budget_of(connection))
