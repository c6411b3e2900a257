"""A personal API token: a script's way in as its user, over ``Authorization: Bearer``.

The script holds the secret (``hd_`` and 43 random characters); the table keeps only its
SHA-256, so a copy of the table lets no one in. A token acts as its user, so it has no
permissions of its own: revoking it, or disabling the user, ends it.
"""

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.extensions import db
from helpdesk.models.timestamps import UTCDateTime, utcnow

MAX_NAME_LENGTH = 80


class ApiToken(db.Model):
    """One named token of one user; ``revoked_at`` set: it lets nobody in any more."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        Index("ix_api_tokens_token_hash", "token_hash", unique=True),
        Index("ix_api_tokens_user_id_revoked_at", "user_id", "revoked_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(MAX_NAME_LENGTH))
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    # Written at most every ``services.api_tokens.LAST_USED_EVERY``: not a write per request.
    last_used_at = mapped_column(UTCDateTime)
    revoked_at = mapped_column(UTCDateTime)

    user = relationship("User")

    def __repr__(self):
        return f"<ApiToken {self.id} {self.name!r} user={self.user_id}>"
