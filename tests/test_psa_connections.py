"""PSA connections as services (``services.psa_connections``): settings refused with the field
named, the client secret sealed in the row and never in the audit, an edit without a secret
keeping it; "Test connection" never raising; lookups replaced whole; mappings, required
fields and links refused unless they name a cached lookup."""

import pytest
from sqlalchemy import select, text

from helpdesk.extensions import db
from helpdesk.models import AuditEntry, Category, PsaLink, PsaLookup, PsaMapping, User
from helpdesk.psa.connector import PsaError
from helpdesk.psa.secrets import unseal
from helpdesk.services import psa_account_links as links
from helpdesk.services import psa_connections as service
from helpdesk.services import psa_mappings
from tests.psa_fake import fake_psa_fixture, lookups  # noqa: F401 - the fixture
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


def test_check_stores_what_the_psa_said_and_never_raises(app_context, fake_psa):
    connection = create()
    assert service.check(connection) == "Connected: HaloPSA answered: 3 statuses"
    assert service.check_passed(connection) and connection.checked_at is not None
    assert fake_psa.seen[-1].client_secret == SECRET  # unsealed for the adapter only
    fake_psa.script["check"] = PsaError("HaloPSA /auth/token: 401\n invalid_client",
                                        status=401)
    assert service.check(connection) == "HaloPSA /auth/token: 401 invalid_client"
    assert service.check_passed(connection) is False
    fake_psa.script["check"] = ZeroDivisionError("a bug")
    assert "Unexpected error (ZeroDivisionError)" in service.check(connection)


def test_refresh_replaces_the_lookups_in_one_go(app_context, fake_psa):
    connection = create()
    fake_psa.script["lookups"] = lookups(clients=[("10", "Acme"), ("11", "Zeta")],
                                         required={"3": [("CFtype", "Request type")]})
    counts = service.refresh_lookups(connection)
    assert counts == {"status": 3, "priority": 4, "ticket_type": 2, "client": 2, "agent": 1}
    request_type = db.session.scalar(select(PsaLookup).where(
        PsaLookup.connection_id == connection.id, PsaLookup.external_id == "3",
        PsaLookup.kind == "ticket_type"))
    assert request_type.extra == {"required_fields": [["CFtype", "Request type"]]}
    fake_psa.script["lookups"] = lookups(clients=[("12", "Only")])
    service.refresh_lookups(connection)
    assert psa_mappings.lookup_counts(connection)["client"] == 1
    fetched = connection.lookups_fetched_at
    fake_psa.script["lookups"] = PsaError("HaloPSA /api/Client: 500 boom", transient=True)
    with pytest.raises(PsaError):
        service.refresh_lookups(connection)
    db.session.rollback()
    assert psa_mappings.lookup_counts(connection)["client"] == 1
    assert connection.lookups_fetched_at == fetched


def test_mappings_take_only_cached_lookups(app_context, fake_psa):
    connection = create()
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
    assert psa_mappings.set_mappings(connection, chosen={"status": {"open": "1", "closed": "9"}},
                                     actor=None) == 2
    assert psa_mappings.set_mappings(connection, chosen={"category": {str(billing): "3"}},
                                     actor=None) == 1
    assert psa_mappings.set_mappings(connection, chosen={"status": {"open": "", "closed": "9"}},
                                     actor=None) == 1
    assert psa_mappings.mappings_of(connection, "status") == {"closed": "9"}
    assert db.session.scalar(select(PsaMapping.theirs).where(
        PsaMapping.kind == "category")) == "3"
    entry = db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "psa.mapping", AuditEntry.new_value.is_(None)))
    assert (entry.field, entry.old_value) == (f"{connection.id}:status.open", "New")


def test_required_fields_are_stored_as_the_defaults_for_new_tickets(app_context, fake_psa):
    connection = create()
    fake_psa.script["lookups"] = lookups(
        clients=[("10", "Acme")],
        required={"1": [("CFsite", "Site")], "3": [("CFsite", "Site"), ("agent_id", "Agent")]})
    service.refresh_lookups(connection)
    fields = {field.name: field for field in psa_mappings.required_fields(connection)}
    assert fields["CFsite"].ticket_types == ["Incident", "Service Request"]
    assert fields["agent_id"].choices == [("5", "Tess Tech")]
    with pytest.raises(psa_mappings.MappingError) as refused:
        psa_mappings.set_new_ticket_fields(connection, values={"agent_id": "99"}, actor=None)
    assert refused.value.field == "field-agent_id"
    with pytest.raises(psa_mappings.MappingError):
        psa_mappings.set_new_ticket_fields(connection, values={"CFother": "x"}, actor=None)
    psa_mappings.set_new_ticket_fields(connection, values={"CFsite": " HQ ", "agent_id": "5"},
                                       actor=None)
    assert psa_mappings.new_ticket_fields_for(connection, "1") == {"CFsite": "HQ"}
    assert psa_mappings.new_ticket_fields_for(connection, "3") == {"CFsite": "HQ",
                                                                   "agent_id": "5"}
    assert psa_mappings.set_default_client(connection, client="acme", actor=None) == 1
    assert connection.default_client_id == "10"
    with pytest.raises(psa_mappings.MappingError) as unknown:
        psa_mappings.set_default_client(connection, client="Nobody Ltd", actor=None)
    assert unknown.value.field == "default_client"


def test_links_suggest_by_name_and_email_and_refuse_unknown_ones(app, world, fake_psa):
    with app.app_context():
        connection = create()
        fake_psa.script["lookups"] = lookups(
            clients=[("10", "ACME"), ("11", "Zeta"), ("12", "Zeta")],
            users=[("50", "Dave", email("dave").upper()), ("51", "Other", "x@example.com")])
        service.refresh_lookups(connection)
        rows, page = links.page(connection, kind="organisation", text="", per_page=10)
        by_name = {row.label: row for row in rows}
        assert by_name["Acme"].suggested == ("10", "ACME")
        assert by_name["Zeta"].suggested is None  # two clients of that name: no guess
        assert not page.has_next
        assert links.suggestions_left(connection, kind="user") == 1
        assert links.link_suggested(connection, kind="user", actor=None) == 1
        dave = db.session.get(User, world.users["dave"])
        assert db.session.scalar(select(PsaLink.external_id).where(
            PsaLink.kind == "user", PsaLink.local_id == dave.id)) == "50"
        with pytest.raises(links.LinkError, match="Several PSA clients"):
            links.link(connection, kind="organisation", local_id=by_name["Zeta"].local_id,
                       psa="zeta", actor=None)
        with pytest.raises(links.LinkError, match="No PSA client"):
            links.link(connection, kind="organisation", local_id=by_name["Zeta"].local_id,
                       psa="Nobody", actor=None)
        made = links.link(connection, kind="organisation", local_id=by_name["Zeta"].local_id,
                          psa="12", actor=None)
        assert made.external_id == "12"
        with pytest.raises(links.LinkError):  # staff are not subscribers
            links.link(connection, kind="user", local_id=world.users["agent"], psa="51",
                       actor=None)
        assert links.link(connection, kind="organisation", local_id=by_name["Zeta"].local_id,
                          psa="", actor=None) is None


def test_subscribers_are_paged_by_email_with_a_search(app, world, fake_psa):
    with app.app_context():
        connection = create()
        order = links.order_of("user")
        first, page = links.page(connection, kind="user", per_page=2)
        assert [row.label.split("<")[1] for row in first] == [
            "alice@test.example>", "bob@test.example>"]
        from helpdesk.keyset import decode_cursor

        second, _ = links.page(connection, kind="user", per_page=2,
                               after=decode_cursor(page.next_cursor, order))
        assert [row.label.split("<")[1] for row in second] == [
            "carol@test.example>", "dave@test.example>"]
        found, _ = links.page(connection, kind="user", text="ZED", per_page=10)
        assert [row.local_id for row in found] == [world.users["zed"]]
        assert links.page(connection, kind="user", text="agent", per_page=10)[0] == []
