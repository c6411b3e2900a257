"""SLA settings: the workspace calendar and the targets per priority, with overrides.

``SlaSettings`` is one row (id 1): the time zone, the business hours per weekday, the holidays,
the at-risk share, the escalation levels and auto-close. Without a row the defaults of
``helpdesk.sla.policy`` apply. ``SlaTarget`` rows override the default targets of a priority
for the whole workspace (no organisation, no reseller), for a reseller's subscribers, or for an
organisation; a blank target inherits (organisation, then reseller, then workspace, then the
built-in default).
"""

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.extensions import db
from helpdesk.models.timestamps import UTCDateTime, utcnow


class SlaSettings(db.Model):
    """The workspace's SLA calendar and rules (one row; see ``helpdesk.sla.policy``)."""

    __tablename__ = "sla_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    time_zone: Mapped[str] = mapped_column(String(64))
    # JSON: {"mon": ["09:00", "17:00"], ..., "sun": null}
    hours: Mapped[str] = mapped_column(Text)
    # Local dates, ISO, one a line.
    holidays: Mapped[str] = mapped_column(Text, default="")
    at_risk_percent: Mapped[int] = mapped_column(SmallInteger, default=80)
    # JSON: [{"percent": 70, "notify": ["assignee"], "raise_priority": false,
    #         "reassign_to": null}, ...]
    escalation_levels: Mapped[str] = mapped_column(Text, default="[]")
    auto_close_days: Mapped[int | None] = mapped_column(Integer)  # None: never
    updated_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class SlaTarget(db.Model):
    """Targets of one priority in business minutes, for the workspace, a reseller or an
    organisation (at most one of the two); None inherits."""

    __tablename__ = "sla_targets"
    __table_args__ = (
        CheckConstraint("reseller_id IS NULL OR organisation_id IS NULL", name="one_scope"),
        Index("ix_sla_targets_scope", "organisation_id", "reseller_id", "priority"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    reseller_id: Mapped[int | None] = mapped_column(ForeignKey("resellers.id"))
    priority: Mapped[str] = mapped_column(String(16))
    first_response_minutes: Mapped[int | None] = mapped_column(Integer)
    resolution_minutes: Mapped[int | None] = mapped_column(Integer)

    organisation = relationship("Organisation", lazy="joined")
    reseller = relationship("Reseller", lazy="joined")
