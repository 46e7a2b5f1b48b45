"""A real HTTP receiver on 127.0.0.1 for webhook tests (http.server in a thread)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """What the receiver got, and the status it answers with (changeable during a test)."""

    port: int = 0
    status: int = 200
    received: list[Received] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The address to register."""
        return f"http://127.0.0.1:{self.port}/hook"


@contextmanager
def receiver(status: int = 200) -> Iterator[Receiver]:
    """Run a receiver for the duration of the block."""
    state = Receiver(status=status)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            state.received.append(
                Received(self.path, dict(self.headers.items()), self.rfile.read(length))
            )
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
