"""People who sign in: subscribers, company admins, reseller staff, agents and admins."""

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
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


class User(UserMixin, db.Model):
    """A person with a login. What they see and may do follows from ``role`` (see access.py)."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('subscriber', 'company_admin', 'reseller', 'agent', 'admin')",
            name="role_known",
        ),
        # The staff list and the assignable people, without reading every subscriber (0012).
        Index("ix_users_active_role", "role", "name",
              postgresql_where=text("disabled_at IS NULL"),
              sqlite_where=text("disabled_at IS NULL")),
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
    # An IANA time zone name ("Europe/Dublin") times are shown in; None: the browser's.
    time_zone: Mapped[str | None] = mapped_column(String(64))
    disabled_at = mapped_column(UTCDateTime)
    last_login_at = mapped_column(UTCDateTime)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    reseller = relationship("Reseller", lazy="joined")
    organisation = relationship("Organisation", lazy="joined")

    # The token of the sign-in this request runs under (see services/sign_ins.py); set when
    # signing in and by the user loader, never stored on the user.
    sign_in_token = None

    def get_id(self):
        """Flask-Login's session id: this sign-in's token, never the primary key.

        Flask-Login puts it in the session and the remember cookie, so ending that one
        sign-in row ends both, and every copy of them.
        """
        if self.sign_in_token is None:
            raise RuntimeError("get_id() outside a sign-in: use sign_ins.start() first")
        return self.sign_in_token

    def __eq__(self, other):
        """The same row is the same user (``UserMixin`` compares ``get_id()``, a sign-in)."""
        if not isinstance(other, User):
            return NotImplemented
        return self is other or (self.id is not None and self.id == other.id)

    __hash__ = UserMixin.__hash__  # identity, as before: ids appear only after a flush

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

    def __repr__(self):
        return f"<User {self.email} {self.role}>"
