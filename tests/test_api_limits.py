"""The API's rate limit: per token, answered as a 429 problem with ``Retry-After``."""

from tests.api_kit import is_problem
from tests.world import email


def test_a_token_over_its_limit_gets_429_and_another_token_does_not(app, api_as):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    busy, other = api_as("agent"), api_as("agent")
    for _ in range(3):
        assert busy.get("/api/v1/stats").status_code == 200
    response = busy.get("/api/v1/tickets")
    assert is_problem(response, 429)
    assert 1 <= int(response.headers["Retry-After"]) <= 61  # the window, rounded up
    assert "Set-Cookie" not in response.headers
    assert other.get("/api/v1/stats").status_code == 200  # its own budget


def test_a_browser_over_the_limit_gets_the_problem_too(app, client, auth, world):
    """A signed-in browser (session and remember cookies) calling the API past the limit
    gets the 429 problem: its cookies are never read there, not even to answer."""
    app.config["API_RATE_LIMIT"] = "1 per minute"
    auth.login(email("agent"), remember=True)
    assert is_problem(client.get("/api/v1/stats"), 401)
    response = client.get("/api/v1/stats")
    assert is_problem(response, 429)
    assert "Set-Cookie" not in response.headers
