"""``make run``'s launcher, started as a real process: it serves, stops cleanly, keeps data."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import psutil
import pytest
import redis

from bench.server import free_port, until_healthy
from tests.conftest import csrf_token_from

ROOT = Path(__file__).resolve().parent.parent
STARTUP_DEADLINE_SECONDS = 120


def launch(instance, port, *, halopsa_port=None, **extra_env):
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "REDIS_URL", "HELPDESK_ENV", "DEMO_HALOPSA",
                          "DEMO_HALOPSA_URL")}
    # Cheap password hashes, as in every other test: seeding the demo hashes eight passwords.
    # The demo HaloPSA on a free port (its default one may be busy on a shared machine).
    env.update(HELPDESK_INSTANCE_PATH=str(instance), PORT=str(port), WEB_CONCURRENCY="1",
               PASSWORD_HASH_PROFILE="CHEAPEST",
               DEMO_HALOPSA_PORT=str(halopsa_port or free_port()), **extra_env)
    return subprocess.Popen([sys.executable, "-m", "helpdesk.local_stack"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_until_healthy(process, base_url):
    """Poll /healthz until it answers 200 (bounded), failing early if the launcher died."""
    outcome = until_healthy(process, base_url, seconds=STARTUP_DEADLINE_SECONDS)
    if outcome == "exited":
        pytest.fail(f"launcher exited early:\n{process.stdout.read()}")
    if outcome == "late":
        process.kill()
        pytest.fail("the help desk did not become healthy in time")


def sign_in(base_url, email, password="demo-pass-2026"):
    client = httpx.Client(base_url=base_url, timeout=10)
    token = csrf_token_from(client.get("/login").text)
    response = client.post("/login", data={"email": email, "password": password,
                                           "csrf_token": token})
    return client, response


def started(process):
    """The launcher's processes by name: web (gunicorn), worker, cron and halopsa."""
    names = {}
    for child in psutil.Process(process.pid).children():
        command = " ".join(child.cmdline())
        name = next((name for name, sign in (("web", "gunicorn"), ("worker", " worker"),
                                             ("cron", " cron"), ("halopsa", "tests.halo_demo"))
                     if sign in command), command)
        names[name] = child
    return names


def stop(process, *, halopsa=True):
    """SIGTERM the launcher; everything it started must be gone when it returns."""
    expected = {"web", "worker", "cron"} | ({"halopsa"} if halopsa else set())
    assert set(started(process)) == expected
    children = psutil.Process(process.pid).children(recursive=True)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    still_running = [child.pid for child in children if child.is_running()
                     and child.status() != psutil.STATUS_ZOMBIE]
    assert still_running == []
    return output


@pytest.mark.slow
def test_make_run_serves_the_demo_stops_cleanly_and_keeps_data(tmp_path):
    """First run seeds the demo, connected to the demo HaloPSA; SIGTERM stops all four
    processes; a second run reuses the data, the HaloPSA's too."""
    instance, port, halopsa_port = tmp_path / "instance", free_port(), free_port()
    base_url = f"http://127.0.0.1:{port}"

    first = launch(instance, port, halopsa_port=halopsa_port)
    wait_until_healthy(first, base_url)
    client, response = sign_in(base_url, "north@demo.test")
    assert response.headers["Location"] == "/tickets"
    queue = client.get("/tickets").text
    assert queue.count('class="ticket-row') > 0
    admin, _ = sign_in(base_url, "admin@demo.test")
    assert "Demo HaloPSA" in admin.get("/admin/psa").text
    output = stop(first)
    assert "Demo data loaded" in output
    assert f"Demo HaloPSA connected to http://127.0.0.1:{halopsa_port}" in output
    assert (instance / "helpdesk.db").exists()
    assert (instance / "halopsa-demo.json").exists()
    with pytest.raises(redis.ConnectionError):
        redis.Redis(unix_socket_path=str(instance / "redis.socket")).ping()

    second = launch(instance, port, halopsa_port=halopsa_port)
    wait_until_healthy(second, base_url)
    client, response = sign_in(base_url, "north@demo.test")
    assert client.get("/tickets").text.count('class="ticket-row') == queue.count(
        'class="ticket-row')
    output = stop(second)
    assert "Demo data loaded" not in output
    assert f"Demo HaloPSA is already connected to http://127.0.0.1:{halopsa_port}" in output


def test_the_demo_halopsa_is_on_unless_turned_off():
    """``DEMO_HALOPSA=0`` leaves it out; ``DEMO_HALOPSA_PORT`` moves it."""
    from helpdesk.local_stack import DEMO_HALOPSA_PORT, demo_halopsa_port

    assert demo_halopsa_port({}) == DEMO_HALOPSA_PORT == 5099
    assert demo_halopsa_port({"DEMO_HALOPSA_PORT": "5123"}) == 5123
    for off in ("0", "false", "off"):
        assert demo_halopsa_port({"DEMO_HALOPSA": off}) is None


@pytest.mark.slow
def test_make_run_names_the_variable_when_the_database_is_down(tmp_path):
    """A dead DATABASE_URL stops start-up with a message naming it, not a traceback."""
    process = launch(tmp_path / "instance", free_port(),
                     DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 1
    assert "Fix DATABASE_URL" in output
    assert "Traceback" not in output


def _poll(check, what, process, seconds=STARTUP_DEADLINE_SECONDS):
    """Return once ``check()`` is true (bounded), failing early if the launcher died."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"launcher exited while waiting for {what}:\n{process.stdout.read()}")
        if check():
            return
        time.sleep(0.2)  # a polling step
    process.kill()
    pytest.fail(f"timed out waiting for {what}")


@pytest.mark.slow
def test_make_run_shows_the_demo_failed_job_and_its_retry_succeeds(tmp_path):
    """A new user of ``make run``: the demo's scheduler check failed before the scheduler
    started and waits on /admin/jobs; once the scheduler has run, Retry finishes it."""
    from rq.job import Job

    instance, port = tmp_path / "instance", free_port()
    base_url = f"http://127.0.0.1:{port}"
    process = launch(instance, port, DEMO_HALOPSA="0")  # and the demo HaloPSA turned off
    try:
        wait_until_healthy(process, base_url)
        client, _ = sign_in(base_url, "admin@demo.test")
        _poll(lambda: 'id="job-demo-scheduler-check"' in client.get("/admin/jobs").text,
              "the failed demo job", process)
        assert "no heartbeat is recorded" in client.get("/admin/jobs").text
        _poll(lambda: client.get("/healthz").json()["scheduler"] == "ok",
              "the scheduler's first heartbeat", process)
        assert client.get("/healthz").json()["worker"] == "ok"
        token = csrf_token_from(client.get("/admin/jobs").text)
        response = client.post("/admin/jobs/default/demo-scheduler-check/retry",
                               data={"csrf_token": token})
        assert response.status_code == 303
        connection = redis.Redis(unix_socket_path=str(instance / "redis.socket"))
        _poll(lambda: Job.fetch("demo-scheduler-check", connection=connection).get_status()
              == "finished", "the retried job to finish", process)
        assert 'id="job-demo-scheduler-check"' not in client.get("/admin/jobs").text
        assert "Demo HaloPSA" not in client.get("/admin/psa").text
    finally:
        stop(process, halopsa=False)
