"""``/admin/jobs`` and ``services.failed_jobs``: tallies per queue, failed jobs listed with
their call and error, retried and discarded by an admin (audited); nobody else sees it."""

import pytest
from rq.job import Job
from rq.registry import FailedJobRegistry

from helpdesk.admin.audit_sentences import sentence
from helpdesk.extensions import db
from helpdesk.models import AuditEntry
from helpdesk.queues import enqueue, get_redis
from helpdesk.services import failed_jobs
from jobs.worker import make_worker
from tests.admin_pages import audit_entries, post
from tests.world import email

PAGE = "/admin/jobs"


def failed_job(app, message="the mail server said no", *, queue="notifications", job_id=None):
    """A job that failed in a worker, with no retries left: its id."""
    with app.app_context():
        job = enqueue("tests.job_functions.fail", message, queue=queue, job_id=job_id,
                      retries=())
    make_worker(app, queues=[queue], simple=True).work(burst=True)
    return job.id


def failed_ids(app, queue="notifications"):
    with app.app_context():
        return FailedJobRegistry(queue, connection=get_redis()).get_job_ids()


def test_admin_sees_tallies_and_each_failed_job(app, client, auth, world):
    """The failed job with its queue, function, arguments, time and error's last line; its
    traceback in a <details>; every queue's tallies; plain forms with the CSRF token."""
    job_id = failed_job(app, "the mail server said <no>", job_id="notification-12")
    with app.app_context():
        enqueue("tests.job_functions.fail", "waits", queue="psa", retries=())  # one waiting
    auth.login(email("admin"))
    page = client.get(PAGE)
    assert page.status_code == 200
    html = page.text
    assert job_id == "notification-12" and 'id="job-notification-12"' in html
    assert "tests.job_functions.fail(&#39;the mail server said &lt;no&gt;&#39;)" in html
    assert ("tests.job_functions.Refused: the mail server said &lt;no&gt;</summary>" in html)
    assert '<pre class="traceback">Traceback (most recent call last):' in html
    assert "<no>" not in html  # job text is escaped
    assert 'action="/admin/jobs/notifications/notification-12/retry"' in html
    assert 'action="/admin/jobs/notifications/notification-12/discard"' in html
    assert 'name="csrf_token"' in html
    assert 'href="/admin/jobs"' in client.get("/tickets").text  # in the admin nav
    with app.app_context():
        tallies = {t.name: t for t in failed_jobs.tallies()}
    assert tallies["notifications"].failed == 1 and tallies["psa"].queued == 1
    assert tallies["default"].failed == 0


def test_retry_puts_the_job_back_and_is_audited(app, client, auth, world):
    """Retry: the job leaves the failed list for its queue, a worker runs it again, and the
    audit log reads "Admin retried job notification-7"."""
    job_id = failed_job(app, job_id="notification-7")
    auth.login(email("admin"))
    response = post(client, f"{PAGE}/notifications/{job_id}/retry", page=PAGE)
    assert response.status_code == 303 and response.headers["Location"] == PAGE
    assert "Job notification-7 is back on the notifications queue." in client.get(PAGE).text
    assert failed_ids(app) == []
    with app.app_context():
        assert Job.fetch(job_id, connection=get_redis()).get_status() == "queued"
        entry = db.session.query(AuditEntry).filter_by(action="job.retry").one()
        assert entry.actor_id == world.users["admin"] and entry.new_value == job_id
        assert entry.field == "notifications"
        with app.test_request_context():
            assert "retried job notification-7" in str(sentence(entry))
    make_worker(app, queues=["notifications"], simple=True).work(burst=True)
    assert failed_ids(app) == [job_id]  # it failed again: back on the list


def test_discard_deletes_the_job_and_is_audited(app, client, auth, world):
    job_id = failed_job(app)
    auth.login(email("admin"))
    response = post(client, f"{PAGE}/notifications/{job_id}/discard", page=PAGE)
    assert response.status_code == 303
    assert failed_ids(app) == []
    with app.app_context():
        assert Job.exists(job_id, connection=get_redis()) is False
    assert audit_entries(app, "job.discard") == [
        (world.users["admin"], None, "notifications", None, job_id)]


def test_a_job_gone_meanwhile_is_a_400_with_the_reason(app, client, auth, world):
    """Two admins, one job: the second retry finds it gone and is told so, not a 500."""
    job_id = failed_job(app)
    auth.login(email("admin"))
    assert post(client, f"{PAGE}/notifications/{job_id}/discard", page=PAGE).status_code == 303
    for verb in ("retry", "discard"):
        response = post(client, f"{PAGE}/notifications/{job_id}/{verb}", page=PAGE)
        assert response.status_code == 400
        assert f"Job {job_id} is not among the failed jobs of notifications" in response.text
    assert post(client, f"{PAGE}/nowhere/{job_id}/retry", page=PAGE).status_code == 404
    assert audit_entries(app, "job.retry") == []


def test_retry_all_and_discard_all_per_queue(app, client, auth, world):
    first, second = failed_job(app), failed_job(app)
    other = failed_job(app, queue="psa")
    auth.login(email("admin"))
    assert post(client, f"{PAGE}/notifications/retry-all", page=PAGE).status_code == 303
    assert failed_ids(app) == [] and failed_ids(app, "psa") == [other]
    with app.app_context():
        assert set(get_redis().lrange("rq:queue:notifications", 0, -1)) == {
            first.encode(), second.encode()}
    assert post(client, f"{PAGE}/psa/discard-all", page=PAGE).status_code == 303
    assert failed_ids(app, "psa") == []
    assert audit_entries(app, "job.retry_all") == [
        (world.users["admin"], None, "notifications", None, "2")]
    assert audit_entries(app, "job.discard_all") == [
        (world.users["admin"], None, "psa", None, "1")]


def test_failed_jobs_are_paged(app, client, auth, world, monkeypatch):
    """Newest first, a page at a time, one queue when paging."""
    monkeypatch.setattr(failed_jobs, "PAGE_SIZE", 2)
    ids = [failed_job(app, f"failure {n}", job_id=f"job-{n}") for n in range(3)]
    auth.login(email("admin"))
    first = client.get(PAGE).text
    assert 'id="job-job-2"' in first and 'id="job-job-1"' in first
    assert 'id="job-job-0"' not in first
    assert 'href="/admin/jobs?queue=notifications&amp;page=2"' in first
    second = client.get(f"{PAGE}?queue=notifications&page=2").text
    assert 'id="job-job-0"' in second and 'id="job-job-1"' not in second
    assert len(ids) == 3
    assert client.get(f"{PAGE}?queue=nowhere").status_code == 404
    assert client.get(f"{PAGE}?page=zero").status_code == 404


@pytest.mark.parametrize("who", ["agent", "north_reseller", "alice", "carol"])
def test_nobody_but_admins_sees_or_changes_jobs(app, client, auth, world, who):
    job_id = failed_job(app)
    auth.login(email(who))
    assert client.get(PAGE).status_code == 404
    token_page = "/portal/tickets" if who in ("alice", "carol") else "/tickets"
    for action in (f"{PAGE}/notifications/{job_id}/retry",
                   f"{PAGE}/notifications/{job_id}/discard", f"{PAGE}/notifications/retry-all"):
        assert post(client, action, page=token_page).status_code == 404
    assert failed_ids(app) == [job_id]


def test_signed_out_is_sent_to_sign_in(client):
    response = client.get(PAGE)
    assert response.status_code in (302, 401)


def test_a_post_without_csrf_is_refused(app, client, auth, world):
    job_id = failed_job(app)
    auth.login(email("admin"))
    response = client.post(f"{PAGE}/notifications/{job_id}/retry")
    assert response.status_code == 400
    assert failed_ids(app) == [job_id]


def test_the_demo_job_fails_until_the_scheduler_has_run_then_retries_fine(app, client, auth,
                                                                         world):
    """``seed-demo``'s job: before any scheduler heartbeat it fails, saying why, and waits on
    the page; after a heartbeat, retried from the page, it finishes."""
    from helpdesk.demo_data import enqueue_demo_jobs
    from jobs.housekeeping import record_heartbeat

    with app.app_context():
        assert enqueue_demo_jobs() is True
    make_worker(app, queues=["default"], simple=True).work(burst=True)
    assert failed_ids(app, "default") == ["demo-scheduler-check"]
    auth.login(email("admin"))
    html = client.get(PAGE).text
    assert "SchedulerNotRunning: The cron scheduler has not run yet: no heartbeat is " \
           "recorded." in html
    with app.app_context():
        record_heartbeat()
    assert post(client, f"{PAGE}/default/demo-scheduler-check/retry",
                page=PAGE).status_code == 303
    make_worker(app, queues=["default"], simple=True).work(burst=True)
    assert failed_ids(app, "default") == []
    with app.app_context():
        job = Job.fetch("demo-scheduler-check", connection=get_redis())
        assert job.get_status() == "finished" and job.return_value() == "ok"
