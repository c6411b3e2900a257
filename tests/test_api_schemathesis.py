"""Schemathesis against the served document: for a token of each role (and none), every
operation with generated input answers no 5xx, and every answer (status, content type,
headers, body) is what the document says. The document is the app's own
(``GET /api/v1/openapi.json``), on each backend (the ``app`` fixture is parametrised).
Examples are few per operation, so the file stays under a minute per backend; the
properties that need many cases are tested by hand beside it (tests/test_api_*.py)."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Category
from tests.api_kit import make_token

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
EXAMPLES = 15  # per operation and role


def operations(app):
    """Every operation of the document the app serves."""
    app.config["API_RATE_LIMIT"] = "100000 per minute"  # a generated run is no abuse
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    found = [result.ok() for result in schema.get_all_operations()]
    return sorted(found, key=lambda operation: operation.method == "delete")  # deletes last


def known_ids(app, world):
    """Ids that name something, so that generated requests reach past the 404s and 422s:
    the world's tickets and people, and the categories."""
    with app.app_context():
        categories = list(db.session.scalars(select(Category.id)))
    people = world.users
    return {"ticket_id": list(world.tickets.values()), "category": categories,
            "subscriber": [people[key] for key in ("alice", "bob", "dave", "erin", "zed")],
            "assignee": [people[key] for key in ("admin", "agent", "north_reseller",
                                                 "south_reseller")]}


def exercise(operation, headers, examples, ids=None):
    """Call ``operation`` with ``examples`` generated cases and check every answer; with
    ``ids``, most cases name a known ticket, category or person instead of a random id."""

    @given(case=operation.as_strategy(), data=st.data())
    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case, data):
        if ids:
            swap_in_known_ids(case, ids, data)
        case.call_and_validate(headers=headers, checks=CHECKS)

    check()


def swap_in_known_ids(case, ids, data):
    """Replace the generated ids of ``case`` by known ones, three times in four."""
    places = [case.path_parameters or {}]
    if isinstance(case.body, dict):
        places.append(case.body)
    for place in places:
        for name, pool in ids.items():
            if name in place and isinstance(place[name], int) and data.draw(
                    st.integers(0, 3)):
                place[name] = data.draw(st.sampled_from(pool))


@pytest.mark.parametrize("key", ["admin", "agent", "north_reseller", "alice", "carol"])
def test_every_answer_matches_the_document(app, world, key):
    headers = {"Authorization": f"Bearer {make_token(app, world.users[key])}"}
    found = operations(app)
    assert len(found) == 8
    ids = known_ids(app, world)
    for operation in found:
        exercise(operation, headers, EXAMPLES, ids)


def test_without_a_working_token_every_answer_is_a_documented_401(app):
    for operation in operations(app):
        exercise(operation, {"Authorization": "Bearer hd_revoked-or-never-made"}, 3)
