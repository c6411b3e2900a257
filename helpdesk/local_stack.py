"""``make run``: the whole help desk on one machine, in one command.

Checks the database and Redis, applies migrations, starts the demo HaloPSA (the tests'
simulator, ``tests/halo_demo.py``, on ``DEMO_HALOPSA_PORT``; ``DEMO_HALOPSA=0`` leaves it
out), loads the demo into an empty database (connected to that HaloPSA), then runs the web
server (gunicorn), one RQ worker (with its scheduler) and RQ's cron scheduler until Ctrl-C or
SIGTERM, which stops every process it started. Without ``REDIS_URL`` it runs the embedded
Redis server in the instance folder.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from helpdesk.queues import EMBEDDED_SOCKET, start_embedded_redis

ROOT = Path(__file__).resolve().parent.parent
STOP_TIMEOUT_SECONDS = 20
DEMO_HALOPSA_PORT = 5099
DEMO_HALOPSA_STATE = "halopsa-demo.json"  # in the instance folder
DEMO_HALOPSA_START_SECONDS = 20


class Stop(Exception):
    """Raised by the signal handler to leave the wait loop."""


def _stop(signum, frame):
    """Signal handler: leave the wait loop and stop everything."""
    raise Stop(signal.Signals(signum).name)


def _say(message):
    """Launcher messages go to stderr, marked, between the processes' own logs."""
    print(f"[make run] {message}", file=sys.stderr, flush=True)


def main():
    """Prepare, start the processes, wait, and stop them all together."""
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
        if not _run(flask, ["check"], env) or not _run(flask, ["db", "upgrade"], env):
            return 1
        _start_demo_halopsa(env, instance, processes)  # before the seed, which connects it
        if not _run(flask, ["seed-demo", "--if-empty"], env):
            return 1
        for name, command in commands.items():
            processes[name] = _start(command, env)
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


def _run(flask, step, env):
    """Run one ``flask`` step to its end; False (and say so) when it failed."""
    if subprocess.run([*flask, *step], env=env).returncode != 0:  # noqa: S603 - our commands
        _say(f"'flask {' '.join(step)}' failed; see the message above.")
        return False
    return True


def _start(command, env):
    """A child in its own session: Ctrl-C reaches only us, and we stop the children in
    order."""
    return subprocess.Popen(command, env=env, start_new_session=True)  # noqa: S603 - ours


def demo_halopsa_port(env):
    """The demo HaloPSA's port, or None when ``DEMO_HALOPSA=0`` turns it off."""
    if env.get("DEMO_HALOPSA", "1").strip().lower() in ("0", "false", "no", "off"):
        return None
    return int(env.get("DEMO_HALOPSA_PORT") or DEMO_HALOPSA_PORT)


def _start_demo_halopsa(env, instance, processes):
    """Start the demo HaloPSA (``processes["halopsa"]``) and tell the seed where it is
    (``DEMO_HALOPSA_URL``); without it (turned off, its port taken, it did not start) the
    desk runs as before, and says so."""
    port = demo_halopsa_port(env)
    if port is None:
        return
    if _answers(port):
        _say(f"port {port} is in use, so the demo HaloPSA does not start "
             "(DEMO_HALOPSA_PORT=<port> picks another, DEMO_HALOPSA=0 leaves it out).")
        return
    process = _start([sys.executable, "-m", "tests.halo_demo", "--port", str(port),
                      "--state", str(instance / DEMO_HALOPSA_STATE)], env)
    processes["halopsa"] = process
    deadline = time.monotonic() + DEMO_HALOPSA_START_SECONDS
    while not _answers(port):
        if process.poll() is not None or time.monotonic() > deadline:
            _say("the demo HaloPSA did not start (see its message above); "
                 "running without it.")
            _terminate([processes.pop("halopsa")])
            return
        time.sleep(0.1)  # a polling step
    env["DEMO_HALOPSA_URL"] = f"http://127.0.0.1:{port}"
    _say(f"demo HaloPSA (the tests' simulator) at {env['DEMO_HALOPSA_URL']}")


def _answers(port):
    """Does something accept connections on the loopback ``port``?"""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


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
