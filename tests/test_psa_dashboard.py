"""``/admin/psa/<id>/sync``: a connection's sync panel (last and next pull, progress while a
pull runs, queued writes, dead letters, budget left, tickets waiting for a mapping) and its
"Pull now" (admins, CSRF, audited, one job); everyone else is told it does not exist."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from helpdesk.admin.audit_sentences import sentence
from helpdesk.extensions import db
from helpdesk.models import AuditEntry, PsaConnection, PsaWrite
from helpdesk.models.timestamps import utcnow
from helpdesk.queues import get_queue
from helpdesk.services import psa_pull_progress
from helpdesk.services.psa_budget import budget_of
from tests.admin_pages import post
from tests.psa_pull_kit import connect
from tests.world import email


def page(connection_id):
    return f"/admin/psa/{connection_id}/sync"


@pytest.mark.parametrize("who", ["agent", "north_reseller", "alice", "carol"])
def test_the_panel_and_pull_now_are_not_found_for_anyone_but_admins(app, client, auth, world,
                                                                     who):
    connection = connect(app)
    auth.login(email(who))
    assert client.get(page(connection)).status_code == 404
    assert post(client, f"{page(connection)}/pull", page="/profile").status_code == 404
    with app.app_context():
        assert get_queue("psa").count == 0


def test_signed_out_is_sent_to_sign_in(app, client, world):
    assert client.get(page(connect(app))).status_code == 302


def test_an_unknown_connection_is_404(client, auth, world):
    auth.login(email("admin"))
    assert client.get(page(424242)).status_code == 404


def test_a_fresh_connection_says_it_never_pulled(app, client, auth, world):
    connection = connect(app, budget=120)
    auth.login(email("admin"))
    html = client.get(page(connection)).text
    assert "never" in html and "nothing yet" in html and "120 of 120" in html
    assert "every 2s" not in html  # nothing runs: no polling
    assert f'action="/admin/psa/{connection}/sync/pull"' in html


def test_the_panel_counts_writes_dead_letters_budget_and_says_when(app, client, auth, world):
    connection = connect(app, budget=100)
    started = utcnow() - timedelta(minutes=2)
    with app.app_context():
        row = db.session.get(PsaConnection, connection)
        row.last_pull_started_at, row.last_pull_finished_at = started, started + timedelta(
            seconds=3)
        row.last_pull_error = "HaloPSA answered 500: Object reference not set"
        for n, state in enumerate(["queued", "sending", "dead", "dead", "dead", "sent"]):
            db.session.add(PsaWrite(connection_id=connection, ticket_id=world.tickets["alice"],
                                    kind="add_action", key=f"k{n}", marker=f"m{n}",
                                    state=state))
        db.session.commit()
        budget_of(row).spend(7)
    auth.login(email("admin"))
    html = client.get(page(connection)).text
    assert "93 of 100" in html and "done in 3.0 s" in html
    assert "The last pull stopped: HaloPSA answered 500" in html
    assert '<dt>Queued writes</dt><dd>2</dd>' in html
    assert '<a href="/admin/psa/dead-letters">3</a>' in html
    next_at = (started + timedelta(minutes=5)).isoformat()
    assert f'datetime="{next_at}"' in html


def test_a_running_pull_shows_its_progress_and_polls_until_done(app, client, auth, world):
    connection = connect(app)
    with app.app_context():
        psa_pull_progress.start(connection)
        psa_pull_progress.advance(connection, done=250, total=1000)
    auth.login(email("admin"))
    fragment = client.get(page(connection), headers={"HX-Request": "true"})
    assert "HX-Request" in fragment.headers["Vary"]
    html = fragment.text
    assert "<html" not in html and 'hx-trigger="every 2s"' in html
    assert '<progress class="pull-progress" max="1000" value="250"' in html
    assert "250 of 1,000 changed tickets (25%)" in html
    assert "disabled>Pull now" in html
    with app.app_context():
        psa_pull_progress.finish(connection, done=1000, notes=["77: no mapping for <b>x</b>"])
    html = client.get(page(connection), headers={"HX-Request": "true"}).text
    assert "hx-trigger" not in html and "pull-progress" not in html
    assert "77: no mapping for &lt;b&gt;x&lt;/b&gt;" in html


def test_pull_now_enqueues_one_job_and_is_audited(app, client, auth, world):
    connection = connect(app)
    auth.login(email("admin"))
    answer = post(client, f"{page(connection)}/pull", page=page(connection))
    assert answer.status_code == 303 and answer.headers["Location"] == page(connection)
    again = post(client, f"{page(connection)}/pull", page=page(connection), htmx=True)
    assert again.status_code == 200 and "A pull is already waiting or running." in again.text
    assert 'hx-trigger="every 2s"' in again.text and "waiting for a worker" in again.text
    with app.test_request_context():
        assert get_queue("psa").get_job_ids() == [f"psa-pull-{connection}"]
        [entry] = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "psa.pull_now")).all()
        assert entry.actor_id == world.users["admin"]
        assert "asked for a pull from the PSA connection <strong>Halo</strong>" in sentence(
            entry)


def test_pull_now_needs_the_csrf_token_and_an_enabled_connection(app, client, auth, world):
    connection, disabled = connect(app), connect(app, name="Off", enabled=False)
    auth.login(email("admin"))
    assert client.post(f"{page(connection)}/pull").status_code == 400
    refused = post(client, f"{page(disabled)}/pull", page=page(disabled))
    assert refused.status_code == 400 and "Off is disabled: enable it to pull." in refused.text
    with app.app_context():
        assert get_queue("psa").count == 0
