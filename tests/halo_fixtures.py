"""Fixtures for the tests that talk to a loopback HaloPSA (a plugin of ``tests/conftest.py``).

``halo``: a loopback HaloPSA for one test, the one every PSA test uses. ``adapter``: a
``HaloPsaAdapter`` talking to it with a 0.3 s timeout, its 429 waits recorded in ``waits``
instead of slept, its token's age read from ``clock`` (``clock.advance(seconds)``). After
each test every body the adapter sent must have passed the vendor's schema: a test that
sends a forbidden body on purpose empties ``halo.rejected`` itself.
"""

import pytest

from helpdesk.psa.connector import Budget, BudgetSpent
from helpdesk.psa.halopsa import HaloPsaAdapter
from tests.halo_schema import body_errors
from tests.halo_server import HaloServer

CLIENT_TIMEOUT = 0.3  # seconds: the loopback server holds a "timeout" answer for longer


class FakeClock:
    """A monotonic clock a test moves by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


class CountingBudget(Budget):
    """A budget of ``limit`` requests that counts what was spent."""

    def __init__(self, limit):
        self.limit = limit
        self.spent = 0

    def spend(self, requests=1):
        if self.spent + requests > self.limit:
            raise BudgetSpent()
        self.spent += requests


@pytest.fixture
def limited_budget():
    """``limited_budget(n)``: a budget of n requests that counts what was spent."""
    return CountingBudget


@pytest.fixture
def halo():
    """A loopback HaloPSA for one test (its schema checks loaded first, so that the first
    request answers within the short client timeout)."""
    for schema, body in (("Faults", {"summary": "warm"}), ("Actions", {"note": "warm"}),
                         ("Attachment", {"filename": "warm.txt"})):
        body_errors(schema, [body])
    with HaloServer() as server:
        yield server


@pytest.fixture
def waits():
    return []


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def make_adapter(halo, waits, clock):
    """An adapter for ``halo`` (or ``server``), with the test's waits and clock."""
    made = []

    def make(server=None, *, budget=None, **settings):
        server = server or halo
        settings.setdefault("timeout", CLIENT_TIMEOUT)
        adapter = HaloPsaAdapter(server.settings(**settings), budget=budget,
                                 sleep=waits.append, clock=clock)
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        adapter.close()
    assert halo.rejected == [], "the adapter sent a body the vendor's schema forbids"


@pytest.fixture
def adapter(make_adapter):
    return make_adapter()
