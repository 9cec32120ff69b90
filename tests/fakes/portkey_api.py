"""A stateful fake of Portkey's Admin API (AI providers and configs, ``/v1``) on 127.0.0.1.

From Portkey's OpenAPI spec (Portkey-AI/openapi), SDKs and Terraform provider: the key in
``x-portkey-api-key``; ``POST /providers`` ``{name, integration_id, slug, workspace_id,
usage_limits, rate_limits}`` answers ``{id, slug}``, 409 when the slug is taken in the workspace;
``GET``/``PUT``/``DELETE /providers/{slug}?workspace_id=`` (PUT takes name, note, usage_limits,
rate_limits, expires_at, reset_usage only); ``POST /configs`` answers ``{id, slug, version_id}``,
``GET /configs?workspace_id=`` lists them in ``data``, ``GET``/``PUT``/``DELETE /configs/{slug}``,
a PUT with new content saving a new version; errors ``{"success": false, "data": {message,
errorCode}}`` with Portkey's codes (AB01 400, AB03 403, AB05 401, AB07 409, AB08 404).

Simplified: one organisation; a request without ``workspace_id`` is in ``default_workspace`` (as a
workspace key's would be); a provider can be made only from an integration enabled in its workspace
(``integrations``); no usage, spend, expiry, pagination, version history or default config; config
slugs are unique across workspaces; ``GET /configs/{slug}`` answers ``config`` as JSON text (one of
the two forms the SDKs accept), or, with ``envelope``, every config answer is wrapped in
``{"success": true, "data": ...}`` and the create answer has no slug, as the OpenAPI spec documents.
A bad key's 401 echoes the key, so that tests see it masked. ``fail`` scripts answers (a 429 with
``Retry-After``, a 5xx) before a call is served; ``fail_after`` answers with an error after doing the
work (a lost answer).
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import json_server

PREFIX = "/v1"
PROVIDER_UPDATES = {"name", "note", "usage_limits", "rate_limits", "expires_at", "reset_usage"}
CONFIG_UPDATES = {"name", "config", "status"}

Answer = tuple[int, Any, dict[str, str]]


def _error(status: int, code: str, message: str) -> Answer:
    return status, {"success": False, "data": {"message": message, "errorCode": code}}, {}


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Portkey:
    """One organisation as one API key sees it: its workspaces' providers and configs."""

    api_key: str
    # Workspace id -> slugs of the integrations enabled in it.
    integrations: dict[str, set[str]] = field(default_factory=dict)
    default_workspace: str = ""
    envelope: bool = False
    providers: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (workspace, slug) -> provider
    configs: dict[str, dict[str, Any]] = field(default_factory=dict)  # slug -> config, its content as JSON text
    calls: list[tuple[str, str, Any]] = field(default_factory=list)
    scripted: dict[tuple[str, str], list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    after: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, method: str, path: str, status: int, headers: dict[str, str] | None = None) -> None:
        """Answer the next ``method path`` (its path without query) with ``status``, doing nothing."""
        self.scripted.setdefault((method, PREFIX + path), []).append((status, headers or {}))

    def fail_after(self, method: str, path: str, status: int) -> None:
        """Do the next ``method path``, then answer ``status`` instead (the answer is lost)."""
        self.after.setdefault((method, PREFIX + path), []).append(status)

    def calls_to(self, method: str, path: str) -> int:
        return sum(1 for m, p, _ in self.calls if m == method and urlsplit(p).path == PREFIX + path)

    def handle(self, method: str, path: str, body: Any, api_key: str) -> Answer:
        with self._lock:
            self.calls.append((method, path, body))
            url = urlsplit(path)
            queue = self.scripted.get((method, url.path))
            if queue:
                status, headers = queue.pop(0)
                return status, {"success": False, "data": {"message": "scripted"}}, headers
            if api_key != self.api_key:
                return _error(401, "AB05", f"Invalid API key: {api_key}")
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            workspace = query.get("workspace_id") or (body or {}).get("workspace_id") or self.default_workspace
            if workspace not in self.integrations:
                return _error(403, "AB03", "User not allowed to access the resource")
            answer = self._route(method, url.path.removeprefix(PREFIX).strip("/").split("/"), body, workspace)
            lost = self.after.get((method, url.path))
            if lost:
                return _error(lost.pop(0), "AB04", "lost")
            return answer

    def _route(self, method: str, parts: list[str], body: Any, workspace: str) -> Answer:
        if parts[0] == "providers" and len(parts) <= 2:
            return self._providers(method, parts[1:], body, workspace)
        if parts[0] == "configs" and len(parts) <= 2:
            status, answer, headers = self._configs(method, parts[1:], body, workspace)
            if self.envelope and status < 300:
                answer = {"success": True, "data": answer}
            return status, answer, headers
        return _error(404, "AB08", "Resource not found")

    # ------------------------------------------------------------------ providers

    def _providers(self, method: str, rest: list[str], body: Any, workspace: str) -> Answer:
        if not rest and method == "GET":
            held = [p for (w, _), p in self.providers.items() if w == workspace]
            return 200, {"object": "list", "total": len(held), "data": held}, {}
        if not rest and method == "POST":
            return self._create_provider(body, workspace)
        found = self.providers.get((workspace, rest[0])) if rest else None
        if found is None:
            return _error(404, "AB08", "Resource not found")
        if method == "GET":
            return 200, found, {}
        if method == "PUT":
            unknown = set(body) - PROVIDER_UPDATES
            if unknown or _bad_limits(body):
                return _error(400, "AB01", f"Invalid request: {sorted(unknown) or 'limits'}")
            found.update({k: v for k, v in body.items() if k in PROVIDER_UPDATES - {"reset_usage"}})
            return 200, {"id": found["id"], "slug": found["slug"]}, {}
        if method == "DELETE":
            del self.providers[(workspace, rest[0])]
            return 200, {}, {}
        return _error(404, "AB08", "Resource not found")

    def _create_provider(self, body: dict[str, Any], workspace: str) -> Answer:
        if not body.get("name") or not body.get("integration_id") or _bad_limits(body):
            return _error(400, "AB01", "Invalid request: name and integration_id are required, limits well formed")
        if body["integration_id"] not in self.integrations[workspace]:
            return _error(400, "AB01", f"integration {body['integration_id']} is not enabled for the workspace")
        slug = body.get("slug") or f"{body['name'].lower().replace(' ', '-')}-{secrets.token_hex(3)}"
        if (workspace, slug) in self.providers:
            return _error(409, "AB07", "Resource already exists")
        self.providers[(workspace, slug)] = {
            "id": secrets.token_hex(16),
            "slug": slug,
            "name": body["name"],
            "integration_id": body["integration_id"],
            "workspace_id": workspace,
            "note": body.get("note"),
            "status": "active",
            "usage_limits": body.get("usage_limits"),
            "rate_limits": body.get("rate_limits"),
            "created_at": _now(),
            "object": "provider",
        }
        return 200, {"id": self.providers[(workspace, slug)]["id"], "slug": slug}, {}

    # ------------------------------------------------------------------ configs

    def _configs(self, method: str, rest: list[str], body: Any, workspace: str) -> Answer:
        if not rest and method == "GET":
            held = [
                {k: v for k, v in c.items() if k != "config"}
                for c in self.configs.values()
                if c["workspace_id"] == workspace
            ]
            return 200, {"object": "list", "total": len(held), "data": held}, {}
        if not rest and method == "POST":
            if not body.get("name") or not isinstance(body.get("config"), dict):
                return _error(400, "AB01", "Invalid request: name and config are required")
            slug = f"pc-{body['name'][:5].lower()}-{secrets.token_hex(3)}"
            self.configs[slug] = {
                "id": secrets.token_hex(16),
                "slug": slug,
                "name": body["name"],
                "workspace_id": workspace,
                "config": json.dumps(body["config"]),
                "version_id": secrets.token_hex(16),
                "status": "active",
                "is_default": 0,
                "created_at": _now(),
                "object": "config",
            }
            made = self.configs[slug]
            answer = {"id": made["id"], "version_id": made["version_id"]}
            return 200, answer if self.envelope else {**answer, "slug": slug, "object": "config"}, {}
        found = self.configs.get(rest[0]) if rest else None
        if found is None:
            return _error(404, "AB08", "Resource not found")
        if method == "GET":
            return 200, {**found, "config": json.loads(found["config"])} if self.envelope else found, {}
        if method == "PUT":
            if set(body) - CONFIG_UPDATES:
                return _error(400, "AB01", "Invalid request")
            if "config" in body and json.dumps(body["config"]) != found["config"]:
                found.update(config=json.dumps(body["config"]), version_id=secrets.token_hex(16))
            found.update({k: v for k, v in body.items() if k in ("name", "status")})
            return 200, {"version_id": found["version_id"], "object": "config"}, {}
        if method == "DELETE":
            del self.configs[rest[0]]
            return 200, {}, {}
        return _error(404, "AB08", "Resource not found")


def _bad_limits(body: dict[str, Any]) -> bool:
    """Whether the limits break Portkey's documented shape: a credit limit of at least 1 (USD or
    tokens), a monthly or weekly reset, and a list of request or token limits per minute, hour or day."""
    usage = body.get("usage_limits")
    if usage is not None and (
        not isinstance(usage.get("credit_limit"), int | float)
        or usage["credit_limit"] < 1
        or usage.get("type", "cost") not in ("cost", "tokens")
        or usage.get("periodic_reset") not in (None, "monthly", "weekly")
    ):
        return True
    rates = body.get("rate_limits", [])
    return not isinstance(rates, list) or any(
        r.get("type") not in ("requests", "tokens")
        or r.get("unit") not in ("rpm", "rph", "rpd")
        or not isinstance(r.get("value"), int)
        for r in rates
    )


def Server(service: Portkey) -> json_server.Server:
    """The fake served on 127.0.0.1 until ``stop``."""
    return json_server.Server(service.handle, PREFIX, header="x-portkey-api-key")
