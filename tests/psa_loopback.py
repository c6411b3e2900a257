"""The admin side's tests talk to a loopback HaloPSA (``tests/halo_server.py``) over real HTTP,
through the connection the services made, as in production.

(The ``halo`` fixture, one loopback instance per test, is in ``tests/halo_fixtures.py``.)
``connection_fields(halo)``: the settings a connection to it needs; ``name_lookups(halo)``
gives its clients and users the names and emails a test wants.
"""




def connection_fields(halo, **changes):
    """``create_connection``'s settings for ``halo`` (its credentials)."""
    return {"name": "Main", "base_url": halo.url, "auth_url": halo.auth_url,
            "client_id": halo.client_id, "client_secret": halo.client_secret, **changes}


def name_lookups(halo, *, clients=(), users=()):
    """Rename the instance's first clients (``names``) and give its first users the
    ``(name, email)`` given; the rest keep their ``Client n`` / ``User n``."""
    with halo.store.lock:
        for record, name in zip(halo.store.clients, clients, strict=False):
            record["name"] = name
        for record, (name, email) in zip(halo.store.users, users, strict=False):
            record["name"], record["emailaddress"] = name, email
