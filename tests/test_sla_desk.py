"""SLA in the desk: the queue's SLA column, ``sla=`` filter and ``sort=sla_due``, the ticket
page's due time and timeline, and nothing of it in the portal."""

import re
from datetime import timedelta

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Category, User
from helpdesk.models.timestamps import utcnow
from helpdesk.services import tickets
from helpdesk.sla import sweep
from tests.world import email


def _open(subscriber, subject, *, priority="normal", days_ago=0):
    category = db.session.scalars(select(Category).order_by(Category.position)).first()
    return tickets.open_ticket(subscriber=subscriber, subject=subject, body="b",
                               category=category, priority=priority,
                               created_at=utcnow() - timedelta(days=days_ago))


def make_states(app, world):
    """A breached ticket of Alice (North) and one of Bob (South), an on-time one and a
    paused one of Alice. A week holds at least five business days."""
    with app.app_context():
        alice, bob, agent = (db.session.get(User, world.users[k])
                             for k in ("alice", "bob", "agent"))
        late = _open(alice, "Late fibre", priority="urgent", days_ago=7)
        south_late = _open(bob, "South late", priority="urgent", days_ago=7)
        fresh = _open(alice, "Fresh router", priority="low")
        paused = _open(alice, "Waiting vendor", priority="high")
        tickets.change_status(paused, "waiting_on_vendor", actor=agent)
        sweep.sweep()
        return {t.subject: t.id for t in (late, south_late, fresh, paused)}


def subjects(html):
    return re.findall(r'<td class="subject">([^<]+)', html)


def test_queue_filters_by_sla_state(app, client, auth, world):
    ids = make_states(app, world)
    auth.login(email("agent"))
    breached = subjects(client.get("/tickets", query_string={"sla": "breached"}).text)
    assert "Late fibre" in breached and "South late" in breached
    assert "Fresh router" not in breached and "Waiting vendor" not in breached
    assert subjects(client.get("/tickets", query_string={"sla": "paused"}).text) == [
        "Waiting vendor"]
    both = subjects(client.get("/tickets", query_string=[("sla", "paused"),
                                                         ("sla", "breached")]).text)
    assert {"Late fibre", "South late", "Waiting vendor"} <= set(both)
    assert "Fresh router" not in both
    page = client.get("/tickets").text
    assert f'id="row-{ids["Late fibre"]}"' in page
    assert '<span class="badge sla-breached"' in page and '<span class="badge sla-paused"' in page
    assert 'class="col-sla">SLA</th>' in page
    assert '<option value="breached" selected>' in client.get(
        "/tickets", query_string={"sla": "breached"}).text


def test_reseller_sees_only_their_own_breaches(app, client, auth, world):
    make_states(app, world)
    auth.login(email("north_reseller"))
    breached = subjects(client.get("/tickets", query_string={"sla": "breached"}).text)
    assert breached == ["Late fibre"]


def test_sort_by_due_time(app, client, auth, world):
    """Soonest due first (the breached ones, long overdue); paused tickets have no running
    clock and are not listed in this sort."""
    make_states(app, world)
    auth.login(email("agent"))
    listed = subjects(client.get("/tickets", query_string={"sort": "sla_due"}).text)
    assert set(listed[:2]) == {"Late fibre", "South late"}
    assert "Fresh router" in listed and "Waiting vendor" not in listed
    with app.app_context():
        due = {subject: db.session.scalar(select(tickets.Ticket.sla_due_at).where(
            tickets.Ticket.subject == subject)) for subject in listed}
    assert list(due.values()) == sorted(due.values())
    # Pages on by cursor in the same order.
    page = client.get("/tickets", query_string={"sort": "sla_due"}).text
    assert "SLA due first" in page


def test_ticket_page_shows_the_due_time_and_the_timeline(app, client, auth, world):
    ids = make_states(app, world)
    auth.login(email("agent"))
    page = client.get(f"/tickets/{ids['Fresh router']}").text
    assert '<span class="badge sla-on_time">On time</span>' in page
    # In the viewer's zone (UTC here); app.js says it as "in 3 h", the exact time on hover.
    assert re.search(r'First response due <time datetime="[^"]+">\d+ \w+ \d{4}, \d\d:\d\d UTC'
                     r"</time>", page)
    late = client.get(f"/tickets/{ids['Late fibre']}").text
    assert "marked the SLA <strong" in late and ">Breached</strong>" in late
    assert "escalated the ticket, level 1 at 70% of the first-response target" in late
    paused = client.get(f"/tickets/{ids['Waiting vendor']}").text
    assert "Clock stopped since" in paused


def test_the_portal_shows_nothing_of_the_sla(app, client, auth, world):
    ids = make_states(app, world)
    auth.login(email("alice"))
    page = client.get(f"/portal/tickets/{ids['Late fibre']}").text
    assert "Late fibre" in page
    for word in ("SLA", "Breached", "escalat", "notified"):
        assert word not in page
