"""Ticket categories, configurable by admins; the defaults come with the first migration."""

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.extensions import db

DEFAULT_CATEGORIES = (
    "General", "Billing", "Connectivity", "Wi-Fi", "Hardware", "Software", "Network",
    "Email", "Security", "Complaint", "Request", "Other",
)


class Category(db.Model):
    """A ticket category, listed by ``position``."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __repr__(self):
        return f"<Category {self.name}>"
