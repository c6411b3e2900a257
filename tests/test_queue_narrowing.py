"""Who can be assigned, and the queue narrowed to one customer, organisation or reseller:
the assignee filter lists the reseller users too, the narrowing shows as a removable chip,
and neither shows a name outside the viewer's scope. The organisation hub opens tickets."""

import re

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Organisation, Reseller
from tests.world import email


def assignee_groups(html):
    select_html = re.search(r'<select id="filter-assignee".*?</select>', html, re.S).group(0)
    return {label: re.findall(r">([^<]+)</option>", group)
            for label, group in re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>',
                                           select_html, re.S)}


def ids(app):
    with app.app_context():
        named = dict(db.session.execute(select(Reseller.name, Reseller.id)).all())
        named |= dict(db.session.execute(select(Organisation.name, Organisation.id)).all())
    return named


def test_staff_filter_by_any_assignable_person(client, auth, world):
    """Staff: the staff, then each reseller's users under its name."""
    auth.login(email("agent"))
    groups = assignee_groups(client.get("/tickets").text)
    assert "Agent" in groups["Staff"] and "Admin" in groups["Staff"]
    assert "North Reseller" in groups["North"] and "South Reseller" in groups["South"]
    listed = client.get(f"/tickets?assignee={world.users['north_reseller']}&status=any").text
    assert 'selected>North Reseller</option>' in listed


def test_a_reseller_user_sees_only_their_own_resellers_people(client, auth, world):
    """The filter form is kept per view and scope: South's people never reach North."""
    auth.login(email("south_reseller"))
    assert set(assignee_groups(client.get("/tickets").text)) == {"Staff", "South"}
    auth.logout()
    auth.login(email("north_reseller"))
    html = client.get("/tickets").text
    assert set(assignee_groups(html)) == {"Staff", "North"}
    assert "South Reseller" not in html


def test_narrowing_to_a_reseller_is_a_chip_that_removes_itself(app, client, auth, world):
    """The ticket's reseller chip leads to the queue narrowed to it, shown and removable."""
    north = ids(app)["North"]
    auth.login(email("agent"))
    ticket_page = client.get(f"/tickets/{world.tickets['alice']}").text
    assert f'href="/tickets?reseller={north}"' in ticket_page
    html = client.get(f"/tickets?reseller={north}&priority=high").text
    chip = re.search(r'<p class="narrowing">.*?</p>', html, re.S).group(0)
    assert "Reseller: <strong>North</strong>" in chip
    assert 'href="/tickets?priority=high"' in chip
    assert 'aria-label="Remove the reseller filter (North)"' in chip


def test_a_narrowing_outside_the_scope_names_nobody(app, client, auth, world):
    """A South user asking for North's queue or Acme's sees numbers, never the names."""
    named = ids(app)
    auth.login(email("south_reseller"))
    html = client.get(f"/tickets?reseller={named['North']}&organisation={named['Acme']}"
                      f"&customer={world.users['alice']}").text
    chip = re.search(r'<p class="narrowing">.*?</p>', html, re.S).group(0)
    assert f"#{named['North']}" in chip and f"#{named['Acme']}" in chip
    assert "North" not in chip and "Acme" not in chip and "Alice" not in chip
    assert "No tickets match." in html


def test_the_organisation_hub_opens_a_ticket_for_one_of_its_people(app, client, auth, world):
    """New ticket on Acme's hub: the form offers Acme's people; the ticket is theirs."""
    acme = ids(app)["Acme"]
    auth.login(email("agent"))
    hub = client.get(f"/organisations/{acme}").text
    assert f'href="/tickets/new?organisation={acme}"' in hub
    form = client.get(f"/tickets/new?organisation={acme}").text
    assert "New ticket for someone at Acme" in form and 'list="members"' in form
    offered = re.findall(r'<option value="([^"]+)">', form.split('<datalist id="members">')[1]
                         .split("</datalist>")[0])
    assert sorted(offered) == sorted(email(k) for k in ("carol", "dave", "erin"))
    auth.logout()
    auth.login(email("south_reseller"))
    assert client.get(f"/organisations/{acme}").status_code == 404
    assert 'list="members"' not in client.get(f"/tickets/new?organisation={acme}").text
