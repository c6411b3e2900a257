"""Teams: groups of staff (agents and admins) that tickets are routed to."""

from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.extensions import db
from helpdesk.models.timestamps import UTCDateTime, utcnow

# Who is in which team; a person may be in several.
team_members = Table(
    "team_members", db.metadata,
    Column("team_id", ForeignKey("teams.id"), primary_key=True),
    Column("user_id", ForeignKey("users.id"), primary_key=True, index=True),
)


class Team(db.Model):
    """A named group of staff, e.g. Billing or Network; tickets may belong to one."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    members = relationship("User", secondary=team_members, order_by="User.name",
                           lazy="selectin")

    def __repr__(self):
        return f"<Team {self.name}>"
