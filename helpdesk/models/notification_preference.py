"""Which channels a person wants for one kind of notification (the profile's choices)."""

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.extensions import db


class NotificationPreference(db.Model):
    """A person's channels for one event; no row means both channels on (the default)."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    event: Mapped[str] = mapped_column(String(40), primary_key=True)
    email: Mapped[bool] = mapped_column(Boolean, default=True)
    in_app: Mapped[bool] = mapped_column(Boolean, default=True)

    def __repr__(self):
        return f"<NotificationPreference {self.user_id} {self.event} " \
            f"email={self.email} in_app={self.in_app}>"
