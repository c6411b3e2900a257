"""The schema comes from the migrations, and the migrations match the models."""

from datetime import UTC, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import MetaData, inspect, select, text

from helpdesk.extensions import db
from helpdesk.models import Category, Ticket
from helpdesk.models.category import DEFAULT_CATEGORIES
from helpdesk.search import include_in_migrations


def test_models_and_migrations_agree(app):
    """Autogenerate finds nothing to add: no model change is missing a migration."""
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "include_object": include_in_migrations,
        })
        assert compare_metadata(context, db.metadata) == []


def test_constraint_names_follow_the_convention(app):
    """Named constraints, so later migrations can alter them on every database."""
    with app.app_context():
        inspector = inspect(db.engine)
        foreign_keys = inspector.get_foreign_keys("tickets")
        assert {fk["name"] for fk in foreign_keys} >= {"fk_tickets_subscriber_id_users"}


def test_default_categories_come_with_the_first_migration(app):
    """A fresh database has the twelve default categories in order."""
    with app.app_context():
        names = db.session.scalars(select(Category.name).order_by(Category.position)).all()
    assert tuple(names) == DEFAULT_CATEGORIES


def test_public_activity_backfill(empty_database_app):
    """0007 fills ``public_updated_at`` from what customers could see: the opening, public
    replies and events, the rating; never an internal note or an internal event."""
    app = empty_database_app
    start = datetime(2026, 1, 1, tzinfo=UTC)
    at = {n: start + timedelta(hours=n) for n in range(8)}
    with app.app_context():
        upgrade(revision="0005")
        tables = MetaData()
        tables.reflect(db.engine, only=("users", "tickets", "replies", "ticket_events"))
        users, tickets, replies, events = (tables.tables[name] for name in (
            "users", "tickets", "replies", "ticket_events"))
        with db.engine.begin() as connection:
            category = connection.scalar(text("SELECT min(id) FROM categories"))
            person = connection.execute(users.insert().values(
                email="old@example.test", name="Old", password_hash="x", role="subscriber",
                permission_names="", session_token="old-token", created_at=at[0])
            ).inserted_primary_key[0]

            def ticket(subject, **times):
                return connection.execute(tickets.insert().values(
                    subject=subject, body="", body_html="", body_renderer=1, status="open",
                    priority="normal", category_id=category, subscriber_id=person,
                    queue_rank=1, **times)).inserted_primary_key[0]

            quiet = ticket("quiet", created_at=at[0], updated_at=at[0])
            busy = ticket("busy", created_at=at[0], updated_at=at[7])
            rated = ticket("rated", created_at=at[0], updated_at=at[2], rated_at=at[5])
            for ticket_id, internal, when in [(busy, False, at[1]), (busy, True, at[6]),
                                              (quiet, True, at[4])]:
                connection.execute(replies.insert().values(
                    ticket_id=ticket_id, author_id=person, body="b", body_html="b",
                    body_renderer=1, internal=internal, created_at=when))
            for ticket_id, kind, internal, when in [(busy, "status", False, at[3]),
                                                    (busy, "assignment", True, at[7])]:
                connection.execute(events.insert().values(
                    ticket_id=ticket_id, actor_id=person, kind=kind, internal=internal,
                    created_at=when))
        upgrade()
        found = dict(db.session.execute(select(Ticket.id, Ticket.public_updated_at)).all())
        assert found == {quiet: at[0], busy: at[3], rated: at[5]}
        if db.engine.dialect.name == "sqlite":  # the table rebuild kept the DESC indexes
            queue = db.session.scalar(text(
                "SELECT sql FROM sqlite_master WHERE name = 'ix_tickets_queue'"))
            assert "updated_at DESC" in queue


def test_ticket_search_upgrade_and_downgrade_keep_what_was_searchable(empty_database_app):
    """0009 fills one document per ticket from the tickets, replies, subscriber and
    organisation already there (notes apart); its downgrade gives search_documents back."""
    from helpdesk.search import SEARCH_TABLE, ticket_match

    app = empty_database_app
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with app.app_context():
        upgrade(revision="0008_sign_ins")
        tables = MetaData()
        tables.reflect(db.engine, only=("users", "organisations", "tickets", "replies"))
        users, organisations, tickets, replies = (tables.tables[name] for name in (
            "users", "organisations", "tickets", "replies"))
        with db.engine.begin() as connection:
            category = connection.scalar(text("SELECT min(id) FROM categories"))
            organisation = connection.execute(organisations.insert().values(
                name="Fjord Fibre", created_at=now)).inserted_primary_key[0]
            person = connection.execute(users.insert().values(
                email="ingrid@fjord.example", name="Ingrid Halvorsen", password_hash="x",
                role="subscriber", permission_names="", organisation_id=organisation,
                created_at=now)).inserted_primary_key[0]
            ticket = connection.execute(tickets.insert().values(
                subject="Modem offline", body="Since Tuesday", body_html="", body_renderer=1,
                status="open", priority="normal", category_id=category, subscriber_id=person,
                organisation_id=organisation, queue_rank=1, created_at=now, updated_at=now,
                public_updated_at=now)).inserted_primary_key[0]
            for body, internal in (("Replaced the splitter", False), ("Vendor RMA 4471", True)):
                connection.execute(replies.insert().values(
                    ticket_id=ticket, author_id=person, body=body, body_html="",
                    body_renderer=1, internal=internal, created_at=now))
        upgrade(revision="0009_ticket_search")

        def found(query, *, internal):
            match = ticket_match(query, include_internal=internal)
            return db.session.scalars(select(Ticket.id).where(match)).all()

        for query in ("modem tuesday splitter", "halvorsen", "ingrid@fjord.example", "fjord"):
            assert found(query, internal=False) == [ticket], query
        assert found("rma 4471 modem", internal=True) == [ticket]
        assert found("rma 4471", internal=False) == []
        db.session.remove()

        downgrade(revision="0008_sign_ins")
        assert not inspect(db.engine).has_table(SEARCH_TABLE)
        with db.engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT reply_id IS NULL, internal FROM search_documents"
                " ORDER BY coalesce(reply_id, 0)")).all()
        assert [(bool(a), bool(b)) for a, b in rows] == [(True, False), (False, False),
                                                        (False, True)]
        upgrade()
        assert found("splitter", internal=False) == [ticket]


def test_opened_by_backfill(empty_database_app):
    """0014 finds the tickets opened on someone's behalf before it: their ``ticket.open``
    audit entry names an actor other than the subscriber. A subscriber's own ticket, and one
    opened from the command line (no actor), keep ``opened_by_id`` empty."""
    app = empty_database_app
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with app.app_context():
        upgrade(revision="0013_resolved_rank_last")
        tables = MetaData()
        tables.reflect(db.engine, only=("users", "tickets", "audit_entries"))
        users, tickets, audit = (tables.tables[name] for name in (
            "users", "tickets", "audit_entries"))
        with db.engine.begin() as connection:
            category = connection.scalar(text("SELECT min(id) FROM categories"))

            def person(name, role):
                return connection.execute(users.insert().values(
                    email=f"{name}@example.test", name=name, password_hash="x", role=role,
                    permission_names="", created_at=now)).inserted_primary_key[0]

            dave, agent = person("dave", "subscriber"), person("sam", "agent")

            def ticket(subject, *, opener):
                ticket_id = connection.execute(tickets.insert().values(
                    subject=subject, body="", body_html="", body_renderer=1, status="open",
                    priority="normal", category_id=category, subscriber_id=dave,
                    queue_rank=1, created_at=now, updated_at=now, public_updated_at=now,
                )).inserted_primary_key[0]
                connection.execute(audit.insert().values(
                    actor_id=opener, action="ticket.open", ticket_id=ticket_id,
                    new_value=subject, created_at=now))
                return ticket_id

            own = ticket("own", opener=dave)
            on_behalf = ticket("phoned in", opener=agent)
            from_the_cli = ticket("imported", opener=None)
            # Later entries by others (a reply, a status change) do not make an opener.
            connection.execute(audit.insert().values(
                actor_id=agent, action="ticket.status", ticket_id=own, created_at=now))
        upgrade(revision="0014_time_zone_and_opened_by")
        found = dict(db.session.execute(select(Ticket.id, Ticket.opened_by_id)).all())
        assert found == {own: None, on_behalf: agent, from_the_cli: None}
        db.session.remove()


def test_every_migration_downgrades_and_upgrades_again(empty_database_app):
    """Head, down to nothing, head again: each downgrade undoes its upgrade (0011 puts back
    the indexes it replaced), and the schema still matches the models afterwards."""
    app = empty_database_app
    with app.app_context():
        upgrade()
        downgrade(revision="0008_sign_ins")
        indexes = {index["name"] for index in inspect(db.engine).get_indexes("tickets")}
        assert {"ix_tickets_status_category_queue", "ix_tickets_assignee_id"} <= indexes
        assert "ix_tickets_created" not in indexes
        downgrade(revision="base")
        assert "tickets" not in inspect(db.engine).get_table_names()
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={
                "compare_type": True, "include_object": include_in_migrations,
            })
            assert compare_metadata(context, db.metadata) == []
