"""PSA connections as services (``services.psa_connections``): settings refused with the field
named, the client secret sealed in the row and never in the audit, an edit without a secret
keeping it; "Test connection" never raising; lookups replaced whole; mappings, required
fields and links refused unless they name a cached lookup. The PSA is a loopback HaloPSA
(``tests/halo_server.py``) over real HTTP."""

import pytest
from sqlalchemy import select, text

from helpdesk.extensions import db
from helpdesk.keyset import decode_cursor
from helpdesk.models import AuditEntry, Category, PsaLink, PsaLookup, PsaMapping, User
from helpdesk.psa.connector import PsaError
from helpdesk.psa.halopsa import HaloPsaAdapter
from helpdesk.psa.secrets import unseal
from helpdesk.services import psa_account_links as links
from helpdesk.services import psa_connections as service
from helpdesk.services import psa_mappings
from tests.psa_loopback import connection_fields, name_lookups
from tests.world import email

SECRET = "s3cret-Client-Value-42"
GOOD = {"name": "Main Halo", "base_url": "https://halo.example.com",
        "auth_url": "https://halo.example.com/auth", "client_id": "desk-app",
        "client_secret": SECRET}


def create(**changes):
    return service.create_connection(**{**GOOD, **changes}, actor=None)


def audit_text():
    return " ".join(f"{e.action} {e.field} {e.old_value} {e.new_value}"
                    for e in db.session.scalars(select(AuditEntry)))


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"name": "  "}, "name", "Enter the name."),
    ({"name": "x" * 101}, "name", "at most 100 characters"),
    ({"base_url": ""}, "base_url", "Enter the base URL."),
    ({"base_url": "ftp://halo.example.com"}, "base_url", "must be an http or https address"),
    ({"base_url": "halo.example.com"}, "base_url", "must be an http or https address"),
    ({"auth_url": "https://"}, "auth_url", "must be an http or https address"),
    ({"auth_url": "https://halo.example.com/auth?x=1"}, "auth_url", "http or https address"),
    ({"client_id": ""}, "client_id", "Enter the client id."),
    ({"client_secret": ""}, "client_secret", "Enter the client secret."),
    ({"request_budget": "0"}, "request_budget", "from 1 to 300"),
    ({"request_budget": "301"}, "request_budget", "from 1 to 300"),
    ({"request_budget": "ten"}, "request_budget", "from 1 to 300"),
    ({"pull_minutes": "0"}, "pull_minutes", "pull interval"),
    ({"kind": "connectwise"}, "kind", "Choose a PSA"),
])
def test_bad_settings_are_refused_naming_the_field(app_context, changes, field, message):
    with pytest.raises(service.PsaSetupError) as refused:
        create(**changes)
    assert message in refused.value.errors[field]
    assert db.session.scalar(select(PsaLookup.id).limit(1)) is None


def test_every_bad_field_is_named_at_once_and_names_are_unique(app_context):
    with pytest.raises(service.PsaSetupError) as refused:
        create(name="", base_url="nope", client_secret="")
    assert set(refused.value.errors) == {"name", "base_url", "client_secret"}
    create()
    with pytest.raises(service.PsaSetupError) as taken:
        create(name="main   HALO")
    assert taken.value.errors == {"name": "A connection named Main Halo already exists."}


def test_the_secret_is_sealed_in_the_row_and_never_audited(app_context):
    connection = create(tenant=" acme ", request_budget="120", base_url="https://h.example/")
    assert (connection.tenant, connection.request_budget, connection.base_url) == (
        "acme", 120, "https://h.example")
    row = db.session.execute(text(
        "SELECT client_secret_encrypted, webhook_secret_encrypted FROM psa_connections "
        "WHERE id = :id"), {"id": connection.id}).one()
    assert SECRET not in row[0] and unseal(row[0]) == SECRET
    assert len(unseal(row[1])) >= 40  # a webhook secret was made
    service.update_connection(connection, **{**GOOD, "client_secret": "another-secret-9"},
                              actor=None)
    assert unseal(connection.client_secret_encrypted) == "another-secret-9"
    log = audit_text()
    assert "psa.connection_create" in log and "secret changed" in log
    assert SECRET not in log and "another-secret-9" not in log


def test_an_edit_without_a_secret_keeps_it_and_audits_each_change(app_context):
    connection = create()
    sealed = connection.client_secret_encrypted
    changed = service.update_connection(
        connection, **{**GOOD, "client_secret": "", "base_url": "https://new.example.com",
                       "pull_minutes": "10"}, actor=None)
    assert changed == ["base_url", "pull_minutes"]
    assert connection.client_secret_encrypted == sealed
    entries = db.session.execute(select(AuditEntry.field, AuditEntry.old_value,
                                        AuditEntry.new_value)
                                 .where(AuditEntry.action == "psa.connection_change")).all()
    assert sorted(entries) == [
        (f"{connection.id}:base_url", "https://halo.example.com", "https://new.example.com"),
        (f"{connection.id}:pull_minutes", "5", "10")]
    assert service.update_connection(connection, **{**GOOD, "client_secret": SECRET,
                                                    "base_url": "https://new.example.com",
                                                    "pull_minutes": 10}, actor=None) == []


def connect(halo, **changes):
    return service.create_connection(**connection_fields(halo, **changes), actor=None)


def test_check_stores_what_the_psa_said_and_never_raises(app_context, halo):
    connection = connect(halo)
    assert service.check(connection) == (
        f"Connected: HaloPSA at {halo.url} answered: token granted, 6 statuses")
    assert service.check_passed(connection) and connection.checked_at is not None
    [token] = halo.requests_to("POST", "/auth/token")
    assert "halo-secret" in str(token.body)  # unsealed for the PSA only
    service.update_connection(connection, **connection_fields(halo, client_secret="wrong-one"),
                              actor=None)
    result = service.check(connection)
    assert not service.check_passed(connection) and "\n" not in result
    assert result == ("HaloPSA answered 401 to POST /auth/token: invalid_client: "
                      "The client credentials are invalid")
    service.update_connection(connection, **connection_fields(halo), actor=None)
    halo.fail("500", path="/api/Status", times=5)
    assert "/api/Status" in service.check(connection)

    class BuggyAdapter(HaloPsaAdapter):
        def check(self):
            raise ZeroDivisionError("a bug")

    buggy = BuggyAdapter(halo.settings())
    assert "Unexpected error (ZeroDivisionError)" in service.check(connection, connector=buggy)


def test_refresh_replaces_the_lookups_in_one_go(app_context, halo):
    connection = connect(halo)
    counts = service.refresh_lookups(connection)
    assert counts == {"status": 6, "priority": 4, "ticket_type": 2, "client": 3, "user": 6,
                      "agent": 2}
    request_type = db.session.scalar(select(PsaLookup).where(
        PsaLookup.connection_id == connection.id, PsaLookup.external_id == "3",
        PsaLookup.kind == "ticket_type"))
    assert request_type.extra == {"required_fields": [["CFAccountNumber", "Account number"]]}
    halo.store.add_clients(150)  # two pages of clients
    service.refresh_lookups(connection)
    assert psa_mappings.lookup_counts(connection)["client"] == 153
    fetched = connection.lookups_fetched_at
    halo.fail("500", path="/api/Agent", times=5)
    with pytest.raises(PsaError):
        service.refresh_lookups(connection)
    db.session.rollback()
    assert psa_mappings.lookup_counts(connection)["client"] == 153
    assert connection.lookups_fetched_at == fetched


def test_mappings_take_only_cached_lookups(app_context, halo):
    connection = connect(halo)
    service.refresh_lookups(connection)
    billing = db.session.scalar(select(Category.id).where(Category.name == "Billing"))
    with pytest.raises(psa_mappings.MappingError) as refused:
        psa_mappings.set_mappings(connection, chosen={"status": {"open": "77"}}, actor=None)
    assert refused.value.field == "status-open"
    with pytest.raises(psa_mappings.MappingError):
        psa_mappings.set_mappings(connection, chosen={"status": {"nope": "1"}}, actor=None)
    with pytest.raises(psa_mappings.MappingError):  # a ticket type, not a status
        psa_mappings.set_mappings(connection, chosen={"category": {str(billing): "9"}},
                                  actor=None)
    assert psa_mappings.set_mappings(connection, chosen={"status": {"open": "1", "closed": "9"},
                                                         "category": {str(billing): "3"}},
                                     actor=None) == 3
    assert psa_mappings.set_mappings(connection, chosen={"status": {"open": "", "closed": "9"}},
                                     actor=None) == 1
    assert psa_mappings.mappings_of(connection, "status") == {"closed": "9"}
    assert db.session.scalar(select(PsaMapping.theirs).where(
        PsaMapping.kind == "category")) == "3"
    entry = db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "psa.mapping", AuditEntry.new_value.is_(None)))
    assert (entry.field, entry.old_value) == (f"{connection.id}:status.open", "New")
    # a value the PSA dropped stays mapped (and shown as gone) until changed
    halo.store.statuses = [s for s in halo.store.statuses if s["id"] != 9]
    service.refresh_lookups(connection)
    [closed] = [row for row in psa_mappings.mapping_rows(connection, "status")
                if row.ours == "closed"]
    assert closed.gone and closed.theirs == "9"
    assert psa_mappings.set_mappings(connection, chosen={"status": {"closed": "9"}},
                                     actor=None) == 0


def test_required_fields_are_stored_as_the_defaults_for_new_tickets(app_context, halo):
    connection = connect(halo)
    name_lookups(halo, clients=["Acme"])
    with halo.store.lock:
        halo.store.ticket_types[1]["fields"].append(
            {"id": 33, "fieldid": 303, "fieldname": "agent_id", "technew": 2,
             "fieldinfo": {"id": 303, "name": "agent_id", "label": "Agent"}})
    service.refresh_lookups(connection)
    fields = {field.name: field for field in psa_mappings.required_fields(connection)}
    assert fields["CFAccountNumber"].ticket_types == ["Service Request"]
    assert fields["agent_id"].choices == [("2", "Ivy Tech"), ("1", "Sam Tech")]
    with pytest.raises(psa_mappings.MappingError) as refused:
        psa_mappings.set_new_ticket_fields(connection, values={"agent_id": "99"}, actor=None)
    assert refused.value.field == "field-agent_id"
    with pytest.raises(psa_mappings.MappingError):
        psa_mappings.set_new_ticket_fields(connection, values={"CFother": "x"}, actor=None)
    psa_mappings.set_new_ticket_fields(
        connection, values={"CFAccountNumber": " A-17 ", "agent_id": "1"}, actor=None)
    assert psa_mappings.new_ticket_fields_for(connection, "1") == {}
    assert psa_mappings.new_ticket_fields_for(connection, "3") == {
        "CFAccountNumber": "A-17", "agent_id": "1"}
    assert psa_mappings.set_default_client(connection, client="acme", actor=None) == 1
    assert connection.default_client_id == "1"
    with pytest.raises(psa_mappings.MappingError) as unknown:
        psa_mappings.set_default_client(connection, client="Nobody Ltd", actor=None)
    assert unknown.value.field == "default_client"


def test_links_suggest_by_name_and_email_and_refuse_unknown_ones(app, world, halo):
    name_lookups(halo, clients=["ACME", "Zeta", "Zeta"],
                 users=[("Dave", email("dave").upper()), ("Other", "x@example.com")])
    with app.app_context():
        connection = connect(halo)
        service.refresh_lookups(connection)
        rows, page = links.page(connection, kind="organisation", text="", per_page=10)
        by_name = {row.label: row for row in rows}
        assert by_name["Acme"].suggested == ("1", "ACME")
        assert by_name["Zeta"].suggested is None  # two clients of that name: no guess
        assert not page.has_next
        assert links.suggestions_left(connection, kind="user") == 1
        assert links.link_suggested(connection, kind="user", actor=None) == 1
        dave = db.session.get(User, world.users["dave"])
        assert db.session.scalar(select(PsaLink.external_id).where(
            PsaLink.kind == "user", PsaLink.local_id == dave.id)) == "1"
        zeta = by_name["Zeta"].local_id
        with pytest.raises(links.LinkError, match="Several PSA clients"):
            links.link(connection, kind="organisation", local_id=zeta, psa="zeta", actor=None)
        with pytest.raises(links.LinkError, match="No PSA client"):
            links.link(connection, kind="organisation", local_id=zeta, psa="Nobody",
                       actor=None)
        made = links.link(connection, kind="organisation", local_id=zeta, psa="3", actor=None)
        assert made.external_id == "3"
        with pytest.raises(links.LinkError):  # staff are not subscribers
            links.link(connection, kind="user", local_id=world.users["agent"], psa="2",
                       actor=None)
        assert links.link(connection, kind="organisation", local_id=zeta, psa="",
                          actor=None) is None


def test_subscribers_are_paged_by_email_with_a_search(app, world, halo):
    with app.app_context():
        connection = connect(halo)
        order = links.order_of("user")
        first, page = links.page(connection, kind="user", per_page=2)
        assert [row.label.split("<")[1] for row in first] == [
            "alice@test.example>", "bob@test.example>"]
        second, _ = links.page(connection, kind="user", per_page=2,
                               after=decode_cursor(page.next_cursor, order))
        assert [row.label.split("<")[1] for row in second] == [
            "carol@test.example>", "dave@test.example>"]
        found, _ = links.page(connection, kind="user", text="ZED", per_page=10)
        assert [row.local_id for row in found] == [world.users["zed"]]
        assert links.page(connection, kind="user", text="agent", per_page=10)[0] == []
