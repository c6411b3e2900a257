"""One sign-in: a browser session (and its remember cookie) that the server can end.

The browser holds a random token; the table keeps only its SHA-256, so a copy of the table
signs no one in. Ending the row ends the session cookie and the remember cookie that carry
its token, in that browser and in any copy of them.
"""

import re

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.extensions import db
from helpdesk.models.timestamps import UTCDateTime, utcnow

USER_AGENT_LENGTH = 255

# (pattern, name) checked in order: Edge and Opera also say Chrome, Chrome also says Safari.
BROWSERS = (
    (r"Edg/", "Edge"), (r"OPR/|Opera", "Opera"), (r"Firefox/", "Firefox"),
    (r"Chrom(e|ium)/", "Chrome"), (r"Safari/", "Safari"),
)
SYSTEMS = (
    (r"iPhone|iPad", "iOS"), (r"Android", "Android"), (r"Windows", "Windows"),
    (r"Mac OS X|Macintosh", "macOS"), (r"CrOS", "ChromeOS"), (r"Linux", "Linux"),
)


def _first_match(patterns, text):
    return next((name for pattern, name in patterns if re.search(pattern, text)), None)


class SignIn(db.Model):
    """A sign-in from one browser, with its fixed end (``expires_at``) and who it was."""

    __tablename__ = "sign_ins"
    __table_args__ = (Index("ix_sign_ins_user_id_ended_at", "user_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    remember: Mapped[bool] = mapped_column(Boolean, default=False)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(USER_AGENT_LENGTH))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    # Fixed at sign-in: nothing the browser sends can move it.
    expires_at = mapped_column(UTCDateTime, nullable=False)
    last_seen_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    ended_at = mapped_column(UTCDateTime)

    user = relationship("User")

    @property
    def device(self):
        """"Firefox on Linux", or the raw user agent when it says nothing we recognise."""
        text = self.user_agent or ""
        browser, system = _first_match(BROWSERS, text), _first_match(SYSTEMS, text)
        if browser and system:
            return f"{browser} on {system}"
        return browser or system or text or "Unknown device"

    def __repr__(self):
        return f"<SignIn {self.id} user={self.user_id}>"
