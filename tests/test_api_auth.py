"""Who an API request is: a bearer token's user, never a session, and 401 for the rest."""

from datetime import timedelta

import pytest

from helpdesk.extensions import db
from helpdesk.models import ApiToken, User
from helpdesk.models.timestamps import utcnow
from helpdesk.services import accounts, api_tokens
from tests.api_kit import ApiClient, is_problem, make_token
from tests.world import email

TICKETS = "/api/v1/tickets"


def test_no_token_is_401_with_a_bearer_challenge(client):
    response = client.get(TICKETS)
    assert is_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer hd_not-a-real-token", "Bearer ", "Basic Zm9vOmJhcg==",
                                    "Bearer " + "x" * 5000])
def test_a_wrong_token_is_401(client, header):
    response = client.get(TICKETS, headers={"Authorization": header})
    assert is_problem(response, 401)
    assert "Bearer" in response.headers["WWW-Authenticate"]


def test_a_revoked_token_is_401(app, world):
    token = make_token(app, world.users["agent"])
    api = ApiClient(app.test_client(), token)
    assert api.get(TICKETS).status_code == 200
    with app.app_context():
        _, found = api_tokens.user_of(token)
        api_tokens.revoke(db.session.get(ApiToken, found.id), actor=found.user)
    response = api.get(TICKETS)
    assert is_problem(response, 401)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_disabled_users_token_is_401(app, world):
    api = ApiClient(app.test_client(), make_token(app, world.users["dave"]))
    assert api.get(TICKETS).status_code == 200
    with app.app_context():
        accounts.set_disabled(db.session.get(User, world.users["dave"]), disabled=True)
    assert is_problem(api.get(TICKETS), 401)


def test_the_api_sets_no_cookie_and_ignores_a_signed_in_browser(app, world, client, auth):
    """A browser's session cookie (and remember cookie) signs nobody in on the API, and no
    API answer sets a cookie, with a token or without."""
    auth.login(email("agent"), remember=True)
    assert client.get("/tickets").status_code == 200  # the browser is signed in
    response = client.get(TICKETS)
    assert is_problem(response, 401)
    assert "Set-Cookie" not in response.headers
    api = ApiClient(app.test_client(), make_token(app, world.users["agent"]))
    for answer in (api.get(TICKETS), api.get(f"{TICKETS}/{world.tickets['alice']}"),
                   api.get("/api/v1/stats"), api.get("/api/v1/nowhere"),
                   api.post(TICKETS, json={})):
        assert "Set-Cookie" not in answer.headers, answer.status_code


def test_the_api_needs_no_csrf_token(api_as, world):
    api = api_as("agent")
    response = api.post(f"{TICKETS}/{world.tickets['alice']}/replies",
                        json={"body": "Posted by a script", "internal": True})
    assert response.status_code == 201, response.get_json()


def test_last_use_is_written_at_most_once_a_minute(app, world):
    token = make_token(app, world.users["agent"])
    api = ApiClient(app.test_client(), token)
    api.get("/api/v1/stats")
    with app.app_context():
        row = db.session.scalar(db.select(ApiToken).where(ApiToken.token_hash
                                                          == api_tokens.hash_token(token)))
        first, token_id = row.last_used_at, row.id
        assert first is not None
    api.get("/api/v1/stats")
    with app.app_context():
        row = db.session.get(ApiToken, token_id)
        assert row.last_used_at == first  # not a write per request
        row.last_used_at = utcnow() - timedelta(minutes=2)
        db.session.commit()
    api.get("/api/v1/stats")
    with app.app_context():
        assert db.session.get(ApiToken, token_id).last_used_at > first


def test_the_document_and_its_page_need_no_token(client):
    document = client.get("/api/v1/openapi.json")
    assert document.status_code == 200
    spec = document.get_json()
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert {"/api/v1/tickets", "/api/v1/tickets/{ticket_id}", "/api/v1/stats",
            "/api/v1/tickets/{ticket_id}/replies",
            "/api/v1/tickets/{ticket_id}/handoff"} <= set(spec["paths"])
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text


def test_unknown_api_paths_and_methods_answer_problems(api_as):
    api = api_as("agent")
    assert is_problem(api.get("/api/v1/nowhere"), 404)
    response = api.client.put(TICKETS, headers=api.headers())
    assert is_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_pages_keep_their_html_errors(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and response.mimetype == "text/html"
