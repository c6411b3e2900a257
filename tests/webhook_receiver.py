"""A loopback HTTP endpoint for webhooks out: it keeps every request and answers each with
the next status of ``answers`` (200 once they run out)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class WebhookReceiver:
    """``with WebhookReceiver() as receiver``: ``receiver.url``, ``receiver.received``
    (``(headers, raw body)`` each), ``receiver.answers`` (statuses to answer, in order)."""

    def __init__(self):
        self.received = []
        self.answers = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.received.append((dict(self.headers), body))
                    status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"not now")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/events"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def events(self):
        """``(event header, parsed body)`` of each request, in order."""
        return [(headers["X-Helpdesk-Event"], json.loads(body)) for headers, body in self.received]
