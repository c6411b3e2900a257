"""``GET /healthz``: database and Redis reachability, worker and scheduler liveness."""

from datetime import UTC, datetime, timedelta

from rq import Worker

from helpdesk import create_app
from helpdesk.health import HEARTBEAT_KEY, scheduler_liveness, worker_liveness
from helpdesk.queues import QUEUE_NAMES, get_redis
from jobs.housekeeping import record_heartbeat


def test_healthy_without_background_processes(client):
    """Database and Redis reachable but no worker or scheduler yet: still 200 (the web can
    serve; jobs wait), and the two liveness fields name what is missing."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"database": "ok", "redis": "ok", "worker": "none running",
                             "scheduler": "none running"}
    assert response.headers["Cache-Control"] == "no-store"


def test_a_registered_worker_and_a_recent_heartbeat_are_ok(app, client):
    """An RQ worker registered in Redis (as ``flask worker`` does at start) and the cron
    scheduler's heartbeat job having run: both ok."""
    with app.app_context():
        worker = Worker(list(QUEUE_NAMES), connection=get_redis())
        worker.register_birth()
        worker.heartbeat()
        record_heartbeat()
    try:
        assert client.get("/healthz").json == {"database": "ok", "redis": "ok",
                                               "worker": "ok", "scheduler": "ok"}
    finally:
        with app.app_context():
            worker.register_death()


def test_stale_heartbeats_name_themselves(app):
    """A worker and a scheduler last heard of long ago: "stale", with how long ago."""
    with app.app_context():
        connection = get_redis()
        worker = Worker(list(QUEUE_NAMES), connection=connection)
        worker.register_birth()
        worker.heartbeat()
        record_heartbeat()
        later = datetime.now(UTC) + timedelta(seconds=1000)
        assert worker_liveness(connection, now=later).startswith("stale: last heartbeat 10")
        assert worker_liveness(connection, now=later).endswith(" s ago")
        assert scheduler_liveness(connection, now=later).startswith("stale: last heartbeat")
        assert scheduler_liveness(connection) == "ok"
        connection.delete(HEARTBEAT_KEY)
        assert scheduler_liveness(connection) == "none running"
        worker.register_death()


def test_redis_down_is_named(app, tmp_path):
    """A Redis nobody listens on: 503, naming Redis, database still ok."""
    broken = create_app({**app.config, "REDIS_URL": "redis://127.0.0.1:1/0",
                         "INSTANCE_PATH": str(tmp_path)})
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "ok"
    assert response.json["redis"].startswith("down")
    assert response.json["worker"] == "unknown: Redis is down"


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
