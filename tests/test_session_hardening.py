"""What a signed-in response carries: no-store everywhere; in production ``__Host-``
cookies and HSTS."""

import pytest

from helpdesk import create_app
from tests.conftest import csrf_token_from
from tests.world import PASSWORD, email


def test_signed_in_responses_are_not_stored(app, client, auth, world):
    """Pages, redirects and fragments to a signed-in user carry no-store; static files not."""
    auth.login(email("agent"))
    ticket = world.tickets["dave"]
    for path, headers in (("/tickets", {}), (f"/tickets/{ticket}", {}),
                          (f"/tickets/{ticket}", {"HX-Request": "true"}),
                          (f"/tickets/{ticket}/live", {}), ("/", {}), ("/profile", {})):
        response = client.get(path, headers=headers)
        assert "no-store" in response.headers.get("Cache-Control", ""), path
    assert "no-store" not in client.get("/static/app.css").headers.get("Cache-Control", "")
    auth.logout()
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")


# Production ----------------------------------------------------------------------------------


@pytest.fixture
def production_app(app, monkeypatch, tmp_path):
    """The production config (HELPDESK_ENV=production) on the test database."""
    monkeypatch.setenv("HELPDESK_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-production-secret-for-tests")
    keep = ("TESTING", "SQLALCHEMY_DATABASE_URI", "REDIS_URL", "PASSWORD_HASH_PROFILE")
    return lambda **extra: create_app({
        **{key: app.config[key] for key in keep}, "INSTANCE_PATH": str(tmp_path), **extra})


def test_production_uses_host_prefixed_secure_cookies_and_hsts(production_app, world):
    """``__Host-`` names, Secure, Path=/, no Domain; HSTS on HTTPS; sign-out deletes both."""
    client = production_app().test_client()
    https = "https://helpdesk.example"
    page = client.get("/login", base_url=https)
    assert page.headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains"
    token = csrf_token_from(page.text)
    same_site = {"Referer": https + "/login"}  # Flask-WTF checks it on HTTPS
    response = client.post("/login", base_url=https, headers=same_site, data={
        "email": email("agent"), "password": PASSWORD, "csrf_token": token, "remember": "y"})
    assert response.status_code == 302
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    assert set(cookies) == {"__Host-session", "__Host-remember_token"}
    for cookie in cookies.values():
        attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
        assert {"secure", "path", "httponly"} <= attributes
        assert "domain" not in attributes
        assert "Path=/;" in cookie + ";"
    signed_in_page = client.get("/tickets", base_url=https)
    assert signed_in_page.status_code == 200
    assert "no-store" in signed_in_page.headers["Cache-Control"]
    assert "Strict-Transport-Security" in signed_in_page.headers
    logout = client.post("/logout", base_url=https, headers=same_site,
                         data={"csrf_token": csrf_token_from(signed_in_page.text)})
    deleted = [c for c in logout.headers.getlist("Set-Cookie")
               if c.startswith("__Host-remember_token=")]
    assert deleted and "Expires=Thu, 01 Jan 1970" in deleted[0]
    assert client.get("/tickets", base_url=https).status_code == 302


def test_production_hsts_only_on_https(production_app, world):
    """Plain HTTP gets no HSTS (browsers ignore it there); behind a proxy, its word counts."""
    assert "Strict-Transport-Security" not in production_app().test_client().get(
        "/login").headers
    proxied = production_app(PROXY_COUNT=1).test_client()
    forwarded = proxied.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert forwarded.headers["Strict-Transport-Security"].startswith("max-age=63072000")
    assert all("Secure" in c for c in forwarded.headers.getlist("Set-Cookie"))
    assert "Strict-Transport-Security" not in proxied.get(
        "/login", headers={"X-Forwarded-Proto": "http"}).headers


def test_development_has_plain_names_and_no_hsts(client, world):
    """Outside production the cookies keep their plain names and no HSTS is sent."""
    response = client.get("/login", base_url="https://helpdesk.example")
    assert "Strict-Transport-Security" not in response.headers
    assert response.headers["Set-Cookie"].startswith("session=")


def test_host_cookie_without_secure_refuses_to_start(production_app):
    """A ``__Host-`` cookie browsers would drop stops the app at start, saying why."""
    with pytest.raises(RuntimeError, match="SESSION_COOKIE_SECURE"):
        production_app(SESSION_COOKIE_SECURE=False)
    with pytest.raises(RuntimeError, match="REMEMBER_COOKIE_DOMAIN"):
        production_app(REMEMBER_COOKIE_DOMAIN="example.com")
