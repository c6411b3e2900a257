"""Personal API tokens: made, listed and revoked on the profile page (CSRF checked, audited),
made by ``flask tokens create`` for scripts; the secret is shown once and kept hashed."""

import re

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import ApiToken, AuditEntry
from helpdesk.services.api_tokens import hash_token
from tests.api_kit import ApiClient
from tests.conftest import csrf_token_from
from tests.world import email

SECRET = re.compile(r'value="(hd_[A-Za-z0-9_-]{40,})"')


def make_on_profile(client, name):
    token = csrf_token_from(client.get("/profile").text)
    return client.post("/profile/api-tokens", data={"name": name, "csrf_token": token})


def test_a_token_made_on_the_profile_is_shown_once_and_works(app, client, auth, world):
    auth.login(email("north_reseller"))
    page = make_on_profile(client, "nightly export")
    assert page.status_code == 200
    secret = SECRET.search(page.text).group(1)
    assert "no-store" in page.headers["Cache-Control"]
    listed = client.get("/profile").text
    assert "nightly export" in listed and secret not in listed  # never shown again
    with app.app_context():
        row = db.session.scalar(select(ApiToken).where(ApiToken.name == "nightly export"))
        assert row.token_hash == hash_token(secret) and secret not in row.token_hash
        assert db.session.scalar(select(AuditEntry).where(
            AuditEntry.action == "api_token.create",
            AuditEntry.subject_user_id == world.users["north_reseller"])) is not None
    api = ApiClient(app.test_client(), secret)
    assert api.get("/api/v1/tickets").status_code == 200


def test_a_token_needs_a_name(client, auth):
    auth.login(email("agent"))
    page = make_on_profile(client, "   ")
    assert page.status_code == 400 and "Give the token a name" in page.text


def test_making_a_token_needs_the_csrf_token(client, auth):
    auth.login(email("agent"))
    response = client.post("/profile/api-tokens", data={"name": "x"})
    assert response.status_code == 400


def test_revoking_on_the_profile_ends_the_token(app, client, auth, world):
    auth.login(email("agent"))
    secret = SECRET.search(make_on_profile(client, "to revoke").text).group(1)
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id).where(ApiToken.name == "to revoke"))
    csrf = csrf_token_from(client.get("/profile").text)
    assert client.post(f"/profile/api-tokens/{token_id}/revoke").status_code == 400  # no CSRF
    response = client.post(f"/profile/api-tokens/{token_id}/revoke",
                           data={"csrf_token": csrf}, follow_redirects=True)
    assert "Revoked the API token" in response.text
    assert ApiClient(app.test_client(), secret).get("/api/v1/stats").status_code == 401
    with app.app_context():
        assert db.session.scalar(select(AuditEntry).where(
            AuditEntry.action == "api_token.revoke",
            AuditEntry.actor_id == world.users["agent"])) is not None


def test_nobody_revokes_someone_elses_token(app, client, auth, world):
    from tests.api_kit import make_token

    make_token(app, world.users["agent"], name="agent's")
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id).where(ApiToken.name == "agent's"))
    auth.login(email("north_reseller"))
    csrf = csrf_token_from(client.get("/profile").text)
    response = client.post(f"/profile/api-tokens/{token_id}/revoke", data={"csrf_token": csrf})
    assert response.status_code == 404


def test_the_cli_prints_the_token_alone_and_it_works(app, runner, world):
    result = runner.invoke(args=["tokens", "create", "--email", email("north_reseller"),
                                 "--name", "deploy script"])
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert result.stdout == secret + "\n"
    assert re.fullmatch(r"hd_[A-Za-z0-9_-]{43}", secret)
    api = ApiClient(app.test_client(), secret)
    assert api.get(f"/api/v1/tickets/{world.tickets['alice']}").status_code == 200
    assert api.get(f"/api/v1/tickets/{world.tickets['bob']}").status_code == 404


def test_the_cli_refuses_an_unknown_or_disabled_user(app, runner, world):
    unknown = runner.invoke(args=["tokens", "create", "--email", "nobody@test.example",
                                  "--name", "x"])
    assert unknown.exit_code != 0 and unknown.stdout == ""
    assert "No user with the email" in unknown.output
    runner.invoke(args=["users", "disable", "--email", email("dave")])
    disabled = runner.invoke(args=["tokens", "create", "--email", email("dave"),
                                   "--name", "x"])
    assert disabled.exit_code != 0 and disabled.stdout == ""
    assert "disabled" in disabled.output
