"""``/admin/resellers`` and ``/admin/organisations``: create, rename, change reseller, and
make one of an organisation's people its company admin; audited, admins only."""

import re

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Organisation, Reseller, Ticket, User
from tests.admin_pages import audit_entries, post
from tests.world import email


def named(app, model, name):
    with app.app_context():
        return db.session.scalar(select(model.id).where(model.name == name))


def test_admin_creates_and_renames_a_reseller(app, client, auth, world):
    auth.login(email("admin"))
    page = "/admin/resellers"
    listing = client.get(page).text
    assert 'value="North"' in listing and 'value="South"' in listing
    response = post(client, page, {"name": " East  Net "}, page=page)
    assert response.status_code == 303 and response.headers["Location"] == page
    assert "Created reseller East Net." in client.get(page).text
    east = named(app, Reseller, "East Net")
    assert post(client, f"{page}/{east}/name", {"name": "Eastern"}, page=page).status_code == 303
    assert named(app, Reseller, "Eastern") == east
    admin = world.users["admin"]
    assert audit_entries(app, "reseller.create")[-1] == (admin, None, "reseller", None,
                                                          "East Net")
    assert audit_entries(app, "reseller.rename") == [(admin, None, "reseller", "East Net",
                                                      "Eastern")]


def test_reseller_list_counts_staff_not_subscribers(app, client, auth, world):
    """Each reseller's row counts its active reseller users, not its subscribers (who run
    to thousands and would make the count grow with them)."""
    auth.login(email("admin"))
    north = named(app, Reseller, "North")
    with app.app_context():
        roles = db.session.scalars(select(User.role).where(User.reseller_id == north)).all()
    staff = roles.count("reseller")
    assert 0 < staff < len(roles), "North has staff and subscribers"
    listing = client.get("/admin/resellers").text
    row = listing[listing.index('value="North"'):]
    row = row[:row.index("</tr>")]
    assert re.search(rf'data-label="Staff" class="number">{staff}<', row)


@pytest.mark.parametrize("name, message", [("", "A reseller needs a name."),
                                           ("south", "A reseller named South already exists."),
                                           ("x" * 201, "at most 200 characters")])
def test_bad_reseller_names_are_400_with_the_text_kept(app, client, auth, world, name, message):
    auth.login(email("admin"))
    page = "/admin/resellers"
    response = post(client, page, {"name": name}, page=page)
    assert response.status_code == 400 and message in response.text
    assert f'value="{name}"' in response.text
    north = named(app, Reseller, "North")
    response = post(client, f"{page}/{north}/name", {"name": name}, page=page)
    assert response.status_code == 400 and message in response.text
    assert named(app, Reseller, "North") == north


def test_admin_creates_renames_and_moves_an_organisation(app, client, auth, world):
    auth.login(email("admin"))
    page = "/admin/organisations"
    north, south = named(app, Reseller, "North"), named(app, Reseller, "South")
    response = post(client, page, {"name": "Globex", "reseller": str(south)}, page=page)
    assert response.status_code == 303
    globex = named(app, Organisation, "Globex")
    assert response.headers["Location"] == f"{page}/{globex}"
    assert "Globex" in client.get(page).text
    detail = f"{page}/{globex}"
    assert post(client, f"{detail}/name", {"name": "Globex Corp"}, page=detail
                ).status_code == 303
    acme = named(app, Organisation, "Acme")
    acme_page = f"{page}/{acme}"
    response = post(client, f"{acme_page}/reseller", {"reseller": str(south)}, page=acme_page)
    assert response.status_code == 303
    assert "Acme is now a customer of South; 3 tickets moved with it." in client.get(
        acme_page).text
    with app.app_context():
        assert db.session.get(User, world.users["carol"]).reseller_id == south
        assert db.session.get(Ticket, world.tickets["dave"]).reseller_id == south
    auth.logout()
    auth.login(email("north_reseller"))
    assert client.get(f"/tickets/{world.tickets['dave']}").status_code == 404
    auth.logout()
    auth.login(email("south_reseller"))
    assert client.get(f"/tickets/{world.tickets['dave']}").status_code == 200
    admin = world.users["admin"]
    assert audit_entries(app, "organisation.reseller") == [
        (admin, None, "reseller of Acme", "North", "South")]
    assert audit_entries(app, "organisation.rename") == [(admin, None, "organisation", "Globex",
                                                          "Globex Corp")]
    assert north


def test_bad_organisation_input_is_400_with_the_text_kept(app, client, auth, world):
    auth.login(email("admin"))
    page = "/admin/organisations"
    response = post(client, page, {"name": "zeta", "reseller": ""}, page=page)
    assert response.status_code == 400
    assert "An organisation named Zeta already exists." in response.text
    assert 'value="zeta"' in response.text
    response = post(client, page, {"name": "Fresh", "reseller": "999999"}, page=page)
    assert response.status_code == 400 and "Choose a reseller from the list." in response.text
    acme = named(app, Organisation, "Acme")
    detail = f"{page}/{acme}"
    response = post(client, f"{detail}/name", {"name": "  "}, page=detail)
    assert response.status_code == 400 and "An organisation needs a name." in response.text
    assert named(app, Organisation, "Fresh") is None


def test_make_company_admin_and_back(app, client, auth, world):
    auth.login(email("admin"))
    acme = named(app, Organisation, "Acme")
    detail = f"/admin/organisations/{acme}"
    page = client.get(detail).text
    for person in ("Carol", "Dave", "Erin"):
        assert person in page
    dave, carol = world.users["dave"], world.users["carol"]
    assert post(client, f"{detail}/people/{dave}/role", {"role": "company_admin"},
                page=detail).status_code == 303
    assert post(client, f"{detail}/people/{carol}/role", {"role": "subscriber"},
                page=detail).status_code == 303
    with app.app_context():
        assert db.session.get(User, dave).role == "company_admin"
        assert db.session.get(User, carol).role == "subscriber"
    assert [(e[1], e[3], e[4]) for e in audit_entries(app, "user.update")] == [
        (dave, "subscriber", "company_admin"), (carol, "company_admin", "subscriber")]
    zeta_person = world.users["zed"]
    assert post(client, f"{detail}/people/{zeta_person}/role", {"role": "company_admin"},
                page=detail).status_code == 404


def test_missing_csrf_is_400(app, client, auth, world):
    auth.login(email("admin"))
    assert client.post("/admin/resellers", data={"name": "Sneaky"}).status_code == 400
    assert client.post("/admin/organisations", data={"name": "Sneaky"}).status_code == 400
    assert named(app, Reseller, "Sneaky") is None


@pytest.mark.parametrize("key", ["agent", "north_reseller", "alice", "carol"])
def test_non_admins_get_404(app, client, auth, world, key):
    acme, north = named(app, Organisation, "Acme"), named(app, Reseller, "North")
    carol = world.users["carol"]
    auth.login(email(key))
    home = "/portal/tickets" if key in ("alice", "carol") else "/tickets"
    for path in ("/admin/resellers", "/admin/organisations", f"/admin/organisations/{acme}",
                 "/admin/mail"):
        assert client.get(path).status_code == 404
    for path, data in [("/admin/resellers", {"name": "X"}),
                       (f"/admin/resellers/{north}/name", {"name": "X"}),
                       ("/admin/organisations", {"name": "X"}),
                       (f"/admin/organisations/{acme}/name", {"name": "X"}),
                       (f"/admin/organisations/{acme}/reseller", {"reseller": ""}),
                       (f"/admin/organisations/{acme}/people/{carol}/role",
                        {"role": "subscriber"})]:
        assert post(client, path, data, page=home).status_code == 404
    assert named(app, Organisation, "Acme") == acme and named(app, Reseller, "X") is None


def test_the_organisation_list_is_paged_and_found_by_name(app, client, auth, world, monkeypatch):
    """A page at a time in name order, each page reading on from the last name shown; ``q``
    finds by part of a name; a search that finds nothing says so."""
    monkeypatch.setitem(app.config, "USERS_PER_PAGE", 1)
    auth.login(email("admin"))
    first = client.get("/admin/organisations").text
    assert ">Acme</a>" in first and ">Zeta</a>" not in first
    onward = re.search(r'href="(/admin/organisations\?after=[^"]+)" rel="next"', first).group(1)
    second = client.get(onward.replace("&amp;", "&")).text
    assert ">Zeta</a>" in second and ">Acme</a>" not in second
    assert 'rel="next"' not in second
    found = client.get("/admin/organisations?q=zet").text
    assert ">Zeta</a>" in found and ">Acme</a>" not in found
    assert "No organisation's name has “qqq”." in client.get("/admin/organisations?q=qqq").text
