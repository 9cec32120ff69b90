"""One fake service: a ThreadingHTTPServer on 127.0.0.1, port 0, in a daemon thread.

Its routes implement the documented endpoint and its authentication check; its
mode makes it misbehave the way real services do:

- ``success``: answer as the service does;
- ``auth-failure``: reject every credential, the way the service does;
- ``slow``: answer only after ``SLOW`` seconds (or when the fake stops);
- ``rate-limited``: answer the first request with 429 and ``Retry-After: 1``;
- ``flaky``: answer the first request with 503;
- ``down``: answer every request with 503;
- ``echo``: answer 401 with every request header and the body echoed back.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

SLOW = 5.0


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  # names in lower case
    body: bytes
    time: float

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def bearer(self) -> str:
        scheme, _, token = self.headers.get("authorization", "").partition(" ")
        return token if scheme == "Bearer" else ""


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Route = Callable[[Request], Reply]


class Gauge:
    """Requests in progress across every fake, and the most seen at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.active = 0
        self.peak = 0

    def enter(self) -> None:
        with self._lock:
            self.active += 1
            self.peak = max(self.peak, self.active)

    def leave(self) -> None:
        with self._lock:
            self.active -= 1


class Fake:
    """A fake of one service: its routes, its mode, and every request it received."""

    def __init__(self, name: str, routes: dict[tuple[str, str], Route], deny: Reply, gauge: Gauge) -> None:
        self.name = name
        self.routes = routes
        self.deny = deny
        self.gauge = gauge
        self.mode = "success"
        self.delay = 0.0
        self.requests: list[Request] = []
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._serve, name=f"fake-{name}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> None:
        self._thread.start()

    def _serve(self) -> None:
        self._server.serve_forever(poll_interval=0.05)  # so that stop() returns at once

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def handle(self, request: Request) -> Reply:
        self.gauge.enter()
        try:
            self.requests.append(request)
            self._stopping.wait(self.delay)
            return self._reply(request, len(self.requests))
        finally:
            self.gauge.leave()

    def _reply(self, request: Request, nth: int) -> Reply:
        if self.mode == "slow":
            self._stopping.wait(SLOW)
        if self.mode == "rate-limited" and nth == 1:
            return Reply(429, {"message": "rate limit exceeded"}, {"Retry-After": "1"})
        if self.mode == "down" or (self.mode == "flaky" and nth == 1):
            return Reply(503, {"message": "service unavailable"})
        if self.mode == "echo":
            echoed = " ".join(f"{k}: {v}" for k, v in request.headers.items())
            return Reply(401, f"denied: {echoed} body: {request.body.decode(errors='replace')}")
        if self.mode == "auth-failure":
            return self.deny
        route = self.routes.get((request.method, request.path))
        return route(request) if route else Reply(404, {"message": f"no route {request.method} {request.path}"})


def _handler(fake: Fake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            parts = urlsplit(self.path)
            request = Request(
                self.command,
                parts.path,
                dict(parse_qsl(parts.query)),
                {k.lower(): v for k, v in self.headers.items()},
                self.rfile.read(length),
                time.monotonic(),
            )
            self._send(fake.handle(request))

        def _send(self, reply: Reply) -> None:
            text = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
            data = text.encode()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "text/plain" if isinstance(reply.body, str) else "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timed-out attempt)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
