"""Ask the served app as a user's browser would, one at a time and many at once.

``OverHTTP`` signs in through the real ``/login`` form with httpx (one client a person, kept
alive, redirects not followed: a redirect is timed as the wait it is) and fetches scenarios
for ``measure.run``. ``throughput`` keeps ``clients`` connections busy for a few seconds and
counts answers; the clients are plain ``http.client`` connections in threads, much lighter
than httpx, because they share the machine's two cores with the server they load.
"""

import http.client
import statistics
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from bench.measure import Answer, sign_in

TIMEOUT = 300  # seconds: a slow page is a result, not an error


class OverHTTP:
    """httpx clients, one per login, signed in through ``/login``."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.clients = {}

    def client(self, email):
        """The signed-in httpx client of ``email`` (signing in on first use)."""
        if email not in self.clients:
            self.clients[email] = sign_in(
                httpx.Client(base_url=self.base_url, timeout=TIMEOUT), email)
        return self.clients[email]

    def get(self, scenario):
        """Ask for ``scenario`` as its person, over HTTP."""
        response = self.client(scenario.login).get(scenario.path, headers=scenario.headers)
        return Answer(response.status_code, response.content,
                      response.headers.get("Location", ""))

    def session_headers(self, email):
        """The signed-in browser, for the load clients: its session as a ``Cookie`` header and
        its ``User-Agent`` (the sign-in's session protection compares it: another agent would
        have the session marked as not fresh, and written again, on every request)."""
        client = self.client(email)
        return {"Cookie": "; ".join(f"{name}={value}" for name, value in client.cookies.items()),
                "User-Agent": client.headers["User-Agent"]}

    def close(self):
        """Close every client's connections."""
        for client in self.clients.values():
            client.close()


@dataclass
class Throughput:
    """Answers per second of one page under ``clients`` concurrent clients."""

    label: str
    path: str
    clients: int
    seconds: float = 0.0
    latencies_ms: list = field(default_factory=list)
    errors: int = 0
    under_target: bool = False  # a page whose ratio to /healthz has a target

    @property
    def requests(self):
        return len(self.latencies_ms)

    @property
    def per_second(self):
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def p50(self):
        return statistics.median(self.latencies_ms) if self.latencies_ms else None


def throughput(base_url, label, path, *, headers=None, clients, seconds, under_target=False):
    """Keep ``clients`` connections asking for ``path`` for ``seconds`` (with ``headers``: a
    signed-in browser's, ``OverHTTP.session_headers``); count the answers (anything but 2xx
    counts as an error, not an answer)."""
    address = urlsplit(base_url)
    sent = dict(headers or {})
    result = Throughput(label, path, clients, under_target=under_target)
    lock, start = threading.Lock(), threading.Barrier(clients + 1)
    times = {}

    def client():
        connection = http.client.HTTPConnection(address.hostname, address.port,
                                                timeout=TIMEOUT)
        start.wait()
        latencies, errors = [], 0
        try:
            while time.perf_counter() < times["stop"]:
                before = time.perf_counter()
                try:
                    connection.request("GET", path, headers=sent)
                    response = connection.getresponse()
                    response.read()
                except (OSError, http.client.HTTPException):
                    errors += 1
                    connection.close()  # http.client reconnects on the next request
                    continue
                if 200 <= response.status < 300:
                    latencies.append((time.perf_counter() - before) * 1000)
                else:
                    errors += 1
        finally:
            connection.close()
            with lock:
                result.latencies_ms += latencies
                result.errors += errors
                times["end"] = max(times.get("end", 0), time.perf_counter())

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    times["begin"] = time.perf_counter()
    times["stop"] = times["begin"] + seconds
    start.wait()
    for thread in threads:
        thread.join()
    result.seconds = times["end"] - times["begin"]
    return result
