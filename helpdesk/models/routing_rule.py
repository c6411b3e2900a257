"""Routing rules: which team and assignee a new (or re-categorised) ticket gets.

Rules are tried in ``position`` order and the first enabled one whose conditions all hold
wins (``services.routing``). The category is required; priority, organisation and reseller
narrow it when set. A rule sets a team, an assignee, or both.
"""

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.extensions import db
from helpdesk.models.timestamps import UTCDateTime, utcnow


class RoutingRule(db.Model):
    """One rule: conditions (category, optionally priority, organisation, reseller) and
    actions (team and/or assignee)."""

    __tablename__ = "routing_rules"
    __table_args__ = (
        CheckConstraint("team_id IS NOT NULL OR assignee_id IS NOT NULL",
                        name="does_something"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    priority: Mapped[str | None] = mapped_column(String(16))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    reseller_id: Mapped[int | None] = mapped_column(ForeignKey("resellers.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    category = relationship("Category", lazy="joined")
    organisation = relationship("Organisation", lazy="joined")
    reseller = relationship("Reseller", lazy="joined")
    team = relationship("Team", lazy="joined")
    assignee = relationship("User", lazy="joined")

    def __repr__(self):
        return f"<RoutingRule {self.position} {self.name}>"
