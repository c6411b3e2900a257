"""The operators' CLI: users, resellers, organisations, seed-demo and check."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from helpdesk import create_app
from helpdesk.extensions import db
from helpdesk.models import (
    PRIORITIES,
    STATUSES,
    Category,
    PsaConnection,
    Reply,
    Ticket,
    TicketEvent,
    User,
)
from helpdesk.models.timestamps import utcnow
from helpdesk.services import accounts, mail_senders, sign_ins

SCRIPT_PASSWORD = {"HELPDESK_USER_PASSWORD": "a-long-enough-password"}


def _user(app, email):
    with app.app_context():
        return accounts.find_user(email)


def test_create_users_of_every_kind(app, runner):
    """Resellers and organisations first, then users attached to them."""
    assert runner.invoke(args=["resellers", "create", "Harbour Net"]).exit_code == 0
    result = runner.invoke(args=["organisations", "create", "Quayside",
                                 "--reseller", "Harbour Net"])
    assert result.exit_code == 0, result.output
    commands = [
        ["--email", "Boss@Example.com", "--role", "admin"],
        ["--email", "nora@example.com", "--role", "reseller", "--reseller", "Harbour Net",
         "--permission", "tickets.view", "--permission", "tickets.view_all"],
        ["--email", "carol@example.com", "--role", "company_admin", "--organisation", "quayside"],
        ["--email", "sub@example.com", "--role", "subscriber", "--reseller", "Harbour Net"],
    ]
    for options in commands:
        result = runner.invoke(args=["users", "create", *options], env=SCRIPT_PASSWORD)
        assert result.exit_code == 0, result.output
    assert _user(app, "boss@example.com").role == "admin"  # emails are lower-cased
    reseller = _user(app, "nora@example.com")
    assert reseller.permissions == {"tickets.view", "tickets.view_all"}
    carol = _user(app, "carol@example.com")
    assert carol.organisation.name == "Quayside" and carol.reseller.name == "Harbour Net"
    with app.app_context():
        assert accounts.authenticate("boss@example.com", "a-long-enough-password")


def test_password_is_prompted_when_not_in_the_environment(app, runner):
    """Typed twice, hidden."""
    result = runner.invoke(args=["users", "create", "--email", "a@example.com", "--role", "agent"],
                           input="typed-password-1\ntyped-password-1\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert accounts.authenticate("a@example.com", "typed-password-1")


def test_bad_input_is_refused_with_a_reason(app, runner):
    """Unknown reseller, missing organisation, short password, duplicate email."""
    with app.app_context():
        users_before = db.session.scalar(select(func.count()).select_from(User))
    cases = [
        (["--email", "x@example.com", "--role", "reseller", "--reseller", "Nope"],
         SCRIPT_PASSWORD, "No reseller named 'Nope'"),
        (["--email", "x@example.com", "--role", "company_admin"], SCRIPT_PASSWORD,
         "needs an organisation"),
        (["--email", "x@example.com", "--role", "agent"], {"HELPDESK_USER_PASSWORD": "short"},
         "at least 10 characters"),
        (["--email", "not-an-email", "--role", "agent"], SCRIPT_PASSWORD, "not an email"),
    ]
    for options, env, message in cases:
        result = runner.invoke(args=["users", "create", *options], env=env)
        assert result.exit_code == 1
        assert message in result.output
    runner.invoke(args=["users", "create", "--email", "d@example.com", "--role", "agent"],
                  env=SCRIPT_PASSWORD)
    again = runner.invoke(args=["users", "create", "--email", "D@example.com", "--role", "agent"],
                          env=SCRIPT_PASSWORD)
    assert again.exit_code == 1 and "already exists" in again.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == users_before + 1


def test_disable_list_and_enable(app, runner):
    """A disabled user shows as such, loses sessions, and can be enabled again."""
    runner.invoke(args=["users", "create", "--email", "a@example.com", "--role", "agent"],
                  env=SCRIPT_PASSWORD)
    with app.app_context():
        sign_ins.start(_user(app, "a@example.com"), remember=False, ip="127.0.0.1",
                       user_agent="test")
    assert runner.invoke(args=["users", "disable", "--email", "a@example.com"]).exit_code == 0
    assert _user(app, "a@example.com").disabled_at is not None
    with app.app_context():
        assert sign_ins.open_for(_user(app, "a@example.com")) == []
    listing = runner.invoke(args=["users", "list"]).output
    assert "a@example.com" in listing and "disabled" in listing
    assert runner.invoke(args=["users", "enable", "--email", "a@example.com"]).exit_code == 0
    assert "active" in runner.invoke(args=["users", "list", "--role", "agent"]).output
    missing = runner.invoke(args=["users", "disable", "--email", "ghost@example.com"])
    assert missing.exit_code == 1 and "No user" in missing.output


@pytest.mark.committed  # an empty database, as on first start
def test_seed_demo_loads_the_documented_demo(app, runner):
    """The README's logins, 60+ tickets in every status, priority and category, notes too."""
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    logins = {
        "admin@demo.test": "admin", "agent@demo.test": "agent",
        "north@demo.test": "reseller", "south@demo.test": "reseller",
        "alice@north.demo.test": "subscriber", "bob@south.demo.test": "subscriber",
        "carol@acme.demo.test": "company_admin", "dave@acme.demo.test": "subscriber",
    }
    with app.app_context():
        for email, role in logins.items():
            user = accounts.authenticate(email, "demo-pass-2026")
            assert user is not None and user.role == role, email
        north = accounts.find_user("north@demo.test")
        assert north.reseller.name == "North Net"
        assert north.permissions == {"tickets.view", "tickets.create", "tickets.edit",
                                     "tickets.reply"}
        assert accounts.find_user("south@demo.test").reseller.name == "South Wave"
        assert accounts.find_user("alice@north.demo.test").reseller.name == "North Net"
        assert accounts.find_user("bob@south.demo.test").reseller.name == "South Wave"
        carol = accounts.find_user("carol@acme.demo.test")
        assert carol.organisation.name == "Acme" and carol.organisation.reseller.name == "North Net"
        assert db.session.scalar(select(func.count()).select_from(Ticket)) >= 60
        owners = set(db.session.scalars(select(User.email).join(
            Ticket, Ticket.subscriber_id == User.id)))
        assert {"alice@north.demo.test", "bob@south.demo.test", "carol@acme.demo.test",
                "dave@acme.demo.test"} <= owners
        assert set(db.session.scalars(select(Ticket.status).distinct())) == set(STATUSES)
        assert set(db.session.scalars(select(Ticket.priority).distinct())) == set(PRIORITIES)
        used = set(db.session.scalars(select(Ticket.category_id).distinct()))
        assert used == set(db.session.scalars(select(Category.id)))
        kinds = set(db.session.scalars(select(Reply.internal).distinct()))
        assert kinds == {True, False}
        # Every SLA state in the queue, and escalations in timelines (helpdesk/sla).
        states = set(db.session.scalars(select(Ticket.sla_state).distinct()))
        assert {"on_time", "at_risk", "breached", "paused"} <= states
        assert db.session.scalar(select(func.count()).select_from(TicketEvent).where(
            TicketEvent.kind == "escalation")) > 0
        # Some were opened by staff or the reseller for a subscriber who phoned in.
        openers = set(db.session.scalars(select(User.email).join(
            Ticket, Ticket.opened_by_id == User.id)))
        # ...and the email desk user opened one for a sender the desk does not know.
        assert openers == {"agent@demo.test", "north@demo.test", "south@demo.test",
                           mail_senders.DESK_EMAIL}
        opened_for = set(db.session.scalars(select(User.email).join(
            Ticket, Ticket.subscriber_id == User.id).where(Ticket.opened_by_id.is_not(None))))
        assert "dave@acme.demo.test" in opened_for
        # A lived-in history: every change lies in the past, none at seeding time.
        an_hour_ago = utcnow() - timedelta(hours=1)
        for ticket in db.session.scalars(select(Ticket)):
            assert ticket.created_at <= ticket.updated_at < an_hour_ago
            assert (ticket.closed_at or ticket.created_at) < an_hour_ago
        # No demo HaloPSA named (DEMO_HALOPSA_URL): no PSA connection.
        assert db.session.scalar(select(func.count()).select_from(PsaConnection)) == 0
    again = runner.invoke(args=["seed-demo"])
    assert "already loaded" in again.output


@pytest.mark.committed  # empty but for the one user this test adds
def test_seed_demo_if_empty_leaves_a_used_database_alone(app, runner):
    """``make run`` loads the demo only into an empty database."""
    runner.invoke(args=["users", "create", "--email", "a@example.com", "--role", "agent"],
                  env=SCRIPT_PASSWORD)
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert "not loaded" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_check_passes_and_names_the_variable_to_fix(app, runner, tmp_path):
    """All well: exit 0. A dead database or Redis: exit 1 naming DATABASE_URL or REDIS_URL."""
    ok = runner.invoke(args=["check"])
    assert ok.exit_code == 0 and "reachable" in ok.output
    dead_db = create_app({**app.config, "INSTANCE_PATH": str(tmp_path),
                          "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://u:secret@127.0.0.1:1/x"})
    result = dead_db.test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 1
    assert "Fix DATABASE_URL" in result.output and "secret" not in result.output
    dead_redis = create_app({**app.config, "INSTANCE_PATH": str(tmp_path),
                             "REDIS_URL": "redis://127.0.0.1:1/0"})
    result = dead_redis.test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 1 and "Fix REDIS_URL" in result.output
