"""Routing by rules (``services.routing``, ``jobs.routing``): first enabled match wins, each
condition, one timeline event per decision, idempotent jobs, re-routing on a category change,
the sweep when Redis was away, and the demo's ``Billing to Ada``."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.models import (
    AuditEntry,
    Category,
    Organisation,
    Reseller,
    RoutingRule,
    Ticket,
    TicketEvent,
    User,
)
from helpdesk.queues import get_queue
from helpdesk.services import routing, teams, tickets
from helpdesk.services.routing_rules import RuleFields, add_rule, move_rule, set_rule_enabled
from jobs.routing import route_left_behind, route_ticket
from jobs.worker import make_worker
from tests.conftest import csrf_token_from
from tests.world import email


def category(name):
    return db.session.scalar(select(Category).where(Category.name == name))


def user(world, key):
    return db.session.get(User, world.users[key])


def routing_events(ticket_id):
    return db.session.scalars(select(TicketEvent).where(
        TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "routing")
        .order_by(TicketEvent.id)).all()


@pytest.fixture
def rules(app, world):
    """Teams Billing (admin) and Network (agent); rules in order:
    1. "Urgent billing to Agent": Billing, urgent → agent
    2. "Billing to Admin": Billing → admin, team Billing
    3. "Network team": Network → team Network
    Returns the rules' ids by name."""
    with app.app_context():
        admin, agent = user(world, "admin"), user(world, "agent")
        billing = teams.create_team("Billing", actor=admin)
        teams.add_member(billing, admin, actor=admin)
        network = teams.create_team("Network", actor=admin)
        teams.add_member(network, agent, actor=admin)
        made = [
            add_rule(RuleFields("Urgent billing to Agent", category("Billing"),
                                priority="urgent", assignee=agent), actor=admin),
            add_rule(RuleFields("Billing to Admin", category("Billing"), assignee=admin,
                                team=billing), actor=admin),
            add_rule(RuleFields("Network team", category("Network"), team=network),
                     actor=admin),
        ]
        return {rule.name: rule.id for rule in made}


def open_as(world, subscriber, category_name, *, priority="normal", opened_by=None):
    """Open a ticket through the service (which enqueues its routing job); the ticket."""
    return tickets.open_ticket(
        subscriber=user(world, subscriber), subject=f"{category_name} trouble", body="Help",
        category=category(category_name), priority=priority,
        opened_by=user(world, opened_by) if opened_by else None)


def test_the_first_matching_rule_wins_and_its_event_names_it(app, world, rules):
    with app.app_context():
        ticket = open_as(world, "alice", "Billing")
        assert ticket.routing_due_at is not None
        said = route_ticket(ticket.id)
        assert said == "Routed by rule Billing to Admin: assigned to Admin, team Billing"
        db.session.refresh(ticket)
        assert ticket.assignee.name == "Admin" and ticket.team.name == "Billing"
        assert ticket.routing_due_at is None
        [event] = routing_events(ticket.id)
        assert event.actor_id is None and event.internal and event.new_value == said
        # the urgent rule comes first, so an urgent Billing ticket goes to the agent
        urgent = open_as(world, "bob", "Billing", priority="urgent")
        assert route_ticket(urgent.id).startswith("Routed by rule Urgent billing to Agent:")
        assert db.session.get(Ticket, urgent.id).assignee.name == "Agent"


def test_moving_a_rule_changes_which_one_wins(app, world, rules):
    with app.app_context():
        admin = user(world, "admin")
        move_rule(db.session.get(RoutingRule, rules["Billing to Admin"]), up=True, actor=admin)
        ticket = open_as(world, "alice", "Billing", priority="urgent")
        assert route_ticket(ticket.id).startswith("Routed by rule Billing to Admin:")


def test_a_disabled_rule_is_skipped(app, world, rules):
    with app.app_context():
        set_rule_enabled(db.session.get(RoutingRule, rules["Urgent billing to Agent"]),
                         enabled=False, actor=user(world, "admin"))
        ticket = open_as(world, "alice", "Billing", priority="urgent")
        assert route_ticket(ticket.id).startswith("Routed by rule Billing to Admin:")


def test_no_matching_rule_decides_without_an_event(app, world, rules):
    with app.app_context():
        ticket = open_as(world, "alice", "Email")
        assert route_ticket(ticket.id) == "no rule matched"
        assert routing_events(ticket.id) == []
        assert db.session.get(Ticket, ticket.id).routing_due_at is None


def test_the_job_run_twice_writes_one_event_and_assigns_once(app, world, rules):
    """RQ delivers at least once: the second run finds nothing due."""
    with app.app_context():
        ticket = open_as(world, "alice", "Billing")
        route_ticket(ticket.id)
        updated = db.session.get(Ticket, ticket.id).updated_at
        assert route_ticket(ticket.id) == "nothing due"
        assert len(routing_events(ticket.id)) == 1
        assert db.session.get(Ticket, ticket.id).updated_at == updated
        assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "ticket.routing", AuditEntry.ticket_id == ticket.id)) == 1


def test_routing_runs_through_the_automation_queue(app, client, auth, world, rules):
    """The portal opens a ticket; a worker takes the job from the real queue and routes it;
    the same job delivered again changes nothing."""
    auth.login(email("alice"))
    page = client.get("/portal/tickets/new").text
    with app.app_context():
        billing_id = category("Billing").id
    response = client.post("/portal/tickets/new", data={
        "csrf_token": csrf_token_from(page), "subject": "Charged twice",
        "description": "Two charges this month", "category": str(billing_id),
        "priority": "normal"})
    assert response.status_code == 303
    ticket_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        queue = get_queue("automation")
        [job] = queue.get_jobs()
        assert job.func_name == "jobs.routing.route_ticket" and job.args == (ticket_id,)
        assert job.id.startswith(f"routing-{ticket_id}-")
        assert job.retries_left  # enqueue() gave it retries with back-off
        job_id = job.id
    assert make_worker(app, queues=["automation"], simple=True).work(burst=True)
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        assert ticket.assignee.name == "Admin" and ticket.team.name == "Billing"
        get_queue("automation").enqueue_call(  # RQ delivering the same job again
            "jobs.routing.route_ticket", args=(ticket_id,), job_id=job_id)
    make_worker(app, queues=["automation"], simple=True).work(burst=True)
    with app.app_context():
        assert len(routing_events(ticket_id)) == 1


def test_a_category_change_routes_again_and_keeps_a_persons_choice(app, world, rules):
    """Moved from Billing to Network, the ticket gets the Network team; its assignee, once a
    person has chosen one, stays."""
    with app.app_context():
        ticket = open_as(world, "alice", "Billing")
        route_ticket(ticket.id)
        agent = user(world, "agent")
        tickets.assign(ticket, agent, actor=agent)
        tickets.change_category(ticket, category("Network"), actor=agent)
        assert ticket.routing_due_at is not None
        jobs = [j.id for j in get_queue("automation").get_jobs()
                if j.id.startswith(f"routing-{ticket.id}-")]
        assert len(jobs) == 2  # one per request: the opening and the move
        assert route_ticket(ticket.id) == "Routed by rule Network team: team Network"
        ticket = db.session.get(Ticket, ticket.id)
        assert ticket.team.name == "Network" and ticket.assignee.name == "Agent"
        assert len(routing_events(ticket.id)) == 2
        # back to Billing: the rule's assignee does not take it from the agent
        tickets.change_category(ticket, category("Billing"), actor=agent)
        assert route_ticket(ticket.id) == (
            "Routed by rule Billing to Admin: kept Agent as assignee, team Billing")
        assert db.session.get(Ticket, ticket.id).assignee.name == "Agent"


def test_an_assignee_who_may_not_work_the_ticket_is_skipped(app, world):
    """A reseller's user is only assigned their reseller's tickets; if the ticket (say, after
    the organisation moved) is not theirs, the event says so and nobody is assigned."""
    with app.app_context():
        north = db.session.get(User, world.users["north_reseller"])
        rule = add_rule(RuleFields("Billing to North", category("Billing"),
                                   reseller=north.reseller, assignee=north),
                        actor=user(world, "admin"))
        ticket = open_as(world, "alice", "Billing")  # a North subscriber
        assert route_ticket(ticket.id).endswith("assigned to North Reseller")
        rule.reseller = db.session.scalar(select(Reseller).where(Reseller.name == "South"))
        db.session.commit()
        bobs = open_as(world, "bob", "Billing")
        assert route_ticket(bobs.id) == (
            "Routed by rule Billing to North: North Reseller cannot be assigned this ticket")
        assert db.session.get(Ticket, bobs.id).assignee_id is None


@pytest.mark.parametrize(("facts", "failed"), [
    ({"category": "Network"}, ["category is Network, not Billing"]),
    ({"priority": "low"}, ["priority is Low, not Urgent"]),
    ({"organisation": None}, ["organisation is none, not Acme"]),
    ({"reseller": "South"}, ["reseller is South, not North"]),
    ({}, []),
])
def test_each_condition(app, world, facts, failed):
    """A rule with every condition: each one that does not hold is named."""
    with app.app_context():
        acme = db.session.scalar(select(Organisation).where(Organisation.name == "Acme"))
        north = db.session.scalar(select(Reseller).where(Reseller.name == "North"))
        rule = add_rule(RuleFields("Everything", category("Billing"), priority="urgent",
                                   organisation=acme, reseller=north,
                                   assignee=user(world, "agent")), actor=user(world, "admin"))
        given = {"category": "Billing", "priority": "urgent", "organisation": acme,
                 "reseller": "North", **facts}
        the_facts = routing.Facts(
            category(given["category"]), given["priority"], given["organisation"],
            db.session.scalar(select(Reseller).where(Reseller.name == given["reseller"])))
        assert routing.failed_conditions(rule, the_facts) == failed
        [verdict] = routing.explain(the_facts)
        assert verdict.outcome == ("failed" if failed else "matched")


def test_explain_says_matched_failed_disabled_and_not_reached(app, world, rules):
    with app.app_context():
        set_rule_enabled(db.session.get(RoutingRule, rules["Network team"]), enabled=False,
                         actor=user(world, "admin"))
        verdicts = routing.explain(routing.Facts(category("Billing"), "normal"))
        assert [(v.rule.name, v.outcome) for v in verdicts] == [
            ("Urgent billing to Agent", "failed"), ("Billing to Admin", "matched"),
            ("Network team", "not reached")]
        assert verdicts[0].reasons == ("priority is Normal, not Urgent",)
        assert verdicts[1].reasons == ("category is Billing",)
        verdicts = routing.explain(routing.Facts(category("Network"), "normal"))
        assert verdicts[2].outcome == "disabled"


def test_redis_down_keeps_the_ticket_and_the_sweep_routes_it(app, world, rules):
    """Opening a ticket while Redis is away saves it; the sweep routes it later, once."""
    app.config["REDIS_URL"] = "redis://127.0.0.1:9/0"  # nothing listens there
    app.extensions.pop("redis", None)
    with app.app_context():
        ticket = open_as(world, "alice", "Billing")
        ticket_id = ticket.id
        assert db.session.get(Ticket, ticket_id).routing_due_at is not None
        assert route_left_behind() == 0  # too recent: its job may still be on the way
        ticket.routing_due_at -= timedelta(minutes=5)
        db.session.commit()
        assert route_left_behind() == 1
        assert route_left_behind() == 0
        assert db.session.get(Ticket, ticket_id).assignee.name == "Admin"
        assert len(routing_events(ticket_id)) == 1


def test_the_sweep_leaves_old_requests_alone(app, world, rules):
    with app.app_context():
        ticket = open_as(world, "alice", "Billing")
        ticket.routing_due_at -= timedelta(days=1)
        db.session.commit()
        assert route_left_behind() == 0
        assert db.session.get(Ticket, ticket.id).assignee_id is None


def test_staff_see_the_team_and_the_event_customers_do_not(app, client, auth, world, rules):
    """Staff see the team as its control, the reseller as text, the customer not at all."""
    with app.app_context():
        ticket = open_as(world, "alice", "Billing")
        route_ticket(ticket.id)
        ticket_id = ticket.id
    auth.login(email("agent"))
    page = client.get(f"/tickets/{ticket_id}").text
    assert "Routed by rule Billing to Admin: assigned to Admin, team Billing" in page
    assert re.search(r'<select name="team"[^>]*>.*?<option value="\d+" selected>Billing</option>',
                     page, re.S)
    auth.logout()
    auth.login(email("north_reseller"))
    page = client.get(f"/tickets/{ticket_id}").text
    assert '<dd class="team">Billing</dd>' in page and 'name="team"' not in page
    auth.logout()
    auth.login(email("alice"))
    portal = client.get(f"/portal/tickets/{ticket_id}").text
    assert "Routed by rule" not in portal and "Billing to Admin" not in portal


@pytest.mark.committed  # the demo loads into an empty database
def test_the_demo_routes_billing_to_ada(app, runner):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    with app.app_context():
        billing = db.session.scalars(select(Ticket).join(Category).where(
            Category.name == "Billing")).all()
        assert billing
        for ticket in billing:
            assert ticket.assignee.name == "Ada Admin", ticket.id
            [event] = routing_events(ticket.id)
            assert event.new_value.startswith(
                "Routed by rule Billing to Ada: assigned to Ada Admin")
            assert event.created_at == ticket.created_at  # in order in the timeline
            assert ticket.routing_due_at is None
        assert {t.name for t in teams.all_teams()} == {"Billing", "Network", "Support"}


@pytest.mark.committed  # two threads, each with its own connection, must see the ticket
def test_two_workers_routing_at_once_write_one_event(app, world):
    """Two deliveries of the same job at once: one claims the decision, the other finds it
    taken (on PostgreSQL it waits for the first's row lock, then sees the column cleared)."""
    import threading

    with app.app_context():
        add_rule(RuleFields("Billing to Agent", category("Billing"),
                            assignee=user(world, "agent")), actor=None)
        ticket_id = open_as(world, "alice", "Billing").id
    said, start = [], threading.Barrier(2)

    def deliver():
        with app.app_context():
            start.wait()
            said.append(route_ticket(ticket_id))
            db.session.remove()

    workers = [threading.Thread(target=deliver) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(said) == ["Routed by rule Billing to Agent: assigned to Agent", "nothing due"]
    with app.app_context():
        assert len(routing_events(ticket_id)) == 1
