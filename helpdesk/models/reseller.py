"""A reseller: a partner who sells the operator's service to their own subscribers."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.extensions import db
from helpdesk.models.timestamps import UTCDateTime, utcnow


class Reseller(db.Model):
    """A reseller company; its staff are users with the ``reseller`` role."""

    __tablename__ = "resellers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    def __repr__(self):
        return f"<Reseller {self.name}>"
