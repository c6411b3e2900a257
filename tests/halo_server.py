"""A loopback HaloPSA: real HTTP on 127.0.0.1 (an ephemeral port, a thread), the documented API
(``halo_api``, records in ``halo_store``), and faults on demand.

    with HaloServer() as halo:                      # or HaloServer().start() ... .stop()
        adapter = HaloPsaAdapter(halo.settings(timeout=0.3), sleep=waits.append)
        halo.fail("lost", method="POST", path="/api/Tickets")          # the next one
        halo.fail("500", share=0.2, seed=7)                             # 20% of everything
        halo.fail("429", path="/api/Tickets", times=2, retry_after=3)
        halo.limit_rate(300, per_seconds=300)                           # hosted Halo's limit
        halo.store.seed_tickets(10_000)
        halo.store.technician_adds_action(ticket_id, "<p>Done</p>", hidden=True, minutes=15)
        halo.store.technician_attaches(ticket_id, "photo.jpg", data, action_id=action_id)
        assert len(halo.store.with_marker("hd-t1")) == 1
        halo.requests_to("POST", "/api/Tickets")                         # what was received

``python -m tests.halo_demo`` runs one as a server of its own: ``make run``'s demo HaloPSA.

The auth server is ``{url}/auth`` (``POST /auth/token``: client credentials checked, the tenant
too when the server has one); tokens live ``token_ttl`` seconds, ``expire_tokens()`` ends them
all, and the API answers 401 to an expired or unknown bearer.

Faults (``fail``), for requests matching a method and path (``*`` for any; a path ending in
``*`` is a prefix), for the next ``times`` matching requests or a ``share`` of them drawn
from a seeded generator, first added first served:
- ``429``: Too Many Requests with ``Retry-After: retry_after`` (seconds; or an HTTP date with
  ``retry_after_date=True``; none with ``retry_after=None``);
- ``500``: a .NET exception body (``{"ClassName": ..., "Message": ...}``), nothing applied;
- ``timeout``: the answer held ``hold`` seconds (longer than the client's timeout), then the
  connection dropped; ``applied=True`` applies the request first;
- ``reset``: the connection reset (TCP RST), nothing applied;
- ``401``: the presented token expired and refused, as when it runs out mid-run;
- ``lost``: the request applied, then the connection closed before any answer;
- ``answer``: ``status`` with ``body`` (a dict, a list, or text with ``content_type``), for
  Halo's error shapes.
``limit_rate(n, per_seconds=)`` answers 429 over ``n`` requests in any rolling window.
"""

import json
import logging
import random
import secrets
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from helpdesk.psa.connector import ConnectionSettings
from tests.halo_api import RawFile, answer
from tests.halo_store import HaloStore, Refused

log = logging.getLogger(__name__)
FAULT_KINDS = ("429", "500", "timeout", "reset", "401", "lost", "answer")


@dataclass
class Received:
    """One request as the server saw it; ``status``: what it answered, or how it failed."""

    method: str
    path: str
    query: dict
    body: object
    headers: dict
    status: object = None


@dataclass
class Fault:
    """A fault to inject into matching requests (see the module's docstring)."""

    kind: str
    method: str = "*"
    path: str = "*"
    times: int | None = 1
    share: float | None = None
    seed: int = 0
    retry_after: float | None = 1
    retry_after_date: bool = False
    hold: float = 1.0
    applied: bool = False
    status: int = 500
    body: object = None
    content_type: str = "application/json"
    fired: int = 0
    rng: random.Random = field(init=False, repr=False)

    def __post_init__(self):
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"fault kind {self.kind!r} is not one of {FAULT_KINDS}")
        self.rng = random.Random(self.seed)  # noqa: S311 (reproducible faults, not secrets)

    def matches(self, method, path):
        """Does this fault apply to ``method path``?"""
        if self.method not in ("*", method):
            return False
        wanted, path = self.path.lower(), path.lower()
        return wanted == "*" or wanted == path or (
            wanted.endswith("*") and path.startswith(wanted[:-1]))

    def fires(self):
        """Whether it strikes this matching request (and count it if so)."""
        if self.share is not None:
            hit = self.rng.random() < self.share
        else:
            hit = self.times is None or self.fired < self.times
        self.fired += hit
        return hit


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx's pool expects
    disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart

    def do_GET(self):
        self.server.halo.handle(self)

    do_POST = do_PUT = do_DELETE = do_GET

    def log_message(self, format, *args):
        log.debug("loopback HaloPSA: " + format, *args)


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, halo, port):
        super().__init__(("127.0.0.1", port), _Handler)
        self.halo = halo
        self.resets = set()

    def shutdown_request(self, request):
        """Close a connection; one marked for reset goes without FIN (SO_LINGER 0: a RST)."""
        if request in self.resets:
            self.resets.discard(request)
            request.close()
            return
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        log.debug("loopback HaloPSA: connection from %s ended badly", client_address,
                  exc_info=True)


class HaloServer:
    """One loopback HaloPSA instance and its auth server."""

    def __init__(self, *, client_id="halo-client", client_secret="halo-secret", tenant=None,
                 token_ttl=3600, store=None, port=0, check_bodies=True, keep_requests=True):
        self.client_id, self.client_secret, self.tenant = client_id, client_secret, tenant
        self.port = port  # 0: an ephemeral one
        # Write bodies checked against the vendor's schema (needs jsonschema and the
        # description beside the repository: the demo of ``make run`` has neither).
        self.check_bodies = check_bodies
        self.keep_requests = keep_requests  # False: ``received`` stays empty (a long run)
        self.token_ttl = token_ttl
        self.store = store or HaloStore()
        self.received = []  # every Received, in order
        self.rejected = []  # (resource, body, errors) the vendor's schema refused
        self.faults = []
        self.tokens = {}  # token -> monotonic expiry
        self.tokens_issued = 0
        self.rate_limit = None  # (requests, seconds)
        self._recent = deque()
        self._lock = threading.Lock()
        self._http = self._thread = None

    # -- running --------------------------------------------------------------------------

    def start(self):
        """Listen on ``port`` (ephemeral by default) in a thread of its own."""
        self._http = _HttpServer(self, self.port)
        self._thread = threading.Thread(target=self._http.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stop listening (connections held by a ``timeout`` fault are left to end alone)."""
        self._http.shutdown()
        self._http.server_close()
        self._thread.join()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def url(self):
        """The instance's base URL (the API is under ``/api``)."""
        return f"http://127.0.0.1:{self._http.server_address[1]}"

    @property
    def auth_url(self):
        """The auth server's URL (its token endpoint is ``/token`` under it)."""
        return f"{self.url}/auth"

    def settings(self, **overrides):
        """``ConnectionSettings`` for this instance, its credentials and tenant."""
        values = {"base_url": self.url, "auth_url": self.auth_url, "client_id": self.client_id,
                  "client_secret": self.client_secret, "tenant": self.tenant, **overrides}
        return ConnectionSettings(**values)

    # -- what tests change and read -------------------------------------------------------

    def fail(self, kind, **options):
        """Add a fault (see the module's docstring); returns it (``fired`` counts hits)."""
        fault = Fault(kind, **options)
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self):
        """No more faults."""
        with self._lock:
            self.faults.clear()

    def limit_rate(self, requests, *, per_seconds=300.0):
        """Answer 429 over ``requests`` in any rolling ``per_seconds`` (None: no limit)."""
        with self._lock:
            self.rate_limit = None if requests is None else (requests, per_seconds)
            self._recent.clear()

    def expire_tokens(self):
        """Every token issued so far runs out now."""
        with self._lock:
            self.tokens = dict.fromkeys(self.tokens, 0.0)

    def requests_to(self, method, path):
        """The requests received for ``method path`` (path case-insensitive, no query)."""
        with self._lock:
            return [request for request in self.received
                    if request.method == method and request.path.lower() == path.lower()]

    # -- serving --------------------------------------------------------------------------

    def handle(self, handler):
        """Answer one request, or fail it as a fault says."""
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        url = urlsplit(handler.path)
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        received = Received(handler.command, url.path, query, _decoded(raw, handler.headers),
                            dict(handler.headers))
        with self._lock:
            if self.keep_requests:
                self.received.append(received)
            fault = next((fault for fault in self.faults
                          if fault.matches(handler.command, url.path) and fault.fires()), None)
            limited = self._over_rate_limit()
        if limited is not None:
            received.status = 429
            return _write(handler, 429, {"message": "API rate limit exceeded"},
                          {"Retry-After": str(limited)})
        if fault is not None and fault.kind in ("reset", "timeout") and not fault.applied:
            if fault.kind == "timeout":
                time.sleep(fault.hold)
            received.status = fault.kind
            return _drop(handler, reset=fault.kind == "reset")
        if fault is not None and fault.kind in ("429", "500", "401", "answer"):
            status, body, headers = self._fault_answer(fault, handler)
        else:
            status, body, headers = self._answer(received, handler)
        if fault is not None and fault.kind in ("lost", "timeout"):
            if fault.kind == "timeout":
                time.sleep(fault.hold)
            received.status = fault.kind
            return _drop(handler, reset=False)
        received.status = status
        return _write(handler, status, body, headers)

    def _over_rate_limit(self):
        """Seconds until a request is allowed again, or None under the limit."""
        if self.rate_limit is None:
            return None
        limit, window = self.rate_limit
        now = time.monotonic()
        while self._recent and self._recent[0] <= now - window:
            self._recent.popleft()
        if len(self._recent) >= limit:
            return max(1, int(self._recent[0] + window - now + 0.999))
        self._recent.append(now)
        return None

    def _fault_answer(self, fault, handler):
        """The answer a ``429``, ``500``, ``401`` or ``answer`` fault gives."""
        if fault.kind == "429":
            headers = {}
            if fault.retry_after is not None:
                headers["Retry-After"] = (
                    format_datetime(datetime.now(UTC) + timedelta(seconds=fault.retry_after),
                                    usegmt=True)
                    if fault.retry_after_date else f"{fault.retry_after:g}")
            return 429, {"message": "API rate limit exceeded"}, headers
        if fault.kind == "500":
            return 500, {"ClassName": "System.NullReferenceException",
                         "Message": "Object reference not set to an instance of an object."}, {}
        if fault.kind == "401":
            bearer = _bearer(handler)
            with self._lock:
                if bearer in self.tokens:
                    self.tokens[bearer] = 0.0
            return 401, None, {"WWW-Authenticate": 'Bearer error="invalid_token"'}
        return fault.status, fault.body, {"Content-Type": fault.content_type}

    def _answer(self, received, handler):
        """(status, body, headers) from the auth server or the API."""
        path = received.path.lower()
        if path == "/auth/token" and received.method == "POST":
            return self._token(received)
        if not path.startswith("/api/"):
            return 404, None, {}
        bearer = _bearer(handler)
        with self._lock:
            expiry = self.tokens.get(bearer)
        if expiry is None or expiry <= time.monotonic():
            return 401, None, {"WWW-Authenticate": 'Bearer error="invalid_token"'}
        try:
            status, body = answer(self.store, received.method, received.path, received.query,
                                  received.body, rejected=self.rejected,
                                  check_bodies=self.check_bodies)
        except Refused as refusal:
            return refusal.status, refusal.body, {}
        if isinstance(body, RawFile):
            return status, body.data, {
                "Content-Type": body.content_type,
                "Content-Disposition": f'attachment; filename="{body.filename}"'}
        return status, body, {}

    def _token(self, received):
        """``POST /auth/token``: client credentials (and the tenant, when there is one)."""
        form = received.body if isinstance(received.body, dict) else {}
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type",
                         "error_description": "grant_type must be client_credentials"}, {}
        if (form.get("client_id"), form.get("client_secret")) != (self.client_id,
                                                                  self.client_secret):
            return 401, {"error": "invalid_client",
                         "error_description": "The client credentials are invalid"}, {}
        tenant = received.query.get("tenant") or form.get("tenant")
        if self.tenant is not None and tenant != self.tenant:
            return 400, {"error": "invalid_request",
                         "error_description": f"Unknown tenant '{tenant}'"}, {}
        if "all" not in (form.get("scope") or "").split():
            return 400, {"error": "invalid_scope", "error_description": "scope must be all"}, {}
        token = secrets.token_urlsafe(24)
        with self._lock:
            self.tokens[token] = time.monotonic() + self.token_ttl
            self.tokens_issued += 1
        return 200, {"token_type": "Bearer", "access_token": token,
                     "expires_in": self.token_ttl, "scope": "all"}, {}


def _bearer(handler):
    """The bearer token the request presents, or None."""
    scheme, _, token = (handler.headers.get("Authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _decoded(raw, headers):
    """A request body as JSON, a form (dict) or text."""
    if not raw:
        return None
    kind = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
    text = raw.decode("utf-8", "replace")
    if kind == "application/x-www-form-urlencoded":
        return {key: values[-1] for key, values in parse_qs(text).items()}
    try:
        return json.loads(text)
    except ValueError:
        return text


def _write(handler, status, body, headers):
    """Send an answer: JSON for data, an HTML page for a bare error, raw text as told."""
    headers = dict(headers)
    content_type = headers.pop("Content-Type", None)
    if isinstance(body, bytes) and content_type:  # a file, as it is
        payload = body
    elif isinstance(body, str) and content_type and content_type != "application/json":
        payload = body.encode()
    elif body is None and status >= 400 and status != 401:
        content_type = "text/html"
        payload = (f"<html><head><title>{status} - {escape(_reason(handler, status))}</title>"
                   f"</head><body><h1>Server Error</h1></body></html>").encode()
    elif body is None:
        content_type, payload = None, b""
    else:
        content_type, payload = "application/json; charset=utf-8", json.dumps(body).encode()
    try:
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        if content_type:
            handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)
    except OSError:
        handler.close_connection = True  # the client went away first


def _reason(handler, status):
    return handler.responses.get(status, ("Error",))[0]


def _drop(handler, *, reset):
    """End the connection without an answer: closed (FIN), or ``reset`` (RST)."""
    handler.close_connection = True
    if reset:
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                      struct.pack("ii", 1, 0))
        handler.server.resets.add(handler.connection)
