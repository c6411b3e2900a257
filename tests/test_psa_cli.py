"""``flask --app wsgi psa``: the CLI contract scripts rely on: add-halopsa (the secret from
$PSA_CLIENT_SECRET), status (lines, or ``--json``), check and lookups (exit 1 on failure)."""

import json

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import PsaConnection, PsaWrite
from helpdesk.psa.secrets import unseal

ADD = ["psa", "add-halopsa", "--name", "Main", "--base-url", "https://halo.example.com",
       "--auth-url", "https://halo.example.com/auth", "--client-id", "desk"]
SECRET = {"PSA_CLIENT_SECRET": "from-the-environment-1"}


def test_add_halopsa_reads_the_secret_from_the_environment(app, runner):
    result = runner.invoke(args=[*ADD, "--tenant", "acme"], env=SECRET)
    assert result.exit_code == 0, result.output
    with app.app_context():
        connection = db.session.scalar(select(PsaConnection))
        assert result.output == f"Created PSA connection {connection.id}: Main\n"
        assert (connection.kind, connection.tenant, connection.enabled) == ("halopsa", "acme",
                                                                            True)
        assert unseal(connection.client_secret_encrypted) == "from-the-environment-1"


def test_add_halopsa_refuses_a_missing_secret_a_taken_name_and_bad_urls(app, runner):
    missing = runner.invoke(args=ADD, env={"PSA_CLIENT_SECRET": ""})
    assert missing.exit_code == 1 and "Set PSA_CLIENT_SECRET" in missing.output
    assert runner.invoke(args=ADD, env=SECRET).exit_code == 0
    taken = runner.invoke(args=[*ADD[:3], "main", *ADD[4:]], env=SECRET)
    assert taken.exit_code == 1 and "A connection named Main already exists." in taken.output
    bad = runner.invoke(args=[*ADD[:3], "Other", "--base-url", "halo", *ADD[6:]], env=SECRET)
    assert bad.exit_code == 1 and "base URL must be an http or https address" in bad.output
    with app.app_context():
        assert db.session.scalars(select(PsaConnection.name)).all() == ["Main"]


def test_status_lists_each_connection_for_people_and_scripts(app, runner, world):
    assert runner.invoke(args=["psa", "status"]).output == "No PSA connections.\n"
    assert runner.invoke(args=["psa", "status", "--json"]).output.strip() == "[]"
    runner.invoke(args=ADD, env=SECRET)
    with app.app_context():
        connection = db.session.scalar(select(PsaConnection))
        connection.request_budget = 100
        for key, state in (("a", "queued"), ("b", "sending"), ("c", "dead"), ("d", "sent")):
            db.session.add(PsaWrite(connection_id=connection.id, ticket_id=world.tickets["alice"],
                                    kind="add_action", key=key, marker=key, state=state))
        db.session.commit()
    line = runner.invoke(args=["psa", "status"]).output
    assert line == ("Main\thalopsa\tenabled\tlast pull never\tqueued 2\tdead 1\t"
                    "budget left 100/100\n")
    [item] = json.loads(runner.invoke(args=["psa", "status", "--json"]).output)
    assert (item["name"], item["queued_writes"], item["dead_letters"], item["budget_left"],
            item["last_pull"]) == ("Main", 2, 1, 100, None)


def test_check_and_lookups_exit_1_with_the_psas_message(app, runner, halo):
    add = ["psa", "add-halopsa", "--name", "Main", "--base-url", halo.url, "--auth-url",
           halo.auth_url, "--client-id", halo.client_id]
    added = runner.invoke(args=add, env={"PSA_CLIENT_SECRET": halo.client_secret})
    connection_id = added.output.split()[3].rstrip(":")  # "Created PSA connection 3: Main"
    ok = runner.invoke(args=["psa", "check", "--connection", "main"])
    assert ok.exit_code == 0
    assert ok.output == f"Connected: HaloPSA at {halo.url} answered: token granted, 6 statuses\n"
    halo.client_secret = "rotated-in-halo"
    failed = runner.invoke(args=["psa", "check", "--connection", "Main"])
    assert failed.exit_code == 1 and "401 to POST /auth/token: invalid_client" in failed.output
    halo.client_secret = "halo-secret"
    fetched = runner.invoke(args=["psa", "lookups", "--connection", connection_id])
    assert fetched.exit_code == 0
    assert fetched.output == ("Fetched 6 statuses, 4 priorities, 2 ticket types, 3 clients, "
                              "6 users, 2 agents.\n")
    halo.fail("500", path="/api/Status", times=5)
    failed = runner.invoke(args=["psa", "lookups", "--connection", "Main"])
    assert failed.exit_code == 1 and "/api/Status" in failed.output
    unknown = runner.invoke(args=["psa", "check", "--connection", "Nope"])
    assert unknown.exit_code == 1 and "No PSA connection named 'Nope' (connections: Main)" in (
        unknown.output)
