"""The app served as production serves it: gunicorn on a loopback port, on the bench database.

The same ``wsgi:app`` and worker kind as the Procfile's ``web`` process (gthread, four threads
a worker), with ``WORKERS`` processes as on this 2-core machine, ``HELPDESK_ENV=production``
and its settings from the environment. Two differences, both because the bench speaks plain
HTTP on loopback: ``SESSION_COOKIE_SECURE=0`` (secure cookies would never be sent back), and
no access log (one line a request to a file the bench does not read). And one because it
measures speed, not limits: the API's per-token rate limit is lifted (``API_RATE_LIMIT``),
since the throughput run sends hundreds of requests a second with one token, which in
production would rightly be answered 429.
"""

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench import database

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 2
THREADS = 4  # the Procfile's --threads
START_TIMEOUT = 60  # seconds for the workers to import the app and answer /healthz
SECRET_KEY = "bench-secret-key-not-for-production"  # noqa: S105 - a loopback bench server


class ServerFailed(RuntimeError):
    """gunicorn did not start (its log says why)."""


def free_port():
    """A loopback port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(url, redis_url, instance_path):
    """The server's environment: this one, pointed at the bench database and Redis."""
    return {**os.environ, "DATABASE_URL": database.sqlalchemy_url(url),
            "REDIS_URL": redis_url, "SECRET_KEY": SECRET_KEY, "HELPDESK_ENV": "production",
            "SESSION_COOKIE_SECURE": "0", "HELPDESK_INSTANCE_PATH": str(instance_path),
            "API_RATE_LIMIT": "1000000 per minute"}


@contextmanager
def serving(url, redis_url, instance_path, *, workers=WORKERS, threads=THREADS):
    """``with serving(...) as base_url:`` gunicorn runs for the block, then is stopped."""
    port = free_port()
    log_path = Path(instance_path) / "gunicorn.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads",
             str(threads), "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
             "wsgi:app"],
            cwd=ROOT, env=environment(url, redis_url, instance_path), stdout=log,
            stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(process, base_url, log_path)
        yield base_url
    finally:
        process.terminate()  # gunicorn's master stops its workers gracefully on SIGTERM
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_healthy(process, base_url, log_path):
    """Poll ``/healthz`` until it answers 200 (the workers have imported the app)."""
    outcome = until_healthy(process, base_url, seconds=START_TIMEOUT)
    if outcome == "exited":
        raise ServerFailed(f"gunicorn exited with {process.returncode}:\n"
                           + log_path.read_text()[-2000:])
    if outcome == "late":
        raise ServerFailed(f"gunicorn did not answer /healthz in {START_TIMEOUT} s:\n"
                           + log_path.read_text()[-2000:])


def until_healthy(process, base_url, *, seconds):
    """Poll ``base_url``'s ``/healthz`` while ``process`` runs: ``"healthy"`` once it answers
    200, ``"exited"`` if the process ended first, ``"late"`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return "exited"
        try:
            if httpx.get(f"{base_url}/healthz", timeout=5).status_code == 200:
                return "healthy"
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    return "late"
