"""Timezone-aware UTC timestamps, stored the same way on SQLite and PostgreSQL."""

from datetime import UTC, datetime

from sqlalchemy import DateTime, TypeDecorator


def utcnow():
    """The current time in UTC, timezone-aware."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A ``DateTime`` that always comes back timezone-aware in UTC (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        """Store aware datetimes as UTC; refuse naive ones, which would be ambiguous."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use helpdesk.models.timestamps.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        """SQLite returns naive values: they were stored as UTC. PostgreSQL returns them in
        the session's ``TimeZone``, which need not be UTC: they come back in UTC either way,
        so what is written out as UTC (``...Z``) is."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def render_migration_type(type_, obj, autogen_context):
    """Alembic autogenerate hook: write ``UTCDateTime`` columns as plain ``sa.DateTime``."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False
