"""``/admin/psa``: admins only (404 for everyone else, every route), CSRF on every post, the
secret never in a page, refused input kept beside its field, "Test connection" and "Refresh"
as jobs with a progress widget (and as plain posts without JavaScript), the mapping editor,
organisation and subscriber links, the new-ticket fields, and every change as a sentence.
The PSA is a loopback HaloPSA (``tests/halo_server.py``) over real HTTP."""

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Category, Organisation, PsaConnection, PsaLink
from helpdesk.services import psa_connections, psa_mappings
from jobs.worker import make_worker
from tests.admin_pages import audit_entries, post
from tests.psa_loopback import connection_fields, name_lookups
from tests.world import email

LIST = "/admin/psa"
SECRET = "client-secret-Never-Shown-7"
FORM = {"name": "Main", "kind": "halopsa", "base_url": "https://halo.example.com",
        "auth_url": "https://halo.example.com/auth", "tenant": "", "client_id": "desk",
        "client_secret": SECRET, "request_budget": "150", "pull_minutes": "5"}


def make_connection(app, halo, **changes):
    with app.app_context():
        return psa_connections.create_connection(**connection_fields(halo, **changes),
                                                 actor=None).id


def routes(connection_id):
    """Every page and action under /admin/psa, as (method, path)."""
    base = f"{LIST}/{connection_id}"
    gets = [LIST, f"{LIST}/new", base, f"{base}/lookups", f"{base}/mappings",
            f"{base}/organisations", f"{base}/subscribers", f"{base}/new-ticket-fields",
            f"{base}/jobs/psa-check-{connection_id}-0123456789abcdef"]
    posts = [LIST, base, f"{base}/enabled", f"{base}/webhook-secret", f"{base}/check",
             f"{base}/lookups", f"{base}/mappings", f"{base}/new-ticket-fields",
             f"{base}/organisations/1", f"{base}/subscribers/suggested"]
    return [("GET", path) for path in gets] + [("POST", path) for path in posts]


@pytest.mark.parametrize("who", ["agent", "north_reseller", "north_all", "alice", "carol"])
def test_every_route_is_not_found_for_anyone_but_admins(app, client, auth, world, who,
                                                        halo):
    connection_id = make_connection(app, halo)
    auth.login(email(who))
    for method, path in routes(connection_id):
        if method == "GET":
            assert client.get(path).status_code == 404, path
        else:
            assert post(client, path, {"name": "Sneaky", "enabled": "0"},
                        page="/profile").status_code == 404, path
    with app.app_context():
        connection = db.session.get(PsaConnection, connection_id)
        assert (connection.name, connection.enabled, connection.checked_at) == (
            "Main", True, None)


def test_signed_out_is_sent_to_sign_in(client, world):
    assert client.get(LIST).status_code == 302


def test_posts_without_the_csrf_token_are_refused(app, client, auth, world, halo):
    connection_id = make_connection(app, halo)
    auth.login(email("admin"))
    for method, path in routes(connection_id):
        if method == "POST":
            assert client.post(path, data={**FORM, "name": "Other"}).status_code == 400, path
    with app.app_context():
        assert db.session.scalar(select(PsaConnection.name)) == "Main"
        assert db.session.get(PsaConnection, connection_id).checked_at is None


def test_admin_creates_a_connection_and_never_sees_its_secret_again(app, client, auth, world):
    auth.login(email("admin"))
    assert "PSA" in client.get("/tickets").text  # in the Admin menu
    response = post(client, LIST, FORM, page=f"{LIST}/new")
    with app.app_context():
        connection = db.session.scalar(select(PsaConnection))
        webhook_secret = psa_connections.webhook_secret(connection)
    assert response.status_code == 303
    assert response.headers["Location"] == f"{LIST}/{connection.id}"
    page = client.get(response.headers["Location"]).text
    assert SECRET not in page and "A secret is <strong>set</strong>" in page
    assert f"http://127.0.0.1:5000/psa/webhooks/{connection.id}" in page
    assert webhook_secret in page  # the admin pastes it into Halo's webhook
    listing = client.get(LIST).text
    assert "Main" in listing and "never tested" in listing and "not fetched" in listing
    # an edit without a secret keeps it; a new webhook secret replaces the old
    edit = post(client, f"{LIST}/{connection.id}", {**FORM, "client_secret": "",
                                                    "tenant": "acme"}, page=LIST)
    assert edit.status_code == 303
    assert post(client, f"{LIST}/{connection.id}/webhook-secret", page=LIST).status_code == 303
    with app.app_context():
        connection = db.session.get(PsaConnection, connection.id)
        assert psa_connections._stored_secret(connection) == SECRET
        assert connection.tenant == "acme"
        assert psa_connections.webhook_secret(connection) != webhook_secret
    log = client.get("/admin/audit").text
    assert "created the PSA connection" in log
    assert "changed the tenant of the PSA connection" in log
    assert "changed the webhook secret of" in log
    assert SECRET not in log and webhook_secret not in log


def test_bad_settings_are_refused_beside_their_fields_with_the_text_kept(app, client, auth,
                                                                         world):
    auth.login(email("admin"))
    response = post(client, LIST, {**FORM, "base_url": "halo dot com", "request_budget": "900"},
                    page=f"{LIST}/new")
    assert response.status_code == 400
    assert "The base URL must be an http or https address" in response.text
    assert "The request budget must be a whole number from 1 to 300." in response.text
    assert 'value="halo dot com"' in response.text and 'value="900"' in response.text
    assert SECRET not in response.text  # the secret is typed again, never echoed
    with app.app_context():
        assert db.session.scalar(select(PsaConnection.id)) is None


def run_psa_jobs(app):
    assert make_worker(app, queues=["psa"], simple=True).work(burst=True)


def test_test_connection_runs_as_a_job_with_a_progress_widget(app, client, auth, world,
                                                              halo):
    connection_id = make_connection(app, halo)
    auth.login(email("admin"))
    page = f"{LIST}/{connection_id}"
    widget = post(client, f"{page}/check", page=page, htmx=True)
    assert widget.status_code == 200
    assert "Waiting for a worker" in widget.text and 'hx-trigger="load delay:1s"' in widget.text
    poll = widget.text.split('hx-get="')[1].split('"')[0]
    assert client.get(poll, headers={"HX-Request": "true"}).text.count("<progress") == 1
    run_psa_jobs(app)
    done = client.get(poll, headers={"HX-Request": "true"})
    assert f"Connected: HaloPSA at {halo.url} answered: token granted" in done.text
    assert "hx-get" not in done.text  # done: it stops polling
    # a failure ends in the PSA's message, and the page remembers the last answer
    halo.client_secret = "changed-in-halo"
    again = post(client, f"{page}/check", page=page, htmx=True)
    run_psa_jobs(app)
    poll = again.text.split('hx-get="')[1].split('"')[0]
    assert "HaloPSA answered 401 to POST /auth/token: invalid_client" in client.get(
        poll, headers={"HX-Request": "true"}).text
    assert "psa-failed" in client.get(page).text
    # another connection's job id, or junk, is not found
    other = make_connection(app, halo, name="Other")
    assert client.get(poll.replace(f"/{connection_id}/", f"/{other}/")).status_code == 404
    assert client.get(f"{page}/jobs/psa-check-{connection_id}-zz").status_code == 404


def test_without_javascript_the_post_runs_the_check_and_redirects(app, client, auth, world,
                                                                  halo):
    connection_id = make_connection(app, halo)
    auth.login(email("admin"))
    page = f"{LIST}/{connection_id}"
    response = post(client, f"{page}/check", page=page)
    assert response.status_code == 303 and response.headers["Location"] == page
    assert "Connected: HaloPSA at" in client.get(page).text
    halo.fail("500", path="/api/Client", times=5)
    refused = post(client, f"{page}/lookups", page=page)
    assert refused.headers["Location"] == f"{page}/lookups"
    shown = client.get(f"{page}/lookups").text
    assert "flash-error" in shown and "/api/Client" in shown


def test_refresh_fetches_the_lookups_in_a_job(app, client, auth, world, halo):
    connection_id = make_connection(app, halo)
    auth.login(email("admin"))
    page = f"{LIST}/{connection_id}/lookups"
    widget = post(client, page, page=page, htmx=True)
    run_psa_jobs(app)
    poll = widget.text.split('hx-get="')[1].split('"')[0]
    answer = client.get(poll, headers={"HX-Request": "true"}).text
    assert "Fetched 6 statuses, 4 priorities, 2 ticket types, 3 clients, 6 users" in answer
    shown = client.get(page).text
    assert "Action Required" in shown and "requires Account number" in shown
    assert "fetched the lookups of" in client.get("/admin/audit").text


def fetched(app, connection_id):
    with app.app_context():
        psa_connections.refresh_lookups(db.session.get(PsaConnection, connection_id))


def test_the_mapping_editor_saves_three_tables_and_refuses_strangers(app, client, auth, world,
                                                                     halo):
    connection_id = make_connection(app, halo)
    fetched(app, connection_id)
    with app.app_context():
        billing = db.session.scalar(select(Category.id).where(Category.name == "Billing"))
    auth.login(email("admin"))
    page = f"{LIST}/{connection_id}/mappings"
    shown = client.get(page).text
    assert shown.count("<select") == 7 + 4 + 12 and "Waiting on customer" in shown
    assert shown.count('<option value="3">Action Required</option>') == 7
    response = post(client, page, {"status-open": "1", "status-closed": "9",
                                   "priority-urgent": "1", f"category-{billing}": "3"},
                    page=page)
    assert response.status_code == 303
    refused = post(client, page, {"status-open": "2", "priority-low": "77"}, page=page)
    assert refused.status_code == 400
    assert "Choose one of the PSA&#39;s values for Low." in refused.text
    with app.app_context():  # nothing of the refused post was saved, not even its statuses
        assert psa_mappings.mappings_of(db.session.get(PsaConnection, connection_id),
                                        "status") == {"open": "1", "closed": "9"}
    shown = client.get(page).text
    assert '<option value="3" selected>Service Request</option>' in shown
    admin = world.users["admin"]
    assert (admin, None, f"{connection_id}:category.{billing}", None, "Service Request") in (
        audit_entries(app, "psa.mapping"))
    log = client.get("/admin/audit").text
    assert "mapped the category <strong>Billing</strong> to <strong>Service Request</strong>" in log


def test_organisations_and_subscribers_are_linked_one_by_one_or_by_suggestion(
        app, client, auth, world, halo):
    connection_id = make_connection(app, halo)
    name_lookups(halo, clients=["Acme", "Zeta Ltd"],
                 users=[("Dave", email("dave")), ("Zed", email("zed"))])
    fetched(app, connection_id)
    with app.app_context():
        zeta = db.session.scalar(select(Organisation.id).where(Organisation.name == "Zeta"))
    auth.login(email("admin"))
    page = f"{LIST}/{connection_id}/organisations"
    shown = client.get(page).text
    assert "Suggested:</span> Acme" in shown and "Link all 1 suggested" in shown
    refused = post(client, f"{page}/{zeta}", {"psa": "Zeta"}, page=page)
    assert refused.status_code == 400 and "No PSA client is called" in refused.text
    assert 'value="Zeta"' in refused.text
    assert post(client, f"{page}/{zeta}", {"psa": "zeta ltd"}, page=page).status_code == 303
    assert post(client, f"{page}/suggested", page=page).status_code == 303
    users = f"{LIST}/{connection_id}/subscribers"
    assert "Link all 2 suggested" in client.get(users).text
    assert post(client, f"{users}/suggested", page=users).status_code == 303
    found = client.get(f"{users}?q=zed").text
    assert "Zed" in found and "alice@test.example" not in found
    with app.app_context():
        linked = set(db.session.execute(select(PsaLink.kind, PsaLink.external_id)).all())
    assert linked == {("organisation", "1"), ("organisation", "2"), ("user", "1"),
                      ("user", "2")}
    assert post(client, f"{page}/{zeta}", {"psa": "x", "unlink": "1"},
                page=page).status_code == 303
    assert post(client, f"{page}/999999", {"psa": "1"}, page=page).status_code == 404
    assert client.get(f"{LIST}/{connection_id}/tickets").status_code == 404
    log = client.get("/admin/audit").text
    assert "linked the organisation <strong>Zeta</strong> to the PSA client" in log
    assert "linked the subscriber" in log


def test_new_ticket_fields_are_rendered_from_the_lookups(app, client, auth, world, halo):
    connection_id = make_connection(app, halo)
    name_lookups(halo, clients=["Acme"])
    fetched(app, connection_id)
    auth.login(email("admin"))
    page = f"{LIST}/{connection_id}/new-ticket-fields"
    shown = client.get(page).text
    assert 'name="field-CFAccountNumber"' in shown and "Account number" in shown
    refused = post(client, page, {"default_client": "Nobody", "field-CFAccountNumber": "A-1"},
                   page=page)
    assert refused.status_code == 400 and 'value="A-1"' in refused.text
    assert "No PSA client is called" in refused.text
    assert post(client, page, {"default_client": "acme", "field-CFAccountNumber": "A-1"},
                page=page).status_code == 303
    with app.app_context():
        connection = db.session.get(PsaConnection, connection_id)
        assert connection.default_client_id == "1"
        assert connection.new_ticket_fields == {"CFAccountNumber": "A-1"}
    assert 'value="Acme"' in client.get(page).text
    assert "set the new-ticket field CFAccountNumber" in client.get("/admin/audit").text


def test_disabling_a_connection_is_audited(app, client, auth, world, halo):
    connection_id = make_connection(app, halo)
    auth.login(email("admin"))
    page = f"{LIST}/{connection_id}"
    assert post(client, f"{page}/enabled", {"enabled": "0"}, page=page).status_code == 303
    assert "Disabled" in client.get(LIST).text
    assert "disabled sync with the PSA connection" in client.get("/admin/audit").text


@pytest.mark.parametrize("junk", ["²", "9" * 30, "x" * 5000, "-1", "ü\u202e", "",
                                  "AAAA", "WyJcdTAwMDAiLCAxXQ"])
def test_junk_on_a_real_connection_never_answers_5xx(app, client, auth, world, halo, junk):
    connection_id = make_connection(app, halo)
    fetched(app, connection_id)
    auth.login(email("admin"))
    base = f"{LIST}/{connection_id}"
    fields = dict.fromkeys((*FORM, "default_client", "psa", "enabled", "unlink", "status-open",
                            f"status-{junk}", "field-CFAccountNumber", f"field-{junk}",
                            "category-1"), junk)
    for _, path in routes(connection_id):
        answer = post(client, path, fields, page=LIST)
        assert answer.status_code < 500, path
    for path in (f"{base}/organisations?after={junk}&q={junk}",
                 f"{base}/subscribers?after={junk}", f"{base}/jobs/{junk}"):
        assert client.get(path).status_code < 500, path
