"""Jobs run in a worker with an app context; the cron configuration registers them."""

from rq import Queue
from rq.cron import CronScheduler
from sqlalchemy import text

from helpdesk.extensions import db
from helpdesk.queues import QUEUE_NAMES, get_queue, get_redis
from jobs.housekeeping import HEARTBEAT_KEY, record_heartbeat, refresh_planner_statistics
from jobs.worker import make_worker


def test_worker_runs_a_job_inside_the_app_context(app):
    """A queued job runs in a worker and writes through the app's Redis."""
    with app.app_context():
        job = get_queue("default").enqueue(record_heartbeat)
        assert get_redis().get(HEARTBEAT_KEY) is None
    worker = make_worker(app, simple=True)
    assert worker.work(burst=True)
    with app.app_context():
        job.refresh()
        assert job.is_finished
        assert get_redis().get(HEARTBEAT_KEY).decode() == job.return_value()


def test_queues_by_purpose(app):
    """default, automation, notifications and psa; anything else is a mistake."""
    import pytest

    with app.app_context():
        for name in QUEUE_NAMES:
            assert isinstance(get_queue(name), Queue)
        with pytest.raises(ValueError):
            get_queue("misc")


def test_cron_configuration_registers_the_heartbeat(app):
    """RQ's cron scheduler loads jobs/cron.py and enqueues what is due."""
    with app.app_context():
        scheduler = CronScheduler(connection=get_redis())
        scheduler.load_config_from_file("jobs.cron")
        names = [job.func_name for job in scheduler.get_jobs()]
        assert names == ["jobs.housekeeping.record_heartbeat",
                         "jobs.notifications.dispatch_stalled",
                         "jobs.housekeeping.refresh_planner_statistics",
                         "jobs.mail.dispatch_stalled",
                         "jobs.routing.route_left_behind",
                         "jobs.housekeeping.clean_job_registries",
                         "jobs.sla.sweep_sla",
                         "jobs.psa.sweep_writes",
                         "jobs.psa_pull.schedule_pulls",
                         "jobs.webhooks.dispatch_stalled"]
        scheduler.enqueue_jobs()
        assert get_queue("default").count == 3
        assert get_queue("notifications").count == 3  # notifications', mail's, webhooks'
        assert get_queue("automation").count == 2
        assert get_queue("psa").count == 2  # the writes' sweep and the pulls' schedule


def test_planner_statistics_are_gathered_on_sqlite(app):
    """SQLite keeps no statistics unless asked: the hourly job gathers them for the queue's
    tables; on PostgreSQL, where autovacuum does it, the job does nothing."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            assert refresh_planner_statistics().startswith("not needed")
            return
        db.session.execute(text("ANALYZE"))  # creates sqlite_stat1 if it is missing
        db.session.execute(text("DELETE FROM sqlite_stat1"))

        def indexes_with_statistics():
            return db.session.scalar(text(
                "SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'tickets' AND idx IS NOT NULL"))

        assert indexes_with_statistics() == 0
        assert refresh_planner_statistics() == "analyzed"
        assert indexes_with_statistics() >= 10
