"""Creating and editing users at /admin/users, disabling and enabling them, mailing a
password reset link: the same ``services.accounts`` as the CLI, audited, admins only."""

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Organisation, OutgoingMail, Reseller, User
from helpdesk.services import accounts
from tests.admin_pages import audit_entries, post
from tests.sign_ins import new_client, signed_in
from tests.world import PASSWORD, email


def ids(app, model, name):
    with app.app_context():
        return db.session.scalar(select(model.id).where(model.name == name))


def user_row(app, address):
    with app.app_context():
        user = accounts.find_user(address)
        if user is not None:
            db.session.expunge(user)
        return user


def new_user(client, page="/admin/users/new", **fields):
    data = {"name": "Nora North", "email": "nora@north.example", "role": "agent",
            "reseller": "", "organisation": "", "password": "a-long-password-1", **fields}
    return post(client, "/admin/users/new", data, page=page)


def test_admin_creates_a_reseller_user_with_permissions(app, client, auth, world):
    auth.login(email("admin"))
    north = ids(app, Reseller, "North")
    form = client.get("/admin/users/new").text
    assert 'checked id="permissions-4" name="permissions" type="checkbox" ' \
        'value="tickets.reply"' in form
    response = post(client, "/admin/users/new", {
        "name": "Nora North", "email": "Nora@North.example ", "role": "reseller",
        "reseller": str(north), "organisation": "", "password": "a-long-password-1",
        "permissions": ["tickets.view", "tickets.reply"]}, page="/admin/users/new")
    assert response.status_code == 303
    nora = user_row(app, "nora@north.example")
    assert response.headers["Location"] == f"/admin/users/{nora.id}"
    assert nora.role == "reseller" and nora.reseller_id == north
    assert nora.permissions == {"tickets.view", "tickets.reply"}
    assert [e for e in audit_entries(app, "user.create") if e[1] == nora.id] == [
        (world.users["admin"], nora.id, "role", None, "reseller")]
    assert "Created Nora North" in client.get(response.headers["Location"]).text
    _other, other_auth = new_client(app)
    assert other_auth.login("nora@north.example", "a-long-password-1").status_code == 302


def test_company_admin_gets_the_organisation_s_reseller(app, client, auth, world):
    auth.login(email("admin"))
    acme = ids(app, Organisation, "Acme")
    response = new_user(client, email="cara@acme.example", role="company_admin",
                        organisation=str(acme))
    assert response.status_code == 303
    cara = user_row(app, "cara@acme.example")
    assert cara.organisation_id == acme and cara.reseller_id == ids(app, Reseller, "North")
    assert cara.permissions == frozenset()


def test_without_a_password_a_set_password_link_is_queued(app, client, auth, world):
    auth.login(email("admin"))
    response = new_user(client, email="sam@example.com", role="agent", password="",
                        send_link="y")
    assert response.status_code == 303
    with app.app_context():
        sam = accounts.find_user("sam@example.com")
        mail = db.session.scalars(select(OutgoingMail)
                                  .where(OutgoingMail.recipient_id == sam.id)).one()
        assert (mail.kind, mail.state) == ("set_password", "queued")
        assert accounts.authenticate("sam@example.com", "") is None


@pytest.mark.parametrize("fields, field_text", [
    ({"email": "not-an-email"}, "is not an email address"),
    ({"email": email("alice")}, "already exists"),
    ({"password": "short"}, "at least 10 characters"),
    ({"password": ""}, "Enter a password, or have a link mailed to them."),
    ({"role": "reseller"}, "A reseller user needs a reseller."),
    ({"role": "company_admin"}, "A company admin needs an organisation."),
    ({"role": "wizard"}, "Not a valid choice"),
    ({"role": "agent", "reseller": "NORTH"}, "Agents and admins belong to the operator"),
    ({"role": "subscriber", "reseller": "999999"}, "Choose a reseller from the list."),
    ({"role": "subscriber", "organisation": "ACME", "reseller": "SOUTH"},
     "Acme is not a customer of South."),
    ({"role": "subscriber", "name": "n" * 201}, "Field cannot be longer than 200"),
])
def test_bad_input_is_400_with_the_message_and_the_text_kept(
        app, client, auth, world, fields, field_text):
    auth.login(email("admin"))
    names = {"NORTH": str(ids(app, Reseller, "North")), "SOUTH": str(ids(app, Reseller, "South")),
             "ACME": str(ids(app, Organisation, "Acme"))}
    fields = {key: names.get(value, value) for key, value in fields.items()}
    response = new_user(client, **{"name": "Typed Name", "email": "typed@example.com", **fields})
    assert response.status_code == 400
    assert field_text in response.text
    assert 'class="field-error"' in response.text
    typed = fields.get("email", "typed@example.com")
    assert f'value="{typed}"' in response.text
    assert user_row(app, "typed@example.com") is None


def test_admin_edits_a_user_and_each_change_is_audited(app, client, auth, world):
    auth.login(email("admin"))
    alice = world.users["alice"]
    page = f"/admin/users/{alice}"
    assert 'value="Alice"' in client.get(page).text
    acme = ids(app, Organisation, "Acme")
    response = post(client, page, {"name": "Alice Acme", "email": "alice@acme.example",
                                   "role": "company_admin", "reseller": "",
                                   "organisation": str(acme)}, page=page)
    assert response.status_code == 303
    row = user_row(app, "alice@acme.example")
    assert (row.name, row.role, row.organisation_id) == ("Alice Acme", "company_admin", acme)
    changed = {entry[2]: entry[3:] for entry in audit_entries(app, "user.update")}
    assert changed == {"name": ("Alice", "Alice Acme"),
                       "email": (email("alice"), "alice@acme.example"),
                       "role": ("subscriber", "company_admin"), "organisation": (None, "Acme")}
    refused = post(client, page, {"name": "Alice", "email": email("bob"), "role": "subscriber",
                                  "reseller": "", "organisation": ""}, page=page)
    assert refused.status_code == 400 and "already exists" in refused.text
    assert f'value="{email("bob")}"' in refused.text


def test_reseller_permissions_are_edited_and_ignored_for_other_roles(app, client, auth, world):
    auth.login(email("admin"))
    viewer = world.users["north_viewer"]
    page = f"/admin/users/{viewer}"
    north = str(ids(app, Reseller, "North"))
    form = client.get(page).text
    assert f'<option selected value="{north}">North</option>' in form
    assert '<option selected value="reseller">Reseller</option>' in form
    assert 'checked id="permissions-0" name="permissions" type="checkbox" ' \
        'value="tickets.view"' in form
    post(client, page, {"name": "Viewer", "email": email("north_viewer"), "role": "reseller",
                        "reseller": north, "organisation": "",
                        "permissions": ["tickets.view", "tickets.delete"]}, page=page)
    assert user_row(app, email("north_viewer")).permissions == {"tickets.view", "tickets.delete"}
    post(client, page, {"name": "Viewer", "email": email("north_viewer"), "role": "agent",
                        "reseller": "", "organisation": "", "permissions": ["tickets.view"]},
         page=page)
    row = user_row(app, email("north_viewer"))
    assert row.role == "agent" and row.permissions == frozenset() and row.reseller_id is None


def test_disable_and_enable(app, client, auth, world):
    victim, victim_auth = new_client(app)
    victim_auth.login(email("agent"))
    auth.login(email("admin"))
    agent = world.users["agent"]
    response = post(client, f"/admin/users/{agent}/disable", page=f"/admin/users/{agent}")
    assert response.status_code == 303
    assert "Disabled Agent" in client.get(f"/admin/users/{agent}").text
    assert not signed_in(victim)
    assert post(client, f"/admin/users/{agent}/enable",
                page=f"/admin/users/{agent}").status_code == 303
    assert user_row(app, email("agent")).disabled_at is None
    actions = [(e[0], e[4]) for e in audit_entries(app, "user.disable")
               + audit_entries(app, "user.enable")]
    assert actions == [(world.users["admin"], "disabled"), (world.users["admin"], "active")]


def test_admin_cannot_disable_or_demote_themselves(app, client, auth, world):
    auth.login(email("admin"))
    admin = world.users["admin"]
    page = f"/admin/users/{admin}"
    response = post(client, f"{page}/disable", page=page)
    assert response.status_code == 303
    assert "You cannot disable yourself" in client.get(page).text
    demote = post(client, page, {"name": "Admin", "email": email("admin"), "role": "agent",
                                 "reseller": "", "organisation": ""}, page=page)
    assert demote.status_code == 400 and "You cannot change the role of yourself" in demote.text
    row = user_row(app, email("admin"))
    assert row.role == "admin" and row.disabled_at is None


def test_the_last_admin_cannot_be_disabled_or_demoted(app, world):
    """Not even from the CLI (actor None); with a second admin it can."""
    with app.app_context():
        admin = db.session.get(User, world.users["admin"])
        with pytest.raises(accounts.AccountError, match="last admin"):
            accounts.set_disabled(admin, disabled=True, actor=None)
        with pytest.raises(accounts.AccountError, match="last admin"):
            accounts.update_user(admin, actor=None, name="Admin", email=email("admin"),
                                 role="agent", reseller=None, organisation=None,
                                 permissions=None)
        db.session.rollback()
        second = accounts.create_user(email="second@example.com", name="Second", role="admin",
                                      password=PASSWORD)
        accounts.set_disabled(second, disabled=True, actor=None)
        with pytest.raises(accounts.AccountError, match="last admin"):
            accounts.set_disabled(admin, disabled=True, actor=None)
        accounts.set_disabled(second, disabled=False, actor=None)
        accounts.set_disabled(admin, disabled=True, actor=second)
        assert admin.disabled_at is not None


def test_last_admin_from_the_cli(app, runner, world):
    result = runner.invoke(args=["users", "disable", "--email", email("admin")])
    assert result.exit_code == 1 and "last admin" in result.output


def test_admin_mails_a_password_reset_link(app, client, auth, world):
    auth.login(email("admin"))
    bob = world.users["bob"]
    response = post(client, f"/admin/users/{bob}/password-reset", page=f"/admin/users/{bob}")
    assert response.status_code == 303
    assert "A password reset link is on its way to Bob." in client.get(f"/admin/users/{bob}").text
    with app.app_context():
        mail = db.session.scalars(select(OutgoingMail)
                                  .where(OutgoingMail.recipient_id == bob)).one()
        assert mail.kind == "password_reset"
    assert audit_entries(app, "user.password_reset_link") == [
        (world.users["admin"], bob, "mail", None, "password_reset")]


def test_users_list_links_to_each_user(app, client, auth, world):
    auth.login(email("admin"))
    listing = client.get("/admin/users?q=carol").text
    assert f'href="/admin/users/{world.users["carol"]}"' in listing
    assert 'href="/admin/users/new"' in listing


def test_unknown_user_and_missing_csrf(app, client, auth, world):
    auth.login(email("admin"))
    assert client.get("/admin/users/999999").status_code == 404
    assert post(client, "/admin/users/999999/disable").status_code == 404
    agent = world.users["agent"]
    assert client.post(f"/admin/users/{agent}/disable").status_code == 400
    assert client.post("/admin/users/new", data={"email": "x@example.com", "role": "agent",
                                                 "password": "a-long-password-1"}
                       ).status_code == 400
    assert user_row(app, email("agent")).disabled_at is None
    assert user_row(app, "x@example.com") is None


@pytest.mark.parametrize("key", ["agent", "north_reseller", "north_all", "alice", "carol"])
def test_non_admins_get_404_on_every_user_route(app, client, auth, world, key):
    auth.login(email(key))
    home = "/portal/tickets" if key in ("alice", "carol") else "/tickets"
    bob = world.users["bob"]
    for path in ("/admin/users/new", f"/admin/users/{bob}"):
        assert client.get(path).status_code == 404
    for path in ("/admin/users/new", f"/admin/users/{bob}", f"/admin/users/{bob}/disable",
                 f"/admin/users/{bob}/enable", f"/admin/users/{bob}/password-reset"):
        assert post(client, path, {"email": "x@example.com", "role": "admin",
                                   "password": "a-long-password-1"}, page=home).status_code == 404
    assert user_row(app, email("bob")).disabled_at is None
    assert user_row(app, "x@example.com") is None
