"""The one place that sends HaloPSA requests, so every rule holds for every request.

- The connection's request budget is spent before each request (token requests and retries
  too): ``BudgetSpent`` stops the caller before anything is sent.
- 429: waited out and sent again, after ``Retry-After`` (seconds or an HTTP date) or, without
  one, a doubling back-off; at most ``RATE_LIMIT_ATTEMPTS`` sends. A wait longer than
  ``LONGEST_WAIT`` is not slept through: ``RateLimited`` tells the caller when to come back.
- 401 from the API: the token is fetched again once and the request sent again.
- What the network does, in the core's words: no connection (refused, DNS, connect timeout)
  means nothing was sent, a transient ``PsaError``; a timeout or a dropped connection after
  the request went out means it may have been applied, ``OutcomeUnknown`` (for a read, just a
  transient ``PsaError``).
- Error answers become one ``PsaError`` with one line of the PSA's message (``errors``).
``sleep`` and ``clock`` are injectable, so tests record the waits instead of sleeping.
"""

import email.utils
import logging
import math
import time
from datetime import UTC, datetime

import httpx

from helpdesk.psa.connector import Exchange, OutcomeUnknown, PsaError, RateLimited
from helpdesk.psa.halopsa.errors import BODY_LIMIT, error_for, one_line
from helpdesk.psa.halopsa.token import AccessToken

log = logging.getLogger(__name__)

RATE_LIMIT_ATTEMPTS = 4  # sends of one request while Halo answers 429
LONGEST_WAIT = 30.0  # seconds: a longer Retry-After is the caller's to wait, not ours
FIRST_BACKOFF = 2.0  # seconds before the second send when 429 says nothing; doubled after


def retry_after(response):
    """Seconds ``Retry-After`` asks for (whole seconds, rounded up), or None if it says none."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return float(max(0, math.ceil((when - datetime.now(UTC)).total_seconds())))


class HaloApi:
    """HTTP to one HaloPSA instance: its API under ``{base_url}/api`` and its auth server."""

    def __init__(self, settings, *, budget, transport=None, sleep=time.sleep,
                 clock=time.monotonic, token_cache=None, exchanged=None):
        self.settings = settings
        self.budget = budget
        self.sleep = sleep
        self.api_url = settings.base_url.rstrip("/") + "/api"
        self.http = httpx.Client(timeout=settings.timeout, transport=transport,
                                 headers={"Accept": "application/json"})
        self.token = AccessToken(settings, send=self.send, clock=clock, cache=token_cache)
        self.exchanged = exchanged or (lambda exchange: None)

    def get(self, path, *, params=None, missing_ok=False):
        """The JSON answer to ``GET /api{path}``; None for 404 when ``missing_ok``."""
        return self.call("GET", path, params=params, missing_ok=missing_ok)

    def post(self, path, *, items):
        """The JSON answer to ``POST /api{path}`` with ``items`` as Halo's array body."""
        return self.call("POST", path, body=list(items))

    def call(self, method, path, *, params=None, body=None, missing_ok=False):
        """One API request with a bearer token, fetched again once if the API says 401.
        ``path`` is under ``/api``; errors name the whole path, as Halo's documentation does."""
        response = self._authorised(method, path, params=params, body=body)
        if response.status_code == 404 and missing_ok:
            return None
        if response.is_error:
            raise error_for(response, method=method, path=response.request.url.path)
        return self._json(response, method=method, path=response.request.url.path)

    def download(self, path, *, params=None):
        """The body of ``GET /api{path}`` as bytes: a file, not JSON (see ``file_content``)."""
        response = self._authorised("GET", path, params=params)
        if response.is_error:
            raise error_for(response, method="GET", path=response.request.url.path)
        return response

    def _authorised(self, method, path, *, params=None, body=None):
        """The answer to one API request with a bearer token, sent again once with a fresh
        token if the API says 401."""
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {self.token.bearer()}"}
            response = self._exchange(method, self.api_url + path, params=params, json=body,
                                      headers=headers)
            self.exchanged(Exchange(method, "/api" + path, response.status_code, body))
            if response.status_code != 401 or attempt == 2:
                return response
            log.info("HaloPSA refused the token on %s %s: fetching another", method, path)
            self.token.forget()
        raise AssertionError("unreachable")  # pragma: no cover

    def send(self, method, url, *, params=None, data=None):
        """A request without a bearer (the token endpoint): its JSON answer, or PsaError."""
        response = self._exchange(method, url, params=params, data=data)
        if response.is_error:
            raise error_for(response, method=method, path=httpx.URL(url).path)
        return self._json(response, method=method, path=httpx.URL(url).path)

    def close(self):
        """Close the pooled connections."""
        self.http.close()

    def _exchange(self, method, url, **request):
        """Send until the answer is not 429, waiting as Halo asks, within the limits."""
        for attempt in range(1, RATE_LIMIT_ATTEMPTS + 1):
            response = self._send_once(method, url, **request)
            if response.status_code != 429:
                return response
            asked = retry_after(response)
            wait = asked if asked is not None else FIRST_BACKOFF * 2 ** (attempt - 1)
            if wait > LONGEST_WAIT or attempt == RATE_LIMIT_ATTEMPTS:
                path = httpx.URL(url).path
                raise RateLimited(
                    f"HaloPSA rate limit: {method} {path} answered 429 {attempt} time(s); "
                    f"it asks to wait {wait:g} s", retry_after=wait,
                    response_body=response.text[:BODY_LIMIT])
            log.info("HaloPSA answered 429 to %s %s: waiting %g s", method, url, wait)
            self.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _send_once(self, method, url, **request):
        """One HTTP exchange, budget spent first, network failures in the core's words."""
        self.budget.spend()
        path = httpx.URL(url).path
        try:
            return self.http.request(method, url, **request)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            raise PsaError(f"HaloPSA could not be reached for {method} {path}: "
                           f"{one_line(error) or type(error).__name__}", transient=True) from error
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as error:
            what = (f"no answer within {self.settings.timeout:g} s"
                    if isinstance(error, httpx.TimeoutException)
                    else f"the connection dropped ({one_line(error) or type(error).__name__})")
            if method == "GET":
                raise PsaError(f"HaloPSA: {what} to GET {path}", transient=True) from error
            raise OutcomeUnknown(f"HaloPSA: {what} to {method} {path}; it may have been "
                                 "applied") from error
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            raise PsaError(f"HaloPSA request {method} {path} failed: {one_line(error)}",
                           transient=False) from error

    @staticmethod
    def _json(response, *, method, path):
        """The answer's JSON (None when empty). Unreadable after a write: outcome unknown."""
        if not response.content.strip():
            return None
        try:
            return response.json()
        except ValueError:
            message = (f"HaloPSA answered {response.status_code} to {method} {path} with "
                       f"something other than JSON: {one_line(response.text, 120)}")
            body = response.text[:BODY_LIMIT]
            if method == "GET":
                raise PsaError(message, status=response.status_code, transient=True,
                               response_body=body) from None
            raise OutcomeUnknown(message, status=response.status_code,
                                 response_body=body) from None
