"""People who sign in: subscribers, company admins, reseller staff, agents and admins."""

import secrets

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.extensions import db
from helpdesk.models.timestamps import UTCDateTime, utcnow

ROLES = ("subscriber", "company_admin", "reseller", "agent", "admin")
STAFF_ROLES = frozenset({"agent", "admin"})
CUSTOMER_ROLES = frozenset({"subscriber", "company_admin"})
PERMISSIONS = (
    "tickets.view", "tickets.view_all", "tickets.create",
    "tickets.edit", "tickets.reply", "tickets.delete",
)


def new_session_token():
    """A fresh random token; changing it signs the user out everywhere."""
    return secrets.token_urlsafe(32)


class User(UserMixin, db.Model):
    """A person with a login. What they see and may do follows from ``role`` (see access.py)."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('subscriber', 'company_admin', 'reseller', 'agent', 'admin')",
            name="role_known",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    reseller_id: Mapped[int | None] = mapped_column(ForeignKey("resellers.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id"), index=True
    )
    # Space-separated tickets.* permissions; only meaningful for the reseller role.
    permission_names: Mapped[str] = mapped_column(Text, default="")
    # Flask-Login identifies the session by this token, so rotating it ends every session.
    session_token: Mapped[str] = mapped_column(
        String(64), unique=True, default=new_session_token
    )
    disabled_at = mapped_column(UTCDateTime)
    last_login_at = mapped_column(UTCDateTime)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    reseller = relationship("Reseller", lazy="joined")
    organisation = relationship("Organisation", lazy="joined")

    def get_id(self):
        """Flask-Login's session id: the rotating token, never the primary key."""
        return self.session_token

    @property
    def is_active(self):
        """Disabled users cannot sign in and lose the sessions they had."""
        return self.disabled_at is None

    @property
    def permissions(self):
        """The reseller permissions as a frozen set of names."""
        return frozenset((self.permission_names or "").split())

    @permissions.setter
    def permissions(self, names):
        unknown = set(names) - set(PERMISSIONS)
        if unknown:
            raise ValueError(f"unknown permissions: {', '.join(sorted(unknown))}")
        self.permission_names = " ".join(sorted(set(names)))

    @property
    def is_staff(self):
        """Agents and admins: the operator's own people."""
        return self.role in STAFF_ROLES

    @property
    def is_customer(self):
        """Subscribers and company admins: they use the portal."""
        return self.role in CUSTOMER_ROLES

    def end_sessions(self):
        """Sign this user out everywhere by rotating the session token."""
        self.session_token = new_session_token()

    def __repr__(self):
        return f"<User {self.email} {self.role}>"
