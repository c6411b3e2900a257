"""``make run``: the whole help desk on one machine, in one command.

Checks the database and Redis, applies migrations, loads the demo into an empty database,
then runs the web server (gunicorn), one RQ worker (with its scheduler) and RQ's cron
scheduler until Ctrl-C or SIGTERM, which stops every process it started. Without
``REDIS_URL`` it runs the embedded Redis server in the instance folder.
"""

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from helpdesk.queues import EMBEDDED_SOCKET, start_embedded_redis

ROOT = Path(__file__).resolve().parent.parent
STOP_TIMEOUT_SECONDS = 20


class Stop(Exception):
    """Raised by the signal handler to leave the wait loop."""


def _stop(signum, frame):
    """Signal handler: leave the wait loop and stop everything."""
    raise Stop(signal.Signals(signum).name)


def _say(message):
    """Launcher messages go to stderr, marked, between the processes' own logs."""
    print(f"[make run] {message}", file=sys.stderr, flush=True)


def main():
    """Prepare, start the three processes, wait, and stop them all together."""
    os.chdir(ROOT)
    env = os.environ.copy()
    instance = Path(env.get("HELPDESK_INSTANCE_PATH") or ROOT / "instance")
    env["HELPDESK_INSTANCE_PATH"] = str(instance)
    embedded_socket = None
    if not env.get("REDIS_URL"):
        _owner = start_embedded_redis(instance)
        embedded_socket = instance / EMBEDDED_SOCKET
        env["REDIS_URL"] = f"unix://{embedded_socket}"
        _say(f"embedded Redis on {embedded_socket}")
    port = env.get("PORT", "5000")
    # Links in mail (kept at /admin/mail without SMTP_HOST) point where this runs.
    env.setdefault("PUBLIC_URL", f"http://127.0.0.1:{port}")
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    for step in (["check"], ["db", "upgrade"], ["seed-demo", "--if-empty"]):
        if subprocess.run([*flask, *step], env=env).returncode != 0:  # noqa: S603 - our commands
            _say(f"'flask {' '.join(step)}' failed; see the message above.")
            _shutdown_embedded(embedded_socket)
            return 1
    commands = {
        "web": [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
                "--workers", env.get("WEB_CONCURRENCY", "2"), "--threads", "4",
                "--access-logfile", "-", "wsgi:app"],
        "worker": [*flask, "worker"],
        "cron": [*flask, "cron"],
    }
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    processes = {}
    code = 0
    try:
        for name, command in commands.items():
            # Own session: Ctrl-C reaches only us, and we stop the children in order.
            processes[name] = subprocess.Popen(  # noqa: S603 - our own commands
                command, env=env, start_new_session=True
            )
        _say(f"help desk at http://127.0.0.1:{port} (Ctrl-C stops everything)")
        pid, status = os.wait()
        name = next((n for n, p in processes.items() if p.pid == pid), f"pid {pid}")
        _say(f"{name} stopped unexpectedly (status {status}); stopping the rest.")
        code = 1
    except Stop as signal_name:
        _say(f"{signal_name} received; stopping.")
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _terminate(processes.values())
        _shutdown_embedded(embedded_socket)
    return code


def _terminate(processes):
    """SIGTERM every child, then wait; kill any that outlast the timeout."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _shutdown_embedded(socket_path):
    """Stop the embedded Redis, saving its data for the next run."""
    if socket_path is None:
        return
    # No retries: the server closing the connection is the expected answer to SHUTDOWN.
    client = redis.Redis(unix_socket_path=str(socket_path), retry=Retry(NoBackoff(), 0))
    with contextlib.suppress(redis.RedisError):
        client.shutdown(save=True)


if __name__ == "__main__":
    sys.exit(main())
