"""A stateful fake of HubSpot's Webhooks v3 API (``/webhooks/v3/{appId}/...``) on 127.0.0.1.

From HubSpot's generated clients (OpenAPI paths and models, see compiler/integrations/hubspot/providers.py):
the developer API key in the ``hapikey`` query parameter of every call; ``GET``/``POST
/subscriptions`` (``{"results": [...]}``; 201 with the new subscription, ``active`` false unless
given, ``eventType`` required); ``GET``/``PATCH``/``DELETE /subscriptions/{id}`` (``PATCH`` takes
``active`` only; ``DELETE`` 204); ``GET``/``PUT``/``DELETE /settings`` (``targetUrl`` and
``throttling.maxConcurrentRequests`` required; ``DELETE`` 204). Errors are ``{"status": "error",
"message", "correlationId", "category"}``; a wrong key is a 401.

Simplified: no batch update, no event-type catalogue (any ``<object>.<event>`` is taken), no scopes;
duplicates are not refused (so a test can tell one create from two); ``GET /settings`` with none set
answers 404 (HubSpot's answer there is not documented); a path that names no resource answers 404
quoting the request target, key and all, as a service may, so the tests can check masking.
``fail``/``fail_after`` script answers (before the call is served, and after it was served).
"""

from __future__ import annotations

import itertools
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import json_server

Answer = tuple[int, Any, dict[str, str]]


@dataclass
class HubSpot:
    developer_api_key: str
    apps: set[str] = field(default_factory=set)
    subscriptions: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # app -> id -> subscription
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)  # app -> settings
    calls: list[tuple[str, str, Any]] = field(default_factory=list)  # method, path without the query, body
    authorizations: list[str] = field(default_factory=list)  # the Authorization header of each call
    scripted: dict[tuple[str, str], list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    after: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(100))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add_app(self, app_id: str) -> None:
        self.apps.add(app_id)
        self.subscriptions.setdefault(app_id, {})

    def fail(self, method: str, path: str, status: int, headers: dict[str, str] | None = None) -> None:
        """Answer the next such call with ``status`` (and ``headers``) without serving it."""
        self.scripted.setdefault((method, path), []).append((status, headers or {}))

    def fail_after(self, method: str, path: str, status: int) -> None:
        """Serve the next such call, then answer ``status`` instead (a lost answer)."""
        self.after.setdefault((method, path), []).append(status)

    def handle(self, method: str, target: str, body: Any, authorization: str) -> Answer:
        parts = urlsplit(target)
        with self._lock:
            self.calls.append((method, parts.path, body))
            self.authorizations.append(authorization)
            queue = self.scripted.get((method, parts.path))
            if queue:
                status, headers = queue.pop(0)
                return status, _error("scripted", "RATE_LIMITS" if status == 429 else "INTERNAL_ERROR"), headers
            if parse_qs(parts.query).get("hapikey") != [self.developer_api_key]:
                return 401, _error("The developer API key provided is invalid.", "INVALID_AUTHENTICATION"), {}
            answer = self._route(method, parts.path, body)
            if answer[0] == 404 and answer[1] is None:
                answer = 404, _error(f"Unable to find a resource at {target}", "OBJECT_NOT_FOUND"), {}
            lost = self.after.get((method, parts.path))
            if lost:
                return lost.pop(0), _error("lost", "INTERNAL_ERROR"), {}
            return answer

    def _route(self, method: str, path: str, body: Any) -> Answer:
        parts = path.strip("/").split("/")
        if parts[:2] != ["webhooks", "v3"] or len(parts) < 4 or parts[2] not in self.apps:
            return 404, None, {}
        app, rest = parts[2], parts[3:]
        if rest == ["settings"]:
            return self._settings(method, app, body)
        if rest[0] == "subscriptions" and len(rest) == 1:
            return self._subscriptions(method, app, body)
        if rest[0] == "subscriptions" and len(rest) == 2 and rest[1] in self.subscriptions[app]:
            return self._subscription(method, app, rest[1], body)
        return 404, None, {}

    def _subscriptions(self, method: str, app: str, body: Any) -> Answer:
        if method == "GET":
            return 200, {"results": list(self.subscriptions[app].values())}, {}
        if method != "POST":
            return 405, _error("Method not allowed", "VALIDATION_ERROR"), {}
        event = (body or {}).get("eventType")
        if not isinstance(event, str) or "." not in event:
            return 400, _error("eventType is required", "VALIDATION_ERROR"), {}
        now = _now()
        made = {"id": str(next(self._ids)), "eventType": event, "active": bool(body.get("active", False))}
        made.update({k: body[k] for k in ("propertyName", "objectTypeId") if body.get(k)})
        made.update({"createdAt": now, "updatedAt": now})
        self.subscriptions[app][made["id"]] = made
        return 201, made, {}

    def _subscription(self, method: str, app: str, subscription_id: str, body: Any) -> Answer:
        held = self.subscriptions[app][subscription_id]
        if method == "GET":
            return 200, held, {}
        if method == "PATCH":
            if set(body or {}) - {"active"}:
                return 400, _error("Only active can be changed", "VALIDATION_ERROR"), {}
            held.update({"active": bool(body.get("active", held["active"])), "updatedAt": _now()})
            return 200, held, {}
        if method == "DELETE":
            del self.subscriptions[app][subscription_id]
            return 204, None, {}
        return 405, _error("Method not allowed", "VALIDATION_ERROR"), {}

    def _settings(self, method: str, app: str, body: Any) -> Answer:
        held = self.settings.get(app)
        if method == "GET":
            return (200, held, {}) if held else (404, _error("No settings for this app", "OBJECT_NOT_FOUND"), {})
        if method == "PUT":
            throttling = (body or {}).get("throttling") or {}
            if not body.get("targetUrl") or not isinstance(throttling.get("maxConcurrentRequests"), int):
                return (
                    400,
                    _error("targetUrl and throttling.maxConcurrentRequests are required", "VALIDATION_ERROR"),
                    {},
                )
            now = _now()
            self.settings[app] = {
                "targetUrl": body["targetUrl"],
                "throttling": {"maxConcurrentRequests": throttling["maxConcurrentRequests"]},
                "createdAt": held["createdAt"] if held else now,
                "updatedAt": now,
            }
            return 200, self.settings[app], {}
        if method == "DELETE":
            self.settings.pop(app, None)
            return 204, None, {}
        return 405, _error("Method not allowed", "VALIDATION_ERROR"), {}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _error(message: str, category: str) -> dict[str, Any]:
    return {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), "category": category}


def Server(service: HubSpot) -> json_server.Server:
    """The fake served on 127.0.0.1 until ``stop``."""
    return json_server.Server(service.handle)
