"""The schema comes from the migrations, and the migrations match the models."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from helpdesk.extensions import db
from helpdesk.models import Category
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
