"""The demo: two resellers, an organisation, one login per role and 64 lived-in tickets.

Deterministic (a fixed random seed), so the same demo appears on every machine. Every login
uses ``DEMO_PASSWORD``; the README lists them. Everything goes through the services as a real
person would do it (subscribers open and comment on their own tickets, staff and reseller
staff answer and assign, and open a ticket for a subscriber who phoned in: one in
``ON_BEHALF_EVERY``), so the services' permission checks hold for the demo too.
"""

import random
from datetime import timedelta

from sqlalchemy import func, select

from helpdesk.demo_mail import load_demo_mail
from helpdesk.extensions import db
from helpdesk.models import PRIORITIES, STATUSES, Category, User
from helpdesk.models.timestamps import utcnow
from helpdesk.services import accounts, organisations, replies, routing, teams, tickets
from helpdesk.services.routing_rules import RuleFields, add_rule

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - the published demo password
TICKET_COUNT = 64
ON_BEHALF_EVERY = 9  # every ninth ticket was opened by staff or the reseller for a caller
SLA_PRESENT_AGO = timedelta(minutes=65)  # the demo's SLA sweep ran this long before seeding

SUBJECTS = {
    "General": ["Question about my account", "How do I update my contact details?"],
    "Billing": ["Charged twice this month", "Invoice shows the wrong plan",
                "Direct debit failed after bank change"],
    "Connectivity": ["Internet drops every evening", "No sync on the DSL line since the storm",
                     "Fibre ONT shows a red LOS light"],
    "Wi-Fi": ["Wi-Fi does not reach the upstairs office", "Devices keep disconnecting from 5 GHz"],
    "Hardware": ["Router reboots by itself", "Replacement modem never arrived"],
    "Software": ["VPN client will not connect after update", "Router firmware update stuck"],
    "Network": ["Static IP not routing", "High latency to our branch office",
                "Port forwarding for the NVR stopped working"],
    "Email": ["Cannot send mail from Outlook", "Mailbox full warning every morning"],
    "Security": ["Suspicious login alert on the portal", "Phishing mail pretending to be you"],
    "Complaint": ["Technician missed the appointment", "Speed far below the contracted plan"],
    "Request": ["Please upgrade us to the 1 Gbit plan", "Move our service to a new address"],
    "Other": ["Feedback on the new portal", "Need a letter confirming our contract"],
}
CUSTOMER_REPLIES = [
    "It happened again this morning around **8:15**. Restarting the router did not help.",
    "Thanks, I tried that. Is there anything else I can check on my side?",
    "Here are the details you asked for:\n\n- Serial: `HX-44821`\n- Lights: power and WAN green",
]
SUPPORT_REPLIES = [
    "Thanks for the report. I can see line errors on our side and have reset the port. "
    "Could you check whether it is stable now?",
    "We have booked an engineer visit. You will get a confirmation by email.",
    "This is fixed on our side. See https://status.example.net for the incident notes.",
]
RESOLUTIONS = [
    "The line is stable again after the port reset. Closing this; reply if it comes back.",
    "The refund has been issued and will show on your next invoice.",
    "Your new router is configured and online. Thanks for your patience!",
]
INTERNAL_NOTES = [
    "Line test shows CRC errors on the cabinet side. Escalated to field ops.",
    "Handing over to the evening shift: customer prefers calls after 17:00.",
    "Checked billing system: duplicate charge confirmed, refund needs finance approval.",
]


def demo_is_loaded():
    """Is the demo admin already there?"""
    return accounts.find_user("admin@demo.test") is not None


def database_is_empty():
    """No users at all: a fresh install."""
    return db.session.scalar(select(func.count()).select_from(User)) == 0


def load_demo():
    """Create the demo resellers, organisation, logins and tickets."""
    north = organisations.create_reseller("North Net")
    south = organisations.create_reseller("South Wave")
    acme = organisations.create_organisation("Acme", reseller=north)

    def person(email, name, role, **links):
        """A demo user with the demo password."""
        return accounts.create_user(
            email=email, name=name, role=role, password=DEMO_PASSWORD, **links
        )

    admin = person("admin@demo.test", "Ada Admin", "admin")
    agent = person("agent@demo.test", "Sam Agent", "agent")
    north_staff = person("north@demo.test", "Nora North", "reseller", reseller=north)
    south_staff = person("south@demo.test", "Sven South", "reseller", reseller=south)
    subscribers = [
        person("alice@north.demo.test", "Alice Jensen", "subscriber", reseller=north),
        person("bob@south.demo.test", "Bob Okafor", "subscriber", reseller=south),
        person("carol@acme.demo.test", "Carol Acme", "company_admin", organisation=acme),
        person("dave@acme.demo.test", "Dave Acme", "subscriber", organisation=acme),
    ]
    _load_routing(admin=admin, agent=agent, north=north, north_staff=north_staff)
    _load_tickets(subscribers, staff=[admin, agent], resellers={north.id: north_staff,
                                                               south.id: south_staff})
    _load_sla(admin=admin, agent=agent, acme=acme, north=north, subscribers=subscribers)
    load_demo_mail()


def _load_routing(*, admin, agent, north, north_staff):
    """Teams and routing rules, among them ``Billing to Ada`` (Billing tickets go to Ada
    Admin), so the demo's Billing tickets show routing at work."""
    billing, network, support = (teams.create_team(name) for name in
                                 ("Billing", "Network", "Support"))
    teams.add_member(billing, admin)
    teams.add_member(network, agent)
    for member in (admin, agent):
        teams.add_member(support, member)
    category = {c.name: c for c in db.session.scalars(select(Category))}
    for fields in (
        RuleFields("Billing to Ada", category["Billing"], assignee=admin, team=billing),
        RuleFields("Urgent network faults to Sam", category["Network"], priority="urgent",
                   assignee=agent, team=network),
        RuleFields("Network to the Network team", category["Network"], team=network),
        RuleFields("Connectivity to the Network team", category["Connectivity"], team=network),
        RuleFields("North Net Wi-Fi to Nora", category["Wi-Fi"], reseller=north,
                   assignee=north_staff),
    ):
        add_rule(fields, actor=admin)


def _load_tickets(subscribers, *, staff, resellers):
    """Tickets cycling through statuses, priorities, categories and subscribers, with threads."""
    rng = random.Random(2026)  # noqa: S311 - a repeatable demo, not a secret
    categories = db.session.scalars(select(Category).order_by(Category.position)).all()
    now = utcnow()
    for index in range(TICKET_COUNT):
        subscriber = subscribers[index % len(subscribers)]
        category = categories[index % len(categories)]
        status = STATUSES[index % len(STATUSES)]
        priority = PRIORITIES[(index // 2) % len(PRIORITIES)]
        # Spread over the last 60 days; the newest history still ends days before now.
        opened = now - timedelta(days=60) + timedelta(hours=20 * index, minutes=rng.randint(0, 59))
        subject = rng.choice(SUBJECTS.get(category.name, SUBJECTS["Other"]))
        body = f"{subject}.\n\nCustomer reference: **{subscriber.name}**, line {1000 + index}."
        opener = _opener(index, subscriber, staff=staff, resellers=resellers)
        if opener is not None:
            body = f"{subscriber.name} phoned in: {body}"
        ticket = tickets.open_ticket(
            subscriber=subscriber, subject=subject, category=category, priority=priority,
            body=body, opened_by=opener, created_at=opened,
        )
        # What the routing job does after the commit, done now and dated at the opening so
        # the timeline reads in order (the job, when it runs, finds nothing left to do).
        routing.route_ticket(ticket.id, at=opened)
        helpers = [*staff, resellers[ticket.reseller_id]] if ticket.reseller_id else staff
        assignee = rng.choice([*helpers, None]) if status != "open" else None
        assignee = ticket.assignee or assignee  # routed: the rule's choice stays
        moment = opened
        if assignee is not None:
            moment += timedelta(minutes=rng.randint(5, 90))
            tickets.assign(ticket, assignee, actor=staff[0], at=moment)
        for turn in range(index % 5):
            moment += timedelta(hours=rng.randint(1, 9))
            if turn % 2 == 0:
                author = assignee or rng.choice(helpers)
                internal = turn == 2 or index % 6 == 0
                replies.add_reply(
                    ticket, author=author, internal=internal, created_at=moment,
                    body=rng.choice(INTERNAL_NOTES if internal else SUPPORT_REPLIES),
                    minutes=rng.choice([None, 10, 25, 45]),
                    time_note="Line checks" if internal else None,
                )
            elif ticket.status != "closed":
                replies.add_reply(ticket, author=subscriber, created_at=moment,
                                  body=rng.choice(CUSTOMER_REPLIES))
        _finish(ticket, status, author=assignee or helpers[0], at=moment + timedelta(hours=1))
        db.session.commit()


def _load_sla(*, admin, agent, acme, north, subscribers):
    """SLA on the demo: holidays, contract tiers for Acme and North Net, and three fresh
    tickets (on time, at risk, and one the sweep escalates), then one sweep, so the queue
    shows every SLA state and timelines show escalations. All of it a little over an hour
    ago (``SLA_PRESENT_AGO``): a lived-in history, nothing at seeding time."""
    from helpdesk.services import sla
    from helpdesk.sla import policy as policies
    from helpdesk.sla import sweep

    calendar = sla.calendar_values() | {"holidays": "2026-12-25\n2026-12-26\n2027-01-01"}
    sla.save_calendar(calendar, actor=admin)
    blank = dict.fromkeys(f"{clock}-{p}" for clock in ("first_response", "resolution")
                          for p in PRIORITIES)
    sla.save_targets("organisation", acme, blank | {"first_response-urgent": "30m",
                                                    "resolution-urgent": "2h",
                                                    "first_response-high": "2h"}, actor=admin)
    sla.save_targets("reseller", north, blank | {"first_response-normal": "4h"}, actor=admin)
    policy = policies.load()
    category = db.session.scalars(select(Category).order_by(Category.position)).first()
    now = utcnow() - SLA_PRESENT_AGO
    for subscriber, subject, priority, share in (
            (subscribers[1], "New line activation for the shop", "low", 0.1),
            (subscribers[1], "Intermittent packet loss on the VoIP trunk", "normal", 0.81),
            (subscribers[3], "Payment terminal offline at the front desk", "high", 0.9)):
        probe = tickets.Ticket(priority=priority, organisation_id=subscriber.organisation_id,
                               reseller_id=subscriber.reseller_id)
        first_response = policies.targets_for(probe, policy)[0]
        ticket = tickets.open_ticket(
            subscriber=subscriber, subject=subject, category=category, priority=priority,
            body=f"{subject}.", created_at=_business_ago(policy.calendar, now,
                                                         first_response * share))
        if priority == "high":
            tickets.assign(ticket, agent, actor=admin, at=ticket.created_at)
    sweep.sweep_through(now=now)  # however busy the machine, the whole backlog


def _business_ago(calendar, now, seconds):
    """The instant ``seconds`` business seconds before ``now`` (by halving: the business time
    from an instant to now only shrinks as the instant moves later)."""
    from helpdesk.sla.business_time import business_seconds_between

    early, late = now - timedelta(days=30), now
    for _ in range(40):
        middle = early + (late - early) / 2
        if business_seconds_between(calendar, middle, now) > seconds:
            early = middle
        else:
            late = middle
    return late


def _opener(index, subscriber, *, staff, resellers):
    """Who opens demo ticket ``index`` for ``subscriber`` on the phone, or None (they do).

    The agent one time in three (Dave Acme's first), else the subscriber's reseller, so the
    demo shows both.
    """
    if index % ON_BEHALF_EVERY != 3:
        return None
    if (index // ON_BEHALF_EVERY) % 3 and subscriber.reseller_id in resellers:
        return resellers[subscriber.reseller_id]
    return staff[1]


def _finish(ticket, status, *, author, at):
    """Bring a demo ticket to its final status the way staff would."""
    if status in ("resolved", "closed"):
        replies.add_reply(ticket, author=author, status="resolved", created_at=at,
                          body=resolution_text(ticket.id))
        if status == "closed":
            tickets.change_status(ticket, "closed", actor=author, at=at + timedelta(days=2))
    elif status != ticket.status:
        tickets.change_status(ticket, status, actor=author, at=at)


def resolution_text(seed):
    """A closing reply, varied by ticket."""
    return RESOLUTIONS[seed % len(RESOLUTIONS)]


def enqueue_demo_jobs():
    """Jobs a new user of the demo should see at work: a check that the cron scheduler runs,
    enqueued before ``make run`` starts it, so its first run fails (its error says why) and
    waits on ``/admin/jobs`` to be retried, which then succeeds. No retries of its own, so it
    is on that page within seconds. Redis away: the demo loads all the same."""
    import redis

    from helpdesk.queues import enqueue

    try:
        enqueue("jobs.housekeeping.confirm_scheduler_running", queue="default",
                job_id="demo-scheduler-check", retries=())
    except redis.RedisError:
        return False
    return True
