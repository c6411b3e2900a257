"""Password reset by email: the same answer for every email, a mail through the outbox and
the worker, a link that works once and for a limited time, every sign-in ended."""

import re

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import OutgoingMail, User
from helpdesk.services import accounts, password_reset
from jobs.mail import send_mail
from tests.admin_pages import audit_entries
from tests.conftest import csrf_token_from
from tests.outbox import run_worker
from tests.sign_ins import new_client, signed_in
from tests.world import PASSWORD, email

NEW_PASSWORD = "a-brand-new-password"


def ask(client, address):
    token = csrf_token_from(client.get("/password/forgot").text)
    return client.post("/password/forgot", data={"email": address, "csrf_token": token})


def mail_rows(app, user_id=None):
    with app.app_context():
        query = select(OutgoingMail).order_by(OutgoingMail.id)
        if user_id is not None:
            query = query.where(OutgoingMail.recipient_id == user_id)
        rows = db.session.scalars(query).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def link_path(body):
    return re.search(r"https://desk\.test\.example(/password/reset/\S+)", body).group(1)


def set_password(client, path, password=NEW_PASSWORD, again=None):
    token = csrf_token_from(client.get(path).text)
    return client.post(path, data={"new_password": password,
                                   "new_password_again": again or password,
                                   "csrf_token": token})


def test_the_sign_in_page_links_to_the_form(client):
    assert 'href="/password/forgot">Forgot your password?' in client.get("/login").text


def test_a_reset_mail_arrives_and_its_link_works_once(app, client, world, inbox):
    laptop, laptop_auth = new_client(app)
    laptop_auth.login(email("alice"), remember=True)
    response = ask(client, email("alice").upper())
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert "If an account uses alice@test.example, a link" in client.get("/login").text
    run_worker(app)
    [message] = inbox.messages
    assert message["To"] == "Alice <alice@test.example>"
    assert message["Subject"] == "Reset your help desk password"
    path = link_path(message.get_content())
    assert [row.state for row in mail_rows(app, world.users["alice"])] == ["sent"]
    page = client.get(path)
    assert page.status_code == 200 and "Choose a new password" in page.text
    response = set_password(client, path)
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert not signed_in(laptop, "/portal/tickets")
    assert audit_entries(app, "user.password_reset") == [
        (world.users["alice"], world.users["alice"], "sign_ins", None, "1 ended")]
    with app.app_context():
        assert accounts.authenticate(email("alice"), NEW_PASSWORD) is not None
        assert accounts.authenticate(email("alice"), PASSWORD) is None
    again = client.get(path)
    assert again.status_code == 400 and "already been used" in again.text
    assert set_password(client, path, "another-password-9").status_code == 400


def test_unknown_and_known_emails_get_the_same_answer(app, client, world):
    known = ask(client, email("bob"))
    known_page = client.get("/login").text
    unknown = ask(client, "nobody@test.example")
    unknown_page = client.get("/login").text
    assert known.status_code == unknown.status_code == 303
    assert known.headers["Location"] == unknown.headers["Location"]
    assert known_page.replace(email("bob"), "X") == unknown_page.replace(
        "nobody@test.example", "X")
    assert len(mail_rows(app)) == 1


def test_a_disabled_user_gets_no_mail(app, client, world, inbox):
    with app.app_context():
        accounts.set_disabled(db.session.get(User, world.users["zed"]), disabled=True)
    assert ask(client, email("zed")).status_code == 303
    assert mail_rows(app, world.users["zed"]) == []
    ask(client, email("dave"))  # disabled between the request and the send: withheld
    with app.app_context():
        accounts.set_disabled(db.session.get(User, world.users["dave"]), disabled=True)
    run_worker(app)
    assert inbox.messages == []
    [row] = mail_rows(app, world.users["dave"])
    assert row.state == "withheld"


def test_without_a_mail_server_the_message_is_kept_for_admins(app, client, auth, world):
    ask(client, email("erin"))
    run_worker(app)
    [row] = mail_rows(app, world.users["erin"])
    assert row.state == "kept" and "/password/reset/" in row.body
    auth.login(email("admin"))
    page = client.get("/admin/mail").text
    assert "Reset your help desk password" in page and email("erin") in page


def test_a_link_expires(app, client, world):
    with app.app_context():
        path = "/password/reset/" + password_reset.token_for(
            db.session.get(User, world.users["bob"]))
    app.config["PASSWORD_RESET_MINUTES"] = -1
    response = client.get(path)
    assert response.status_code == 400 and "This link has expired" in response.text


def test_a_forged_or_mangled_link_is_refused(app, client, world):
    with app.app_context():
        token = password_reset.token_for(db.session.get(User, world.users["bob"]))
    for bad in (token[:-2] + "xx", "nonsense", "a" * 300):
        response = client.get(f"/password/reset/{bad}")
        assert response.status_code == 400 and "not valid" in response.text


def test_a_short_or_mismatched_password_is_refused_with_the_form(app, client, world):
    with app.app_context():
        path = "/password/reset/" + password_reset.token_for(
            db.session.get(User, world.users["bob"]))
    short = set_password(client, path, "short")
    assert short.status_code == 400 and "at least 10 characters" in short.text
    mismatch = set_password(client, path, NEW_PASSWORD, "something-else-1")
    assert mismatch.status_code == 400 and "not the same" in mismatch.text
    with app.app_context():
        assert accounts.authenticate(email("bob"), PASSWORD) is not None


def test_a_password_change_kills_older_links(app, client, world):
    with app.app_context():
        bob = db.session.get(User, world.users["bob"])
        path = "/password/reset/" + password_reset.token_for(bob)
        password_reset.reset_password(password_reset.token_for(bob), new_password=NEW_PASSWORD)
    assert client.get(path).status_code == 400


def test_requests_are_rate_limited_alike_for_every_email(app, client, world):
    app.config["PASSWORD_RESET_LIMIT_PER_ACCOUNT"] = "2 per hour"
    for address in (email("bob"), "ghost@test.example"):
        assert [ask(client, address).status_code for _ in range(3)] == [303, 303, 429]
    assert len(mail_rows(app)) == 2


def test_missing_csrf_and_bad_email_are_400(app, client, world):
    assert client.post("/password/forgot", data={"email": email("bob")}).status_code == 400
    token = csrf_token_from(client.get("/password/forgot").text)
    response = client.post("/password/forgot", data={"email": "", "csrf_token": token})
    assert response.status_code == 400 and "Enter your email." in response.text
    assert mail_rows(app) == []


def test_sending_twice_sends_once(app, world, inbox):
    with app.app_context():
        mail = password_reset.send_reset_link(db.session.get(User, world.users["bob"]),
                                              actor=None)
        assert send_mail(mail.id) == "sent"
        assert send_mail(mail.id) == "sent"
    assert len(inbox.messages) == 1


def test_the_sweep_sends_what_redis_never_got(app, world, inbox):
    """A row whose job never reached Redis is dispatched again by the periodic sweep."""
    from datetime import timedelta

    from jobs.mail import dispatch_stalled

    with app.app_context():
        bob = db.session.get(User, world.users["bob"])
        row = OutgoingMail(kind="set_password", recipient=bob, to_email=bob.email)
        db.session.add(row)
        db.session.flush()
        row.created_at -= timedelta(minutes=5)
        db.session.commit()
        assert dispatch_stalled() == 1
    run_worker(app)
    assert [m["Subject"] for m in inbox.messages] == ["Set your help desk password"]
