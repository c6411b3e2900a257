"""The job platform with real worker processes (``flask --app wsgi worker``) on the committed
test database and real Redis: retries with back-off, ``--burst``, a worker killed mid-job
(SIGKILL) whose job is retried without sending a second mail, and ``/healthz`` seeing a live
worker. Nothing sleeps for a time: every wait is on a condition, with a deadline."""

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from rq import Worker
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from rq.scheduler import RQScheduler
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import AuditEntry
from helpdesk.models.timestamps import utcnow
from helpdesk.queues import QUEUE_NAMES, enqueue, get_queue, get_redis
from helpdesk.services.notifications import OUTBOX
from jobs.housekeeping import HEARTBEAT_KEY, clean_job_registries
from tests.outbox import Inbox, customer_writes, row, start_mail_server

pytestmark = pytest.mark.committed  # a worker in another process sees committed rows only

ROOT = Path(__file__).resolve().parent.parent
DEADLINE_SECONDS = 90


def worker_environment(app, tmp_path):
    """The worker's environment: the test app's database, Redis and mail server."""
    config = app.config
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "REDIS_URL", "HELPDESK_ENV", "SMTP_HOST")}
    env.update(DATABASE_URL=config["SQLALCHEMY_DATABASE_URI"], REDIS_URL=config["REDIS_URL"],
               HELPDESK_INSTANCE_PATH=str(tmp_path / "worker-instance"),
               SECRET_KEY=config["SECRET_KEY"], PASSWORD_HASH_PROFILE="CHEAPEST",
               PYTHONUNBUFFERED="1")
    if config.get("SMTP_HOST"):
        env.update(SMTP_HOST=config["SMTP_HOST"], SMTP_PORT=str(config["SMTP_PORT"]),
                   SMTP_STARTTLS="0", MAIL_FROM=config["MAIL_FROM"],
                   PUBLIC_URL=config["PUBLIC_URL"])
    return env


def start_worker(app, tmp_path, *args, log_name="worker.log"):
    """``flask --app wsgi worker ARGS`` in its own process group (so a kill takes its work
    horse too), its output in a file for the failure message."""
    log = open(tmp_path / log_name, "w")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", *args], cwd=ROOT,
        env=worker_environment(app, tmp_path), stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True)
    process.log_path = tmp_path / log_name
    return process


def stop_worker(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def kill_worker_and_work_horse(process):
    """SIGKILL the worker and the work horse it forked (RQ puts the horse in a process group
    of its own): the machine's view of a worker that died, as on an out-of-memory kill."""
    horses = psutil.Process(process.pid).children(recursive=True)
    assert horses, "the worker has no work horse running a job"
    for doomed in [psutil.Process(process.pid), *horses]:
        doomed.kill()
    process.wait(timeout=30)
    psutil.wait_procs(horses, timeout=30)


def forget_dead_workers(app):
    """Take killed workers off RQ's list of workers at once (RQ would when their heartbeat
    key expires, minutes later), so a later test's ``/healthz`` does not count them."""
    with app.app_context():
        for worker in Worker.all(connection=get_redis()):
            if worker.pid and not _alive(worker.pid):
                worker.register_death()


def _alive(pid):
    """Is ``pid`` a running process? A killed worker not yet reaped by the test that
    started it (a zombie) is not."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _states(app, pid):
    """The RQ states of the workers of process ``pid``."""
    with app.app_context():
        return [worker.get_state() for worker in Worker.all(connection=get_redis())
                if worker.pid == pid]


def wait_for(condition, what, *, process=None):
    """Return once ``condition()`` is true; fail after the deadline, or when ``process``
    (a worker) ended first, with its output."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if process is not None and process.poll() is not None:
            pytest.fail(f"the worker ended while waiting for {what}:\n"
                        f"{process.log_path.read_text()}")
        time.sleep(0.05)  # a polling step, not a wait for time to pass
    log = process.log_path.read_text() if process is not None else ""
    pytest.fail(f"timed out waiting for {what}\n{log}")


def job_status(app, job_id):
    with app.app_context():
        return Job.fetch(job_id, connection=get_redis()).get_status()


def effects(app, key):
    with app.app_context():
        return db.session.scalars(select(AuditEntry.new_value).where(
            AuditEntry.action == "test.job_effect", AuditEntry.new_value == key)).all()


def test_a_job_failing_twice_is_retried_with_back_off_and_succeeds_once(app, world,
                                                                      tmp_path):
    """Two failures, each retried after its interval by the worker's scheduler, then success:
    the job ends finished, its side effect written once."""
    with app.app_context():
        job = enqueue("tests.job_functions.fail_then_record", "flaky", 2, queue="automation",
                      retries=(1, 1))
    worker = start_worker(app, tmp_path, "--queue", "automation")
    try:
        wait_for(lambda: job_status(app, job.id) == "scheduled", "the first retry",
                 process=worker)
        with app.app_context():  # waiting out its back-off, not back on the queue yet
            assert job.id in ScheduledJobRegistry("automation", connection=get_redis())
        wait_for(lambda: job_status(app, job.id) == "finished", "the third run", process=worker)
    finally:
        stop_worker(worker)
    with app.app_context():
        job.refresh()
        assert job.return_value() == 3
        assert job.retries_left == 0
        assert int(get_redis().get("flaky")) == 3
    assert effects(app, "flaky") == ["flaky"]


def test_burst_runs_every_queued_job_of_every_queue_and_exits(app, world, tmp_path):
    """``worker --burst``: a job on each queue, one of them failing once and retried at
    once; the worker exits 0 with every queue empty and every job finished."""
    with app.app_context():
        jobs = [enqueue("jobs.housekeeping.record_heartbeat", queue=name) for name in
                QUEUE_NAMES]
        flaky = enqueue("tests.job_functions.fail_then_record", "burst", 1, queue="psa",
                        retries=(0,))
    worker = start_worker(app, tmp_path, "--burst")
    try:
        assert worker.wait(timeout=DEADLINE_SECONDS) == 0, worker.log_path.read_text()
    finally:
        stop_worker(worker)
    with app.app_context():
        assert [get_queue(name).count for name in QUEUE_NAMES] == [0, 0, 0, 0]
        assert [job.get_status() for job in [*jobs, flaky]] == ["finished"] * 5
        assert get_redis().get(HEARTBEAT_KEY) is not None
    assert effects(app, "burst") == ["burst"]


def test_healthz_sees_a_running_worker(app, client, tmp_path):
    """A real worker process makes ``worker`` ok; once it has stopped, it is not."""
    forget_dead_workers(app)  # one stopped during its start-up leaves its record behind
    assert client.get("/healthz").json["worker"] == "none running"
    worker = start_worker(app, tmp_path, "--queue", "default")
    try:
        wait_for(lambda: client.get("/healthz").json["worker"] == "ok", "a worker heartbeat",
                 process=worker)
        # RQ registers a worker before it installs its signal handlers: a SIGTERM in between
        # ends it without its goodbye. Idle means it is past that, waiting for jobs.
        wait_for(lambda: _states(app, worker.pid) == ["idle"], "the worker idle",
                 process=worker)
    finally:
        stop_worker(worker)
    assert client.get("/healthz").json["worker"] == "none running"  # it said goodbye
    assert client.get("/healthz").status_code == 200


class HoldingInbox(Inbox):
    """An SMTP server that holds the first message carrying ``marker`` until released, then
    refuses it (its sender is gone by then); other and later messages are kept as usual
    (the world's own notifications may arrive first)."""

    def __init__(self, marker):
        super().__init__()
        self.marker = marker.encode()
        self.arrived, self.release = threading.Event(), threading.Event()

    def carrying_marker(self):
        """The messages kept whose text carries the marker."""
        return [message for message in self.messages
                if self.marker.decode() in message.get_body(("plain",)).get_content()]

    async def handle_DATA(self, server, session, envelope):
        if not self.arrived.is_set() and self.marker in envelope.content:
            self.arrived.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 60)
            return "451 4.3.0 Not kept: the sender went away"
        return await super().handle_DATA(server, session, envelope)


def test_a_worker_killed_mid_send_does_not_send_twice(app, world, assigned, tmp_path):
    """SIGKILL while the mail server holds the message: RQ's clean-up (our minutely job)
    retries the abandoned job, which finds the notification claimed and sends nothing; the
    outbox's sweep hands the stalled claim back, and the message goes out exactly once."""
    inbox = HoldingInbox("Killed mid-send")
    mail_server = start_mail_server(app, inbox)
    first = start_worker(app, tmp_path, "--queue", "notifications", log_name="first.log")
    second = None
    try:
        notification_id = customer_writes(app, world, assigned, body="Killed mid-send")
        job_id = OUTBOX.send_job_id(notification_id)
        wait_for(inbox.arrived.is_set, "the message at the mail server", process=first)
        assert row(app, notification_id).state == "sending"
        kill_worker_and_work_horse(first)
        inbox.release.set()
        assert job_status(app, job_id) == "started"  # nobody told RQ: it is abandoned

        with app.app_context():  # the clean-up, as it runs once the heartbeat has lapsed
            clean_job_registries(at=time.time() + 3600)
            # The dead worker's lock on the queue's scheduled jobs lapses as the heartbeat
            # did (after 61 s): let it go now, as the clock would.
            get_redis().delete(RQScheduler.get_locking_key("notifications"))
        assert job_status(app, job_id) == "scheduled"  # retried, after its back-off
        second = start_worker(app, tmp_path, "--queue", "notifications",
                              log_name="second.log")
        wait_for(lambda: job_status(app, job_id) == "finished", "the retried job",
                 process=second)
        with app.app_context():
            assert Job.fetch(job_id, connection=get_redis()).return_value() == "sending"
        assert inbox.carrying_marker() == []  # the retry found the row claimed, sent nothing

        with app.app_context():  # the outbox's sweep, once the claim is old enough
            assert OUTBOX.dispatch_left_behind(claimed_before=utcnow(),
                                               created_before=utcnow()) >= 1
        wait_for(lambda: row(app, notification_id).state == "sent", "the sweep's send",
                 process=second)
        assert len(inbox.carrying_marker()) == 1
        assert row(app, notification_id).attempts == 2
    finally:
        inbox.release.set()
        stop_worker(first)
        if second is not None:
            stop_worker(second)
        forget_dead_workers(app)
        mail_server.stop()
