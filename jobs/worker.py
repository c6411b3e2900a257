"""The one worker entry point: every job runs inside a fresh app context."""

from rq import SimpleWorker, Worker

from helpdesk.extensions import db
from helpdesk.queues import QUEUE_NAMES, get_redis


class _AppContextMixin:
    """Push the Flask app context around each job."""

    app = None
    forks = False

    def perform_job(self, job, queue, *args, **kwargs):
        with self.app.app_context():
            if self.forks:  # a forked work horse must not share its parent's connections
                db.engine.dispose(close=False)
            try:
                return super().perform_job(job, queue, *args, **kwargs)
            finally:
                db.session.remove()


class HelpdeskWorker(_AppContextMixin, Worker):
    """The production worker: forks a work horse per job."""

    forks = True


class HelpdeskSimpleWorker(_AppContextMixin, SimpleWorker):
    """Runs jobs in its own process; for tests and burst runs."""


def make_worker(app, *, queues=QUEUE_NAMES, simple=False):
    """A worker bound to ``app`` listening on ``queues``."""
    worker_class = HelpdeskSimpleWorker if simple else HelpdeskWorker
    with app.app_context():
        connection = get_redis()
    worker = worker_class(list(queues), connection=connection)
    worker.app = app
    return worker
