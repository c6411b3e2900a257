"""The admin side's tests talk to a loopback HaloPSA (``tests/halo_server.py``) over real HTTP,
through the connection the services made, as in production.

``halo`` (a fixture, imported as ``halo_fixture``): one loopback instance per test.
``connection_fields(halo)``: the settings a connection to it needs; ``name_lookups(halo)``
gives its clients and users the names and emails a test wants.
"""

import pytest

from tests.halo_server import HaloServer


@pytest.fixture(name="halo")
def halo_fixture():
    """A loopback HaloPSA for one test."""
    with HaloServer() as server:
        yield server


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
