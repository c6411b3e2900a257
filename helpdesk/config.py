"""Configuration read from the environment.

Every setting has an environment variable of the same name (listed in the README). Nothing
secret lives in the code: without ``SECRET_KEY`` a development key is generated once and kept
in the instance folder, and the production config refuses to start without one.
"""

import os
import secrets
from pathlib import Path


def env_bool(name, default=False):
    """Read a yes/no environment variable (1, true, yes, on count as yes)."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def database_url(raw, instance_path):
    """Normalise ``DATABASE_URL``: default SQLite in the instance folder, psycopg 3 for Postgres."""
    if not raw:
        return f"sqlite:///{Path(instance_path) / 'helpdesk.db'}"
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix):]
    return raw


def secret_key(instance_path):
    """Return ``SECRET_KEY`` from the environment, or a key generated once for this instance."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def request_size_limit(attachment_mb, upload_mb):
    """Bytes one request may carry before it is refused outright, with the bare 413 page.

    Uploads past the caps are handled more kindly below this ceiling: their bytes are dropped
    while the form is read, and the form comes back with the text kept (``helpdesk.request``).
    The ceiling is a few times the caps, so a file somewhat too large gets that answer while
    a runaway upload is not read to the end; a megabyte on top is for the other fields.
    """
    return (3 * max(attachment_mb, upload_mb) + 1) * 1024 * 1024


class Config:
    """Settings shared by every environment; values come from the environment."""

    TICKET_PREFIX = os.environ.get("TICKET_PREFIX", "TKT")
    FIRST_REPLY_STARTS_WORK = env_bool("FIRST_REPLY_STARTS_WORK", False)
    # Outgoing mail (notifications and account mail). Without SMTP_HOST nothing is sent: the
    # messages are kept for admins at /admin/mail.
    SMTP_HOST = os.environ.get("SMTP_HOST") or None
    SMTP_PORT = int(os.environ.get("SMTP_PORT", "587"))
    SMTP_USERNAME = os.environ.get("SMTP_USERNAME") or None
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD") or None
    SMTP_STARTTLS = env_bool("SMTP_STARTTLS", True)
    MAIL_FROM = os.environ.get("MAIL_FROM", "helpdesk@localhost")
    PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000")
    # Incoming mail (services/mail_fetch.py): with IMAP_HOST set, a cron job fetches the unseen
    # messages of IMAP_FOLDER every minute; without it, mail comes only from an MTA through
    # ``flask --app wsgi mail intake`` (README). IMAP_SSL: TLS from the start (port 993);
    # off, IMAP_STARTTLS upgrades a plain connection (off too: plain, for loopback only).
    IMAP_HOST = os.environ.get("IMAP_HOST") or None
    IMAP_PORT = int(os.environ.get("IMAP_PORT", "993"))
    IMAP_SSL = env_bool("IMAP_SSL", True)
    IMAP_STARTTLS = env_bool("IMAP_STARTTLS", False)
    IMAP_USERNAME = os.environ.get("IMAP_USERNAME") or None
    IMAP_PASSWORD = os.environ.get("IMAP_PASSWORD") or None
    IMAP_FOLDER = os.environ.get("IMAP_FOLDER", "INBOX")
    # Messages one fetch stores before it asks the mailbox for more.
    IMAP_BATCH_SIZE = int(os.environ.get("IMAP_BATCH_SIZE", "25"))
    # The category of a ticket opened by email (a category's name; else the first active).
    MAIL_INTAKE_CATEGORY = os.environ.get("MAIL_INTAKE_CATEGORY", "General")
    # PSA connections' secrets are encrypted with this Fernet key (else one derived from
    # SECRET_KEY): helpdesk/psa/secrets.py.
    PSA_SECRET_KEY = os.environ.get("PSA_SECRET_KEY") or None
    TICKETS_PER_PAGE = int(os.environ.get("TICKETS_PER_PAGE", "50"))
    # Live updates: how often an open ticket and the queue ask what changed (seconds).
    TICKET_POLL_SECONDS = int(os.environ.get("TICKET_POLL_SECONDS", "4"))
    # The PSA sync panel polls this often while a pull runs (templates/admin/_psa_dashboard).
    PSA_DASHBOARD_POLL_SECONDS = int(os.environ.get("PSA_DASHBOARD_POLL_SECONDS", "2"))
    # How long applying a PSA ticket waits for another worker applying the same one.
    PSA_APPLY_WAIT_SECONDS = float(os.environ.get("PSA_APPLY_WAIT_SECONDS", "30"))
    QUEUE_POLL_SECONDS = int(os.environ.get("QUEUE_POLL_SECONDS", "5"))
    # How often the bell in the header asks for the unread count (seconds).
    BELL_POLL_SECONDS = int(os.environ.get("BELL_POLL_SECONDS", "15"))
    # How stale a process's queue choices (categories, staff) may be after another process
    # changed them; the process that made a change shows it at once (desk/choices.py).
    QUEUE_CHOICES_CHECK_SECONDS = float(os.environ.get("QUEUE_CHOICES_CHECK_SECONDS", "1"))
    USERS_PER_PAGE = int(os.environ.get("USERS_PER_PAGE", "50"))
    # A search estimated to match at most this many tickets reads its matches first; a
    # larger one may walk the queue's order and check each row (helpdesk/search/match.py).
    SEARCH_MATCH_FIRST_LIMIT = int(os.environ.get("SEARCH_MATCH_FIRST_LIMIT", "5000"))
    # "auto" picks the plan per search; "match_first" or "queue_first" forces one.
    SEARCH_PLAN = os.environ.get("SEARCH_PLAN", "auto")
    # One attachment may be this large (HaloPSA's own cap); a request carries a few of them.
    MAX_ATTACHMENT_MB = int(os.environ.get("MAX_ATTACHMENT_MB", "25"))
    MAX_UPLOAD_MB = int(os.environ.get("MAX_UPLOAD_MB", str(4 * MAX_ATTACHMENT_MB)))
    MAX_CONTENT_LENGTH = request_size_limit(MAX_ATTACHMENT_MB, MAX_UPLOAD_MB)

    SESSION_COOKIE_NAME = "session"
    SESSION_COOKIE_PATH = "/"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Set at sign-in, not on every request: the server ends idle sign-ins (sign_ins.py).
    SESSION_REFRESH_EACH_REQUEST = False
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
    # Idle: a sign-in without "keep me signed in" ends this long after its last request.
    SESSION_LIFETIME_HOURS = int(os.environ.get("SESSION_LIFETIME_HOURS", "12"))
    # Absolute: a sign-in without "keep me signed in" ends this long after it started.
    SESSION_MAX_HOURS = int(os.environ.get("SESSION_MAX_HOURS", "24"))
    # Absolute: a "keep me signed in" sign-in ends this long after it started.
    REMEMBER_COOKIE_DAYS = int(os.environ.get("REMEMBER_COOKIE_DAYS", "30"))
    REMEMBER_COOKIE_NAME = "remember_token"
    REMEMBER_COOKIE_PATH = "/"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_REFRESH_EACH_REQUEST = False  # its end is fixed at sign-in
    # Sent on HTTPS responses when set (production).
    STRICT_TRANSPORT_SECURITY = None

    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per 15 minutes")
    LOGIN_LIMIT_PER_IP = os.environ.get("LOGIN_LIMIT_PER_IP", "20 per 15 minutes")
    # Argon2id parameters: DESK (OWASP's first choice, see services/accounts.py) or a name
    # from argon2.profiles. Hashes made with other parameters are renewed at sign-in.
    PASSWORD_HASH_PROFILE = os.environ.get("PASSWORD_HASH_PROFILE", "DESK")
    PROXY_COUNT = int(os.environ.get("PROXY_COUNT", "0"))
    # A password reset (or set-password) link works once, for this many minutes.
    PASSWORD_RESET_MINUTES = int(os.environ.get("PASSWORD_RESET_MINUTES", "60"))
    # Asking for a reset link: per address typed, and per client address.
    PASSWORD_RESET_LIMIT_PER_ACCOUNT = os.environ.get("PASSWORD_RESET_LIMIT_PER_ACCOUNT",
                                                      "3 per hour")
    PASSWORD_RESET_LIMIT_PER_IP = os.environ.get("PASSWORD_RESET_LIMIT_PER_IP", "10 per hour")
    # PSA webhook deliveries accepted per connection (helpdesk/psa_webhooks.py).
    PSA_WEBHOOK_LIMIT = os.environ.get("PSA_WEBHOOK_LIMIT", "120 per minute")
    # How long a webhook endpoint has to answer one delivery (jobs/webhooks.py).
    WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10"))
    # JSON API requests per personal token (helpdesk/api): a script's budget.
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "600 per minute")

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    RATELIMIT_HEADERS_ENABLED = False  # the 429 page sets its own Retry-After
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_KEY_PREFIX = "helpdesk-limits"

    def __init__(self, instance_path):
        self.SECRET_KEY = secret_key(instance_path)
        self.SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL"), instance_path)
        self.REDIS_URL = os.environ.get("REDIS_URL") or None
        # Attachment bytes live here, outside the web root; default <instance>/attachments.
        self.ATTACHMENTS_PATH = os.environ.get("ATTACHMENTS_PATH") or None


class ProductionConfig(Config):
    """Production: a real secret, HTTPS-only ``__Host-`` cookies and HSTS.

    ``__Host-`` names make browsers refuse the cookies unless they are Secure, for the whole
    site (Path=/) and for this host only (no Domain), so neither a sibling subdomain nor a
    plain-HTTP page can plant or overwrite them. Turning ``SESSION_COOKIE_SECURE`` off (an
    HTTP-only test install) falls back to the plain names, which browsers would otherwise drop.
    """

    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SESSION_COOKIE_NAME = "__Host-session" if SESSION_COOKIE_SECURE else "session"
    REMEMBER_COOKIE_NAME = "__Host-remember_token" if SESSION_COOKIE_SECURE else "remember_token"
    STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"

    def __init__(self, instance_path):
        if not os.environ.get("SECRET_KEY"):
            raise RuntimeError("SECRET_KEY is not set: production needs a long random SECRET_KEY.")
        super().__init__(instance_path)


def check_host_cookies(config):
    """Refuse to start with a ``__Host-`` cookie that browsers would drop: say what is wrong."""
    for kind in ("SESSION", "REMEMBER"):
        name = config[f"{kind}_COOKIE_NAME"]
        if not name.startswith("__Host-"):
            continue
        if not config[f"{kind}_COOKIE_SECURE"] or config.get(f"{kind}_COOKIE_PATH") != "/" \
                or config.get(f"{kind}_COOKIE_DOMAIN"):
            raise RuntimeError(f"{kind}_COOKIE_NAME {name} needs {kind}_COOKIE_SECURE on, "
                               f"{kind}_COOKIE_PATH '/' and no {kind}_COOKIE_DOMAIN.")


def config_for_environment(instance_path):
    """Pick the config class by ``HELPDESK_ENV`` (``production`` or the default ``development``)."""
    if os.environ.get("HELPDESK_ENV", "development") == "production":
        return ProductionConfig(instance_path)
    return Config(instance_path)
