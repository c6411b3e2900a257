"""What the bench times, generated from the queue's own definitions rather than hand-listed.

The filters come from the fields of ``QueueFilters`` and their values from ``STATUSES``,
``PRIORITIES``, ``AGES``, ``SLA_STATES`` and the seeded data (``bench.picks``: the team
filter, staff's only, for the agent); the sorts from
``SORTS``; every URL is written by ``QueueFilters.query_args``, as the queue's own links are.
A field of ``QueueFilters`` that no generator here covers stops the run (``uncovered_fields``),
so a new filter cannot go unmeasured. Queue, search and counter scenarios run as an agent and
as a reseller; the desk's other pages as an agent; the reports (90 days) as an agent and as a
reseller; the portal as its busiest subscriber; the JSON API's ticket list and ticket, with
a bearer token, as an agent and as a reseller.
"""

from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from urllib.parse import urlencode

from bench import checks, content
from helpdesk.desk.queue_filters import AGES, NO_TEAM, SORTS, QueueFilters
from helpdesk.models import PRIORITIES, STATUSES
from helpdesk.models.ticket import SLA_STATES, UNRESOLVED_STATUSES

HX = {"HX-Request": "true"}
QUEUE_MAX_KB = 40  # the queue page, 50 rows
FRAGMENT_MAX_KB = 20  # the expansion fragment
DEEP_PAGE = 200  # the deepest offset page the queue serves (MAX_OFFSET_PAGE)
PORTAL_PAGE = 5
ABSENT_WORD = "zyzzyva"


@dataclass(frozen=True)
class Scenario:
    """One request to time: who asks, what URL, and how to tell the page did its work.

    ``jump``: the answer is a redirect (a ticket number searched), timed as the user's wait.
    ``baseline``: the scenario whose query count this one must not exceed (a deep page
    against its first page). ``under_load``: measured for throughput too.
    """

    name: str
    who: str
    login: str
    path: str
    group: str
    headers: dict = field(default_factory=dict)
    checks: tuple = ()
    max_kb: float | None = None
    jump: bool = False
    baseline: str | None = None
    under_load: bool = False

    @property
    def label(self):
        """``who: name``, unique in a run; what ``--only`` matches."""
        return f"{self.who}: {self.name}"


# QueueFilters fields covered by the generators below, beyond the plain filters.
COVERED_ELSEWHERE = {"q": "searches", "sort": "sorts", "page": "depths", "after": "depths",
                     "before": "depths", "live": "the first page and the live pairs"}


def filter_values(picks):
    """Each plain filter of ``QueueFilters`` with the values to try alone: every value where
    the set is small, the busiest (and a small) one where it comes from the data."""
    category = [(f"category={c[1]} ({kind}, {c[2]})", [c[0]]) for kind, c in (
        ("busiest", picks.busiest_category), ("smallest", picks.smallest_category)) if c]
    assignee = [("assignee=me", "me"), ("assignee=unassigned", "unassigned")]
    if picks.assignee:
        assignee.insert(0, (f"assignee={picks.assignee[1]} (busiest)", str(picks.assignee[0])))
    team = [(f"team={t[1]} ({kind}, {t[2]})", str(t[0])) for kind, t in (
        ("busiest", picks.busiest_team), ("smallest", picks.smallest_team)) if t]
    if team:
        team.append(("team=none", NO_TEAM))
    return {
        "statuses": [(f"status={s}", [s]) for s in STATUSES],
        "priorities": [(f"priority={p}", [p]) for p in PRIORITIES],
        "categories": category,
        "assignee": assignee,
        "customer": [(f"customer={picks.customer[1]} (busiest, {picks.customer[3]})",
                      picks.customer[0])] if picks.customer else [],
        "organisation": [(f"organisation={picks.organisation[1]} (busiest)",
                          picks.organisation[0])] if picks.organisation else [],
        "reseller": [(f"reseller={picks.reseller}", picks.reseller)] if picks.reseller else [],
        "age": [(f"age={a}", a) for a in AGES],
        "sla": [(f"sla={state}", [state]) for state in SLA_STATES],
        "team": team,
    }


def uncovered_fields(picks):
    """``QueueFilters`` fields no scenario exercises (a new filter the bench must learn)."""
    known = set(filter_values(picks)) | set(COVERED_ELSEWHERE)
    return sorted(f.name for f in fields(QueueFilters) if f.name not in known)


def pairs(picks):
    """The pairs of filters people use together."""
    chosen = [
        ("status=open & priority=urgent", {"statuses": ["open"], "priorities": ["urgent"]}),
        ("status=on_hold & priority=low", {"statuses": ["on_hold"], "priorities": ["low"]}),
        ("assignee=unassigned & status=closed", {"assignee": "unassigned",
                                                 "statuses": ["closed"]}),
    ]
    if picks.busiest_category:
        chosen.append((f"status=open & category={picks.busiest_category[1]}",
                       {"statuses": ["open"], "categories": [picks.busiest_category[0]]}))
    if picks.assignee:
        chosen.append((f"status=in_progress & assignee={picks.assignee[1]}",
                       {"statuses": ["in_progress"], "assignee": str(picks.assignee[0])}))
    if picks.reseller:
        chosen.append((f"reseller={picks.reseller} & status=open",
                       {"reseller": picks.reseller, "statuses": ["open"]}))
    for kind, team in (("busiest", picks.busiest_team), ("smallest", picks.smallest_team)):
        if team:  # a team's live work, its inbox, and a rare status of it
            chosen += [(f"live & team={team[1]} ({kind})", {"live": True, "team": str(team[0])}),
                       (f"live & team={team[1]} ({kind}) & assignee=unassigned",
                        {"live": True, "team": str(team[0]), "assignee": "unassigned"}),
                       (f"team={team[1]} ({kind}) & status=on_hold & priority=low",
                        {"team": str(team[0]), "statuses": ["on_hold"],
                         "priorities": ["low"]})]
    if picks.busiest_team:
        chosen.append(("live & team=none & sort=newest",
                       {"live": True, "team": NO_TEAM, "sort": "newest"}))
    chosen.append(("status=" + "+".join(UNRESOLVED_STATUSES) + " (multi-valued)",
                   {"statuses": list(UNRESOLVED_STATUSES)}))
    # Live work (the queue without a status) with what narrows it most often: My tickets, a
    # priority, and the other sorts.
    chosen += [("live & assignee=me (My tickets)", {"live": True, "assignee": "me"}),
               ("live & priority=urgent", {"live": True, "priorities": ["urgent"]}),
               ("live & sort=updated", {"live": True, "sort": "updated"}),
               ("live & sort=newest", {"live": True, "sort": "newest"})]
    return chosen


def searches(picks, *, ticket_prefix):
    """Search terms: common, rare, absent, a name, an email address, a phrase, a number."""
    terms = [("common", content.SEARCH_WORD), ("absent", ABSENT_WORD),
             ("phrase", f'"{content.SEARCH_PHRASE}"')]
    if picks.serial:
        terms.insert(1, ("rare", picks.serial))
    if picks.customer:
        terms += [("name", picks.customer[1]), ("email", picks.customer[2])]
    jumps = []
    if picks.middle_ticket_id:
        jumps = [("ticket number", f"{ticket_prefix}-{picks.middle_ticket_id}"),
                 ("bare number", str(picks.middle_ticket_id))]
    return terms, jumps


def queue_scenarios(picks, *, ticket_prefix):
    """The queue as ``picks.who`` uses it: first pages, filters, pairs, sorts, searches,
    deep pages and the counters."""
    me = picks.user_id
    scope = [checks.scope_check(picks.scope)]

    def queue(name, group, filters, *, extra=(), query=None, **options):
        args = filters.query_args(**(query or {}))
        return Scenario(
            name=name, who=picks.who, login=picks.email, group=group,
            path="/tickets" + ("?" + urlencode(args) if args else ""),
            checks=tuple(scope + checks.filter_checks(filters, me=me) + list(extra)),
            max_kb=QUEUE_MAX_KB, **options)

    # The queue as it opens lists live work; every sort also over every status (status=any).
    first_pages = {sort: "queue, any status" if sort == "queue" else f"sort={sort}"
                   for sort in SORTS}
    out = [queue("queue, first page", "sort", QueueFilters(live=True),
                 extra=[checks.order_check("queue")], under_load=True)]
    out += [queue(first_pages[sort], "sort", QueueFilters(sort=sort),
                  extra=[checks.order_check(sort)])
            for sort in SORTS]
    for attribute, values in filter_values(picks).items():
        out += [queue(name, "filter", QueueFilters(**{attribute: value}))
                for name, value in values]
    out += [queue(name, "pair", QueueFilters(**chosen)) for name, chosen in pairs(picks)]
    terms, jumps = searches(picks, ticket_prefix=ticket_prefix)
    out += [queue(f"search {kind}: {term}", "search", QueueFilters(q=term),
                  under_load=kind == "common" and picks.who == "agent")
            for kind, term in terms]
    out += [Scenario(name=f"search {kind}: {term}", who=picks.who, login=picks.email,
                     group="search", path="/tickets?" + urlencode(QueueFilters(q=term)
                                                                  .query_args()),
                     checks=(checks.Check(note="no jump to the ticket",
                                          jump=picks.middle_ticket_id),), jump=True)
            for kind, term in jumps]
    out.append(queue(f"page={DEEP_PAGE}", "depth", QueueFilters(),
                     query={"page": DEEP_PAGE}, extra=[checks.order_check("queue")],
                     baseline=first_pages["queue"]))
    if picks.busiest_team:  # a team's view deep down, its page of ids from its own index
        team = picks.busiest_team
        out.append(queue(f"page={DEEP_PAGE} & team={team[1]}", "depth",
                         QueueFilters(team=str(team[0])), query={"page": DEEP_PAGE},
                         extra=[checks.order_check("queue")],
                         baseline=f"team={team[1]} (busiest, {team[2]})"))
    for cursor in picks.cursors:
        filters = QueueFilters(sort=cursor.sort)
        for direction, expected in (("after", {"first": cursor.next_id}),
                                    ("before", {"last": cursor.previous_id})):
            out.append(queue(
                f"{direction} {cursor.depth}% (row {cursor.position:,}) sort={cursor.sort}",
                "depth", filters, query={direction: cursor.cursor},
                extra=[checks.order_check(cursor.sort),
                       checks.Check(note=f"{direction} cursor ignored", **expected)],
                baseline=first_pages[cursor.sort]))
    out.append(Scenario(name="counters", who=picks.who, login=picks.email, group="counters",
                        path="/tickets/counters", headers=HX, under_load=picks.who == "agent"))
    return out


def desk_pages(picks):
    """The agent's other waits: the live polls, the expansion fragment, a customer hub."""
    since = datetime.now(UTC).isoformat()
    out = []
    if picks.page_ids:
        out.append(Scenario(
            name=f"poll the queue ({len(picks.page_ids)} rows)", who=picks.who,
            login=picks.email, group="poll", headers=HX,
            path="/tickets/changes?" + urlencode([("since", since)]
                                                 + [("ids", i) for i in picks.page_ids])))
    if picks.ticket_id:
        out += [
            Scenario(name="poll a ticket", who=picks.who, login=picks.email, group="poll",
                     headers=HX, path=f"/tickets/{picks.ticket_id}/live?"
                     + urlencode({"v": picks.ticket_version})),
            Scenario(name="expansion fragment", who=picks.who, login=picks.email,
                     group="ticket", headers=HX, path=f"/tickets/{picks.ticket_id}",
                     max_kb=FRAGMENT_MAX_KB),
        ]
    if picks.customer:
        out.append(Scenario(
            name=f"customer hub ({picks.customer[3]} tickets)", who=picks.who,
            login=picks.email, group="hub", path=f"/customers/{picks.customer[0]}",
            checks=(checks.filter_checks(QueueFilters(customer=picks.customer[0]),
                                         me=picks.user_id)[0],)))
    return out


REPORT_DAYS = 90  # the range the issue times (/reports under 200 ms p95 at 1,000,000 tickets)


def report_pages(picks):
    """``/reports`` over the last ``REPORT_DAYS`` days, in ``picks.who``'s scope."""
    return [Scenario(name=f"reports, last {REPORT_DAYS} days", who=picks.who, login=picks.email,
                     group="reports", path=f"/reports?days={REPORT_DAYS}")]


def portal_pages(email, tickets):
    """The portal list of the busiest subscriber, and a page further down."""
    return [Scenario(name=f"portal list ({tickets} tickets)", who="subscriber", login=email,
                     group="portal", path="/portal/tickets"),
            Scenario(name=f"portal page {PORTAL_PAGE}", who="subscriber", login=email,
                     group="portal", path=f"/portal/tickets?page={PORTAL_PAGE}")]


API_PAGE = 50  # the API's default page size (``limit``)


def api_scenarios(picks, token):
    """The JSON API as a script with ``picks.who``'s token uses it: the ticket list's first
    page, a page deep down by cursor (90% of the queue order, every status), a rare word,
    and one ticket with its thread. Timed with ``Authorization: Bearer`` (the session the
    bench signs in with is ignored there). The token is new, so the first scenario's
    counted request also writes its last use (``services.api_tokens``: once a minute)."""
    bearer = {"Authorization": f"Bearer {token}"}
    scope = checks.scope_check(picks.scope)

    def api(name, path, *, extra=(), **options):
        return Scenario(name=f"API {name}", who=picks.who, login=picks.email, group="api",
                        path=path, headers=bearer, checks=(scope, *extra), **options)

    out = [api("tickets, first page", "/api/v1/tickets",
               extra=[checks.order_check("queue")], under_load=picks.who == "agent")]
    deep = [c for c in picks.cursors if c.sort == "queue" and c.depth == max(
        cursor.depth for cursor in picks.cursors)]
    for cursor in deep:
        out.append(api(
            f"tickets, cursor {cursor.depth}% (row {cursor.position:,})",
            "/api/v1/tickets?" + urlencode({"status": "any", "cursor": cursor.cursor,
                                            "limit": API_PAGE}),
            extra=[checks.order_check("queue"),
                   checks.Check(note="cursor ignored", first=cursor.next_id)],
            baseline="API tickets, first page"))
    if picks.serial:
        out.append(api(f"tickets, search rare: {picks.serial}",
                       "/api/v1/tickets?" + urlencode({"status": "any", "q": picks.serial}),
                       extra=[checks.words_check(picks.serial)]))
    if picks.ticket_id:
        out.append(api("ticket with its thread", f"/api/v1/tickets/{picks.ticket_id}"))
    return out


def generate(agent, reseller, portal, *, ticket_prefix, api_tokens=None):
    """Every scenario of a run: ``agent`` and ``reseller`` are ``Picks``, ``portal`` the
    ``(email, tickets)`` of the portal's subscriber; ``api_tokens`` the API token of each
    (by ``who``), for the API's scenarios."""
    missing = uncovered_fields(agent)
    if missing:
        raise ValueError(f"QueueFilters fields without a bench scenario: {', '.join(missing)}")
    api = [scenario for picks in (agent, reseller) if (api_tokens or {}).get(picks.who)
           for scenario in api_scenarios(picks, api_tokens[picks.who])]
    return (queue_scenarios(agent, ticket_prefix=ticket_prefix) + desk_pages(agent)
            + report_pages(agent) + queue_scenarios(reseller, ticket_prefix=ticket_prefix)
            + report_pages(reseller) + portal_pages(*portal) + api)


def page_size_scenarios(everything):
    """The lists whose query count must not grow with the page size."""
    wanted = {"agent: queue, first page", "reseller: queue, first page"}
    return [s for s in everything if s.label in wanted
            or (s.group in ("hub", "portal") and "page" not in s.name)]
