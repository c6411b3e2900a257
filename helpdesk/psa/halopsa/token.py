"""HaloPSA's access token: OAuth2 client credentials, fetched once and reused until it expires.

``POST {auth_url}/token``, form-encoded: ``grant_type=client_credentials``, the client id and
secret, ``scope=all``. Hosted instances name their tenant: it goes both in the form and as
the ``tenant`` query parameter (Halo's hosted auth server reads the query; a self-hosted one
ignores both). The token is kept with its expiry and fetched again shortly before it runs out
(``REFRESH_MARGIN``), and at once when the API says 401 (revoked, or a clock that drifted):
``forget`` then ``bearer``.
"""

from helpdesk.psa.connector import PsaError

REFRESH_MARGIN = 60.0  # seconds before expiry when a token is fetched anew
DEFAULT_LIFETIME = 3600.0  # seconds, when the auth server does not say


class AccessToken:
    """The bearer token of one connection; ``send`` is the connection's one way to send."""

    def __init__(self, settings, *, send, clock):
        self.settings = settings
        self._send = send
        self._clock = clock
        self._value = None
        self._renew_at = 0.0

    @property
    def url(self):
        """The auth server's token endpoint."""
        return self.settings.auth_url.rstrip("/") + "/token"

    def bearer(self):
        """A token that is good for a while yet, fetched if there is none."""
        if self._value is None or self._clock() >= self._renew_at:
            self._fetch()
        return self._value

    def forget(self):
        """Drop the token: the API refused it, the next request fetches another."""
        self._value = None

    def _fetch(self):
        """Ask the auth server for a token and note when to renew it."""
        form = {"grant_type": "client_credentials", "client_id": self.settings.client_id,
                "client_secret": self.settings.client_secret, "scope": "all"}
        params = None
        if self.settings.tenant:
            form["tenant"] = self.settings.tenant
            params = {"tenant": self.settings.tenant}
        started = self._clock()
        answer = self._send("POST", self.url, params=params, data=form)
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not token:
            raise PsaError(f"HaloPSA's auth server at {self.url} answered without an "
                           "access_token", transient=False)
        try:
            lifetime = float(answer.get("expires_in") or DEFAULT_LIFETIME)
        except (TypeError, ValueError):
            lifetime = DEFAULT_LIFETIME
        self._value = token
        self._renew_at = started + lifetime - min(REFRESH_MARGIN, lifetime / 2)
