"""A stand-in PSA for the admin side's tests until the loopback HaloPSA is on main: a
``Connector`` that answers what the test put in ``FakePsa.script``.

``use_fake_psa`` (a fixture) puts it in place of the HaloPSA adapter, so a connection made by
the services is talked to through ``connector_of`` as in production.
"""

import pytest

from helpdesk.psa.connector import ADAPTERS, Connector, Lookup, Lookups


def lookups(*, clients=(), users=(), required=None):
    """A small PSA: 3 statuses, 4 priorities, 2 ticket types, and the given clients
    (``(id, name)``) and users (``(id, name, email)``)."""
    return Lookups(
        statuses=[Lookup("1", "New"), Lookup("2", "In Progress"), Lookup("9", "Closed")],
        priorities=[Lookup("1", "P1 Critical"), Lookup("2", "P2 High"), Lookup("3", "P3"),
                    Lookup("4", "P4 Low")],
        ticket_types=[Lookup("1", "Incident"), Lookup("3", "Service Request")],
        clients=[Lookup(id_, name) for id_, name in clients],
        users=[Lookup(id_, name, {"client_id": "", "email": email})
               for id_, name, email in users],
        agents=[Lookup("5", "Tess Tech", {"email": "tess@psa.example"})],
        required_fields=required or {},
    )


class FakePsa(Connector):
    """Answers ``script["check"]`` and ``script["lookups"]`` (raised when an exception)."""

    kind = "halopsa"
    script = {}
    seen = []  # the settings each instance was made with (the secret decrypted)

    def __init__(self, settings, **kwargs):
        super().__init__(settings, **kwargs)
        FakePsa.seen.append(settings)

    def _answer(self, key):
        answer = self.script[key]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def check(self):
        return self._answer("check")

    def fetch_lookups(self):
        return self._answer("lookups")

    def _unused(self, *args, **kwargs):
        raise NotImplementedError("the admin side's tests do not write to the PSA")

    create_ticket = update_ticket = add_action = upload_attachment = _unused
    find_ticket = find_action = find_attachment = fetch_ticket = changes_since = _unused


@pytest.fixture(name="fake_psa")
def fake_psa_fixture(monkeypatch):
    """The fake in place of the HaloPSA adapter; its ``script`` starts answering well."""
    monkeypatch.setitem(ADAPTERS, "halopsa", "tests.psa_fake:FakePsa")
    monkeypatch.setattr(FakePsa, "script", {"check": "HaloPSA answered: 3 statuses",
                                            "lookups": lookups()})
    monkeypatch.setattr(FakePsa, "seen", [])
    return FakePsa
