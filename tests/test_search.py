"""Search: one document per ticket, scoped per role, planned by the number of matches.

The world's tickets are ``<key> ticket`` with body ``Body of **<key>**``; alice's and dave's
have a public answer and an internal note (``SECRET-INTERNAL-NOTE``). Every test runs on
SQLite and, with ``TEST_DATABASE_URL``, on PostgreSQL.
"""

import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from helpdesk.access import sees_internal_notes, visible_tickets
from helpdesk.extensions import db
from helpdesk.models import Category, Organisation, Ticket, User
from helpdesk.models.ticket import QUEUE_ORDER
from helpdesk.search import (
    MATCH_FIRST,
    QUEUE_FIRST,
    SEARCH_TABLE,
    search_plan,
    search_terms,
    ticket_match,
    ticket_number,
)
from helpdesk.services import replies, tickets
from tests.world import email

HX = {"HX-Request": "true"}
SUBMITTED = {**HX, "X-Search-Submitted": "1"}
NO_MATCH = "No tickets match."


def user(world, key):
    return db.session.get(User, world.users[key])


def found(person, query):
    """The world keys of the tickets ``person`` finds with ``query``."""
    match = ticket_match(query, include_internal=sees_internal_notes(person))
    rows = db.session.scalars(visible_tickets(person).where(*([] if match is None else [match])))
    return {ticket.subject.removesuffix(" ticket") for ticket in rows}


# --- what the query means ------------------------------------------------------------------

def test_query_syntax_is_read_into_terms():
    """Words, "phrases" (an unclosed quote runs to the end), emails, chunks; stop words go."""
    terms = search_terms('Router "line 1042" alice@test.example v1.2-beta the "unclosed phr')
    assert [(t.kind, t.words) for t in terms] == [
        ("word", ("Router",)), ("phrase", ("line", "1042")),
        ("email", ("alice", "test", "example")), ("word", ("v1", "2", "beta")),
        ("phrase", ("unclosed", "phr")),
    ]
    assert search_terms("the and of") == []
    assert search_terms("!!! ??? ___") == []
    assert len(search_terms("x" + " y" * 20)) <= 8


def test_words_are_whole_unless_asked_as_a_prefix():
    """Every word is whole; ``rout*`` (what the live search sends for its last word) and a
    chunk with punctuation are prefixes; a phrase never is."""
    assert [t.prefix for t in search_terms("router modem")] == [False, False]
    assert [(t.text, t.prefix) for t in search_terms("rout* v1.2-beta modem")] == [
        ("rout", True), ("v1.2-beta", True), ("modem", False)]
    assert [(t.text, t.prefix) for t in search_terms("erin@te*")] == [("erin@te", True)]
    assert [t.prefix for t in search_terms('"did not help*"')] == [False]


def test_ticket_numbers_are_read_strictly():
    """``TKT-1042`` in any case, ``#1042`` or ``1042``; nothing else, nothing out of range."""
    assert ticket_number("TKT-1042", "TKT") == (1042, True)
    assert ticket_number(" tkt-7 ", "TKT") == (7, True)
    assert ticket_number("#1042", "TKT") == (1042, False)
    assert ticket_number("1042", "TKT") == (1042, False)
    assert ticket_number("1042*", "TKT") == (1042, False), "as the live search sends it"
    assert ticket_number("TKT-7*", "TKT") == (7, True)
    for query in ("TKT-", "1042 router", "TKT-2147483648", "0", "١٢", "XYZ-12", "TKT-1-2"):
        assert ticket_number(query, "TKT") is None


QUERY_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"),
                     max_size=60) | st.lists(st.sampled_from(
    ['"', "'", "\\", ":", "*", "&", "|", "!", "(", ")", "<->", "-", "@", "{public}", "NEAR",
     "AND", "OR", "NOT", "^", "router", "Body", "a@b.c", " ", "TKT-", "1", ":*", "\u00e9"]),
    max_size=12).map("".join)


@given(query=QUERY_TEXT)
@settings(max_examples=200, deadline=None)
@example(query="''")
@example(query='"\\"')
def test_terms_carry_no_syntax(query):
    """Whatever is typed, a term's words are letters and digits, and its text has no quote or
    backslash (the only syntax inside a quoted tsquery operand)."""
    for term in search_terms(query):
        assert term.words and all(re.fullmatch(r"[^\W_]+", word) for word in term.words)
        assert "'" not in term.text and "\\" not in term.text


@given(query=QUERY_TEXT, internal=st.booleans(),
       plan=st.sampled_from(["match_first", "queue_first"]))
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(query="'; DROP TABLE tickets; --", internal=True, plan="queue_first")
@example(query='a:b OR -c* NEAR(x y) "unbalanced', internal=False, plan="match_first")
@example(query="{public} : secret", internal=False, plan="queue_first")
def test_any_query_runs_on_both_plans(app, world, savepoint, query, internal, plan):
    """No input makes an SQL or full-text syntax error, whichever plan runs it."""
    with savepoint(), app.app_context():
        app.config["SEARCH_PLAN"] = plan
        match = ticket_match(query, include_internal=internal, among=[Ticket.status == "open"])
        if match is not None:
            db.session.scalars(select(Ticket.id).where(match)).all()


# --- what it finds, per role ---------------------------------------------------------------

def test_words_match_across_the_whole_ticket(world, app_context):
    """Subject, body and replies are one document: every word must match, whole, or as a
    prefix when it is the last or asked with ``*``."""
    agent = user(world, "agent")
    assert found(agent, "alice") == {"alice"}
    assert found(agent, "Body of bob") == {"bob"}
    assert found(agent, "answ") == set(), "a word is whole"
    assert found(agent, "answ*") == {"alice", "dave"}
    assert found(agent, "answ alice") == set()
    assert found(agent, "answ* alice") == {"alice"}
    assert found(agent, "answers alice") == {"alice"}, "stemmed alike on both databases"
    assert found(agent, "alice answer") == {"alice"}, "subject and a reply together"
    assert found(agent, "alice secret-internal") == {"alice"}, "and an internal note, for staff"
    assert found(agent, "alice nowhere") == set()


def test_internal_notes_are_searchable_by_staff_and_resellers_only(world, app_context):
    """A note's words find the ticket for staff, never for its customers, alone or combined."""
    agent, dave, carol = user(world, "agent"), user(world, "dave"), user(world, "carol")
    assert found(agent, "SECRET-INTERNAL-NOTE") == {"alice", "dave"}
    assert found(user(world, "north_reseller"), "secret staff") == {"alice", "dave"}
    for customer in (dave, carol):
        assert found(customer, "SECRET-INTERNAL-NOTE") == set()
        assert found(customer, "dave secret") == set()
    assert found(dave, "public answer") == {"dave"}


def test_search_keeps_each_roles_scope(world, app_context):
    """Resellers, company admins and subscribers find only what they may see."""
    assert found(user(world, "south_reseller"), "ticket") == {"bob"}
    assert found(user(world, "north_reseller"), "ticket") == {"alice", "carol", "dave", "erin"}
    assert found(user(world, "carol"), "ticket") == {"carol", "dave", "erin"}
    assert found(user(world, "erin"), "ticket") == {"erin"}
    assert found(user(world, "north_none"), "ticket") == set()


def test_phrases_need_adjacent_words(world, app_context):
    agent = user(world, "agent")
    assert found(agent, '"answer from support"') == {"alice", "dave"}
    assert found(agent, '"support from answer"') == set()
    assert found(agent, '"public answer" dave') == {"dave"}


def test_an_email_finds_the_subscribers_tickets_and_text_with_it(world, app_context):
    """The subscriber's address is part of the public document; so is any address written."""
    agent = user(world, "agent")
    assert found(agent, email("erin")) == {"erin"}
    assert found(agent, email("erin").upper()) == {"erin"}
    assert found(agent, "erin@test*") == {"erin"}, "a partial address, as typed live"
    zed = db.session.get(Ticket, world.tickets["zed"])
    replies.add_reply(zed, author=agent, body="Forwarded to noc@upstream.example today")
    assert found(agent, "noc@upstream.example") == {"zed"}
    assert found(user(world, "zed"), "noc@upstream.example") == {"zed"}


def test_names_of_subscribers_and_organisations_are_searchable(world, app_context):
    """An agent finds a customer's tickets by name or organisation, and renames are followed
    in the same transaction."""
    agent = user(world, "agent")
    assert found(agent, "Erin") == {"erin"}
    assert found(agent, "acme") == {"carol", "dave", "erin"}
    erin = user(world, "erin")
    erin.name, erin.email = "Erin Okafor", "erin.okafor@test.example"
    acme = db.session.scalar(select(Organisation).where(Organisation.name == "Acme"))
    acme.name = "Acme Fibre"
    db.session.commit()
    assert found(agent, "okafor") == {"erin"}
    assert found(agent, "erin.okafor@test.example") == {"erin"}
    assert found(agent, email("erin")) == set()
    assert found(agent, "fibre") == {"carol", "dave", "erin"}


def test_new_tickets_and_replies_are_searchable_at_once(world, app_context):
    agent, zed = user(world, "agent"), user(world, "zed")
    ticket = db.session.get(Ticket, world.tickets["zed"])
    replies.add_reply(ticket, author=agent, body="Replaced the ONT (model HG8245)")
    replies.add_reply(ticket, author=agent, body="Vendor case VX-778", internal=True)
    category = db.session.scalars(select(Category)).first()
    tickets.open_ticket(subscriber=zed, subject="Flapping link", body="Since the storm",
                        category=category)
    assert found(agent, "hg8245") == {"zed"}
    assert found(agent, "vx-778") == {"zed"}
    assert found(zed, "vx-778") == set()
    assert found(zed, "storm flapping") == {"Flapping link"}


# --- the two plans -------------------------------------------------------------------------

@pytest.fixture
def crowd(world, app_context):
    """Forty more tickets with "router" in each: enough for "router" to be the queue-first
    kind of word while "zyzzyva" (absent) and a serial number (one ticket) are not."""
    category = db.session.scalars(select(Category)).first()
    people = [user(world, key) for key in ("alice", "bob", "dave", "erin", "zed")]
    for n in range(40):
        tickets.open_ticket(subscriber=people[n % 5], subject=f"Router {n} drops",
                            body=f"The router reboots. Serial SN{n:08X}", category=category,
                            priority=("urgent", "normal", "low")[n % 3])
    replies.add_reply(db.session.get(Ticket, world.tickets["bob"]),
                      author=user(world, "agent"), body="router swap planned", internal=True)
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"ANALYZE {SEARCH_TABLE}"))  # the planner's estimate
    return world


def ids(person, query, *, plan, app):
    """Ticket ids ``person`` finds, in queue order, with ``plan`` forced."""
    app.config["SEARCH_PLAN"] = plan
    match = ticket_match(query, include_internal=sees_internal_notes(person))
    order = [column.desc() if descending else column for column, descending in QUEUE_ORDER]
    return db.session.scalars(visible_tickets(person).where(match).order_by(*order)).all()


def test_the_plan_follows_the_number_of_matches(app, crowd, monkeypatch):
    """Few matches: the match set first; many: the queue order first. (A world this small
    always walks fewer rows than a risk-weighted match set, so the risk weight is off.)"""
    monkeypatch.setattr("helpdesk.search.match.WALK_RISK", 0)
    app.config["SEARCH_MATCH_FIRST_LIMIT"] = 10
    for query in ("zyzzyva", "SN00000007", email("carol")):
        assert search_plan(query, include_internal=True).plan == MATCH_FIRST, query
    for query in ("router", "rout*", "r*"):
        assert search_plan(query, include_internal=True).plan == QUEUE_FIRST, query


def test_a_walk_through_few_rows_is_not_preferred_to_a_small_match_set():
    """Past the limit, the match set still goes first unless the walk is far cheaper: the
    walk's guess assumes the matches are spread evenly over the page's rows."""
    from helpdesk.search.match import Estimate, choose_plan

    def plan(estimate):
        return choose_plan(estimate, limit=5000, page_rows=51)

    everyone = Estimate(matches=700_000, rows=1_000_000, matches_among=700_000)
    assert plan(everyone) == QUEUE_FIRST  # "router": ~73 rows checked per page
    a_name = Estimate(matches=21_000, rows=99_000, matches_among=2_000)
    assert plan(a_name) == MATCH_FIRST  # a 2,500-row guess that may be the whole scope
    filtered = Estimate(matches=700_000, rows=9_000, matches_among=6_300)
    assert plan(filtered) == QUEUE_FIRST
    assert plan(Estimate(matches=4_000)) == MATCH_FIRST
    assert plan(Estimate(matches=6_000)) == QUEUE_FIRST  # SQLite: the count alone


@pytest.mark.parametrize("key", ["agent", "north_reseller", "south_reseller", "carol", "bob"])
def test_both_plans_find_the_same_tickets(app, crowd, key):
    """Each plan, forced, gives the same rows in the same order, per role."""
    person = user(crowd, key)
    for query in ("router", "router reboots", '"router reboots"', "rout swap", "SN0000000A",
                  "zyzzyva", "bob@test.example", "drops 1", "ticket"):
        match_first = ids(person, query, plan="match_first", app=app)
        queue_first = ids(person, query, plan="queue_first", app=app)
        assert match_first == queue_first, query
    assert ids(user(crowd, "agent"), "router", plan="queue_first", app=app)


def test_a_search_costs_one_query_more_whatever_the_plan(app, client, auth, crowd,
                                                         count_queries):
    """The estimate is one cheap query; the page's query count does not depend on the word."""
    auth.login(email("agent"))
    counts = {}
    for query in ("", "router", "zyzzyva", "SN00000003"):
        with count_queries() as counter:
            assert client.get(f"/tickets?q={query}", headers=HX).status_code == 200
        counts[query] = counter.count
    assert counts["router"] == counts["SN00000003"] == counts["zyzzyva"] == counts[""] + 1


# --- jumping to a ticket number ------------------------------------------------------------

def test_a_submitted_ticket_number_opens_the_ticket(client, auth, world):
    """Full page: 303 to the ticket; htmx submit: HX-Redirect; the live search never jumps."""
    auth.login(email("north_reseller"))
    ticket_id = world.tickets["alice"]
    for query in (f"TKT-{ticket_id}", f"tkt-{ticket_id}", str(ticket_id)):
        response = client.get("/tickets", query_string={"q": query})
        assert response.status_code == 303
        assert response.headers["Location"] == f"/tickets/{ticket_id}"
        response = client.get("/tickets", query_string={"q": query}, headers=SUBMITTED)
        assert response.headers["HX-Redirect"] == f"/tickets/{ticket_id}"
        live = client.get("/tickets", query_string={"q": query}, headers=HX)
        assert live.status_code == 200 and "HX-Redirect" not in live.headers
        assert f'id="row-{ticket_id}"' in live.text


def test_a_ticket_number_out_of_scope_reveals_nothing(client, auth, world):
    """Another reseller's ticket: ``TKT-`` finds nothing, a bare number searches the text,
    and the ticket itself still answers 404."""
    auth.login(email("south_reseller"))
    hidden = world.tickets["alice"]
    for headers in ({}, SUBMITTED, HX):
        prefixed = client.get("/tickets", query_string={"q": f"TKT-{hidden}"}, headers=headers)
        assert prefixed.status_code == 200 and NO_MATCH in prefixed.text
        absent = client.get("/tickets", query_string={"q": "TKT-999999"}, headers=headers)
        assert absent.status_code == 200 and NO_MATCH in absent.text
        bare = client.get("/tickets", query_string={"q": str(hidden)}, headers=headers)
        assert bare.status_code == 200 and f'id="row-{hidden}"' not in bare.text
    assert client.get(f"/tickets/{hidden}").status_code == 404


def test_a_bare_number_also_searches_the_text(client, auth, world, app):
    """``1042`` finds tickets that mention 1042, beside ticket 1042 itself."""
    with app.app_context():
        ticket = db.session.get(Ticket, world.tickets["bob"])
        replies.add_reply(ticket, author=db.session.get(User, world.users["agent"]),
                          body="See line 987654 of the log")
    auth.login(email("agent"))
    response = client.get("/tickets", query_string={"q": "987654"}, headers=SUBMITTED)
    assert "HX-Redirect" not in response.headers
    assert f'id="row-{world.tickets["bob"]}"' in response.text


def test_the_portal_jumps_to_the_customers_own_tickets_only(client, auth, world):
    auth.login(email("dave"))
    own, other = world.tickets["dave"], world.tickets["erin"]
    response = client.get("/portal/tickets", query_string={"q": f"TKT-{own}"})
    assert response.status_code == 303 and response.headers["Location"] == f"/portal/tickets/{own}"
    response = client.get("/portal/tickets", query_string={"q": str(own)}, headers=SUBMITTED)
    assert response.headers["HX-Redirect"] == f"/portal/tickets/{own}"
    response = client.get("/portal/tickets", query_string={"q": f"TKT-{other}"})
    assert response.status_code == 200 and f"/portal/tickets/{other}" not in response.text
    assert client.get(f"/portal/tickets/{other}").status_code == 404


def test_the_search_box_marks_only_submissions():
    """The live search fires on a pause in typing; only a submit event adds the header."""
    from pathlib import Path

    script = (Path(__file__).resolve().parent.parent / "static" / "app.js").read_text()
    assert 'trigger.type === "submit"' in script and '"X-Search-Submitted"' in script
    filters = (Path(__file__).resolve().parent.parent / "templates" / "desk"
               / "_filters.html").read_text()
    assert 'type="search"' in filters and "keyup changed delay" in filters


# --- keeping the index -----------------------------------------------------------------------

def test_rebuild_command_restores_the_index(runner, world, app):
    """``flask search rebuild`` builds every document again from the tickets."""
    with app.app_context():
        db.session.execute(text(f"DELETE FROM {SEARCH_TABLE}"))  # noqa: S608
        db.session.commit()
        assert found(user(world, "agent"), "alice") == set()
    result = runner.invoke(args=["search", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "rebuilt" in result.output
    with app.app_context():
        assert found(user(world, "agent"), "alice secret") == {"alice"}
        assert found(user(world, "alice"), "alice secret") == set()
