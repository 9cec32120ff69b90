"""A minimal Language Server Protocol client over stdio: enough to open YAML documents in the real
yaml-language-server and read the diagnostics it publishes."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path
from typing import Any


class Client:
    def __init__(self, command: list[str], root: Path, settings: dict[str, Any]) -> None:
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.root, self.settings = root, settings
        self.diagnostics: dict[str, list[dict[str, Any]]] = {}
        self.responses: dict[int, Any] = {}
        self.opened: dict[str, int] = {}
        self._next = 0
        self._lock = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def request(self, method: str, params: Any, timeout: float = 60) -> Any:
        self._next += 1
        ident = self._next
        self._send({"id": ident, "method": method, "params": params})
        with self._lock:
            self._lock.wait_for(lambda: ident in self.responses, timeout)
        return self.responses.get(ident)

    def notify(self, method: str, params: Any) -> None:
        self._send({"method": method, "params": params})

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            headers = {}
            while True:
                line = out.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                key, _, value = line.decode().partition(":")
                headers[key.strip().lower()] = value.strip()
            message = json.loads(out.read(int(headers["content-length"])))
            with self._lock:
                if message.get("method") == "textDocument/publishDiagnostics":
                    params = message["params"]
                    self.diagnostics[params["uri"]] = params["diagnostics"]
                elif message.get("method") == "workspace/configuration":
                    items = message["params"]["items"]
                    self._send(
                        {"id": message["id"], "result": [self.settings.get(i.get("section", ""), {}) for i in items]}
                    )
                elif message.get("method") in ("client/registerCapability", "window/workDoneProgress/create"):
                    self._send({"id": message["id"], "result": None})
                elif "id" in message and "method" not in message:
                    self.responses[message["id"]] = message.get("result")
                self._lock.notify_all()

    def start(self) -> None:
        uri = self.root.as_uri()
        capabilities = {"workspace": {"configuration": True}, "textDocument": {"publishDiagnostics": {}}}
        self.request("initialize", {"processId": None, "rootUri": uri, "capabilities": capabilities})
        self.notify("initialized", {})
        self.notify("workspace/didChangeConfiguration", {"settings": self.settings})

    def diagnose(self, path: Path, timeout: float = 60) -> list[dict[str, Any]]:
        """Open ``path`` and wait for the diagnostics the server publishes for it (after they settle)."""
        uri = path.as_uri()
        with self._lock:
            self.diagnostics.pop(uri, None)
        version = self.opened.get(uri, 0) + 1
        self.opened[uri] = version
        text = path.read_text()
        if version > 1:  # read again from disk: the whole text as a change
            change = {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}
            self.notify("textDocument/didChange", change)
        else:
            document = {"uri": uri, "languageId": "yaml", "version": version, "text": text}
            self.notify("textDocument/didOpen", {"textDocument": document})
        deadline = time.monotonic() + timeout
        with self._lock:
            self._lock.wait_for(lambda: uri in self.diagnostics, timeout)
        time.sleep(0.5)  # a second, later publication replaces the first
        while time.monotonic() < deadline and uri not in self.diagnostics:
            time.sleep(0.1)
        with self._lock:
            return list(self.diagnostics.get(uri, []))

    def stop(self) -> None:
        try:
            self.request("shutdown", None, timeout=10)
            self.notify("exit", None)
        finally:
            self.proc.kill()
