"""``GET /healthz``: database and Redis reachability."""

from helpdesk import create_app


def test_healthy(client):
    """Both reachable: 200 and exactly the two parts."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"database": "ok", "redis": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_redis_down_is_named(app, tmp_path):
    """A Redis nobody listens on: 503, naming Redis, database still ok."""
    broken = create_app({**app.config, "REDIS_URL": "redis://127.0.0.1:1/0",
                         "INSTANCE_PATH": str(tmp_path)})
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "ok"
    assert response.json["redis"].startswith("down")


def test_database_down_is_named(app, tmp_path):
    """A database nobody listens on: 503, naming the database."""
    broken = create_app({
        **app.config, "INSTANCE_PATH": str(tmp_path),
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none",
    })
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"].startswith("down")
    assert response.json["redis"] == "ok"


def test_database_down_while_serving_gets_a_clear_503_page(app, tmp_path):
    """A page that needs the database says it is unreachable, not a bare 500."""
    from tests.conftest import csrf_token_from

    broken = create_app({
        **app.config, "INSTANCE_PATH": str(tmp_path),
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none",
    })
    client = broken.test_client()
    token = csrf_token_from(client.get("/login").text)  # no database needed to show the form
    response = client.post("/login", data={"email": "a@b.example", "password": "whatever",
                                           "csrf_token": token})
    assert response.status_code == 503
    assert "cannot reach its database or Redis" in response.text
    assert response.headers["Retry-After"] == "30"
