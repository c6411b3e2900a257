"""Helpers of the API tests: tokens for the world's people, and requests that carry them."""

import pytest

from helpdesk.extensions import db
from helpdesk.models import User
from helpdesk.services import api_tokens


def make_token(app, user_id, name="test script"):
    """A working token of the user ``user_id`` (the secret, as a script would hold it)."""
    with app.app_context():
        _, secret = api_tokens.create_token(db.session.get(User, user_id), name=name,
                                            actor=None)
        return secret


class ApiClient:
    """A test client that sends ``Authorization: Bearer`` and nothing else of a browser's."""

    def __init__(self, client, token):
        self.client, self.token = client, token

    def headers(self, extra=None):
        sent = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return sent | (extra or {})

    def get(self, path, headers=None, **kwargs):
        return self.client.get(path, headers=self.headers(headers), **kwargs)

    def post(self, path, json=None, headers=None, **kwargs):
        return self.client.post(path, json=json, headers=self.headers(headers), **kwargs)

    def patch(self, path, json=None, headers=None, **kwargs):
        return self.client.patch(path, json=json, headers=self.headers(headers), **kwargs)

    def delete(self, path, headers=None, **kwargs):
        return self.client.delete(path, headers=self.headers(headers), **kwargs)


@pytest.fixture
def api_as(app, world):
    """``api_as("north_reseller")``: an ``ApiClient`` with a fresh token of that world user."""

    def client_of(key):
        return ApiClient(app.test_client(), make_token(app, world.users[key]))

    return client_of


def is_problem(response, status):
    """Whether ``response`` is the ``status`` problem document."""
    body = response.get_json(force=True, silent=True) or {}
    return (response.status_code == status
            and response.mimetype == "application/problem+json"
            and body.get("status") == status and {"type", "title", "detail"} <= set(body))
