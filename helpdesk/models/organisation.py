"""An organisation: a subscriber company, customer of a reseller or of the operator itself."""

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.extensions import db
from helpdesk.models.timestamps import UTCDateTime, utcnow


class Organisation(db.Model):
    """A subscriber company. ``reseller_id`` is None when the operator serves it directly."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    reseller_id: Mapped[int | None] = mapped_column(ForeignKey("resellers.id"), index=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    reseller = relationship("Reseller", lazy="joined")

    def __repr__(self):
        return f"<Organisation {self.name}>"
