"""A stateful fake of Airbyte's public API (``/v1``) on 127.0.0.1, for the Airbyte dynamic providers.

It follows the endpoints documented in compiler/integrations/airbyte/providers.py (Airbyte's OpenAPI
``api.yaml`` and its public-API controllers): ``POST /applications/token`` takes JSON ``{client_id,
client_secret, "grant-type": "client_credentials"}`` and answers ``{access_token, token_type,
expires_in}``; every other call needs ``Authorization: Bearer <a token it issued>`` (401 otherwise);
``/sources`` and ``/destinations`` (POST, GET list, GET/PUT/DELETE by id) and ``/connections``
(POST, GET list, GET/PATCH/DELETE by id); lists take ``workspaceIds``, ``limit``, ``offset`` and
``includeDeleted`` and answer ``{data, next, previous}``; deletes answer 204 and keep a tombstone (a
GET by id still answers a deleted source or destination, and a deleted connection as ``deprecated``,
as the real API does); a cron schedule must be Quartz (seconds one number, one of the day fields
``?``) and reads back as ``"<expression> UTC"``; errors are problem JSON ``{type, title, status,
detail}``.

Simplified: one organisation with fixed workspaces and one application; a token lasts until
``expire_tokens``; connector types are not checked against definitions, configurations are not
validated against connector specs, and secrets in them are masked on read by key name only (keys
holding ``secret``, ``password``, ``token`` or ``key``); ``PATCH`` of sources and destinations, stream
configurations, tags, jobs and rate limits are not modelled. ``fail`` scripts answers (a 429 with
``Retry-After``, a 5xx, a 401, a 4xx echoing text) for the next calls to a path, before anything
else; ``fail_after`` answers with an error after doing what was asked (a lost answer).
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import json_server

PREFIX = "/v1"
MASKED = "**********"
SECRET_WORDS = ("secret", "password", "token", "key")
KINDS = {"sources": ("sourceId", "sourceType"), "destinations": ("destinationId", "destinationType")}
PATCHABLE = ("name", "schedule", "status", "nonBreakingSchemaUpdatesBehavior", "namespaceDefinition", "prefix")


@dataclass
class Airbyte:
    """The workspaces one application (client id and secret) may use, and what they hold."""

    client_id: str
    client_secret: str
    workspaces: set[str]
    # kind (sources, destinations, connections) -> id -> the stored resource, with "deleted".
    held: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {"sources": {}, "destinations": {}, "connections": {}}
    )
    tokens: set[str] = field(default_factory=set)
    calls: list[tuple[str, str, Any]] = field(default_factory=list)
    # (method, path without query) -> answers to give, first to last, before the path behaves again.
    scripted: dict[tuple[str, str], list[tuple[int, dict[str, str], str]]] = field(default_factory=dict)
    after: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        headers: dict[str, str] | None = None,
        times: int = 1,
        detail: str = "",
    ) -> None:
        queue = self.scripted.setdefault((method, PREFIX + path), [])
        queue.extend([(status, headers or {}, detail or "scripted")] * times)

    def fail_after(self, method: str, path: str, status: int) -> None:
        self.after.setdefault((method, PREFIX + path), []).append(status)

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def token_requests(self) -> int:
        return sum(1 for method, path, _ in self.calls if (method, path) == ("POST", PREFIX + "/applications/token"))

    def live(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.held[kind].items() if not v["deleted"]}

    # ------------------------------------------------------------------ serving

    def handle(self, method: str, path: str, body: Any, authorization: str) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            url = urlsplit(path)
            self.calls.append((method, url.path, body))
            queue = self.scripted.get((method, url.path))
            if queue:
                status, headers, detail = queue.pop(0)
                return status, _problem(status, detail), headers
            route = url.path.removeprefix(PREFIX)
            if route == "/applications/token" and method == "POST":
                return self._token(body)
            if authorization.removeprefix("Bearer ") not in self.tokens or not authorization.startswith("Bearer "):
                return 401, _problem(401, "Unauthorized"), {}
            answer = self._route(method, route, parse_qs(url.query), body)
            lost = self.after.get((method, url.path))
            if lost:
                status = lost.pop(0)
                return status, _problem(status, "lost"), {}
            return answer

    def _token(self, body: Any) -> tuple[int, Any, dict[str, str]]:
        if not isinstance(body, dict) or body.get("grant-type") != "client_credentials":
            return 400, _problem(400, "grant-type must be client_credentials"), {}
        if (body.get("client_id"), body.get("client_secret")) != (self.client_id, self.client_secret):
            return 403, _problem(403, "invalid client credentials"), {}
        token = secrets.token_urlsafe(24)
        self.tokens.add(token)
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": 180}, {}

    def _route(
        self, method: str, route: str, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        parts = route.strip("/").split("/")
        kind = parts[0]
        if kind not in self.held or len(parts) > 2:
            return 404, _problem(404, "Not found"), {}
        if len(parts) == 1:
            if method == "GET":
                return self._list(kind, query)
            if method == "POST":
                return self._create_connection(body) if kind == "connections" else self._create(kind, body)
            return 405, _problem(405, "Method not allowed"), {}
        found = self.held[kind].get(parts[1])
        if found is None or (method in ("PUT", "PATCH", "DELETE") and found["deleted"]):
            return 404, _problem(404, f"{kind} {parts[1]} not found"), {}
        if method == "GET":
            return 200, self._shown(kind, found), {}
        if method == "DELETE":
            found["deleted"] = True
            return 204, None, {}
        if method == "PUT" and kind != "connections":
            if not isinstance(body.get("configuration"), dict) or not body.get("name"):
                return 400, _problem(400, "name and configuration are required"), {}
            found["name"] = body["name"]
            found["configuration"] = {k: v for k, v in body["configuration"].items() if k != KINDS[kind][1]}
            return 200, self._shown(kind, found), {}
        if method == "PATCH" and kind == "connections":
            return self._patch_connection(found, body)
        return 405, _problem(405, "Method not allowed"), {}

    def _list(self, kind: str, query: dict[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        workspaces = {w for value in query.get("workspaceIds", []) for w in value.split(",")}
        limit, offset = int(query.get("limit", ["20"])[0]), int(query.get("offset", ["0"])[0])
        if not 1 <= limit <= 100:
            return 400, _problem(400, "limit must be between 1 and 100"), {}
        deleted = query.get("includeDeleted", ["false"])[0] == "true"
        matching = [
            self._shown(kind, r)
            for r in self.held[kind].values()
            if (deleted or not r["deleted"]) and (not workspaces or r["workspaceId"] in workspaces)
        ]
        page = matching[offset : offset + limit]
        base = f"https://api.airbyte.com/v1/{kind}?limit={limit}"
        return 200, {"data": page, "next": f"{base}&offset={offset + limit}" if page else "", "previous": ""}, {}

    def _create(self, kind: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        id_field, type_key = KINDS[kind]
        configuration = body.get("configuration") if isinstance(body, dict) else None
        if not isinstance(configuration, dict) or not body.get("name") or not body.get("workspaceId"):
            return 400, _problem(400, "name, workspaceId and configuration are required"), {}
        if not configuration.get(type_key):
            return 422, _problem(422, f"the configuration names no {type_key}"), {}
        if body["workspaceId"] not in self.workspaces:
            return 403, _problem(403, "Not allowed"), {}
        made = {
            id_field: str(uuid.uuid4()),
            "name": body["name"],
            "workspaceId": body["workspaceId"],
            type_key: configuration[type_key],
            "definitionId": str(uuid.uuid5(uuid.NAMESPACE_URL, configuration[type_key])),
            "configuration": {k: v for k, v in configuration.items() if k != type_key},
            "createdAt": int(time.time()),
            "deleted": False,
        }
        self.held[kind][made[id_field]] = made
        return 200, self._shown(kind, made), {}

    def _create_connection(self, body: Any) -> tuple[int, Any, dict[str, str]]:
        source = self.live("sources").get(body.get("sourceId"))
        destination = self.live("destinations").get(body.get("destinationId"))
        if source is None or destination is None:
            return 400, _problem(400, "sourceId and destinationId must name a live source and destination"), {}
        if source["workspaceId"] != destination["workspaceId"]:
            return 400, _problem(400, "the source and destination are in different workspaces"), {}
        made = {
            "connectionId": str(uuid.uuid4()),
            "name": body.get("name") or f"{source['name']} → {destination['name']}",
            "sourceId": source["sourceId"],
            "destinationId": destination["destinationId"],
            "workspaceId": source["workspaceId"],
            "status": "active",
            "schedule": {"scheduleType": "manual"},
            "nonBreakingSchemaUpdatesBehavior": "ignore",
            "namespaceDefinition": "destination",
            "prefix": "",
            "createdAt": int(time.time()),
            "deleted": False,
        }
        problem = self._apply(made, {k: v for k, v in body.items() if k not in ("sourceId", "destinationId")})
        if problem:
            return 400, _problem(400, problem), {}
        self.held["connections"][made["connectionId"]] = made
        return 200, self._shown("connections", made), {}

    def _patch_connection(self, found: dict[str, Any], body: Any) -> tuple[int, Any, dict[str, str]]:
        changed = dict(found)
        problem = self._apply(changed, body)
        if problem:
            return 400, _problem(400, problem), {}
        found.update(changed)
        return 200, self._shown("connections", found), {}

    @staticmethod
    def _apply(connection: dict[str, Any], body: dict[str, Any]) -> str | None:
        """``body``'s settings written to ``connection``; why not, if they are not valid."""
        unknown = sorted(set(body) - set(PATCHABLE))
        if unknown:
            return f"unknown fields: {', '.join(unknown)}"
        if body.get("status", "active") not in ("active", "inactive"):
            return f"status {body['status']!r} is not valid"
        policies = ("ignore", "disable_connection", "propagate_columns", "propagate_fully")
        if body.get("nonBreakingSchemaUpdatesBehavior", "ignore") not in policies:
            return "nonBreakingSchemaUpdatesBehavior is not valid"
        if "schedule" in body:
            schedule = body["schedule"]
            if schedule.get("scheduleType") == "cron":
                expression = str(schedule.get("cronExpression") or "").removesuffix("UTC").strip()
                problem = _quartz_problem(expression)
                if problem:
                    return f"The cron expression {schedule.get('cronExpression')!r} is not valid: {problem}"
                body = {**body, "schedule": {"scheduleType": "cron", "cronExpression": expression}}
            elif schedule.get("scheduleType") == "manual":
                body = {**body, "schedule": {"scheduleType": "manual"}}
            else:
                return "scheduleType must be cron or manual"
        connection.update(body)
        return None

    def _shown(self, kind: str, held: dict[str, Any]) -> dict[str, Any]:
        """A stored resource as the API answers it: no tombstone, secrets masked, a cron with its zone."""
        shown = {k: v for k, v in held.items() if k != "deleted"}
        if kind == "connections":
            if held["deleted"]:
                shown["status"] = "deprecated"
            if held["schedule"]["scheduleType"] == "cron":
                shown["schedule"] = {**held["schedule"], "cronExpression": held["schedule"]["cronExpression"] + " UTC"}
            shown["configurations"], shown["tags"] = {"streams": []}, []
        else:
            shown["configuration"] = _masked(held["configuration"])
        return shown


def _masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: MASKED if any(w in k.lower() for w in SECRET_WORDS) and isinstance(v, str) else _masked(v)
            for k, v in value.items()
        }
    return value


def _quartz_problem(expression: str) -> str | None:
    """Why Quartz (as Airbyte checks it) refuses ``expression``: seconds one number, 6 or 7 fields,
    exactly one of day-of-month and day-of-week ``?``."""
    fields = expression.split()
    if len(fields) not in (6, 7):
        return "a Quartz expression has 6 or 7 fields"
    if not fields[0].isdigit():
        return "the seconds must be one number"
    if (fields[3] == "?") == (fields[5] == "?"):
        return "exactly one of day-of-month and day-of-week must be '?'"
    return None


def _problem(status: int, detail: str) -> dict[str, Any]:
    return {
        "type": "https://reference.airbyte.com/reference/errors",
        "title": "problem",
        "status": status,
        "detail": detail,
    }


def Server(service: Airbyte) -> json_server.Server:
    """The fake served on 127.0.0.1 until ``stop``."""
    return json_server.Server(service.handle, PREFIX)
