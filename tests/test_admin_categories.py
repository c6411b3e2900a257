"""``/admin/categories`` and ``services.categories``: add, rename, reorder, retire, restore."""

import pytest

from helpdesk.desk.choices import REDIS_KEY
from helpdesk.extensions import db
from helpdesk.models import Category, Ticket, User
from helpdesk.queues import get_redis
from helpdesk.services import categories, tickets
from helpdesk.services.errors import TicketError
from tests.admin_pages import audit_entries, post
from tests.world import email

PAGE = "/admin/categories"


def names(app):
    with app.app_context():
        return [c.name for c in categories.all_categories()]


def category_id(app, name):
    with app.app_context():
        return categories.find_category(name).id


def token(app):
    with app.app_context():
        return get_redis().get(REDIS_KEY)


def test_admin_adds_renames_and_reorders(app, client, auth, world):
    """Each change redirects with a message, is audited and renews the queue's token."""
    auth.login(email("admin"))
    client.get("/tickets")  # the queue reads its lists under a token
    before = token(app)
    response = post(client, PAGE, {"name": "  Fibre  outage "}, page=PAGE)
    assert response.status_code == 303 and response.headers["Location"] == PAGE
    assert "Added Fibre outage." in client.get(PAGE).text
    assert names(app)[-1] == "Fibre outage"
    assert token(app) != before
    fibre = category_id(app, "Fibre outage")
    assert post(client, f"{PAGE}/{fibre}/name", {"name": "Fibre"}, page=PAGE).status_code == 303
    assert names(app)[-1] == "Fibre"
    assert post(client, f"{PAGE}/{fibre}/move", {"direction": "up"}, page=PAGE).status_code == 303
    assert names(app)[-2:] == ["Fibre", "Other"]
    post(client, f"{PAGE}/{fibre}/move", {"direction": "down"}, page=PAGE)
    post(client, f"{PAGE}/{fibre}/move", {"direction": "down"}, page=PAGE)  # already last
    assert names(app)[-1] == "Fibre"
    admin = world.users["admin"]
    assert audit_entries(app, "category.add") == [(admin, None, "category", None, "Fibre outage")]
    assert audit_entries(app, "category.rename") == [
        (admin, None, "category", "Fibre outage", "Fibre")]
    assert [e[4] for e in audit_entries(app, "category.move")] == ["up", "down"]
    assert ">Fibre</option>" in client.get("/tickets").text


def test_htmx_swaps_the_list_in_place(app, client, auth, world):
    auth.login(email("admin"))
    billing = category_id(app, "Billing")
    response = post(client, f"{PAGE}/{billing}/move", {"direction": "up"}, page=PAGE, htmx=True)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="categories"')
    assert "Moved Billing up." in response.text
    assert names(app)[:2] == ["Billing", "General"]
    refused = post(client, PAGE, {"name": "billing"}, page=PAGE, htmx=True)
    assert refused.status_code == 422 and "already exists" in refused.text
    assert 'value="billing"' in refused.text


@pytest.mark.parametrize("name, message", [
    ("", "A category needs a name."),
    ("   ", "A category needs a name."),
    ("x" * 101, "at most 100 characters"),
    ("BILLING", "A category named Billing already exists."),
])
def test_bad_names_are_refused_beside_the_field_with_the_text_kept(
        app, client, auth, world, name, message):
    auth.login(email("admin"))
    before = names(app)
    response = post(client, PAGE, {"name": name}, page=PAGE)
    assert response.status_code == 400
    assert message in response.text
    assert f'value="{name}"' in response.text
    wifi = category_id(app, "Wi-Fi")
    response = post(client, f"{PAGE}/{wifi}/name", {"name": name}, page=PAGE)
    assert response.status_code == 400 and message in response.text
    assert names(app) == before


def test_renaming_to_its_own_name_in_another_case_is_allowed(app, client, auth, world):
    auth.login(email("admin"))
    wifi = category_id(app, "Wi-Fi")
    assert post(client, f"{PAGE}/{wifi}/name", {"name": "WI-FI"}, page=PAGE).status_code == 303
    assert "WI-FI" in names(app)


def test_retired_category_is_kept_by_tickets_but_not_offered(app, client, auth, world):
    """Retire: not in the new-ticket forms nor re-categorising; the queue still filters."""
    with app.app_context():
        ticket = db.session.get(Ticket, world.tickets["alice"])
        kept = ticket.category
        kept_id, kept_name = kept.id, kept.name
    auth.login(email("admin"))
    before = token(app)
    assert post(client, f"{PAGE}/{kept_id}/retire", page=PAGE).status_code == 303
    assert token(app) != before
    assert audit_entries(app, "category.retire") == [
        (world.users["admin"], None, "category", None, kept_name)]
    new_form = client.get("/tickets/new").text
    assert f'<option value="{kept_id}"' not in new_form
    page = client.get(f"/tickets/{world.tickets['alice']}").text
    assert f"{kept_name} (retired)" in page  # shown as the ticket's own, marked
    queue = client.get("/tickets", query_string={"category": kept_id}).text
    assert f"/tickets/{world.tickets['alice']}" in queue
    assert f'<option value="{kept_id}"' in queue
    with app.app_context():
        admin = db.session.get(User, world.users["admin"])
        retired = db.session.get(Category, kept_id)
        billing = categories.set_category_active(categories.find_category("Billing"),
                                                 active=False, actor=admin)
        ticket = db.session.get(Ticket, world.tickets["bob"])
        with pytest.raises(TicketError, match="Billing is retired"):
            tickets.change_category(ticket, billing, actor=admin)
        db.session.rollback()
        tickets.change_category(ticket, retired, actor=admin)  # its own: nothing changes
        with pytest.raises(TicketError, match="Choose a category"):
            tickets.open_ticket(subscriber=db.session.get(User, world.users["alice"]),
                                subject="x", body="y", category=retired)
    assert post(client, f"{PAGE}/{kept_id}/restore", page=PAGE).status_code == 303
    assert f'<option value="{kept_id}"' in client.get("/tickets/new").text
    assert len(audit_entries(app, "category.restore")) == 1


def test_portal_form_drops_a_retired_category(app, client, auth, world):
    other = category_id(app, "Other")
    with app.app_context():
        categories.set_category_active(db.session.get(Category, other), active=False,
                                       actor=None)
    auth.login(email("alice"))
    assert f'<option value="{other}"' not in client.get("/portal/tickets/new").text


def test_unknown_category_and_bad_direction(app, client, auth, world):
    auth.login(email("admin"))
    assert post(client, f"{PAGE}/999999/retire", page=PAGE).status_code == 404
    general = category_id(app, "General")
    assert post(client, f"{PAGE}/{general}/move", {"direction": "sideways"},
                page=PAGE).status_code == 400


def test_post_without_csrf_is_refused(app, client, auth, world):
    auth.login(email("admin"))
    response = client.post(PAGE, data={"name": "Sneaky"})
    assert response.status_code == 400
    assert "Sneaky" not in names(app)


@pytest.mark.parametrize("key", ["agent", "north_reseller", "alice", "carol"])
def test_non_admins_get_404(app, client, auth, world, key):
    general = category_id(app, "General")
    auth.login(email(key))
    assert client.get(PAGE).status_code == 404
    home = "/portal/tickets" if key in ("alice", "carol") else "/tickets"
    for action, data in [(PAGE, {"name": "Mine"}), (f"{PAGE}/{general}/name", {"name": "X"}),
                         (f"{PAGE}/{general}/move", {"direction": "down"}),
                         (f"{PAGE}/{general}/retire", {}), (f"{PAGE}/{general}/restore", {})]:
        assert post(client, action, data, page=home).status_code == 404
    assert names(app)[0] == "General" and "Mine" not in names(app)
