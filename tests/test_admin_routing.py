"""``/admin/teams`` and ``/admin/routing``: admins only (404 for everyone else), CSRF on
every post, refused input kept with status 400, every change audited and read as a sentence,
and the dry run's explanations."""

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Category, RoutingRule, Team, User
from helpdesk.services import teams, tickets
from helpdesk.services.routing_rules import RuleFields, add_rule
from tests.admin_pages import audit_entries, post
from tests.world import email

TEAMS, ROUTING = "/admin/teams", "/admin/routing"


def ids(app, world, *names):
    with app.app_context():
        return [db.session.scalar(select(Category.id).where(Category.name == n)) for n in names]


def team_id(app, name):
    with app.app_context():
        return db.session.scalar(select(Team.id).where(Team.name == name))


def rule_names(app):
    with app.app_context():
        return [r.name for r in db.session.scalars(
            select(RoutingRule).order_by(RoutingRule.position))]


@pytest.mark.parametrize("who", ["agent", "north_reseller", "alice", "carol"])
@pytest.mark.parametrize("path", [TEAMS, ROUTING, f"{ROUTING}?ticket=1", f"{TEAMS}/1"])
def test_pages_are_not_found_for_anyone_but_admins(client, auth, world, who, path):
    auth.login(email(who))
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("who", ["agent", "north_reseller"])
def test_posts_are_not_found_for_anyone_but_admins(app, client, auth, world, who):
    auth.login(email(who))
    assert post(client, TEAMS, {"name": "Sneaky"}, page="/tickets").status_code == 404
    [billing] = ids(app, world, "Billing")
    assert post(client, ROUTING, {"name": "Sneaky", "category": billing,
                                  "assignee": world.users["agent"]},
                page="/tickets").status_code == 404
    assert team_id(app, "Sneaky") is None and rule_names(app) == []


def test_signed_out_is_sent_to_sign_in(client, world):
    assert client.get(ROUTING).status_code == 302


def test_posts_without_the_csrf_token_are_refused(app, client, auth, world):
    auth.login(email("admin"))
    [billing] = ids(app, world, "Billing")
    assert client.post(TEAMS, data={"name": "Billing"}).status_code == 400
    assert client.post(ROUTING, data={"name": "R", "category": billing,
                                      "assignee": world.users["agent"]}).status_code == 400
    assert team_id(app, "Billing") is None and rule_names(app) == []


def test_admin_creates_a_team_renames_it_and_manages_members(app, client, auth, world):
    auth.login(email("admin"))
    response = post(client, TEAMS, {"name": " Billing  desk "}, page=TEAMS)
    billing = team_id(app, "Billing desk")
    assert response.status_code == 303 and response.headers["Location"] == f"{TEAMS}/{billing}"
    page = f"{TEAMS}/{billing}"
    assert post(client, f"{page}/name", {"name": "Billing"}, page=page).status_code == 303
    agent = world.users["agent"]
    assert post(client, f"{page}/members", {"user": agent}, page=page).status_code == 303
    assert "Agent" in client.get(TEAMS).text
    # only staff: a subscriber or a reseller user is refused beside the field
    for outsider in ("alice", "north_reseller"):
        refused = post(client, f"{page}/members", {"user": world.users[outsider]}, page=page)
        assert refused.status_code == 400
        assert "Only active agents and admins can be in a team." in refused.text
    assert post(client, f"{page}/members/{agent}/remove", page=page).status_code == 303
    with app.app_context():
        assert db.session.get(Team, billing).members == []
    admin = world.users["admin"]
    assert audit_entries(app, "team.create") == [(admin, None, "team", None, "Billing desk")]
    assert audit_entries(app, "team.rename") == [(admin, None, "team", "Billing desk", "Billing")]
    assert audit_entries(app, "team.add_member") == [(admin, agent, "team", None, "Billing")]
    assert audit_entries(app, "team.remove_member") == [(admin, agent, "team", "Billing", None)]
    log = client.get("/admin/audit").text
    assert "created the team <strong>Billing desk</strong>" in log
    assert "added <a" in log and "to the team <strong>Billing</strong>" in log
    assert "took <a" in log


@pytest.mark.parametrize(("name", "message"), [
    ("", "A team needs a name."),
    ("x" * 101, "at most 100 characters"),
    ("support", "A team named Support already exists."),
])
def test_bad_team_names_are_refused_with_the_text_kept(app, client, auth, world, name, message):
    with app.app_context():
        teams.create_team("Support")
    auth.login(email("admin"))
    response = post(client, TEAMS, {"name": name}, page=TEAMS)
    assert response.status_code == 400 and message in response.text
    assert f'value="{name}"' in response.text


def test_admin_adds_reorders_disables_changes_and_deletes_rules(app, client, auth, world):
    auth.login(email("admin"))
    billing, network = ids(app, world, "Billing", "Network")
    agent, admin = world.users["agent"], world.users["admin"]
    with app.app_context():
        team = teams.create_team("Network").id
    first = post(client, ROUTING, {"name": "Billing to Agent", "category": billing,
                                   "assignee": agent}, page=ROUTING)
    assert first.status_code == 303 and first.headers["Location"] == ROUTING
    post(client, ROUTING, {"name": "Urgent network", "category": network, "priority": "urgent",
                           "organisation": "acme", "team": team}, page=ROUTING)
    assert rule_names(app) == ["Billing to Agent", "Urgent network"]
    with app.app_context():
        second = db.session.scalar(select(RoutingRule).where(RoutingRule.name == "Urgent network"))
        assert second.organisation.name == "Acme" and second.team.name == "Network"
        second_id = second.id
    post(client, f"{ROUTING}/{second_id}/move", {"direction": "up"}, page=ROUTING)
    assert rule_names(app) == ["Urgent network", "Billing to Agent"]
    post(client, f"{ROUTING}/{second_id}/disable", page=ROUTING)
    page = client.get(ROUTING).text
    assert "Disabled Urgent network: it is skipped." in page and ">Enable</button>" in page
    post(client, f"{ROUTING}/{second_id}/enable", page=ROUTING)
    edit = f"{ROUTING}/{second_id}"
    assert 'value="Acme"' in client.get(edit).text
    changed = post(client, edit, {"name": "Network faults", "category": network,
                                  "team": team, "assignee": admin}, page=edit)
    assert changed.status_code == 303
    post(client, f"{edit}/delete", page=edit)
    assert rule_names(app) == ["Billing to Agent"]
    assert audit_entries(app, "routing_rule.add")[0] == (
        admin, None, "routing rule", None, "Billing to Agent (category Billing → assign Agent)")
    assert [e[4] for e in audit_entries(app, "routing_rule.move")] == ["up"]
    assert len(audit_entries(app, "routing_rule.disable")) == 1
    assert len(audit_entries(app, "routing_rule.enable")) == 1
    assert audit_entries(app, "routing_rule.change")[0][3:] == (
        "Urgent network (category Network, priority Urgent, organisation Acme → team Network)",
        "Network faults (category Network → assign Admin, team Network)")
    assert audit_entries(app, "routing_rule.delete")[0][3] == (
        "Network faults (category Network → assign Admin, team Network)")
    log = client.get("/admin/audit").text
    for words in ("added the routing rule", "moved the routing rule", "disabled the routing rule",
                  "enabled the routing rule", "changed the routing rule",
                  "deleted the routing rule"):
        assert words in log


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"name": ""}, "name", "A rule needs a name."),
    ({"category": ""}, "category", "Choose the category the rule routes."),
    ({"category": "999999"}, "category", "Choose a category from the list."),
    ({"priority": "asap"}, "priority", "Choose a priority from the list."),
    ({"organisation": "No Such Org"}, "organisation", "No organisation is named No Such Org."),
    ({"assignee": "", "team": ""}, "team", "A rule sets a team, an assignee, or both."),
    ({"assignee": "alice"}, "assignee", "Only active staff and reseller users can be assigned."),
    ({"assignee": "north_reseller"}, "assignee", "add the reseller North as a condition"),
    ({"organisation": "Zeta", "reseller": "north"}, "organisation", "Zeta is not a customer"),
    ({"name": "taken"}, "name", "A rule named Taken already exists."),
])
def test_bad_rules_are_refused_with_the_text_kept(app, client, auth, world, form, field,
                                                   message):
    [billing] = ids(app, world, "Billing")
    with app.app_context():
        add_rule(RuleFields("Taken", db.session.get(Category, billing),
                            assignee=db.session.get(User, world.users["agent"])), actor=None)
        north = db.session.get(User, world.users["north_reseller"]).reseller_id
    values = {"name": "My rule", "category": billing, "assignee": world.users["agent"],
              "organisation": "", **form}
    for key in ("assignee", "reseller"):
        if values.get(key) in world.users:
            values[key] = world.users[values[key]]
    if values.get("reseller") == "north":
        values["reseller"] = north
    auth.login(email("admin"))
    response = post(client, ROUTING, values, page=ROUTING)
    assert response.status_code == 400
    assert message in response.text
    assert f'id="rule-{field}-error"' in response.text
    assert f'value="{values["name"]}"' in response.text  # the name typed is kept
    if values["organisation"]:
        assert f'value="{values["organisation"]}"' in response.text
    assert rule_names(app) == ["Taken"]


def test_rule_pages_of_missing_rules_are_not_found(client, auth, world):
    auth.login(email("admin"))
    assert client.get(f"{ROUTING}/999999").status_code == 404
    assert post(client, f"{ROUTING}/999999/delete", page=ROUTING).status_code == 404
    assert post(client, f"{TEAMS}/999999/name", {"name": "x"}, page=TEAMS).status_code == 404


def test_the_dry_run_explains_each_rule(app, client, auth, world):
    billing, network = ids(app, world, "Billing", "Network")
    with app.app_context():
        agent = db.session.get(User, world.users["agent"])
        for name, category, priority in (("Urgent billing", billing, "urgent"),
                                          ("Billing", billing, None),
                                          ("Network", network, None)):
            add_rule(RuleFields(name, db.session.get(Category, category), priority=priority,
                                assignee=agent), actor=None)
        ticket = tickets.open_ticket(
            subscriber=db.session.get(User, world.users["alice"]), subject="Charged twice",
            body="", category=db.session.get(Category, billing))
        number = ticket.number
    auth.login(email("admin"))
    page = client.get(ROUTING, query_string={"ticket": number}).text
    assert "rule <strong>Billing</strong> matches." in page
    assert "<strong>Urgent billing</strong>: failed" in page
    assert "priority is Normal, not Urgent" in page
    assert "<strong>Network</strong>: not reached" in page
    combo = client.get(ROUTING, query_string={"category": network, "priority": "low",
                                              "organisation": "Acme"}).text
    assert "rule <strong>Network</strong> matches." in combo
    assert "category is Network, not Billing" in combo
    assert "organisation <strong>Acme</strong>" in combo


@pytest.mark.parametrize(("query", "message"), [
    ({"ticket": "TKT-999999"}, "There is no ticket TKT-999999."),
    ({"ticket": "hello"}, "is not a ticket number"),
    ({"priority": "low"}, "Choose a category, or give a ticket number."),
    ({"category": "Billing", "organisation": "Nowhere Ltd"}, "No organisation is named"),
])
def test_a_bad_dry_run_is_refused_with_the_text_kept(app, client, auth, world, query, message):
    if query.get("category") == "Billing":
        query = {**query, "category": ids(app, world, "Billing")[0]}
    auth.login(email("admin"))
    response = client.get(ROUTING, query_string=query)
    assert response.status_code == 400 and message in response.text
    for key in ("ticket", "organisation"):
        if key in query:
            assert f'value="{query[key]}"' in response.text
