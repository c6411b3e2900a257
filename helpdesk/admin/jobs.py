"""``/admin/jobs``: each queue's tallies and its failed background jobs, to retry or discard.

A small page of ours on RQ's registries (``services.failed_jobs``) rather than a mounted
rq-dashboard: it keeps the app's look, sign-in, CSRF, audit log and CSP (rq-dashboard brings
its own scripts and styles), and it needs only what is here. Every control is a plain form
post that redirects.
"""

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user

from helpdesk.admin.answers import changed, refused
from helpdesk.admin.views import admins_only
from helpdesk.params import parse_id
from helpdesk.queues import QUEUE_NAMES
from helpdesk.services import failed_jobs as service

bp = Blueprint("admin_jobs", __name__, url_prefix="/admin/jobs")
bp.before_request(admins_only)

PAGE = "admin/jobs.html"


def _context(*, queue=None, page=1, error=None):
    """The tallies, and the failed jobs of every queue that has some (of ``queue`` alone,
    at ``page``, when one is asked for)."""
    tallies = service.tallies()
    shown = [queue] if queue else [t.name for t in tallies if t.failed]
    sections = []
    for name in shown:
        jobs, has_next = service.failed_page(name, page=page)
        sections.append({"queue": name, "jobs": jobs, "has_next": has_next})
    return {"tallies": tallies, "sections": sections, "at_page": page, "queue": queue,
            "error": error}


def _queue(name):
    if name not in QUEUE_NAMES:
        abort(404)
    return name


def _back():
    return url_for("admin_jobs.jobs")


def _refused(error):
    """The page again with what went wrong (the job left meanwhile): 400, not an error page."""
    return refused(PAGE, **_context(error=str(error)))


@bp.get("")
def jobs():
    """Tallies per queue and the failed jobs, newest first (``queue`` and ``page`` to page
    through one queue's)."""
    queue = request.args.get("queue") or None
    if queue is not None:
        _queue(queue)
    page = parse_id(request.args.get("page", "1"))
    if page is None:
        abort(404)
    return render_template(PAGE, **_context(queue=queue, page=page))


@bp.post("/<queue>/<job_id>/retry")
def retry(queue, job_id):
    """Put one failed job back on its queue."""
    try:
        service.retry(_queue(queue), job_id, actor=current_user)
    except service.JobError as error:
        return _refused(error)
    return changed(f"Job {job_id} is back on the {queue} queue.", _back())


@bp.post("/<queue>/<job_id>/discard")
def discard(queue, job_id):
    """Delete one failed job."""
    try:
        service.discard(_queue(queue), job_id, actor=current_user)
    except service.JobError as error:
        return _refused(error)
    return changed(f"Job {job_id} was discarded.", _back())


@bp.post("/<queue>/retry-all")
def retry_all(queue):
    """Put every failed job of a queue back on it."""
    count = service.retry_all(_queue(queue), actor=current_user)
    return changed(f"{count} failed {_jobs(count)} of {queue} back on the queue.", _back())


@bp.post("/<queue>/discard-all")
def discard_all(queue):
    """Delete every failed job of a queue."""
    count = service.discard_all(_queue(queue), actor=current_user)
    return changed(f"{count} failed {_jobs(count)} of {queue} discarded.", _back())


def _jobs(count):
    return "job" if count == 1 else "jobs"
