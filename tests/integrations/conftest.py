"""A real HTTP receiver on 127.0.0.1 (http.server in a thread) and webhook endpoints for the tests."""

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from accounts.models import Role
from integrations.models import WebhookEndpoint
from tests.factories import UserFactory


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers each POST with the next status of ``statuses`` (the last one repeats) and records what came."""

    url: str
    statuses: list[int] = field(default_factory=lambda: [200])
    requests: list[Received] = field(default_factory=list)
    hold: threading.Event | None = None  # set: each request waits for it (a slow receiver)

    def next_status(self) -> int:
        return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]


def _handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
            if receiver.hold is not None:
                receiver.hold.wait(timeout=30)
            status = receiver.next_status()
            answer = b'{"ok": true}' if status < 400 else b"receiver says no"
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def receiver():
    """An HTTP server on a free port of 127.0.0.1, stopped after the test."""
    holder = Receiver(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(holder))
    holder.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/accord"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield holder
    if holder.hold is not None:
        holder.hold.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def allow_private(settings):
    settings.ACCORD_WEBHOOKS_ALLOW_PRIVATE = True


@pytest.fixture
def admin():
    return UserFactory(role=Role.ADMIN, full_name="Trần Quản Trị")


def make_endpoint(url: str = "https://hooks.example.com/accord", events=("client.created",), **fields):
    """An endpoint row as the service would save it (no DNS check: tests pick their URLs)."""
    return WebhookEndpoint.objects.create(url=url, events=list(events), **fields)
