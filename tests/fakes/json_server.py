"""Serve a fake JSON API on 127.0.0.1 (port 0): every request goes to ``handle(method, path, body,
authorization)``, which answers ``(status, body, headers)``. ``authorization`` is the value of the
request's ``Authorization`` header, or of the header the service authenticates with (``header=``)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Handle = Callable[[str, str, Any, str], tuple[int, Any, dict[str, str]]]


class Server:
    """``handle`` served until ``stop``; ``url`` is the base URL with ``prefix``."""

    def __init__(self, handle: Handle, prefix: str = "", header: str = "Authorization") -> None:
        self.prefix = prefix
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(handle, header))
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.prefix}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _handler(handle: Handle, header: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def do_PUT(self) -> None:
            self._serve()

        def do_PATCH(self) -> None:
            self._serve()

        def do_DELETE(self) -> None:
            self._serve()

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            body = json.loads(raw) if raw else None
            status, answer, headers = handle(self.command, self.path, body, self.headers.get(header, ""))
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler
