"""A stateful fake of OpenRouter's key management API (``/api/v1/keys``) on 127.0.0.1.

From OpenRouter's OpenAPI ("Management API keys"): Bearer management key; ``POST /keys`` answers
201 ``{"data": {...}, "key": "sk-or-v1-..."}`` (the key shown once); ``GET``/``PATCH
/keys/{hash}`` answer ``{"data": {...}}``; ``DELETE /keys/{hash}`` answers ``{"deleted": true}``;
``GET /key`` ("Get current API key") answers the calling API key's own limit (401 for a key it does
not hold); errors ``{"error": {"code": <status>, "message": ...}}``, 403 for a key that is not a
management key. ``GET /keys`` pages by 100 from ``offset``. Simplified: no usage, workspaces or
expiry; ``fail``/``fail_after`` script answers.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from . import json_server

PREFIX = "/api/v1"


@dataclass
class OpenRouter:
    management_key: str
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)  # hash -> the key string, as a service would hold it
    calls: list[tuple[str, str, Any]] = field(default_factory=list)
    scripted: dict[tuple[str, str], list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    after: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, method: str, path: str, status: int, headers: dict[str, str] | None = None) -> None:
        self.scripted.setdefault((method, PREFIX + path), []).append((status, headers or {}))

    def fail_after(self, method: str, path: str, status: int) -> None:
        self.after.setdefault((method, PREFIX + path), []).append(status)

    def handle(self, method: str, path: str, body: Any, authorization: str) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            self.calls.append((method, path, body))
            path_only = path.partition("?")[0]  # scripts name the route, whatever its query
            queue = self.scripted.get((method, path_only))
            if queue:
                status, headers = queue.pop(0)
                return status, _error(status, "scripted"), headers
            if path.partition("?")[0] == PREFIX + "/key" and method == "GET":  # the calling key's own details
                held = next((h for h, v in self.values.items() if authorization == f"Bearer {v}"), None)
                if held is None or held not in self.keys:
                    return 401, _error(401, "No auth credentials found"), {}
                key = self.keys[held]
                data = {"label": "sk-or-v1-...", "usage": 0, "limit": key["limit"], "limit_reset": key["limit_reset"]}
                return 200, {"data": data}, {}
            if authorization != f"Bearer {self.management_key}":
                return 403, _error(403, "Only management keys can perform this operation"), {}
            answer = self._route(method, path.removeprefix(PREFIX), body)
            lost = self.after.get((method, path_only))
            if lost:
                return lost.pop(0), _error(502, "lost"), {}
            return answer

    def _route(self, method: str, route: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        route, _, query = route.partition("?")
        parts = route.strip("/").split("/")
        if parts[0] != "keys":
            return 404, _error(404, "Resource not found"), {}
        if len(parts) == 1 and method == "GET":  # pages of 100 from ``offset``
            offset = int(dict(p.split("=", 1) for p in query.split("&") if "=" in p).get("offset", 0))
            return 200, {"data": list(self.keys.values())[offset : offset + 100]}, {}
        if len(parts) == 1 and method == "POST":
            if not body.get("name"):
                return 400, _error(400, "Invalid request parameters"), {}
            digest = secrets.token_hex(32)
            self.keys[digest] = {
                "hash": digest,
                "name": body["name"],
                "label": "sk-or-v1-...",
                "disabled": False,
                "limit": body.get("limit"),
                "limit_reset": body.get("limit_reset"),
                "created_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            }
            self.values[digest] = "sk-or-v1-" + secrets.token_hex(32)
            return 201, {"data": self.keys[digest], "key": self.values[digest]}, {}
        found = self.keys.get(parts[1]) if len(parts) == 2 else None
        if found is None:
            return 404, _error(404, "Resource not found"), {}
        if method == "GET":
            return 200, {"data": found}, {}
        if method == "PATCH":
            found.update({k: v for k, v in body.items() if k in ("name", "disabled", "limit", "limit_reset")})
            return 200, {"data": found}, {}
        if method == "DELETE":
            del self.keys[parts[1]]
            return 200, {"deleted": True}, {}
        return 405, _error(405, "Method not allowed"), {}


def _error(status: int, message: str) -> dict[str, Any]:
    return {"error": {"code": status, "message": message}}


def Server(service: OpenRouter) -> json_server.Server:
    """The fake served on 127.0.0.1 until ``stop``."""
    return json_server.Server(service.handle, PREFIX)
